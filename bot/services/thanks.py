"""Thanks: tokens from a weekly allowance, paid to a colleague by the issuance account.

Thanks that arrive together are written together, in one transaction (see `batching`). Each
thanks in a group is still judged on its own, in order of arrival, against everything given
before it, so the rules hold exactly as if they were written one at a time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.db import Database
from bot.domain.errors import (
    AllowanceExceeded,
    BadButton,
    NotRegistered,
    OwnThanks,
    ReceiverPaused,
    ThanksToSelf,
    TruceError,
    UnknownUser,
)
from bot.domain.ledger import check_amount
from bot.domain.periods import local_day, week_start
from bot.domain.thanks import ThanksRules
from bot.models import Employee, Thanks, utcnow
from bot.services import ledger
from bot.services.batching import Batcher
from bot.services.directory import (
    EmployeeView,
    employee_rows,
    employee_view,
    find_by_username,
    require_employee,
)

# The most thanks written in one transaction.
GROUP = 200
# What a "+1" under someone's thanks gives, from the presser's own allowance.
PLUS_ONE = 1


@dataclass(frozen=True)
class ThanksResult:
    giver: EmployeeView
    receiver: EmployeeView
    amount: int
    paid: int
    cross_department: bool
    reason: str
    allowance_left: int
    replayed: bool


@dataclass(frozen=True)
class _Request:
    giver: int  # Telegram id
    receiver: str | int  # @username or Telegram id
    amount: int
    reason: str
    key: str
    rules: ThanksRules
    now: datetime
    week: date
    day: date


_Outcome = ThanksResult | Exception

# Built once: they run for every group.
_EMPLOYEES = employee_rows().order_by(Employee.id)
# Givers and receivers, in one query. Everyone in it is locked (PostgreSQL), in id order,
# before any account is: the order every token action takes, so none can deadlock another.
_PEOPLE = _EMPLOYEES.where(
    or_(
        Employee.telegram_id.in_(bindparam("ids", expanding=True)),
        Employee.username.in_(bindparam("names", expanding=True)),
    )
).with_for_update(of=Employee, key_share=True)
_BY_EMPLOYEE_ID = _EMPLOYEES.where(Employee.id.in_(bindparam("ids", expanding=True)))
# The givers' thanks of the weeks concerned (a few each: the allowance is small), and any
# thanks the group's messages already made: what is given so far, and what would be a replay.
_HISTORY = select(
    Thanks.key,
    Thanks.giver_id,
    Thanks.receiver_id,
    Thanks.week,
    Thanks.day,
    Thanks.amount,
    Thanks.paid,
    Thanks.cross_department,
    Thanks.reason,
).where(
    or_(
        and_(
            Thanks.giver_id.in_(bindparam("givers", expanding=True)),
            Thanks.week.in_(bindparam("weeks", expanding=True)),
        ),
        Thanks.key.in_(bindparam("keys", expanding=True)),
    )
)
_RECORD = insert(Thanks)


async def allowance_left(
    db: Database, telegram_id: int, rules: ThanksRules, tz: ZoneInfo, now: datetime | None = None
) -> int:
    async with db.read() as session:
        giver = await require_employee(session, telegram_id)
        week = week_start(now or utcnow(), tz)
        used = await session.scalar(
            select(func.coalesce(func.sum(Thanks.amount), 0)).where(
                Thanks.giver_id == giver.id, Thanks.week == week
            )
        )
    return max(rules.weekly_allowance - int(used or 0), 0)


async def check_several(
    db: Database,
    *,
    giver_telegram_id: int,
    receivers: Sequence[str],
    amount: int,
    rules: ThanksRules,
    tz: ZoneInfo,
) -> None:
    """Before thanking several people at once: everyone named is known, and what is left of the
    giver's allowance covers all of them."""
    async with db.read() as session:
        for handle in receivers:
            await find_by_username(session, handle)  # UnknownUser names the first one missing
    left = await allowance_left(db, giver_telegram_id, rules, tz)
    if amount * len(receivers) > left:
        raise AllowanceExceeded(left=left, allowance=rules.weekly_allowance)


async def give(
    db: Database,
    *,
    giver_telegram_id: int,
    receiver: str | int,
    amount: int,
    reason: str,
    key: str,
    rules: ThanksRules,
    tz: ZoneInfo,
    now: datetime | None = None,
) -> ThanksResult:
    """Thank a colleague (@username or Telegram id) with `amount` tokens from the allowance.

    The same `key` again (a message delivered twice, or edited) gives nothing and returns the
    thanks it made, as it was made.
    """
    check_amount(amount)
    now = now or utcnow()
    request = _Request(
        giver_telegram_id,
        receiver,
        amount,
        reason,
        key,
        rules,
        now,
        week_start(now, tz),
        local_day(now, tz),
    )
    batcher = db.memo.get("thanks")
    if batcher is None:
        # PostgreSQL writes two groups at once (row locks keep them apart); SQLite, one.
        workers = 1 if db.dialect == "sqlite" else 2
        batcher = db.memo["thanks"] = Batcher(partial(_give_group, db), GROUP, workers)
    result: ThanksResult = await batcher.submit(request)
    return result


def plus_key(original_key: str, presser_telegram_id: int) -> str:
    """One "+1" per person per thanks: '/' never appears in a thanks' own key."""
    return f"plus:{original_key}/{presser_telegram_id}"


async def plus_one(
    db: Database,
    *,
    presser_telegram_id: int,
    original_key: str,
    rules: ThanksRules,
    tz: ZoneInfo,
    now: datetime | None = None,
) -> tuple[ThanksResult, list[str]]:
    """Add one's own thanks to someone else's: the same person and reason, PLUS_ONE token from
    one's own allowance, once. Returns the thanks and everyone who has added theirs so far."""
    giver, receiver = Employee.__table__.alias("giver"), Employee.__table__.alias("receiver")
    async with db.read() as session:
        original = (
            await session.execute(
                select(giver.c.telegram_id, receiver.c.telegram_id, Thanks.reason)
                .join(giver, giver.c.id == Thanks.giver_id)
                .join(receiver, receiver.c.id == Thanks.receiver_id)
                .where(Thanks.key == original_key)
            )
        ).first()
    if original is None:
        raise BadButton()
    giver_telegram_id, receiver_telegram_id, reason = original
    if presser_telegram_id == giver_telegram_id:
        raise OwnThanks()
    result = await give(
        db,
        giver_telegram_id=presser_telegram_id,
        receiver=receiver_telegram_id,
        amount=PLUS_ONE,
        reason=reason,
        key=plus_key(original_key, presser_telegram_id),
        rules=rules,
        tz=tz,
        now=now,
    )
    pattern = plus_key(original_key, 0)[:-1].replace("%", r"\%").replace("_", r"\_") + "%"
    async with db.read() as session:
        names = await session.scalars(
            select(Employee.first_name)
            .join(Thanks, Thanks.giver_id == Employee.id)
            .where(Thanks.key.like(pattern, escape="\\"))
            .order_by(Thanks.id)
        )
        return result, list(names)


@dataclass
class _Totals:
    """What each giver has given, as the group is judged: this week, and to a person today."""

    weeks: defaultdict[tuple[int, date], int] = field(default_factory=lambda: defaultdict(int))
    days: defaultdict[tuple[int, int, date], int] = field(default_factory=lambda: defaultdict(int))


async def _give_group(db: Database, requests: Sequence[_Request]) -> list[_Outcome]:
    """Judge and write `requests` in one transaction: a result or a broken rule for each."""
    async with db.transaction() as session:
        connection = await session.connection()
        # Lock the givers first (PostgreSQL, as `directory.lock` does; SQLite runs one writer
        # at a time), so their allowance is read after every thanks of theirs has committed.
        givers, receivers = await _people(connection, requests)
        totals, made = await _history(connection, [view.id for view in givers.values()], requests)
        earlier = await _receivers_of(connection, made)
        outcomes: list[_Outcome] = []
        new: list[tuple[ThanksResult, _Request]] = []
        for request in requests:
            try:
                outcome = _judge(request, givers, receivers, made, earlier, totals, new)
            except TruceError as error:
                outcomes.append(error)
                continue
            outcomes.append(outcome)
            if not outcome.replayed:
                new.append((outcome, request))
        await _record(session, connection, new)
    return outcomes


def _judge(
    request: _Request,
    givers: dict[Any, EmployeeView],
    receivers: dict[Any, EmployeeView],
    made: dict[str, Any],
    earlier: dict[int, EmployeeView],
    totals: _Totals,
    new: list[tuple[ThanksResult, _Request]],
) -> ThanksResult:
    """One thanks, against the totals so far; the totals then include it."""
    rules = request.rules
    giver = givers.get(request.giver)
    if giver is None:
        raise NotRegistered()
    used = totals.weeks[(giver.id, request.week)]
    done = made.get(request.key)
    if done is not None:
        return ThanksResult(
            giver,
            earlier[done.receiver_id],
            done.amount,
            done.paid,
            done.cross_department,
            done.reason,
            max(rules.weekly_allowance - used, 0),
            replayed=True,
        )
    for result, twin in new:
        if twin.key == request.key:  # the same message twice in one group
            left = max(rules.weekly_allowance - used, 0)
            return replace(result, allowance_left=left, replayed=True)
    target = receivers.get(_handle(request.receiver))
    if target is None:
        raise UnknownUser(name=str(request.receiver)[:40])
    if target.id == giver.id:
        raise ThanksToSelf()
    if target.paused:
        raise ReceiverPaused(name=target.first_name)
    pair = (giver.id, target.id, request.day)
    rules.check(request.amount, used, totals.days[pair])
    totals.weeks[(giver.id, request.week)] += request.amount
    totals.days[pair] += request.amount
    cross = giver.department.id != target.department.id
    return ThanksResult(
        giver,
        target,
        request.amount,
        rules.paid(request.amount, cross),
        cross,
        request.reason,
        rules.weekly_allowance - used - request.amount,
        replayed=False,
    )


async def _receivers_of(
    connection: AsyncConnection, made: dict[str, Any]
) -> dict[int, EmployeeView]:
    """Who the thanks already made went to, by employee id (replays are rare: often none)."""
    if not made:
        return {}
    ids = sorted({thanks.receiver_id for thanks in made.values()})
    rows = await connection.execute(_BY_EMPLOYEE_ID, {"ids": ids})
    return {view.id: view for view in map(employee_view, rows)}


def _handle(receiver: str | int) -> str | int:
    """How a receiver is looked up: an @username in lower case without the @, or an id."""
    return receiver.lstrip("@").lower() if isinstance(receiver, str) else receiver


async def _people(
    connection: AsyncConnection, requests: Sequence[_Request]
) -> tuple[dict[int, EmployeeView], dict[Any, EmployeeView]]:
    """The givers by Telegram id; the people thanked by @username (lower case, without the @)
    and by Telegram id."""
    ids = {r.giver for r in requests} | {
        r.receiver for r in requests if isinstance(r.receiver, int)
    }
    names = {_handle(r.receiver) for r in requests if isinstance(r.receiver, str)}
    rows = await connection.execute(_PEOPLE, {"ids": sorted(ids), "names": sorted(names)})
    by_id: dict[int, EmployeeView] = {}
    by_name: dict[Any, EmployeeView] = {}
    for view in (employee_view(row) for row in rows):
        by_id[view.telegram_id] = view
        if view.username is not None:
            by_name[view.username] = view
    givers = {r.giver: by_id[r.giver] for r in requests if r.giver in by_id}
    return givers, by_name | by_id


async def _history(
    connection: AsyncConnection, givers: list[int], requests: Sequence[_Request]
) -> tuple[_Totals, dict[str, Any]]:
    """What the givers have given so far, and the thanks the requests' keys already made."""
    weeks = sorted({r.week for r in requests})
    keys = [r.key for r in requests]
    totals, made = _Totals(), {}
    rows = await connection.execute(_HISTORY, {"givers": givers, "weeks": weeks, "keys": keys})
    counted = {(giver, week) for giver in givers for week in weeks}
    for row in rows:
        if (row.giver_id, row.week) in counted:
            totals.weeks[(row.giver_id, row.week)] += row.amount
            totals.days[(row.giver_id, row.receiver_id, row.day)] += row.amount
        made[row.key] = row
    return totals, {key: made[key] for key in keys if key in made}


async def _record(
    session: Any, connection: AsyncConnection, new: list[tuple[ThanksResult, _Request]]
) -> None:
    """Pay the new thanks and write them down."""
    if not new:
        return
    transfer_ids = await ledger.issue_many(
        session,
        [
            ledger.Issue(
                key=f"thanks:{request.key}",
                to_account=result.receiver.account_id,
                amount=result.paid,
                kind="thanks",
                reason=result.reason,
                actor_id=result.giver.id,
                at=request.now,
            )
            for result, request in new
        ],
    )
    await connection.execute(
        _RECORD,
        [
            {
                "key": request.key,
                "giver_id": result.giver.id,
                "receiver_id": result.receiver.id,
                "amount": result.amount,
                "paid": result.paid,
                "cross_department": result.cross_department,
                "reason": result.reason,
                "week": request.week,
                "day": request.day,
                "transfer_id": transfer_id,
                "created_at": request.now,
            }
            for (result, request), transfer_id in zip(new, transfer_ids, strict=True)
        ],
    )
