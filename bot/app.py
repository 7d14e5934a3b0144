"""The composition root: builds the Application and wires handlers, resources and jobs."""

from __future__ import annotations

import logging
from typing import Any

from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes
from telegram.request import BaseRequest

from bot import handlers, jobs
from bot.config import Settings
from bot.db import Database
from bot.handlers.common import TruceContext
from bot.handlers.menu import set_default_menus, set_personal_menu
from bot.intake import DurableQueue, InboxProcessor
from bot.services import company, directory, inbox, schedule, shop

log = logging.getLogger(__name__)

TruceApplication = Application[Any, TruceContext, Any, Any, Any, Any]


async def _post_init(app: TruceApplication) -> None:
    settings: Settings = app.bot_data["settings"]
    db: Database = app.bot_data["db"]
    await directory.bootstrap(db, settings.departments, settings.admin_ids)
    await shop.seed_rewards(db)
    app.bot_data["tz"] = await schedule.timezone(db, settings.timezone)
    app.bot_data["company_lang"] = await company.language(db, settings.default_language)
    await set_default_menus(app.bot, settings.default_language)
    for person in await directory.staff(db):
        await set_personal_menu(app.bot, person)
    await inbox.prune(db)
    queue = app.update_queue
    if isinstance(queue, DurableQueue):
        left = await queue.replay(app.bot)
        if left:
            log.info("finishing %d updates the last run received and did not handle", left)
    log.info("Truce is up as @%s", app.bot.username)


async def _post_shutdown(app: TruceApplication) -> None:
    await app.bot_data["db"].dispose()


def build_application(
    settings: Settings,
    db: Database,
    *,
    request: BaseRequest | None = None,
    rate_limit: bool = True,
) -> TruceApplication:
    """An Application wired to `db`; `request` replaces the network (tests, benchmarks)."""
    assert settings.bot_token is not None, "BOT_TOKEN is checked before the bot is built"
    builder = (
        ApplicationBuilder()
        .token(settings.bot_token.get_secret_value())
        .context_types(ContextTypes(context=TruceContext))
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .update_queue(DurableQueue(db))
        .concurrent_updates(InboxProcessor(db))
    )
    if settings.telegram_api_url:
        base = settings.telegram_api_url
        builder = builder.base_url(f"{base}/bot").base_file_url(f"{base}/file/bot")
    if rate_limit:
        # Telegram allows about 30 messages a second; a little under it leaves room for jitter,
        # so a broadcast never meets a flood wait.
        limiter: Any = AIORateLimiter(overall_max_rate=28, max_retries=3)  # PTB's own generics
        builder = builder.rate_limiter(limiter)
    if request is not None:
        builder = builder.request(request).get_updates_request(request)
    app: TruceApplication = builder.build()
    app.bot_data["settings"] = settings
    app.bot_data["db"] = db
    handlers.register(app)
    jobs.schedule_jobs(app)
    return app
