"""The token ledger: transfers, balances, history and verification."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.db import Database
from bot.domain.errors import InsufficientTokens
from bot.domain.ledger import Discrepancy, SystemAccount, check_amount, compare
from bot.models import Account, Department, Employee, Transfer, utcnow


@dataclass(frozen=True)
class TransferResult:
    transfer_id: int
    amount: int
    replayed: bool


@dataclass(frozen=True)
class HistoryLine:
    when: datetime
    amount: int
    kind: str
    reason: str
    key: str = ""


@dataclass(frozen=True)
class VerifyReport:
    accounts: int
    transfers: int
    journal_sum: int
    discrepancies: list[Discrepancy]
    negative_accounts: list[int]
    # Who holds each account named above, for a person to read: "Boris (@boris)",
    # "the Sales wallet", "system: issuance".
    owners: dict[int, str] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not self.discrepancies and not self.negative_accounts and self.journal_sum == 0


# Built once, since every movement of tokens runs them.
_JOURNAL = {
    dialect: dialect_insert(Transfer)
    .on_conflict_do_nothing(index_elements=[Transfer.idempotency_key])
    .returning(Transfer.id)
    for dialect, dialect_insert in (("sqlite", sqlite_insert), ("postgresql", postgresql_insert))
}
_BY_KEY = select(Transfer.id, Transfer.amount).where(Transfer.idempotency_key == bindparam("key"))
_DEBIT = (
    update(Account)
    .where(
        Account.id == bindparam("account"),
        or_(Account.allow_negative, Account.balance >= bindparam("amount")),
    )
    .values(balance=Account.balance - bindparam("amount"))
)
_CREDIT = (
    update(Account)
    .where(Account.id == bindparam("account"))
    .values(balance=Account.balance + bindparam("amount"))
)


async def system_account_id(session: AsyncSession, code: SystemAccount) -> int:
    """The id of a system account; remembered, since it never changes once created."""
    cache: dict[str, int] = session.info.setdefault("cache", {})
    if code.value not in cache:
        account_id = await session.scalar(select(Account.id).where(Account.code == code.value))
        if account_id is None:
            raise LookupError(f"system account {code} is missing; run the bot once to create it")
        cache[code.value] = account_id
    return cache[code.value]


async def post(
    session: AsyncSession,
    *,
    key: str,
    from_account: int,
    to_account: int,
    amount: int,
    kind: str,
    reason: str,
    actor_id: int | None = None,
    at: datetime | None = None,
) -> TransferResult:
    """Post one transfer inside the caller's transaction.

    The same key twice returns the first transfer and moves nothing. The paying account is
    debited by a conditional UPDATE, so it cannot go below zero whatever runs alongside.
    """
    check_amount(amount)
    if from_account == to_account:
        raise ValueError(f"a transfer needs two accounts, got {from_account} twice")
    connection = await session.connection()
    # The journal line goes in first: a key already there (the same request again, or a racer
    # that got there first) inserts nothing, and then nothing moves.
    transfer_id = (
        await connection.execute(
            _JOURNAL[connection.dialect.name],
            {
                "idempotency_key": key,
                "from_account_id": from_account,
                "to_account_id": to_account,
                "amount": amount,
                "kind": kind,
                "reason": reason,
                "actor_id": actor_id,
                "created_at": at or utcnow(),
            },
        )
    ).scalar()
    if transfer_id is None:
        first = (await connection.execute(_BY_KEY, {"key": key})).one()
        return TransferResult(first.id, first.amount, replayed=True)
    # Touch accounts in id order so two opposite transfers cannot deadlock.
    for account_id in sorted((from_account, to_account)):
        if account_id == from_account:
            debited = await connection.execute(_DEBIT, {"account": from_account, "amount": amount})
            if debited.rowcount != 1:
                balance = await connection.scalar(
                    select(Account.balance).where(Account.id == from_account)
                )
                raise InsufficientTokens(has=int(balance or 0), needs=amount)
        else:
            await connection.execute(_CREDIT, {"account": to_account, "amount": amount})
    return TransferResult(transfer_id, amount, replayed=False)


@dataclass(frozen=True)
class Issue:
    """New tokens for one account, from the issuance account."""

    key: str
    to_account: int
    amount: int
    kind: str
    reason: str
    actor_id: int | None
    at: datetime


_JOURNAL_MANY = insert(Transfer).returning(Transfer.id, sort_by_parameter_order=True)
_ADD = (
    update(Account)
    .where(Account.id == bindparam("account"))
    .values(balance=Account.balance + bindparam("change"))
)


async def issue_many(session: AsyncSession, issues: Sequence[Issue]) -> list[int]:
    """Post several issuances inside the caller's transaction; their transfer ids, in order.

    Three statements however many there are: the journal lines, then one change per account,
    taken in id order like `post`. The keys must be new (the caller has checked, under its
    own lock); a repeated one fails the whole transaction, so nothing is applied twice.
    """
    if not issues:
        return []
    source = await system_account_id(session, SystemAccount.ISSUANCE)
    changes: dict[int, int] = {source: 0}
    lines = []
    for issue in issues:
        check_amount(issue.amount)
        if issue.to_account == source:
            raise ValueError("the issuance account cannot issue to itself")
        changes[source] -= issue.amount
        changes[issue.to_account] = changes.get(issue.to_account, 0) + issue.amount
        lines.append(
            {
                "idempotency_key": issue.key,
                "from_account_id": source,
                "to_account_id": issue.to_account,
                "amount": issue.amount,
                "kind": issue.kind,
                "reason": issue.reason,
                "actor_id": issue.actor_id,
                "created_at": issue.at,
            }
        )
    connection = await session.connection()
    ids = list((await connection.execute(_JOURNAL_MANY, lines)).scalars())
    await connection.execute(
        _ADD, [{"account": account, "change": changes[account]} for account in sorted(changes)]
    )
    return ids


async def transfer(
    db: Database,
    *,
    key: str,
    from_account: int,
    to_account: int,
    amount: int,
    kind: str,
    reason: str,
    actor_id: int | None = None,
) -> TransferResult:
    """Post one transfer in its own transaction; a concurrent duplicate key is a replay."""
    try:
        async with db.transaction() as session:
            return await post(
                session,
                key=key,
                from_account=from_account,
                to_account=to_account,
                amount=amount,
                kind=kind,
                reason=reason,
                actor_id=actor_id,
            )
    except (IntegrityError, InsufficientTokens):
        # A racer with the same key fails at the key's unique index, or (PostgreSQL, READ
        # COMMITTED) earlier, at the debit, if the winner spent the balance it needed. Either
        # way the key was applied, so the answer is the winner's transfer, not an error.
        async with db.transaction() as session:
            existing = await session.scalar(select(Transfer).where(Transfer.idempotency_key == key))
        if existing is None:
            raise
        return TransferResult(existing.id, existing.amount, replayed=True)


async def balance(db: Database, account_id: int) -> int:
    async with db.read() as session:
        value = await session.scalar(select(Account.balance).where(Account.id == account_id))
    if value is None:
        raise LookupError(f"no account {account_id}")
    return value


async def history(session: AsyncSession, account_id: int, limit: int = 5) -> list[HistoryLine]:
    """The account's latest movements, newest first, signed from its point of view."""
    rows = await session.execute(
        select(Transfer)
        .where(or_(Transfer.from_account_id == account_id, Transfer.to_account_id == account_id))
        .order_by(Transfer.id.desc())
        .limit(limit)
    )
    return [
        HistoryLine(
            when=t.created_at,
            amount=t.amount if t.to_account_id == account_id else -t.amount,
            kind=t.kind,
            reason=t.reason,
            key=t.idempotency_key,
        )
        for t in rows.scalars()
    ]


async def _sums(session: AsyncSession, column: Any) -> dict[int, int]:
    rows = await session.execute(select(column, func.sum(Transfer.amount)).group_by(column))
    return {account_id: int(total) for account_id, total in rows}


async def verify(db: Database) -> VerifyReport:
    """Recompute every balance from the journal and compare it with the stored one."""
    async with db.read() as session:
        rows = await session.execute(select(Account.id, Account.balance))
        stored = {account_id: value for account_id, value in rows}
        outgoing = await _sums(session, Transfer.from_account_id)
        incoming = await _sums(session, Transfer.to_account_id)
        transfers = await session.scalar(select(func.count(Transfer.id))) or 0
        negative = await session.scalars(
            select(Account.id).where(~Account.allow_negative, Account.balance < 0)
        )
        negative_accounts = list(negative.all())
    journal = {
        account_id: incoming.get(account_id, 0) - outgoing.get(account_id, 0)
        for account_id in set(stored) | set(incoming) | set(outgoing)
    }
    discrepancies = compare(stored, journal)
    named = {d.account_id for d in discrepancies} | set(negative_accounts)
    return VerifyReport(
        accounts=len(stored),
        transfers=transfers,
        journal_sum=sum(journal.values()),
        discrepancies=discrepancies,
        negative_accounts=negative_accounts,
        owners=await owners(db, named) if named else {},
    )


async def owners(db: Database, account_ids: set[int]) -> dict[int, str]:
    """Who holds each account, as an operator reads it."""
    async with db.read() as session:
        rows = await session.execute(
            select(
                Account.id,
                Account.code,
                Employee.first_name,
                Employee.username,
                Department.name,
            )
            .outerjoin(Employee, Employee.id == Account.employee_id)
            .outerjoin(Department, Department.id == Account.department_id)
            .where(Account.id.in_(sorted(account_ids)))
        )
        named = {}
        for account_id, code, first_name, username, department in rows:
            if first_name is not None:
                named[account_id] = f"{first_name} (@{username})" if username else first_name
            elif department is not None:
                named[account_id] = f"the {department} wallet"
            else:
                named[account_id] = f"system: {code}"
        return named
