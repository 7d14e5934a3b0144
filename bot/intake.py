"""Durable intake: an update is stored before Telegram is told it arrived, and marked when done.

`DurableQueue` is the Application's update queue. Polling puts each fetched update into it
before asking for the next ones (which confirms them to Telegram); the webhook puts it before
answering 200. `put` stores the update in the inbox first, so a `kill -9` after that point
leaves it in the database; `replay` puts what a stop left unhandled back at start-up.
`InboxProcessor` handles updates concurrently, like python-telegram-bot's own processor, and
marks each one handled (in small batches: an update handled but not yet marked at a crash is
handled again, which its idempotency key makes harmless).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable
from typing import Any

from telegram import Bot, Update
from telegram.ext import BaseUpdateProcessor

from bot.db import Database
from bot.services import inbox

log = logging.getLogger(__name__)

FLUSH_DELAY = 0.1  # seconds between marking a batch of updates handled
MAX_CONCURRENT_UPDATES = 256
RETRY_DELAYS = (0.5, 1, 2, 5, 10)  # seconds between attempts to store while the database is down


class DurableQueue(asyncio.Queue[object]):
    """The update queue, keeping every update in the inbox before it is queued."""

    def __init__(self, db: Database) -> None:
        super().__init__()
        self.db = db

    async def put(self, item: object) -> None:
        if isinstance(item, Update) and not await self._store(item):
            log.info("update %d is already in the inbox; it is not handled twice", item.update_id)
            return
        await super().put(item)

    async def _store(self, update: Update) -> bool:
        """Store `update`, waiting out a database that is down: until it is stored, Telegram is
        not told it arrived, so it is never lost."""
        attempt = 0
        while True:
            try:
                return await inbox.store(self.db, update.update_id, update.to_json())
            except Exception as exc:  # the driver's errors vary; the update must not be dropped
                delay = RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]
                log.warning(
                    "cannot store update %d (%s); trying again in %ss",
                    update.update_id,
                    type(exc).__name__,
                    delay,
                )
                attempt += 1
                await asyncio.sleep(delay)

    async def replay(self, bot: Bot) -> int:
        """Queue what the last run stored and did not finish; how many updates."""
        left = await inbox.unhandled(self.db)
        for _update_id, payload in left:
            update = Update.de_json(json.loads(payload), bot)
            await super().put(update)
        return len(left)


class InboxProcessor(BaseUpdateProcessor):
    """Handles updates concurrently and marks them handled in the inbox."""

    def __init__(self, db: Database, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES):
        super().__init__(max_concurrent_updates)
        self.db = db
        self._done: set[int] = set()
        self._flusher: asyncio.Task[None] | None = None

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        try:
            await coroutine
        finally:
            if isinstance(update, Update):
                self._done.add(update.update_id)
                if self._flusher is None or self._flusher.done():
                    self._flusher = asyncio.create_task(self._flush_soon())

    async def _flush_soon(self) -> None:
        while self._done:
            await asyncio.sleep(FLUSH_DELAY)
            await self.flush()

    async def flush(self) -> None:
        done, self._done = self._done, set()
        try:
            await inbox.mark_handled(self.db, done)
        except Exception as exc:  # marked next time; until then they are only handled again
            log.warning("cannot mark %d updates handled (%s)", len(done), type(exc).__name__)
            self._done |= done

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        if self._flusher is not None:
            await self._flusher
        await self.flush()
