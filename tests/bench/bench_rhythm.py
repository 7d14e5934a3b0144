"""The weekly rhythm at company scale: pairing, the digest, and the mixer's sending.

(a) Pairing 10,000 employees (5,000 vs 5,000 and 7,000 vs 3,000), first week and after half
    a year of earlier meetings with a tenth of the people away each week. Target: under 1 s.
(b) The digest over 10,000 employees and 1,000,000 journal entries (seeded in bulk with
    INSERT ... SELECT), its time and its number of SQL queries, and the same at 1,000
    employees to show the count does not grow with headcount. Target: under 1 s on PostgreSQL.
(c) The Monday mixer telling 1,000 people their partner through a fake Telegram that enforces
    30 messages a second, with the bot's real Application and its rate limiter; once with an
    instant network and once with a latency that varies from 0 to 30 ms, as a real one does.
    Target: at least 27 messages a second and no flood errors.

    python -m tests.bench.bench_rhythm                     # PostgreSQL (TRUCE_BENCH_DATABASE_URL
                                                           # or TRUCE_TEST_DATABASE_URL)
    python -m tests.bench.bench_rhythm --db sqlite
    python -m tests.bench.bench_rhythm --db both
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import re
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import TextClause, event, func, select, text
from sqlalchemy.exc import DBAPIError

from bot.app import build_application
from bot.config import Settings
from bot.db import Database
from bot.domain.goals import GoalSpec
from bot.domain.ledger import SystemAccount
from bot.domain.pairing import pair
from bot.jobs import run_due
from bot.models import Account, Department, Employee, Reward
from bot.services import company, digest, directory, goals, shop
from tests.bench.common import database
from tests.fake_telegram import TOKEN, FakeBotApi, FakeRequest

MSK = ZoneInfo("Europe/Moscow")
WEEKS = 20  # of history behind the digest
ADMIN = 1

# -- (a) pairing ------------------------------------------------------------------------------


def history(
    side_a: list[int], side_b: list[int], weeks: int, away: float, rng: random.Random
) -> tuple[dict[tuple[int, int], int], list[int]]:
    """Earlier meetings as the mixer would have made them, with `away` of people absent
    (holidays, /pause) each week, so the rotation is broken the way it is in real life."""
    met: dict[tuple[int, int], int] = {}
    waiting: list[int] = []
    for week in range(weeks):
        present_a = [p for p in side_a if rng.random() >= away]
        present_b = [p for p in side_b if rng.random() >= away]
        plan = pair(present_a, present_b, met, week, waiting)
        for first, *others in plan.groups:
            for other in others:
                key = (min(first, other), max(first, other))
                met[key] = met.get(key, 0) + 1
        waiting = plan.waiting
    return met, waiting


def bench_pairing() -> None:
    print("(a) pairing 10,000 employees (target: under 1 s)")
    rng = random.Random(2026)
    for size_a, size_b in ((5_000, 5_000), (7_000, 3_000)):
        side_a = list(range(1, size_a + 1))
        side_b = list(range(size_a + 1, size_a + size_b + 1))
        for weeks in (0, 26):
            met, waiting = history(side_a, side_b, weeks, 0.1, rng)
            started = time.perf_counter()
            plan = pair(side_a, side_b, met, weeks, waiting)
            seconds = time.perf_counter() - started
            repeats = sum(
                1
                for first, *others in plan.groups
                for other in others
                if met.get((min(first, other), max(first, other)))
            )
            label = f"after {weeks} weeks ({len(met):,} pairs met)" if weeks else "first week"
            print(
                f"    {size_a:,} vs {size_b:,}, {label:32s} {seconds * 1000:7.1f} ms"
                f"   groups {len(plan.groups):,}, waiting {len(plan.waiting):,},"
                f" repeated pairs {repeats}"
            )


# -- (b) the digest at scale ------------------------------------------------------------------


def _series(kind: str, count: str) -> str:
    """`g` from 1 to `count`, as a FROM clause."""
    if kind == "postgresql":
        return f"generate_series(CAST(1 AS bigint), {count}) AS s(g)"
    return (
        f"(WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < {count})"
        " SELECT g FROM s)"
    )


def _key(kind: str, number: str) -> str:
    """A unique key that sorts like `number`, so its index grows at the end (fast to fill)."""
    if kind == "postgresql":
        return f"'bench:' || lpad(CAST({number} AS text), 8, '0')"
    return f"printf('bench:%08d', {number})"


def _moment(kind: str, seconds_before_end: str) -> str:
    """:end minus an expression in seconds, as the column type stores it."""
    if kind == "postgresql":
        return f"(CAST(:end AS timestamptz) - ({seconds_before_end}) * interval '1 second')"
    # SQLAlchemy keeps SQLite timestamps as text: 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC.
    return (
        f"(strftime('%Y-%m-%d %H:%M:%S', :end_epoch - ({seconds_before_end}), 'unixepoch')"
        " || '.000000')"
    )


async def seed_company(db: Database, employees: int, entries: int, end: datetime) -> None:
    """`employees` people in two departments, `entries` transfers from issuance over
    `WEEKS` weeks (60% thanks, 20% meetings, 20% grants, one in a hundred to a wallet), a
    mixer round a week, 2% of people redeeming something, and two shared goals."""
    kind = db.dialect
    await directory.bootstrap(db, ["Marketing", "Sales"], [ADMIN])
    await shop.seed_rewards(db)
    await directory.register(
        db,
        telegram_id=ADMIN,
        first_name="Admin",
        username="admin",
        language="en",
        department_code="marketing",
        admin_ids=[ADMIN],
    )
    for code, title in (("leads", "Approved leads"), ("demos", "Joint demos")):
        await goals.create(
            db,
            actor_telegram_id=ADMIN,
            goal=GoalSpec(code, title, 10, "week", 15, True, None, None),
            tz=MSK,
        )
    span = WEEKS * 7 * 24 * 3600
    params: dict[str, Any] = {"end": end, "end_epoch": int(end.timestamp()), "n": employees}
    false = "false" if kind == "postgresql" else "0"
    async with db.transaction() as session:

        async def run(sql: str) -> None:
            await session.execute(inline(sql, params), {"end": end})

        if kind == "postgresql":
            # The rows are built valid; checking a million foreign keys one by one is what
            # would take the time (needs a superuser, as the benchmark database's owner is).
            try:
                async with session.begin_nested():
                    await session.execute(text("SET LOCAL session_replication_role = replica"))
            except DBAPIError:
                pass  # not a superuser: the keys are checked, and seeding takes longer
        else:
            await session.execute(text("PRAGMA cache_size = -524288"))  # 512 MB for the indexes
        ids = dict((await session.execute(select(Department.code, Department.id))).all())
        params |= {"m": ids["marketing"], "s": ids["sales"]}
        await run(
            "INSERT INTO employees (telegram_id, first_name, username, language,"
            " department_id, role, paused, created_at)"
            " SELECT 1000000 + g, 'Person ' || g, 'p' || g,"
            " CASE WHEN g % 3 = 0 THEN 'ru' ELSE 'en' END,"
            f" CASE WHEN g % 2 = 0 THEN :m ELSE :s END, 'employee', {false},"
            f" {_moment(kind, str(span))} FROM {_series(kind, ':n')}"
        )
        await run(
            "INSERT INTO accounts (kind, employee_id, balance, allow_negative)"
            f" SELECT 'employee', id, 0, {false} FROM employees"
            " WHERE telegram_id > 1000000 ORDER BY id"
        )
        first_employee, last_employee = (
            await session.execute(
                select(func.min(Employee.id), func.max(Employee.id)).where(
                    Employee.telegram_id > 1_000_000
                )
            )
        ).one()
        first_account, last_account = (
            await session.execute(
                select(func.min(Account.id), func.max(Account.id)).where(
                    Account.employee_id >= first_employee
                )
            )
        ).one()
        assert last_employee - first_employee + 1 == employees
        assert last_account - first_account + 1 == employees
        wallets = dict(
            (
                await session.execute(
                    select(Account.department_id, Account.id).where(Account.kind == "department")
                )
            ).all()
        )
        issuance = await session.scalar(
            select(Account.id).where(Account.code == SystemAccount.ISSUANCE.value)
        )
        coffee = await session.scalar(select(Reward.id).where(Reward.code == "coffee"))
        params |= {
            "entries": entries,
            "issuance": issuance,
            "first_employee": first_employee,
            "first_account": first_account,
            "wallet_m": wallets[ids["marketing"]],
            "wallet_s": wallets[ids["sales"]],
            "coffee": coffee,
            "pairs": employees // 2,
            "weeks": WEEKS,
            "redemptions": max(employees // 50, 1) * WEEKS,
        }
        # Spread over the weeks by a multiplicative hash, so every week looks alike.
        await run(
            "INSERT INTO transfers (idempotency_key, from_account_id, to_account_id, amount,"
            " kind, reason, actor_id, created_at)"
            f" SELECT {_key(kind, 'g')}, :issuance,"
            " CASE WHEN g % 100 = 0 THEN (CASE WHEN g % 200 = 0 THEN :wallet_m"
            " ELSE :wallet_s END) ELSE :first_account + (g * 7919) % :n END,"
            " 1 + g % 5,"
            " CASE WHEN g % 100 = 0 THEN 'grant' WHEN g % 10 < 6 THEN 'thanks'"
            " WHEN g % 10 < 8 THEN 'mixer' ELSE 'grant' END,"
            f" 'bench', NULL, {_moment(kind, f'(g * 104729) % {span}')}"
            f" FROM {_series(kind, ':entries')}"
        )
        local = (
            "(t.created_at AT TIME ZONE 'Europe/Moscow')"
            if kind == "postgresql"
            else "datetime(t.created_at, '+3 hours')"
        )
        week, day = (
            (f"CAST(date_trunc('week', {local}) AS date)", f"CAST({local} AS date)")
            if kind == "postgresql"
            else (f"date({local}, '-6 days', 'weekday 1')", f"date({local})")
        )
        await run(
            "INSERT INTO thanks (key, giver_id, receiver_id, amount, paid, cross_department,"
            " reason, week, day, transfer_id, created_at)"
            f" SELECT {_key(kind, 't.id')}, giver.id, receiver.id, 1, t.amount,"
            " giver.department_id <> receiver.department_id, 'bench',"
            f" {week}, {day}, t.id, t.created_at"
            " FROM transfers t"
            " JOIN accounts a ON a.id = t.to_account_id"
            " JOIN employees receiver ON receiver.id = a.employee_id"
            " JOIN employees giver ON giver.id = :first_employee + (t.id * 31) % :n"
            " WHERE t.kind = 'thanks' AND giver.id <> receiver.id"
        )
        # A round a week; two people in three meet, one meeting in ten notes a client pain.
        await run(
            "INSERT INTO mixer_rounds (period, topic, created_at)"
            f" SELECT 'bench-' || g, '1', {_moment(kind, '(g * 7 - 3) * 86400')}"
            f" FROM {_series(kind, ':weeks')}"
        )
        met_at = (
            "r.created_at + (g % 4) * interval '1 day'"
            if kind == "postgresql"
            else "strftime('%Y-%m-%d %H:%M:%S', r.created_at, '+' || (g % 4) || ' days')"
            " || '.000000'"
        )
        await run(
            "INSERT INTO mixer_groups (round_id, prompt, pain, met_at)"
            " SELECT r.id, '1', CASE WHEN g % 10 = 0 THEN 'client pain ' || g END,"
            f" CASE WHEN g % 3 <> 0 THEN {met_at} END"
            f" FROM mixer_rounds r CROSS JOIN {_series(kind, ':pairs')}"
        )
        first_group = await session.scalar(text("SELECT min(id) FROM mixer_groups"))
        params["first_group"] = first_group
        for offset in (0, 1):  # neighbours by id are in different departments
            await run(
                "INSERT INTO mixer_members (group_id, employee_id, confirmed_at)"
                " SELECT grp.id,"
                " :first_employee + (2 * ((grp.id - :first_group) % :pairs)"
                f" + {offset} + 2 * ((grp.id - :first_group) / :pairs)) % :n,"
                " grp.met_at FROM mixer_groups grp"
            )
        await run(
            "INSERT INTO redemptions (key, reward_id, employee_id, account_id, price, status,"
            " decided_at, created_at)"
            f" SELECT {_key(kind, 'g')}, :coffee, :first_employee + (g * 13) % :n,"
            " :first_account + (g * 13) % :n, 20, 'approved',"
            f" {_moment(kind, f'(g * 104729) % {span}')},"
            f" {_moment(kind, f'(g * 104729) % {span} + 3600')}"
            f" FROM {_series(kind, ':redemptions')}"
        )
    if kind == "postgresql":
        async with db.engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.exec_driver_sql("VACUUM ANALYZE")
    else:
        async with db.engine.connect() as conn:
            await conn.exec_driver_sql("ANALYZE")


def inline(sql: str, values: dict[str, Any]) -> TextClause:
    """`sql` with its integer :names written in (asyncpg cannot type untyped parameters in
    CASE or arithmetic); the timestamps stay bound parameters."""
    return text(
        re.sub(
            r":(\w+)",
            lambda m: str(values[m[1]]) if isinstance(values.get(m[1]), int) else m[0],
            sql,
        )
    )


@contextmanager
def counting_queries(db: Database) -> Iterator[list[str]]:
    """Every statement sent to the database while inside, on the writer and reader engines."""
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engines = {id(e.sync_engine): e.sync_engine for e in (db.engine, db.read_engine)}
    for engine in engines.values():
        event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        for engine in engines.values():
            event.remove(engine, "before_cursor_execute", count)


@dataclass(frozen=True)
class DigestFigures:
    seeded: float  # seconds to seed the database
    first: float  # seconds for the first digest after seeding
    best: float  # seconds, the best of three more
    queries: int  # SQL statements sent for one digest
    meetings: int  # meetings the digest counted in its week


async def digest_figures(kind: str, employees: int, entries: int) -> DigestFigures:
    end = datetime.now(UTC).replace(microsecond=0)
    start = end - timedelta(days=7)
    async with database(kind) as url:
        db = Database(url)
        try:
            started = time.perf_counter()
            await seed_company(db, employees, entries, end)
            seeded = time.perf_counter() - started
            times, counts = [], []
            for _ in range(4):
                with counting_queries(db) as statements:
                    started = time.perf_counter()
                    result = await digest.compute(db, start=start, end=end, tz=MSK, shame=True)
                    times.append(time.perf_counter() - started)
                counts.append(len(statements))
            # The first digest also looks up the issuance account's id, then remembered.
            assert len(set(counts[1:])) == 1, counts
            assert sum(s.tokens for s in result.scores) > 0 and result.cross.thanks > 0
            return DigestFigures(seeded, times[0], min(times[1:]), counts[-1], result.meetings)
        finally:
            await db.dispose()


async def bench_digest(kinds: list[str]) -> None:
    print("(b) the weekly digest (target: under 1 s on PostgreSQL; queries not growing)")
    for kind in kinds:
        queries = []
        for employees, entries in ((1_000, 100_000), (10_000, 1_000_000)):
            f = await digest_figures(kind, employees, entries)
            queries.append(f.queries)
            print(
                f"    {kind:10s} {employees:6,} employees, {entries:9,} entries:"
                f" digest {f.best * 1000:6.0f} ms (first {f.first * 1000:.0f} ms),"
                f" {f.queries} queries, {f.meetings:,} meetings in the week;"
                f" seeded in {f.seeded:.1f} s"
            )
        verdict = "the same" if len(set(queries)) == 1 else "GROWING"
        print(f"    {kind:10s} queries at 1,000 and 10,000 employees: {verdict}")


# -- (c) the mixer's sending ------------------------------------------------------------------


class LatentRequest(FakeRequest):
    """The fake Bot API behind a network whose latency varies from 0 to `latency` seconds."""

    def __init__(self, api: FakeBotApi, latency: float, rng: random.Random) -> None:
        super().__init__(api)
        self.latency, self.rng = latency, rng

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        await asyncio.sleep(self.rng.uniform(0, self.latency))
        return await super().do_request(*args, **kwargs)


async def mixer_figures(
    kind: str, people: int, latency: float = 0.0
) -> tuple[int, float, float, int, int]:
    """(messages delivered, messages per second from the first to the last, seconds for the
    whole run including the pairing, flood errors, people left without their message)."""
    api = FakeBotApi(messages_per_second=30)
    async with database(kind) as url:
        settings = Settings(
            bot_token=TOKEN,
            database_url=url,
            admin_ids=[1_000_000],
            default_language="en",
            _env_file=None,  # type: ignore[call-arg]
        )
        db = Database(url, **({"pool_size": 20} if kind == "postgresql" else {}))
        request = LatentRequest(api, latency, random.Random(7)) if latency else FakeRequest(api)
        app = build_application(settings, db, request=request, rate_limit=True)
        await app.initialize()
        assert app.post_init is not None
        await app.post_init(app)
        try:
            for i in range(people):
                telegram_id = 1_000_000 + i
                api.chats[telegram_id] = {"id": telegram_id, "type": "private", "first_name": "P"}
                await directory.register(
                    db,
                    telegram_id=telegram_id,
                    first_name=f"Person {i}",
                    username=f"p{i}",
                    language="ru" if i % 3 else "en",
                    department_code="marketing" if i % 2 == 0 else "sales",
                    admin_ids=settings.admin_ids,
                )
            chat_id = -1_000_777
            api.chats[chat_id] = {"id": chat_id, "type": "supergroup", "title": "Company"}
            await company.bind_chat(db, actor_telegram_id=1_000_000, chat_id=chat_id)
            context = app.context_types.context(app)
            monday = datetime(2026, 11, 30, 10, 0, tzinfo=MSK)
            before = len(api.calls)
            started = time.perf_counter()
            await run_due(context, now=monday)
            seconds = time.perf_counter() - started
            sends = [c for c in api.calls[before:] if c.method == "sendMessage"]
            delivered = Counter(m["chat"]["id"] for m in api.sent())
            assert set(delivered.values()) == {1}, "someone got their intro twice"
            rate = (len(sends) - 1) / (sends[-1].at - sends[0].at)
            failures = people + 1 - len(delivered)
            return len(delivered), rate, seconds, api.flood_errors, failures
        finally:
            await app.shutdown()
            assert app.post_shutdown is not None
            await app.post_shutdown(app)


async def bench_mixer(kinds: list[str]) -> None:
    print("(c) the mixer to 1,000 people at Telegram's 30 messages/s (target: >= 27/s, no 429)")
    for kind in kinds:
        for latency in (0.0, 0.03):
            sent, rate, seconds, floods, failures = await mixer_figures(kind, 1_000, latency)
            network = f"latency 0-{latency * 1000:.0f} ms" if latency else "no latency"
            print(
                f"    {kind:10s} {network:17s} {sent:,} messages delivered,"
                f" {rate:5.1f} messages/s, run {seconds:5.1f} s, flood errors (429) {floods},"
                f" undelivered {failures}"
            )


async def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="postgresql")
    parser.add_argument(
        "--only", choices=["pairing", "digest", "mixer"], help="run one part of the benchmark"
    )
    args = parser.parse_args()
    # The Monday run finds Friday's digest too old to send and says so; that is expected here.
    logging.basicConfig(level=logging.ERROR)
    kinds = ["postgresql", "sqlite"] if args.db == "both" else [args.db]
    if args.only in (None, "pairing"):
        bench_pairing()
    if args.only in (None, "digest"):
        await bench_digest(kinds)
    if args.only in (None, "mixer"):
        await bench_mixer(kinds)


if __name__ == "__main__":
    asyncio.run(main())
