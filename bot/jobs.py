"""Scheduled work, registered with PTB's JobQueue at start-up."""

from __future__ import annotations

import logging
from datetime import time, timedelta
from typing import Any

from telegram.ext import Application

from bot.handlers.common import TruceContext
from bot.handlers.shop import tell_requester
from bot.services import shop

log = logging.getLogger(__name__)


async def expire_redemptions(context: TruceContext) -> None:
    """Void and refund redemptions left pending longer than the configured limit."""
    expired = await shop.expire_stale(
        context.db, older_than=timedelta(days=context.settings.redemption_expiry_days)
    )
    for redemption in expired:
        await tell_requester(context, redemption)
    if expired:
        log.info("expired %s pending redemptions", len(expired))


def schedule(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
    assert app.job_queue is not None
    tz = app.bot_data["settings"].tz
    app.job_queue.run_daily(expire_redemptions, time(hour=3, tzinfo=tz), name="expire")
    # Also once shortly after start, so a bot that was down at 03:00 still catches up.
    app.job_queue.run_once(expire_redemptions, 60, name="expire-at-start")
