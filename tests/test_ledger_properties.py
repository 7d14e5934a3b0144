"""The ledger's promises, on the pure rules and on random runs of grants, payments and replays."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
from hypothesis import event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from bot.db import Database
from bot.domain.errors import (
    AmountTooLarge,
    InsufficientTokens,
    InvalidAmount,
    ReasonRequired,
    ReasonTooLong,
)
from bot.domain.ledger import (
    MAX_REASON_LENGTH,
    Discrepancy,
    Movement,
    SystemAccount,
    balances_from_journal,
    clean_reason,
    compare,
    parse_amount,
)
from bot.models import Account, Transfer
from bot.services import directory, ledger, tokens
from tests.helpers import database, migrated_sqlite, open_company, sqlite_copy

MAXIMUM = 100

# --- The pure rules -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "amount"), [("5", 5), ("+5", 5), (" 7 ", 7), ("100", 100), ("007", 7)]
)
def test_a_whole_positive_amount_is_accepted(text: str, amount: int) -> None:
    assert parse_amount(text, MAXIMUM) == amount


@pytest.mark.parametrize("text", ["0", "-3", "2.5", "abc", "", "  ", "1e3", "5 tokens", "+"])
def test_anything_but_a_whole_positive_number_is_an_invalid_amount(text: str) -> None:
    with pytest.raises(InvalidAmount):
        parse_amount(text, MAXIMUM)


@pytest.mark.parametrize("text", ["101", "+101", "99999999999999999999999999999999"])
def test_an_amount_over_the_maximum_is_too_large(text: str) -> None:
    with pytest.raises(AmountTooLarge) as raised:
        parse_amount(text, MAXIMUM)
    assert raised.value.params == {"maximum": MAXIMUM}


@given(amount=st.integers(1, MAXIMUM), plus=st.booleans(), pad=st.sampled_from(["", " ", "\t"]))
def test_every_amount_up_to_the_maximum_reads_back_as_itself(
    amount: int, plus: bool, pad: str
) -> None:
    assert parse_amount(f"{pad}{'+' if plus else ''}{amount}{pad}", MAXIMUM) == amount


def test_a_reason_has_its_whitespace_collapsed() -> None:
    assert clean_reason("  thanks \n for   the\thelp ") == "thanks for the help"


@pytest.mark.parametrize("text", [None, "", "   ", "\n\t"])
def test_a_missing_reason_is_required(text: str | None) -> None:
    with pytest.raises(ReasonRequired):
        clean_reason(text)


def test_a_reason_may_be_as_long_as_the_limit_but_no_longer() -> None:
    assert clean_reason("x" * MAX_REASON_LENGTH) == "x" * MAX_REASON_LENGTH
    with pytest.raises(ReasonTooLong) as raised:
        clean_reason("x" * (MAX_REASON_LENGTH + 1))
    assert raised.value.params == {"maximum": MAX_REASON_LENGTH}


def test_a_reason_is_measured_after_its_whitespace_is_collapsed() -> None:
    padded = "  " + "a  " * (MAX_REASON_LENGTH // 2)
    assert len(padded) > MAX_REASON_LENGTH
    assert len(clean_reason(padded)) <= MAX_REASON_LENGTH


def test_matching_balances_have_no_discrepancies() -> None:
    assert compare({1: 5, 2: -5}, {2: -5, 1: 5}) == []


def test_an_account_missing_on_one_side_counts_as_zero() -> None:
    assert compare({1: 5, 3: 0}, {1: 5}) == []
    assert compare({1: 5}, {1: 5, 2: 4}) == [Discrepancy(account_id=2, stored=0, journal=4)]


def test_every_difference_is_reported_in_account_order() -> None:
    assert compare({4: 1, 1: 7, 2: 1}, {1: 5, 2: 1, 3: -3}) == [
        Discrepancy(account_id=1, stored=7, journal=5),
        Discrepancy(account_id=3, stored=0, journal=-3),
        Discrepancy(account_id=4, stored=1, journal=0),
    ]


def test_a_journal_adds_up_to_balances_that_sum_to_zero() -> None:
    journal = [Movement(1, 2, 10), Movement(2, 3, 4), Movement(3, 1, 1)]
    assert balances_from_journal(journal) == {1: -9, 2: 6, 3: 3}
    assert balances_from_journal([]) == {}


# --- Random runs against a real database ----------------------------------------------------

ADMIN_ID = 1001
PEOPLE = {ADMIN_ID: ("Alice", "marketing"), 2001: ("Boris", "marketing"), 2002: ("Carol", "sales")}
DEPARTMENTS = ["Marketing", "Sales"]
# Who can hold tokens, as /grant names them: three people by Telegram id, two departments.
HOLDERS: list[int | str] = [*PEOPLE, *DEPARTMENTS]


@dataclass(frozen=True)
class Grant:
    to: int  # index into HOLDERS
    amount: int


@dataclass(frozen=True)
class Pay:
    payer: int  # index into HOLDERS
    payee: int
    amount: int


@dataclass(frozen=True)
class Replay:
    """Send an earlier grant's or payment's key again, carrying `amount` this time."""

    earlier: int  # taken modulo the number of keys sent so far
    amount: int


# Grants are larger than payments, so most payers have something to pay with and some do not.
amounts = st.integers(1, 10)
grants = st.builds(Grant, to=st.integers(0, len(HOLDERS) - 1), amount=st.integers(5, 40))
payments = st.builds(
    lambda payer, step, amount: Pay(payer, (payer + step) % len(HOLDERS), amount),
    st.integers(0, len(HOLDERS) - 1),
    st.integers(1, len(HOLDERS) - 1),
    amounts,
)
replays = st.builds(Replay, earlier=st.integers(0, 30), amount=amounts)
operations = st.lists(
    st.one_of(grants, grants, payments, payments, payments, replays), min_size=8, max_size=40
)


@dataclass(frozen=True)
class Office:
    accounts: list[int]  # account id of each holder, in HOLDERS order
    issuance: int
    every_account: list[int]


@dataclass
class Model:
    """What the ledger should hold, kept in memory alongside the real one."""

    balances: dict[int, int]
    movements: list[Movement] = field(default_factory=list)
    applied: dict[str, tuple[Movement, int | None]] = field(default_factory=dict)
    sent: list[tuple[str, Grant | Pay]] = field(default_factory=list)

    def apply(self, key: str, movement: Movement, transfer_id: int | None) -> None:
        self.balances[movement.from_account] -= movement.amount
        self.balances[movement.to_account] += movement.amount
        self.movements.append(movement)
        self.applied[key] = (movement, transfer_id)


async def open_office(db: Database) -> Office:
    await open_company(db, DEPARTMENTS, PEOPLE, admin_ids=[ADMIN_ID])
    async with db.transaction() as session:
        accounts = []
        for telegram_id in PEOPLE:
            employee = await directory.require_employee(session, telegram_id)
            accounts.append((await tokens.employee_account(session, employee.id)).id)
        for name in DEPARTMENTS:
            department = await directory.find_department(session, name)
            assert department is not None
            accounts.append((await tokens.department_account(session, department.id)).id)
        return Office(
            accounts=accounts,
            issuance=await ledger.system_account_id(session, SystemAccount.ISSUANCE),
            every_account=list((await session.scalars(select(Account.id))).all()),
        )


async def send(db: Database, office: Office, model: Model, key: str, op: Grant | Pay) -> None:
    """Send one grant or payment and check its outcome against the model."""
    if isinstance(op, Grant):
        granted = await tokens.grant(
            db,
            actor_telegram_id=ADMIN_ID,
            target=HOLDERS[op.to],
            amount=op.amount,
            reason="property test",
            key=key,
        )
        assert granted.replayed == (key in model.applied)
        event("grant replayed" if granted.replayed else "grant applied")
        if not granted.replayed:
            model.apply(key, Movement(office.issuance, office.accounts[op.to], op.amount), None)
        return
    movement = Movement(office.accounts[op.payer], office.accounts[op.payee], op.amount)
    payment = ledger.transfer(
        db,
        key=key,
        from_account=movement.from_account,
        to_account=movement.to_account,
        amount=movement.amount,
        kind="test",
        reason="property test",
    )
    if key in model.applied:
        first, transfer_id = model.applied[key]
        result = await payment
        assert result == ledger.TransferResult(transfer_id, first.amount, replayed=True)
        event("payment replayed")
    elif model.balances[movement.from_account] < movement.amount:
        with pytest.raises(InsufficientTokens):
            await payment
        event("payment refused")
    else:
        result = await payment
        assert not result.replayed
        assert result.amount == movement.amount
        model.apply(key, movement, result.transfer_id)
        event("payment applied")


async def check(db: Database, office: Office, model: Model) -> None:
    async with db.transaction() as session:
        stored = {a: b for a, b in await session.execute(select(Account.id, Account.balance))}
        journal = [
            (key, Movement(payer, payee, amount))
            for key, payer, payee, amount in await session.execute(
                select(
                    Transfer.idempotency_key,
                    Transfer.from_account_id,
                    Transfer.to_account_id,
                    Transfer.amount,
                ).order_by(Transfer.id)
            )
        ]
    assert sum(stored.values()) == 0
    assert {a: b for a, b in stored.items() if a != office.issuance and b < 0} == {}
    assert len(journal) == len(model.applied)
    assert dict(journal) == {key: movement for key, (movement, _) in model.applied.items()}
    assert [movement for _, movement in journal] == model.movements
    assert stored == model.balances
    assert stored == {a: 0 for a in stored} | balances_from_journal(model.movements)
    report = await ledger.verify(db)
    assert report.clean, report
    assert report.transfers == len(model.applied)


async def play(url: str, ops: list[Grant | Pay | Replay]) -> None:
    async with database(url) as db:
        office = await open_office(db)
        model = Model(balances=dict.fromkeys(office.every_account, 0))
        for index, op in enumerate(ops):
            if isinstance(op, Replay):
                if not model.sent:
                    continue
                key, original = model.sent[op.earlier % len(model.sent)]
                await send(db, office, model, key, replace(original, amount=op.amount))
            else:
                key = f"op:{index}"
                model.sent.append((key, op))
                await send(db, office, model, key, op)
        await check(db, office, model)


@pytest.fixture(scope="module")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file, copied for each example: migrating each time is the slow part."""
    return migrated_sqlite(tmp_path_factory, "ledger")


@settings(max_examples=80, deadline=None)
@given(ops=operations)
@example(
    ops=[
        Grant(to=1, amount=5),  # op:0, Boris 5
        Pay(payer=1, payee=3, amount=8),  # op:1 refused: Boris has 5
        Replay(earlier=1, amount=3),  # op:1 again with 3: applied now
        Replay(earlier=1, amount=9),  # op:1 a third time: a replay of the 3, nothing moves
        Replay(earlier=0, amount=20),  # op:0 again: a replay, Boris still has 2
        Pay(payer=3, payee=4, amount=3),  # op:5 Marketing pays Sales everything it has
        Pay(payer=3, payee=0, amount=1),  # op:6 refused: Marketing is empty
    ]
)
def test_any_run_of_grants_payments_and_replays_keeps_the_ledger_exact(
    migrated_template: Path, ops: list[Grant | Pay | Replay]
) -> None:
    # Hypothesis reuses the test's fixtures across examples, so each one gets its own file.
    with sqlite_copy(migrated_template) as url:
        asyncio.run(play(url, ops))
