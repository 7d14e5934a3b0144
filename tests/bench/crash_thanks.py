"""Intake survives `kill -9`: every thanks is applied exactly once and every giver answered.

100 people in Marketing each send three `/thanks` to someone in Sales (300 in all), pushed to
a fake Bot API over HTTP at once, as in a busy minute. `truce run` polls them as it would
Telegram (each getUpdates confirms what came before it, so Telegram forgets those), is killed
with SIGKILL while most are fetched and not yet handled, and started again. Then the thanks
table must hold exactly 300 rows, the ledger must verify, and every giver must have been told
"You thanked ..." for each of their three.

    python -m tests.bench.crash_thanks --db sqlite
    python -m tests.bench.crash_thanks --db postgres     # TRUCE_BENCH_DATABASE_URL or
    python -m tests.bench.crash_thanks --db both         # TRUCE_TEST_DATABASE_URL
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from bot.db import Database
from bot.models import InboxUpdate, Thanks
from bot.services import directory, ledger
from tests.bench.common import database, database_kinds
from tests.bench.crash_mixer import serve, start, stop, wait_until
from tests.fake_telegram import TOKEN, FakeBotApi
from tests.helpers import clean_environment

ADMIN = 2_000_000
EACH = 3  # thanks per giver, within the weekly allowance


@dataclass(frozen=True)
class Figures:
    thanks: int  # sent
    applied: int  # rows in the thanks table in the end
    unanswered: int  # thanks whose giver was never told
    answered_twice: int  # confirmations beyond the first, summed
    answered_at_kill: int
    stored_unhandled_at_kill: int  # in the inbox, not handled, when the bot was killed
    ledger_clean: bool


async def open_company(db: Database, api: FakeBotApi, givers: int) -> None:
    """`givers` in Marketing, as many in Sales; everyone reads English."""
    await directory.bootstrap(db, ["Marketing", "Sales"], [ADMIN])
    for i in range(2 * givers):
        telegram_id = ADMIN + i
        api.chats[telegram_id] = {"id": telegram_id, "type": "private", "first_name": "P"}
        await directory.register(
            db,
            telegram_id=telegram_id,
            first_name=f"Person {i}",
            username=f"p{i}",
            language="en",
            department_code="marketing" if i < givers else "sales",
            admin_ids=[ADMIN],
        )


def push_thanks(api: FakeBotApi, givers: int) -> int:
    """Every giver sends EACH thanks to the Sales colleague opposite; how many were sent."""
    sent = 0
    for round_ in range(EACH):
        for i in range(givers):
            giver = ADMIN + i
            text = f"/thanks @p{givers + i} 1 for the launch, part {round_ + 1}"
            message = {
                "message_id": api.next_message_id(giver),
                "date": int(time.time()),
                "chat": api.chats[giver],
                "from": {"id": giver, "is_bot": False, "first_name": f"Person {i}"},
                "text": text,
                "entities": [{"type": "bot_command", "offset": 0, "length": len("/thanks")}],
            }
            api.enqueue({"update_id": api.next_update_id(), "message": message})
            sent += 1
    return sent


def confirmations(api: FakeBotApi) -> Counter[int]:
    """How many 'You thanked' answers each giver's chat has."""
    return Counter(
        m["chat"]["id"] for m in api.sent() if str(m.get("text", "")).startswith("🙏 You thanked")
    )


async def counts(db: Database) -> tuple[int, int]:
    """(thanks applied, updates stored and not handled)."""
    async with db.read() as session:
        applied = await session.scalar(select(func.count()).select_from(Thanks))
        unhandled = await session.scalar(
            select(func.count()).select_from(InboxUpdate).where(InboxUpdate.handled_at.is_(None))
        )
    return int(applied or 0), int(unhandled or 0)


async def crash(url: str, givers: int = 100) -> Figures:
    """Push the thanks to `truce run` on the migrated database `url`, kill it with SIGKILL once
    a tenth are answered, and start it again until every thanks is."""
    api = FakeBotApi()
    db = Database(url)
    try:
        await open_company(db, api, givers)
        with tempfile.TemporaryDirectory() as folder, serve(api) as api_url:
            log = Path(folder) / "truce.log"
            env = clean_environment(
                BOT_TOKEN=TOKEN,
                TELEGRAM_API_URL=api_url,
                DATABASE_URL=url,
                ADMIN_IDS=str(ADMIN),
                TIMEZONE="UTC",
            )
            total = push_thanks(api, givers)
            first = start(env, Path(folder), log)
            try:

                async def some_answered() -> bool:
                    return sum(confirmations(api).values()) >= total // 10

                await wait_until(some_answered, first, log)
                first.send_signal(signal.SIGKILL)
                first.wait()
            finally:
                if first.poll() is None:
                    first.kill()
                    first.wait()
            await asyncio.sleep(0.3)  # answers already on their way to the dead process
            answered_at_kill = sum(confirmations(api).values())
            _, unhandled_at_kill = await counts(db)
            if answered_at_kill >= total:
                raise SystemExit("every thanks was answered before the bot could be killed")

            again = start(env, Path(folder), log)
            try:

                async def all_answered() -> bool:
                    told = confirmations(api)
                    return all(told[ADMIN + i] >= EACH for i in range(givers))

                with contextlib.suppress(SystemExit):  # the figures below say what is missing
                    await wait_until(all_answered, again, log)
                await asyncio.sleep(0.5)  # a thanks handled twice would be answered by now
                again.send_signal(signal.SIGINT)
                again.wait(timeout=30)
            finally:
                if again.poll() is None:
                    again.kill()
                    again.wait()
            if again.returncode != 0:
                raise stop(f"exited with {again.returncode}", log)
            await asyncio.sleep(1.2)  # the last getUpdates the bot left open
        applied, _ = await counts(db)
        clean = (await ledger.verify(db)).clean
    finally:
        await db.dispose()
    told = confirmations(api)
    everyone = [ADMIN + i for i in range(givers)]
    return Figures(
        thanks=total,
        applied=applied,
        unanswered=sum(max(EACH - told[g], 0) for g in everyone),
        answered_twice=sum(max(told[g] - EACH, 0) for g in everyone),
        answered_at_kill=answered_at_kill,
        stored_unhandled_at_kill=unhandled_at_kill,
        ledger_clean=clean,
    )


def verdict(f: Figures) -> str | None:
    if f.applied != f.thanks:
        return f"{f.applied} thanks applied of {f.thanks}"
    if f.unanswered:
        return f"{f.unanswered} thanks never answered"
    if not f.ledger_clean:
        return "the ledger does not verify"
    return None


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument("--givers", type=int, default=100)
    args = parser.parse_args()
    failed = False
    for kind in database_kinds(args.db):
        async with database(kind) as url:
            f = await crash(url, args.givers)
        problem = verdict(f)
        failed = failed or problem is not None
        print(
            f"{kind:10s} thanks {f.thanks}: applied {f.applied}, unanswered {f.unanswered},"
            f" answered twice {f.answered_twice}; killed with {f.answered_at_kill} answered and"
            f" {f.stored_unhandled_at_kill} stored but not handled; ledger"
            f" {'clean' if f.ledger_clean else 'NOT clean'} — {problem or 'ok'}"
        )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    asyncio.run(main())
