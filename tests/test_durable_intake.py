"""Nothing the bot received is lost on a crash, and nothing is handled twice in effect.

An update is stored in the inbox when it is queued, which is before polling confirms it to
Telegram (or the webhook answers 200). A bot stopped before handling it handles it when it is
started again; one Telegram delivers again is recognised; the thanks it carries is applied
once. The last test kills `truce run` itself with SIGKILL in a burst of thanks, as
`tests/bench/crash_thanks.py` does with 300.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import func, select
from telegram import Update

from bot.app import build_application
from bot.db import Database
from bot.models import InboxUpdate, Thanks
from bot.services import directory
from tests.bench.crash_thanks import crash
from tests.conftest import both_databases
from tests.fake_telegram import FakeBotApi, FakeRequest
from tests.helpers import ALICE, BORIS, CAROL, DEPARTMENT, make_settings, register

GIVERS = (BORIS, CAROL)
RECEIVER = {BORIS: "carol", CAROL: "boris"}
CONFIRMATION = {BORIS: "🙏 Carol получает от вас", CAROL: "🙏 You thanked"}


@asynccontextmanager
async def bot(database_url: str, api: FakeBotApi, *, handling: bool) -> AsyncIterator[Any]:
    """A bot as `truce run` starts it (post_init, so the inbox is replayed); with `handling`
    it also handles its queue, without it it only receives, like a process about to die."""
    app = build_application(
        make_settings(database_url), Database(database_url), request=FakeRequest(api)
    )
    await app.initialize()
    assert app.post_init is not None and app.post_shutdown is not None
    await app.post_init(app)
    if handling:
        await app.start()
    try:
        yield app
    finally:
        if app.running:
            await app.stop()
        await app.shutdown()
        await app.post_shutdown(app)


def thanks_update(app: Any, api: FakeBotApi, giver: Any, update_id: int) -> Update:
    text = f"/thanks @{RECEIVER[giver]} 1 for the demo"
    chat = api.chats[giver.id]
    message = {
        "message_id": update_id,
        "date": int(time.time()),
        "chat": chat,
        "from": giver.as_user(),
        "text": text,
        "entities": [{"type": "bot_command", "offset": 0, "length": len("/thanks")}],
    }
    return Update.de_json({"update_id": update_id, "message": message}, app.bot)


def confirmations(api: FakeBotApi, giver: Any) -> int:
    return sum(1 for m in api.sent(giver.id) if m["text"].startswith(CONFIRMATION[giver]))


async def counts(db: Database) -> tuple[int, int]:
    """(thanks applied, inbox updates not handled)."""
    async with db.read() as session:
        applied = await session.scalar(select(func.count()).select_from(Thanks))
        left = await session.scalar(
            select(func.count()).select_from(InboxUpdate).where(InboxUpdate.handled_at.is_(None))
        )
    return int(applied or 0), int(left or 0)


async def until(condition: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the bot did not get there in time"
        await asyncio.sleep(0.02)


async def company(db: Database, api: FakeBotApi) -> None:
    await directory.bootstrap(db, ["Marketing", "Sales"], admin_ids=[ALICE.id])
    for person in (ALICE, BORIS, CAROL):
        await register(db, person, DEPARTMENT[person], [ALICE.id])
        api.chats[person.id] = {"id": person.id, "type": "private", "first_name": person.first_name}


@both_databases()
async def test_updates_received_but_never_handled_are_handled_after_a_restart(
    database_url: str, db: Database
) -> None:
    api = FakeBotApi()
    await company(db, api)
    async with bot(database_url, api, handling=False) as dying:
        for i, giver in enumerate(GIVERS):
            await dying.update_queue.put(thanks_update(dying, api, giver, 100 + i))
    assert await counts(db) == (0, 2)  # received, stored, not handled: the process "died"
    assert not any(confirmations(api, giver) for giver in GIVERS)

    async with bot(database_url, api, handling=True):
        await until(lambda: all(confirmations(api, giver) == 1 for giver in GIVERS))
        await asyncio.sleep(0.3)  # the inbox marks handled updates in small batches

    assert await counts(db) == (2, 0)
    assert [m["text"] for m in api.sent(BORIS.id) if "Carol" in m["text"] and "вас" in m["text"]]
    assert [m["text"] for m in api.sent(CAROL.id) if "thanked you" in m["text"]]


@both_databases()
async def test_an_update_telegram_delivers_again_is_handled_once(
    database_url: str, db: Database
) -> None:
    api = FakeBotApi()
    await company(db, api)
    async with bot(database_url, api, handling=True) as app:
        await app.update_queue.put(thanks_update(app, api, CAROL, 500))
        await until(lambda: confirmations(api, CAROL) == 1)
        await asyncio.sleep(0.3)
        # Telegram did not hear the confirmation (the bot was cut off) and sends it again.
        await app.update_queue.put(thanks_update(app, api, CAROL, 500))
        await asyncio.sleep(0.5)

    async with bot(database_url, api, handling=True):  # and a restart replays nothing
        await asyncio.sleep(0.5)

    assert confirmations(api, CAROL) == 1
    assert await counts(db) == (1, 0)


@both_databases()
async def test_a_handled_update_whose_mark_was_lost_is_applied_once_when_replayed(
    database_url: str, db: Database
) -> None:
    """Killed after handling, before the inbox was told: the thanks' key makes the replay a
    second answer to the giver and nothing more."""
    api = FakeBotApi()
    await company(db, api)
    async with bot(database_url, api, handling=True) as app:
        await app.update_queue.put(thanks_update(app, api, CAROL, 700))
        await until(lambda: confirmations(api, CAROL) == 1)
        await asyncio.sleep(0.3)
    async with db.transaction() as session:  # as if the mark never reached the database
        row = await session.get(InboxUpdate, 700)
        assert row is not None and row.handled_at is not None
        row.handled_at = None

    async with bot(database_url, api, handling=True):
        await until(lambda: confirmations(api, CAROL) == 2)
        await asyncio.sleep(0.3)

    assert await counts(db) == (1, 0)
    told_boris = [m["text"] for m in api.sent(BORIS.id) if m["text"].startswith("🙏 Carol")]
    assert len(told_boris) == 1  # the receiver is not told twice


@both_databases()
async def test_truce_run_killed_in_a_burst_of_thanks_applies_and_answers_every_one(
    database_url: str,
) -> None:
    """`kill -9` for real: thirty people, three thanks each."""
    figures = await crash(database_url, givers=30)

    assert figures.answered_at_kill < figures.thanks  # killed with thanks still to handle
    assert figures.applied == figures.thanks
    assert figures.unanswered == 0
    assert figures.ledger_clean
