"""Requests handled in groups: the `Batcher` itself, then the two services built on it, who is
behind a Telegram id (`directory.find`) and thanks (`thanks.give`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import event, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bot.db import Database
from bot.domain.errors import (
    AllowanceExceeded,
    InvalidAmount,
    NotRegistered,
    PairCapReached,
    UnknownUser,
)
from bot.domain.roles import Role
from bot.models import Employee, Thanks, Transfer
from bot.services import directory, ledger, mixer, thanks
from bot.services.batching import Batcher
from tests.conftest import both_databases
from tests.fake_telegram import Person
from tests.helpers import DEFAULT_RULES, MONDAY, MOSCOW, accounts, open_company, register

# -- a fake `handle` ---------------------------------------------------------------------------


class Refused(Exception):
    """The outcome `FakeHandle` gives a request it refuses: raised for that request alone."""

    def __init__(self, request: int) -> None:
        super().__init__(f"request {request} refused")
        self.request = request


class Poisoned(Exception):
    """What `FakeHandle` raises for a whole group that holds a poisoned request."""

    def __init__(self, request: int) -> None:
        super().__init__(f"group poisoned by request {request}")
        self.request = request


@dataclass
class FakeHandle:
    """Answers request `n` with `n * 10`, refuses those in `refuse` (an outcome), and fails the
    whole group when it holds one in `poison`. It records every group it is called with, and
    while `release` is clear it holds the group it is handling."""

    refuse: set[int] = field(default_factory=set)
    poison: set[int] = field(default_factory=set)
    groups: list[list[int]] = field(default_factory=list)
    workers: list[asyncio.Task[Any]] = field(default_factory=list)
    entered: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def __post_init__(self) -> None:
        self.release.set()

    def hold(self) -> FakeHandle:
        """Keep every group being handled until `release` is set."""
        self.release.clear()
        return self

    async def __call__(self, group: Sequence[int]) -> list[int | Exception]:
        self.groups.append(list(group))
        task = asyncio.current_task()
        assert task is not None
        self.workers.append(task)
        self.entered.set()
        await self.release.wait()
        await asyncio.sleep(0)  # handling takes a moment: others may arrive meanwhile
        for request in group:
            if request in self.poison:
                raise Poisoned(request)
        return [Refused(n) if n in self.refuse else n * 10 for n in group]


async def let_others_run(turns: int = 5) -> None:
    """Give every ready task a few turns of the event loop."""
    for _ in range(turns):
        await asyncio.sleep(0)


async def outcomes_of(tasks: Sequence[Awaitable[Any]]) -> list[Any]:
    """What each caller got: its result or the exception raised for it (never a hang)."""
    return await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), timeout=10)


# -- the Batcher -------------------------------------------------------------------------------


async def test_a_lone_request_is_handled_on_its_own_and_gets_its_result() -> None:
    handle = FakeHandle()
    batcher: Batcher[int, int] = Batcher(handle)

    assert await batcher.submit(7) == 70
    assert await batcher.submit(8) == 80
    assert handle.groups == [[7], [8]]


async def test_requests_that_arrive_while_a_group_is_handled_form_the_next_group() -> None:
    handle = FakeHandle().hold()
    batcher: Batcher[int, int] = Batcher(handle)
    first = asyncio.create_task(batcher.submit(0))
    await handle.entered.wait()

    later = [asyncio.create_task(batcher.submit(n)) for n in range(1, 6)]
    await let_others_run()
    assert handle.groups == [[0]]  # one group at a time: the others wait for this one
    handle.release.set()

    assert await outcomes_of([first, *later]) == [0, 10, 20, 30, 40, 50]
    assert handle.groups == [[0], [1, 2, 3, 4, 5]]


async def test_twenty_concurrent_requests_are_handled_in_fewer_groups_in_order_of_arrival() -> None:
    handle = FakeHandle()
    batcher: Batcher[int, int] = Batcher(handle)
    arrived: list[int] = []

    async def arrive(n: int) -> int:
        for _ in range(n * 7 % 4):  # arrivals spread over a few turns, out of numeric order
            await asyncio.sleep(0)
        arrived.append(n)
        return await batcher.submit(n)

    results = await outcomes_of([arrive(n) for n in range(20)])

    assert results == [n * 10 for n in range(20)]
    assert len(handle.groups) < 20
    assert [n for group in handle.groups for n in group] == arrived
    assert arrived != sorted(arrived)  # the order of arrival is not the order of the callers


async def test_a_group_holds_at_most_the_limit_and_the_rest_wait_for_the_next() -> None:
    handle = FakeHandle()
    batcher: Batcher[int, int] = Batcher(handle, limit=3)

    results = await outcomes_of([batcher.submit(n) for n in range(10)])

    assert results == [n * 10 for n in range(10)]
    assert handle.groups == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]]


async def test_an_error_outcome_is_raised_for_its_own_request_and_no_other() -> None:
    handle = FakeHandle(refuse={2, 5})
    batcher: Batcher[int, int] = Batcher(handle)

    results = await outcomes_of([batcher.submit(n) for n in range(8)])

    for n, result in enumerate(results):
        if n in {2, 5}:
            assert isinstance(result, Refused) and result.request == n
        else:
            assert result == n * 10
    assert handle.groups == [list(range(8))]  # refusing is an answer: nothing is retried


async def test_when_a_whole_group_fails_each_request_is_retried_alone() -> None:
    handle = FakeHandle(refuse={4}, poison={3})
    batcher: Batcher[int, int] = Batcher(handle)

    results = await outcomes_of([batcher.submit(n) for n in range(6)])

    assert results[:3] == [0, 10, 20]
    assert isinstance(results[3], Poisoned) and results[3].request == 3
    assert isinstance(results[4], Refused) and results[4].request == 4
    assert results[5] == 50
    assert handle.groups == [[0, 1, 2, 3, 4, 5], [0], [1], [2], [3], [4], [5]]


async def test_a_lone_request_whose_handling_fails_gets_that_error_without_a_retry() -> None:
    handle = FakeHandle(poison={3})
    batcher: Batcher[int, int] = Batcher(handle)

    with pytest.raises(Poisoned) as raised:
        await batcher.submit(3)

    assert raised.value.request == 3
    assert handle.groups == [[3]]
    assert await batcher.submit(4) == 40  # the batcher carries on


async def test_a_handle_that_leaves_a_request_unanswered_fails_it_instead_of_hanging() -> None:
    groups: list[list[int]] = []

    async def forgets_one(group: Sequence[int]) -> list[int | Exception]:
        groups.append(list(group))
        return [n * 10 for n in group if n != 1]  # no outcome at all for request 1

    batcher: Batcher[int, int] = Batcher(forgets_one)

    results = await outcomes_of([batcher.submit(n) for n in range(3)])

    assert results[0] == 0 and results[2] == 20  # nobody is given someone else's answer
    assert isinstance(results[1], RuntimeError)
    assert groups == [[0, 1, 2], [0], [1], [2]]


async def test_callers_that_stop_waiting_do_not_break_the_others() -> None:
    handle = FakeHandle(refuse={0}).hold()
    batcher: Batcher[int, int] = Batcher(handle)
    being_handled = asyncio.create_task(batcher.submit(0))
    await handle.entered.wait()
    queued = [asyncio.create_task(batcher.submit(n)) for n in (1, 2, 3)]
    await let_others_run()

    being_handled.cancel()  # gives up while its group is handled
    queued[1].cancel()  # gives up while still waiting for a group
    handle.release.set()
    results = await outcomes_of([being_handled, *queued])

    assert isinstance(results[0], asyncio.CancelledError)
    assert results[1] == 10
    assert isinstance(results[2], asyncio.CancelledError)
    assert results[3] == 30
    assert await batcher.submit(4) == 40


async def test_cancelling_the_worker_cancels_every_caller_waiting_for_it() -> None:
    handle = FakeHandle().hold()
    batcher: Batcher[int, int] = Batcher(handle)
    being_handled = asyncio.create_task(batcher.submit(0))
    await handle.entered.wait()
    queued = [asyncio.create_task(batcher.submit(n)) for n in (1, 2)]
    await let_others_run()

    handle.workers[0].cancel()  # the bot shuts down while a group is handled
    results = await outcomes_of([being_handled, *queued])

    assert [type(result) for result in results] == [asyncio.CancelledError] * 3
    assert handle.groups == [[0]]  # the queued requests were dropped, not handled
    handle.release.set()
    assert await batcher.submit(5) == 50  # a later request starts a new worker


@settings(max_examples=60, deadline=None)
@given(
    requests=st.lists(
        st.tuples(st.integers(0, 3), st.sampled_from(["answer", "refuse", "poison"])),
        min_size=1,
        max_size=25,
    ),
    limit=st.integers(1, 8),
)
def test_every_caller_gets_what_handling_its_request_alone_would_give(
    requests: list[tuple[int, str]], limit: int
) -> None:
    arrived: list[int] = []

    async def play() -> tuple[list[Any], FakeHandle]:
        handle = FakeHandle(
            refuse={n for n, (_, kind) in enumerate(requests) if kind == "refuse"},
            poison={n for n, (_, kind) in enumerate(requests) if kind == "poison"},
        )
        batcher: Batcher[int, int] = Batcher(handle, limit=limit)

        async def arrive(n: int, delay: int) -> int:
            for _ in range(delay):
                await asyncio.sleep(0)
            arrived.append(n)
            return await batcher.submit(n)

        results = await outcomes_of([arrive(n, delay) for n, (delay, _) in enumerate(requests)])
        return results, handle

    results, handle = asyncio.run(play())

    for n, ((_, kind), result) in enumerate(zip(requests, results, strict=True)):
        if kind == "answer":
            assert result == n * 10
        else:
            assert isinstance(result, Refused if kind == "refuse" else Poisoned)
            assert result.request == n
    assert all(len(group) <= limit for group in handle.groups)
    # Each request is first handled once, in order of arrival; a group that failed as a whole
    # is followed by each of its requests handled alone.
    first_tries: list[int] = []
    groups = iter(handle.groups)
    for group in groups:
        first_tries.extend(group)
        if len(group) > 1 and not handle.poison.isdisjoint(group):
            assert [next(groups) for _ in group] == [[n] for n in group]
    assert first_tries == arrived


# -- who is behind a Telegram id ---------------------------------------------------------------

BORIS, CAROL, DMITRY, DORA = 2001, 2002, 2003, 1002
ALICE = 1001  # the admin
EVE = Person(2004, "Eve", "eve", "en")  # joins only when a test makes her
OFFICE = {
    ALICE: ("Alice", "marketing"),
    DORA: ("Dora", "sales"),
    BORIS: ("Boris", "marketing"),
    CAROL: ("Carol", "sales"),
    DMITRY: ("Dmitry", "marketing"),
}


async def open_office(db: Database, extra: dict[int, tuple[str, str]] | None = None) -> None:
    await open_company(db, ["Marketing", "Sales"], OFFICE | (extra or {}), admin_ids=[ALICE])


@contextmanager
def employee_reads(engine: AsyncEngine) -> Iterator[list[str]]:
    """The statements reading employees that run on `engine` meanwhile."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "employees" in statement:
            seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


@both_databases()
async def test_an_unregistered_id_is_nobody_until_they_register_then_found_at_once(
    db: Database,
) -> None:
    await open_office(db)
    assert await directory.find(db, EVE.id) is None

    await register(db, EVE, "sales", admin_ids=[ALICE])
    found = await directory.find(db, EVE.id)

    assert found is not None
    assert (found.telegram_id, found.first_name, found.username) == (EVE.id, "Eve", "eve")
    assert (found.department.code, found.role, found.paused) == ("sales", "employee", False)


@both_databases()
async def test_an_employee_once_found_is_remembered_for_the_next_updates(db: Database) -> None:
    await open_office(db)

    with employee_reads(db.read_engine) as first:
        boris = await directory.find(db, BORIS)
    with employee_reads(db.read_engine) as again:
        assert await directory.find(db, BORIS) == boris
        assert await directory.find(db, BORIS) == boris

    assert boris is not None and boris.first_name == "Boris"
    assert len(first) == 1
    assert again == []


async def _new_language(db: Database) -> None:
    await directory.set_language(db, BORIS, "ru")


async def _new_role(db: Database) -> None:
    await directory.set_role(db, actor_telegram_id=ALICE, target_username="boris", role=Role.LEAD)


async def _paused(db: Database) -> None:
    await mixer.set_paused(db, telegram_id=BORIS, paused=True)


@both_databases()
@pytest.mark.parametrize(
    ("change", "attribute", "before", "after"),
    [
        pytest.param(_new_language, "language", "en", "ru", id="set_language"),
        pytest.param(_new_role, "role", "employee", "lead", id="set_role"),
        pytest.param(_paused, "paused", False, True, id="set_paused"),
    ],
)
async def test_a_change_to_an_employee_is_seen_by_the_very_next_lookup(
    db: Database,
    change: Callable[[Database], Awaitable[None]],
    attribute: str,
    before: object,
    after: object,
) -> None:
    await open_office(db)
    remembered = await directory.find(db, BORIS)
    assert getattr(remembered, attribute) == before

    await change(db)

    assert getattr(await directory.find(db, BORIS), attribute) == after
    assert getattr(await directory.find(db, BORIS), attribute) == after


@both_databases()
async def test_resuming_after_a_pause_is_seen_by_the_very_next_lookup(db: Database) -> None:
    await open_office(db)
    await mixer.set_paused(db, telegram_id=BORIS, paused=True)
    paused = await directory.find(db, BORIS)
    assert paused is not None and paused.paused

    await mixer.set_paused(db, telegram_id=BORIS, paused=False)

    back = await directory.find(db, BORIS)
    assert back is not None and not back.paused


@both_databases()
async def test_a_lookup_made_while_a_change_is_written_is_not_served_after_it(
    db: Database,
) -> None:
    await open_office(db)
    async with directory.changing(db) as session:
        await session.execute(
            update(Employee).where(Employee.telegram_id == BORIS).values(language="ru")
        )
        during = await directory.find(db, BORIS)  # reads what was committed before

    after = await directory.find(db, BORIS)

    assert during is not None and during.language == "en"
    assert after is not None and after.language == "ru"


@both_databases()
async def test_a_lookup_read_before_a_change_but_finished_after_it_is_not_remembered(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await open_office(db)
    read, finish = asyncio.Event(), asyncio.Event()
    plain_read = db.read

    @asynccontextmanager
    async def read_then_wait() -> AsyncIterator[AsyncSession]:
        """The first read only: it reads at once, then is slow to hand its rows back."""
        monkeypatch.setattr(db, "read", plain_read)
        async with plain_read() as session:
            yield session
        read.set()
        await finish.wait()

    monkeypatch.setattr(db, "read", read_then_wait)
    slow = asyncio.create_task(directory.find(db, BORIS))
    await asyncio.wait_for(read.wait(), timeout=10)
    await directory.set_language(db, BORIS, "ru")  # committed while the rows are on the way
    finish.set()
    in_flight = await slow

    after = await directory.find(db, BORIS)

    assert in_flight is not None and in_flight.language == "en"  # it asked before the change
    assert after is not None and after.language == "ru"


@both_databases()
async def test_lookups_racing_changes_never_leave_a_stale_employee_behind(db: Database) -> None:
    await open_office(db)

    for round_, language in enumerate(["ru", "en"] * 6):

        async def look_up(turns: int) -> None:
            for _ in range(turns):
                await asyncio.sleep(0)
            await directory.find(db, BORIS)

        await asyncio.gather(
            directory.set_language(db, BORIS, language),
            *(look_up(turns) for turns in range(round_ % 4, 12, 2)),
        )

        found = await directory.find(db, BORIS)
        assert found is not None and found.language == language, f"round {round_}"


@both_databases()
async def test_many_concurrent_lookups_each_find_their_own_employee_read_together(
    db: Database,
) -> None:
    crowd = {3000 + n: (f"Person{n}", ("marketing", "sales")[n % 2]) for n in range(30)}
    await open_office(db, extra=crowd)
    strangers = [9001, 9002, 9003]
    wanted = [*crowd, *strangers, *OFFICE]
    wanted = wanted[::2] + wanted[1::2]  # the people and the strangers mixed up

    with employee_reads(db.read_engine) as reads:
        found = await outcomes_of([directory.find(db, telegram_id) for telegram_id in wanted])

    everyone = crowd | OFFICE
    for telegram_id, view in zip(wanted, found, strict=True):
        if telegram_id in strangers:
            assert view is None
        else:
            assert isinstance(view, directory.EmployeeView)
            name, department = everyone[telegram_id]
            assert (view.telegram_id, view.first_name, view.department.code) == (
                telegram_id,
                name,
                department,
            )
    assert len({view.account_id for view in found if view is not None}) == len(everyone)
    assert len(reads) < len(wanted)


# -- thanks given together ---------------------------------------------------------------------

NOW = MONDAY  # the whole test is in one week and one day


def give(
    db: Database, giver: int, receiver: str | int, amount: int, key: str
) -> Awaitable[thanks.ThanksResult]:
    return thanks.give(
        db,
        giver_telegram_id=giver,
        receiver=receiver,
        amount=amount,
        reason=f"thanks {key}",
        key=key,
        rules=DEFAULT_RULES,  # 5 a week, 3 to one person a day, ×2 across departments
        tz=MOSCOW,
        now=NOW,
    )


@contextmanager
def commits(engine: AsyncEngine) -> Iterator[list[None]]:
    """The transactions committed on `engine` meanwhile."""
    seen: list[None] = []

    def record(_conn: Any) -> None:
        seen.append(None)

    event.listen(engine.sync_engine, "commit", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "commit", record)


async def thanks_rows(db: Database) -> list[tuple[str, int, int]]:
    async with db.read() as session:
        rows = await session.execute(
            select(Thanks.key, Thanks.amount, Thanks.paid).order_by(Thanks.key)
        )
        return [tuple(row) for row in rows]  # type: ignore[misc]


@both_databases()
async def test_twelve_concurrent_thanks_from_several_givers_each_get_their_own_outcome(
    db: Database,
) -> None:
    await open_office(db)
    books = await accounts(db, OFFICE)
    # (giver, receiver, amount, what the giver is told); Alice, Boris and Dmitry are in
    # Marketing, Carol and Dora in Sales. Judged in order of arrival, as if one at a time.
    plan: list[tuple[int, str | int, int, int | type[Exception]]] = [
        (BORIS, "@carol", 2, 3),  # across: pays 4; Boris has 3 left
        (CAROL, "@boris", 1, 4),  # across: pays 2
        (DMITRY, "@boris", 3, 2),  # within: pays 3; Dmitry has given Boris the day's 3
        (BORIS, "@dmitry", 2, 1),  # within: pays 2
        (ALICE, "@nobody", 1, UnknownUser),
        (CAROL, "@Dora", 3, 1),  # within, any case of the name: pays 3
        (BORIS, "@carol", 1, 0),  # across: pays 2; Boris's week is spent
        (BORIS, "@dmitry", 1, AllowanceExceeded),
        (DORA, ALICE, 2, 3),  # across, by Telegram id: pays 4
        (DMITRY, "@boris", 1, PairCapReached),
        (ALICE, DORA, 2, 3),  # across, by Telegram id: pays 4
        (EVE.id, "@alice", 1, NotRegistered),
    ]

    with commits(db.engine) as written:
        results = await outcomes_of(
            [give(db, giver, to, amount, f"t{n}") for n, (giver, to, amount, _) in enumerate(plan)]
        )

    for n, ((giver, _, amount, expected), result) in enumerate(zip(plan, results, strict=True)):
        if isinstance(expected, int):
            assert isinstance(result, thanks.ThanksResult), (n, result)
            assert (result.giver.telegram_id, result.amount) == (giver, amount)
            assert (result.allowance_left, result.replayed) == (expected, False)
            assert result.paid == amount * (2 if result.cross_department else 1)
        else:
            assert type(result) is expected, (n, result)
    assert results[4].params == {"name": "@nobody"}
    assert results[7].params == {"left": 0, "allowance": 5}
    assert results[9].params == {"left": 0, "cap": 3}
    assert results[8].receiver.telegram_id == ALICE and results[10].receiver.telegram_id == DORA
    assert len(written) < len(plan)  # written together, not in a transaction each

    paid = {ALICE: 4, DORA: 3 + 4, BORIS: 2 + 3, CAROL: 4 + 2, DMITRY: 2}
    for person, tokens in paid.items():
        assert await ledger.balance(db, books.people[person]) == tokens, person
    assert await ledger.balance(db, books.issuance) == -sum(paid.values())
    given = [n for n, (*_, expected) in enumerate(plan) if isinstance(expected, int)]
    assert [key for key, _, _ in await thanks_rows(db)] == sorted(f"t{n}" for n in given)
    report = await ledger.verify(db)
    assert report.clean, report
    assert report.transfers == len(given)
    left = await thanks.allowance_left(db, BORIS, DEFAULT_RULES, MOSCOW, NOW)
    assert left == 0


@both_databases()
async def test_a_thanks_that_fails_its_groups_write_fails_alone_and_the_others_are_given(
    db: Database,
) -> None:
    await open_office(db)
    books = await accounts(db, OFFICE)
    # A journal line already holds the key this thanks would write, so it passes every rule
    # but breaks the group's write at the unique key.
    await ledger.transfer(
        db,
        key="thanks:clash",
        from_account=books.issuance,
        to_account=books.people[DORA],
        amount=1,
        kind="grant",
        reason="already there",
    )

    results = await outcomes_of(
        [
            give(db, BORIS, "@carol", 1, "good:1"),
            give(db, CAROL, "@dora", 1, "clash"),
            give(db, DMITRY, "@alice", 2, "good:2"),
        ]
    )

    assert isinstance(results[0], thanks.ThanksResult) and results[0].paid == 2
    assert isinstance(results[1], IntegrityError)
    assert isinstance(results[2], thanks.ThanksResult) and results[2].paid == 2
    assert await ledger.balance(db, books.people[CAROL]) == 2
    assert await ledger.balance(db, books.people[ALICE]) == 2
    assert await ledger.balance(db, books.people[DORA]) == 1
    assert await thanks_rows(db) == [("good:1", 1, 2), ("good:2", 2, 2)]
    report = await ledger.verify(db)
    assert report.clean and report.transfers == 3, report


@both_databases()
async def test_a_thanks_of_no_tokens_is_refused_before_it_joins_a_group(db: Database) -> None:
    await open_office(db)

    results = await outcomes_of(
        [give(db, CAROL, "@dora", 0, "nothing"), give(db, BORIS, "@carol", 1, "good")]
    )

    assert isinstance(results[0], InvalidAmount)
    assert isinstance(results[1], thanks.ThanksResult) and results[1].paid == 2
    assert await thanks_rows(db) == [("good", 1, 2)]


@both_databases()
async def test_the_same_thanks_sent_twice_at_once_is_given_once_and_answered_twice(
    db: Database,
) -> None:
    await open_office(db)
    books = await accounts(db, OFFICE)

    first, second = await outcomes_of(
        [give(db, BORIS, "@carol", 2, "twice"), give(db, BORIS, "@carol", 2, "twice")]
    )
    later = await give(db, BORIS, "@carol", 2, "twice")  # delivered once more, much later

    assert isinstance(first, thanks.ThanksResult) and isinstance(second, thanks.ThanksResult)
    assert (first.replayed, second.replayed, later.replayed) == (False, True, True)
    for result in (first, second, later):
        assert (result.receiver.telegram_id, result.amount, result.paid) == (CAROL, 2, 4)
        assert result.allowance_left == 3
    assert await thanks_rows(db) == [("twice", 2, 4)]
    async with db.read() as session:
        journal = await session.scalar(
            select(func.count(Transfer.id)).where(Transfer.idempotency_key == "thanks:twice")
        )
    assert journal == 1
    assert await ledger.balance(db, books.people[CAROL]) == 4
    assert await thanks.allowance_left(db, BORIS, DEFAULT_RULES, MOSCOW, NOW) == 3
    assert (await ledger.verify(db)).clean
