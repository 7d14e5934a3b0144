"""The database itself refuses a broken ledger, whatever code path writes to it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import IntegrityError

from bot.db import Database
from bot.domain.ledger import SystemAccount
from bot.models import Account, Employee, Transfer, utcnow
from bot.services import directory, ledger, tokens
from tests.conftest import both_databases
from tests.helpers import ALICE, register

ADMIN_ID = ALICE.id


async def employee_account(db: Database) -> int:
    """A registered admin's account id, after bootstrap."""
    await directory.bootstrap(db, ["Marketing"], admin_ids=[ADMIN_ID])
    registration = await register(db, ALICE, "marketing", admin_ids=[ADMIN_ID])
    async with db.transaction() as session:
        return (await tokens.employee_account(session, registration.employee.id)).id


async def issuance_account(db: Database) -> int:
    async with db.transaction() as session:
        return await ledger.system_account_id(session, SystemAccount.ISSUANCE)


async def set_balance(db: Database, account_id: int, value: int) -> None:
    async with db.transaction() as session:
        await session.execute(
            text("UPDATE accounts SET balance = :value WHERE id = :id"),
            {"value": value, "id": account_id},
        )


async def insert_transfer(db: Database, **values: Any) -> None:
    async with db.transaction() as session:
        await session.execute(insert(Transfer).values(**values))


def a_transfer(from_account: int, to_account: int, **changes: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "idempotency_key": "constraint-test",
        "from_account_id": from_account,
        "to_account_id": to_account,
        "amount": 1,
        "kind": "test",
        "reason": "constraint test",
        "created_at": utcnow(),
    }
    values.update(changes)
    return values


@both_databases()
async def test_updating_an_employee_balance_below_zero_is_refused(db: Database) -> None:
    account = await employee_account(db)
    await set_balance(db, account, 0)

    with pytest.raises(IntegrityError, match="ck_accounts_balance_not_negative"):
        await set_balance(db, account, -1)

    assert await ledger.balance(db, account) == 0


@both_databases()
async def test_inserting_an_employee_account_with_a_negative_balance_is_refused(
    db: Database,
) -> None:
    await employee_account(db)
    async with db.transaction() as session:
        department_id = await session.scalar(select(Employee.department_id))
        newcomer = Employee(
            telegram_id=2001, first_name="Boris", language="ru", department_id=department_id
        )
        session.add(newcomer)
        await session.flush()
        newcomer_id = newcomer.id
    statement = text(
        "INSERT INTO accounts (kind, employee_id, balance, allow_negative)"
        " VALUES ('employee', :employee_id, :balance, :allow_negative)"
    )

    with pytest.raises(IntegrityError, match="ck_accounts_balance_not_negative"):
        async with db.transaction() as session:
            await session.execute(
                statement, {"employee_id": newcomer_id, "balance": -5, "allow_negative": False}
            )
    with pytest.raises(IntegrityError, match="ck_accounts_only_system_negative"):
        async with db.transaction() as session:
            await session.execute(
                statement, {"employee_id": newcomer_id, "balance": -5, "allow_negative": True}
            )

    async with db.transaction() as session:
        await session.execute(
            statement, {"employee_id": newcomer_id, "balance": 0, "allow_negative": False}
        )
        stored = await session.scalar(
            select(Account.balance).where(Account.employee_id == newcomer_id)
        )
    assert stored == 0


@both_databases()
async def test_only_the_issuance_account_may_go_below_zero(db: Database) -> None:
    await employee_account(db)
    issuance = await issuance_account(db)

    await set_balance(db, issuance, -1000)

    assert await ledger.balance(db, issuance) == -1000


@both_databases()
async def test_a_transfer_of_zero_tokens_is_refused(db: Database) -> None:
    account = await employee_account(db)
    issuance = await issuance_account(db)

    with pytest.raises(IntegrityError, match="ck_transfers_amount_positive"):
        await insert_transfer(db, **a_transfer(issuance, account, amount=0))
    with pytest.raises(IntegrityError, match="ck_transfers_amount_positive"):
        await insert_transfer(db, **a_transfer(issuance, account, amount=-1))

    await insert_transfer(db, **a_transfer(issuance, account, amount=1))


@both_databases()
async def test_a_transfer_from_an_account_to_itself_is_refused(db: Database) -> None:
    account = await employee_account(db)

    with pytest.raises(IntegrityError, match="ck_transfers_distinct_accounts"):
        await insert_transfer(db, **a_transfer(account, account))


@both_databases()
async def test_two_transfers_with_the_same_idempotency_key_are_refused(db: Database) -> None:
    account = await employee_account(db)
    issuance = await issuance_account(db)
    await insert_transfer(db, **a_transfer(issuance, account, idempotency_key="grant:1"))

    with pytest.raises(IntegrityError, match="idempotency_key"):
        await insert_transfer(db, **a_transfer(issuance, account, idempotency_key="grant:1"))

    await insert_transfer(db, **a_transfer(issuance, account, idempotency_key="grant:2"))
