"""What the test modules share: the people who take part, talking to the bot as they do, a
scheduler tick with a clock of the test's own, a company set up straight through the services,
databases made for one test, and the `truce` command at a shell."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from telegram import Update

from bot import jobs
from bot.app import build_application
from bot.cli import upgrade
from bot.config import Settings
from bot.db import Database
from bot.domain.ledger import SystemAccount
from bot.domain.thanks import ThanksRules
from bot.services import directory, ledger, tokens
from tests.fake_telegram import TOKEN, FakeBotApi, FakeRequest, Person, Telegram

# -- the people --------------------------------------------------------------------------------

ALICE = Person(1001, "Alice", "alice", "en")  # the admin, from ADMIN_IDS; Sales
BORIS = Person(2001, "Boris", "boris", "ru")  # Marketing
CAROL = Person(2002, "Carol", "carol", "en")  # Sales
DMITRY = Person(2003, "Dmitry", "dmitry", "ru")  # Marketing
EVE = Person(2004, "Eve", "eve", "en")  # never joins
PEOPLE = (ALICE, BORIS, CAROL, DMITRY)
DEPARTMENT = {ALICE: "sales", BORIS: "marketing", CAROL: "sales", DMITRY: "marketing"}

# -- the company's defaults and the clock ------------------------------------------------------

MOSCOW = ZoneInfo("Europe/Moscow")  # the company's timezone by default
DEFAULT_RULES = ThanksRules(weekly_allowance=5, pair_daily_cap=3, cross_multiplier=2)
MSK = timedelta(hours=3)  # Europe/Moscow keeps UTC+3 all year
MONDAY = datetime(2026, 3, 2, 10, 0, tzinfo=UTC) - MSK  # Monday 2 March 2026, 10:00 in Moscow
WEEK = timedelta(days=7)
CHAT = -1001  # the group that becomes the company chat


async def tick(tg: Telegram, now: datetime) -> None:
    """One beat of the scheduler at `now`."""
    await jobs.run_due(tg.app.context_types.context(tg.app), now)


# -- a bot talking to the fake Telegram --------------------------------------------------------


def make_settings(database_url: str, **overrides: Any) -> Settings:
    """Settings for a bot under test: Alice the one admin, Russian the company's language, and
    nothing read from a .env file."""
    values: dict[str, Any] = {
        "bot_token": TOKEN,
        "database_url": database_url,
        "admin_ids": [ALICE.id],
        "default_language": "ru",
        "_env_file": None,
    }
    values.update(overrides)
    return Settings(**values)


@asynccontextmanager
async def running_bot(
    settings: Settings, database_url: str, api: FakeBotApi, **options: Any
) -> AsyncIterator[Telegram]:
    """A started bot on `database_url`, talking to `api`; shut down on the way out."""
    app = build_application(settings, Database(database_url), request=FakeRequest(api), **options)
    await app.initialize()
    assert app.post_init is not None and app.post_shutdown is not None
    await app.post_init(app)
    try:
        yield Telegram(app, api)
    finally:
        await app.shutdown()
        await app.post_shutdown(app)


# -- talking to the bot ------------------------------------------------------------------------


def said(calls: list[dict[str, Any]], chat_id: int | None = None) -> str:
    """What the bot wrote in answer (messages, edits, toasts), or only what it wrote in one chat."""
    return "\n".join(
        call.get("text", "") for call in calls if chat_id is None or call.get("chat_id") == chat_id
    )


async def join(tg: Telegram, person: Person, department: str) -> None:
    """`person` sends /start and presses the button of `department`."""
    await tg.send(person, "/start")
    await tg.press(person, tg.last_message(person.id), f"dept:{department}:{person.id}")


async def post(tg: Telegram, person: Person, text: str, group: dict[str, Any]) -> dict[str, Any]:
    """`person` writes in the group; returns their message, to reply to."""
    await tg.send(person, text, chat=group)
    return [
        message
        for (chat_id, _), message in tg.api.messages.items()
        if chat_id == group["id"] and message["from"]["id"] == person.id
    ][-1]


def command_update(
    tg: Telegram,
    person: Person,
    text: str,
    message_id: int,
    *,
    edited: bool = False,
    update_id: int | None = None,
) -> Update:
    """`person`'s command in their private chat, as Telegram delivers it (again, or edited)."""
    message = {
        "message_id": message_id,
        "date": int(time.time()),
        "chat": tg.private_chat(person),
        "from": person.as_user(),
        "text": text,
        "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
    }
    if edited:
        message["edit_date"] = int(time.time())
    kind = "edited_message" if edited else "message"
    if update_id is None:
        update_id = tg.api.next_update_id()
    return Update.de_json({"update_id": update_id, kind: message}, tg.app.bot)


def menu(api: FakeBotApi, chat_id: int | None = None, language: str = "") -> dict[str, str]:
    """The command menu Telegram shows: one chat's own, or everyone's in a client language."""
    scope = {"type": "chat", "chat_id": chat_id} if chat_id else {"type": "default"}
    commands = api.commands[(json.dumps(scope, sort_keys=True), language)]
    return {command["command"]: command["description"] for command in commands}


# -- a company set up straight through the services --------------------------------------------


async def register(
    db: Database, person: Person, department: str, admin_ids: list[int]
) -> directory.Registration:
    """`person` joins `department` without the bot, as pressing its button would make them."""
    return await directory.register(
        db,
        telegram_id=person.id,
        first_name=person.first_name,
        username=person.username,
        language=person.language_code or "en",
        department_code=department,
        admin_ids=admin_ids,
    )


async def open_company(
    db: Database,
    departments: list[str],
    people: dict[int, tuple[str, str]],
    admin_ids: list[int],
    *,
    language: str = "en",
) -> None:
    """Set the departments up, then register everyone by Telegram id -> (name, department
    code), each with their name in lower case as the username."""
    await directory.bootstrap(db, departments, admin_ids=admin_ids)
    for telegram_id, (name, department) in people.items():
        person = Person(telegram_id, name, name.lower(), language)
        await register(db, person, department, admin_ids)


async def fund(db: Database, telegram_id: int, amount: int, *, by: int) -> None:
    """The admin `by` grants someone their starting balance."""
    await tokens.grant(
        db,
        actor_telegram_id=by,
        target=telegram_id,
        amount=amount,
        reason="starting balance",
        key=f"seed:{telegram_id}",
    )


@dataclass(frozen=True)
class Accounts:
    """Account ids of the people, the department wallets and the system accounts."""

    people: dict[int, int]  # Telegram id -> account id
    wallets: dict[str, int]  # department code -> account id
    issuance: int
    escrow: int
    spent: int


async def accounts(db: Database, telegram_ids: Iterable[int]) -> Accounts:
    """The accounts of these registered people, of every department and of the system."""
    departments = await directory.list_departments(db)
    async with db.read() as session:
        return Accounts(
            people={
                telegram_id: (await directory.require_employee(session, telegram_id)).account_id
                for telegram_id in telegram_ids
            },
            wallets={
                department.code: (await tokens.department_account(session, department.id)).id
                for department in departments
            },
            issuance=await ledger.system_account_id(session, SystemAccount.ISSUANCE),
            escrow=await ledger.system_account_id(session, SystemAccount.ESCROW),
            spent=await ledger.system_account_id(session, SystemAccount.SPENT),
        )


async def ledger_books(db: Database, people: Iterable[Person]) -> tuple[int, list[tuple[int, int]]]:
    """How many transfers there are (the ledger must verify clean), and each person's own and
    department balance."""
    report = await ledger.verify(db)
    assert report.clean
    balances = []
    for person in people:
        summary = await tokens.summary(db, person.id)
        balances.append((summary.balance, summary.department_balance))
    return report.transfers, balances


# -- databases ---------------------------------------------------------------------------------


@asynccontextmanager
async def database(url: str, **options: Any) -> AsyncIterator[Database]:
    """A `Database` on `url`, disposed of on the way out."""
    db = Database(url, **options)
    try:
        yield db
    finally:
        await db.dispose()


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory, folder: str) -> Path:
    """A SQLite file migrated to the latest schema, to copy for each Hypothesis example."""
    path = tmp_path_factory.mktemp(folder) / "template.db"
    upgrade(sqlite_url(path))
    return path


@contextmanager
def sqlite_copy(template: Path) -> Iterator[str]:
    """The URL of a fresh copy of `template`, removed with its journal files afterwards.

    Hypothesis reuses the test's fixtures across examples, so each one gets its own file.
    """
    path = template.with_name(f"{uuid.uuid4().hex}.db")
    shutil.copyfile(template, path)
    try:
        yield sqlite_url(path)
    finally:
        for leftover in path.parent.glob(f"{path.name}*"):
            leftover.unlink()


# -- the `truce` command -----------------------------------------------------------------------


def truce_command() -> list[str]:
    """The installed `truce` script next to this interpreter, or `python -m bot` without it."""
    script = shutil.which("truce", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "bot"]


def clean_environment(**settings: str) -> dict[str, str]:
    """This process's environment without any Truce setting, plus `settings`."""
    names = {name.upper() for name in Settings.model_fields}
    env = {key: value for key, value in os.environ.items() if key.upper() not in names}
    return env | settings
