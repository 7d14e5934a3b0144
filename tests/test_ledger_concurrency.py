"""Transfers racing each other: no overdraft, no double posting, no deadlock."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass

from sqlalchemy import func, select

from bot.db import Database
from bot.domain.errors import InsufficientTokens
from bot.models import Transfer
from bot.services import directory, ledger, tokens
from tests.conftest import both_databases
from tests.helpers import fund, open_company

ADMIN_ID = 1001
BORIS_ID = 2001
CAROL_ID = 2002
PEOPLE = {
    ADMIN_ID: ("Alice", "marketing"),
    BORIS_ID: ("Boris", "marketing"),
    CAROL_ID: ("Carol", "marketing"),
}


@dataclass(frozen=True)
class Office:
    """Account ids of two employees and their department."""

    boris: int
    carol: int
    marketing: int


async def open_office(db: Database) -> Office:
    await open_company(db, ["Marketing"], PEOPLE, admin_ids=[ADMIN_ID])
    async with db.transaction() as session:
        boris = await directory.require_employee(session, BORIS_ID)
        carol = await directory.require_employee(session, CAROL_ID)
        return Office(
            boris=(await tokens.employee_account(session, boris.id)).id,
            carol=(await tokens.employee_account(session, carol.id)).id,
            marketing=(await tokens.department_account(session, boris.department.id)).id,
        )


def pay(
    db: Database, key: str, payer: int, payee: int, amount: int = 1
) -> Awaitable[ledger.TransferResult]:
    return ledger.transfer(
        db,
        key=key,
        from_account=payer,
        to_account=payee,
        amount=amount,
        kind="test",
        reason="racing",
    )


async def journal_rows(db: Database, key: str) -> int:
    async with db.transaction() as session:
        return await session.scalar(
            select(func.count(Transfer.id)).where(Transfer.idempotency_key == key)
        )


@both_databases()
async def test_fifty_concurrent_transfers_with_funds_for_ten_apply_exactly_ten(
    crowded_db: Database,
) -> None:
    db = crowded_db
    office = await open_office(db)
    await fund(db, BORIS_ID, 10, by=ADMIN_ID)

    results = await asyncio.gather(
        *(pay(db, f"spend:{n}", office.boris, office.marketing) for n in range(50)),
        return_exceptions=True,
    )

    applied = [r for r in results if isinstance(r, ledger.TransferResult)]
    refused = [r for r in results if isinstance(r, InsufficientTokens)]
    unexpected = [r for r in results if r not in applied and r not in refused]
    assert unexpected == []
    assert len(applied) == 10
    assert not any(r.replayed for r in applied)
    assert len(refused) == 40
    assert await ledger.balance(db, office.boris) == 0
    assert await ledger.balance(db, office.marketing) == 10
    report = await ledger.verify(db)
    assert report.clean, report
    assert report.transfers == 1 + 10


@both_databases()
async def test_twenty_concurrent_transfers_with_one_key_apply_once_and_the_rest_replay(
    crowded_db: Database,
) -> None:
    db = crowded_db
    office = await open_office(db)
    await fund(db, BORIS_ID, 10, by=ADMIN_ID)

    # The whole balance: a racer that finds it already spent must still answer "replayed",
    # because its key was applied, not "insufficient tokens".
    results = await asyncio.gather(
        *(pay(db, "pizza:once", office.boris, office.marketing, amount=10) for _ in range(20)),
        return_exceptions=True,
    )

    assert [r for r in results if not isinstance(r, ledger.TransferResult)] == []
    assert sum(not r.replayed for r in results) == 1
    assert {(r.transfer_id, r.amount) for r in results} == {(results[0].transfer_id, 10)}
    assert await journal_rows(db, "pizza:once") == 1
    assert await ledger.balance(db, office.boris) == 0
    assert await ledger.balance(db, office.marketing) == 10
    report = await ledger.verify(db)
    assert report.clean, report
    assert report.transfers == 1 + 1


@both_databases()
async def test_thirty_transfers_each_way_between_two_people_neither_deadlock_nor_lose_tokens(
    crowded_db: Database,
) -> None:
    db = crowded_db
    office = await open_office(db)
    await fund(db, BORIS_ID, 30, by=ADMIN_ID)
    await fund(db, CAROL_ID, 30, by=ADMIN_ID)

    racers = []
    for n in range(30):
        racers.append(pay(db, f"boris-to-carol:{n}", office.boris, office.carol))
        racers.append(pay(db, f"carol-to-boris:{n}", office.carol, office.boris))
    results = await asyncio.gather(*racers, return_exceptions=True)

    assert [r for r in results if not isinstance(r, ledger.TransferResult)] == []
    assert not any(r.replayed for r in results)
    assert await ledger.balance(db, office.boris) == 30
    assert await ledger.balance(db, office.carol) == 30
    report = await ledger.verify(db)
    assert report.clean, report
    assert report.transfers == 2 + 60
