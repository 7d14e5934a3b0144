"""The mixer survives `kill -9`: nobody is left without their intro.

400 people in two departments and a company chat, the mixer due now. `truce run` is started as
a process of its own against a fake Bot API over HTTP that takes a moment to answer each intro
(as Telegram does across a real network), killed with SIGKILL while the intros go out, and
started again. Then every person must have their intro, the chat its announcement once, and at
most the intros that were in flight at the kill (`bot.jobs.SEND_CONCURRENCY`) may have arrived
twice.

    python -m tests.bench.crash_mixer --db sqlite
    python -m tests.bench.crash_mixer --db postgres     # TRUCE_BENCH_DATABASE_URL or
    python -m tests.bench.crash_mixer --db both         # TRUCE_TEST_DATABASE_URL
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from unittest import mock

from sqlalchemy import func, select

from bot.db import Database
from bot.domain.schedule import Slot
from bot.jobs import SEND_CONCURRENCY
from bot.models import Delivery, ScheduledRun
from bot.services import company, directory, schedule
from tests import fake_telegram
from tests.bench.common import database, database_kinds
from tests.fake_telegram import TOKEN, FakeBotApi
from tests.helpers import clean_environment, truce_command

ADMIN = 1_000_000
CHAT = -1_000_777
DEADLINE = 120.0  # seconds for each start of the bot to do its part


class SlowToAnswer(FakeBotApi):
    """Telegram behind a network: a message is delivered at once, the bot hears back
    `latency` seconds later. A bot killed in between has sent what it never saw confirmed."""

    def __init__(self, latency: float) -> None:
        super().__init__()
        self.latency = latency

    def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        answer = super().handle(method, params)
        if method == "sendMessage":
            time.sleep(self.latency)  # each request has a server thread of its own
        return answer


class QuietServer(ThreadingHTTPServer):
    """The HTTP server, without a traceback for an answer the killed bot was not there for,
    taking connections as fast as a bot opens them (as Telegram does; the standard library's
    backlog of five resets the rest)."""

    request_queue_size = 1024

    def handle_error(self, request: Any, client_address: Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextmanager
def serve(api: FakeBotApi) -> Iterator[str]:
    """`serve_http` on the quiet server."""
    with (
        mock.patch.object(fake_telegram, "ThreadingHTTPServer", QuietServer),
        fake_telegram.serve_http(api) as url,
    ):
        yield url


@dataclass(frozen=True)
class Figures:
    people: int
    at_kill: int  # people who had their intro when the bot was killed
    in_flight: int  # deliveries claimed but not settled when the bot was killed
    received: int  # people with at least one intro in the end
    missing: int
    duplicates: int  # intros beyond the first, summed over everyone
    announcements: int  # the week's topic in the company chat
    bound: int


def intros(api: FakeBotApi) -> Counter[int]:
    """How many mixer intros each person has received."""
    return Counter(
        m["chat"]["id"]
        for m in api.sent()
        if m["chat"]["id"] > 0 and str(m.get("text", "")).startswith("☕")
    )


async def open_company(db: Database, api: FakeBotApi, people: int) -> None:
    """`people` in Marketing and Sales, the first one the admin; the company chat; the mixer
    due this very minute, and the digest off so that the chat hears only the mixer."""
    await directory.bootstrap(db, ["Marketing", "Sales"], [ADMIN])
    for i in range(people):
        telegram_id = ADMIN + i
        api.chats[telegram_id] = {"id": telegram_id, "type": "private", "first_name": "P"}
        await directory.register(
            db,
            telegram_id=telegram_id,
            first_name=f"Person {i}",
            username=f"p{i}",
            language="ru" if i % 3 else "en",
            department_code="marketing" if i % 2 == 0 else "sales",
            admin_ids=[ADMIN],
        )
    api.chats[CHAT] = {"id": CHAT, "type": "supergroup", "title": "Company"}
    await company.bind_chat(db, actor_telegram_id=ADMIN, chat_id=CHAT)
    now = datetime.now(UTC)
    slot = Slot(now.weekday(), now.hour * 60 + now.minute)
    await schedule.change(db, actor_telegram_id=ADMIN, job=schedule.MIXER, slot=slot)
    await schedule.change(db, actor_telegram_id=ADMIN, job=schedule.DIGEST, enabled=False)


async def deliveries(db: Database) -> dict[str, int]:
    async with db.read() as session:
        rows = await session.execute(
            select(Delivery.status, func.count()).group_by(Delivery.status)
        )
        return {status: count for status, count in rows.all()}


async def mixer_status(db: Database) -> str | None:
    async with db.read() as session:
        return await session.scalar(select(ScheduledRun.status).where(ScheduledRun.job == "mixer"))


def start(env: dict[str, str], folder: Path, log: Path) -> subprocess.Popen[bytes]:
    output = log.open("ab")
    try:
        return subprocess.Popen(
            [*truce_command(), "run"], cwd=folder, env=env, stdout=output, stderr=output
        )
    finally:
        output.close()


def stop(why: str, log: Path) -> SystemExit:
    return SystemExit(f"truce run {why}:\n{log.read_text(errors='replace')}")


async def wait_until(condition: Any, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + DEADLINE
    while not await condition():
        if process.poll() is not None:
            raise stop("exited early", log)
        if time.monotonic() > deadline:
            raise stop("took too long", log)
        await asyncio.sleep(0.02)


async def crash(url: str, people: int = 400, latency: float = 0.1) -> Figures:
    """Run the mixer in `truce run` on the migrated database `url`, kill it with SIGKILL three
    quarters of the way (past the rate limiter's first burst, so some intros in flight are
    still waiting for their turn and some are on the wire), and start it again."""
    api = SlowToAnswer(latency)
    kill_at = people * 3 // 4
    db = Database(url)
    try:
        await open_company(db, api, people)
        with tempfile.TemporaryDirectory() as folder, serve(api) as api_url:
            log = Path(folder) / "truce.log"
            env = clean_environment(
                BOT_TOKEN=TOKEN,
                TELEGRAM_API_URL=api_url,
                DATABASE_URL=url,
                ADMIN_IDS=str(ADMIN),
                TIMEZONE="UTC",
            )
            first = start(env, Path(folder), log)
            try:

                async def far_enough() -> bool:
                    return len(intros(api)) >= kill_at

                await wait_until(far_enough, first, log)
                first.send_signal(signal.SIGKILL)
                first.wait()
            finally:
                if first.poll() is None:
                    first.kill()
                    first.wait()
            await asyncio.sleep(latency + 0.2)  # let the answers to the dead process run out
            at_kill = len(intros(api))
            in_flight = (await deliveries(db)).get("claimed", 0)
            if await mixer_status(db) != "running":
                raise SystemExit("the bot finished the mixer before it could be killed")

            again = start(env, Path(folder), log)
            try:

                async def finished() -> bool:
                    return await mixer_status(db) == "done"

                await wait_until(finished, again, log)
                again.send_signal(signal.SIGINT)
                again.wait(timeout=30)
            finally:
                if again.poll() is None:
                    again.kill()
                    again.wait()
            await asyncio.sleep(1.2)  # the last getUpdates the bot left open
    finally:
        await db.dispose()
    received = intros(api)
    everyone = range(ADMIN, ADMIN + people)
    return Figures(
        people=people,
        at_kill=at_kill,
        in_flight=in_flight,
        received=sum(1 for p in everyone if received[p] > 0),
        missing=sum(1 for p in everyone if received[p] == 0),
        duplicates=sum(n - 1 for n in received.values() if n > 1),
        announcements=sum(1 for m in api.sent(CHAT) if str(m.get("text", "")).startswith("☕")),
        bound=SEND_CONCURRENCY,
    )


def verdict(f: Figures) -> str | None:
    """What went wrong, if anything."""
    if f.missing:
        return f"{f.missing} people without their intro"
    if f.duplicates > f.bound or f.in_flight > f.bound:
        return f"more intros in flight or twice than the bound of {f.bound}"
    if f.announcements != 1:
        return f"the chat got the week's topic {f.announcements} times"
    return None


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument("--people", type=int, default=400)
    args = parser.parse_args()
    failed = False
    for kind in database_kinds(args.db):
        async with database(kind) as url:
            f = await crash(url, args.people)
        problem = verdict(f)
        failed = failed or problem is not None
        print(
            f"{kind:10s} people {f.people}, intros received by {f.received}, missing {f.missing},"
            f" duplicates {f.duplicates} (bound {f.bound}: the sends in flight);"
            f" killed with {f.at_kill} intros out and {f.in_flight} in flight;"
            f" the chat's topic posted {f.announcements} time(s)"
            f" — {problem or 'ok'}"
        )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    asyncio.run(main())
