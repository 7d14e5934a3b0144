"""The `truce` command as an admin meets it at a shell: real processes, real databases."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import text

from bot.cli import alembic_config
from bot.db import Database
from bot.services import tokens
from tests.conftest import ADMIN, both_databases
from tests.helpers import clean_environment, database, open_company, truce_command

DEPARTMENTS = ["Marketing", "Sales"]
BORIS = 2001


def truce(cwd: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """Run `truce *args` in `cwd` (which has no .env) with only the given settings."""
    assert not (cwd / ".env").exists()
    return subprocess.run(
        [*truce_command(), *args],
        cwd=cwd,
        env=clean_environment(**settings),
        capture_output=True,
        text=True,
        timeout=60,
    )


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def test_run_without_a_token_says_in_one_line_that_bot_token_is_missing(tmp_path: Path) -> None:
    result = truce(tmp_path, "run")

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "BOT_TOKEN" in lines[0]
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("ADMIN_IDS", "abc"),
        ("TIMEZONE", "Mars/Olympus"),
        ("DEPARTMENTS", "Sales"),
        ("DEFAULT_LANGUAGE", "de"),
    ],
)
def test_a_malformed_setting_is_named_in_one_line_and_stops_the_start(
    tmp_path: Path, setting: str, value: str
) -> None:
    result = truce(tmp_path, "run", **{setting: value})

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert setting in lines[0]
    assert "Traceback" not in result.stderr


def test_help_lists_the_run_db_and_ledger_commands(tmp_path: Path) -> None:
    result = truce(tmp_path, "--help")

    assert result.returncode == 0
    for name in ("run", "db", "ledger"):
        assert f"    {name} " in result.stdout, result.stdout


def test_db_upgrade_reaches_the_head_revision_and_downgrade_base_removes_the_schema(
    tmp_path: Path,
) -> None:
    path = tmp_path / "truce.db"
    url = f"sqlite+aiosqlite:///{path}"
    head = head_revision()

    upgraded = truce(tmp_path, "db", "upgrade", DATABASE_URL=url)
    current = truce(tmp_path, "db", "current", DATABASE_URL=url)

    assert upgraded.returncode == 0, upgraded.stderr
    assert current.returncode == 0, current.stderr
    assert f"{head} (head)" in current.stdout

    downgraded = truce(tmp_path, "db", "downgrade", "base", DATABASE_URL=url)
    after = truce(tmp_path, "db", "current", DATABASE_URL=url)

    assert downgraded.returncode == 0, downgraded.stderr
    assert head not in after.stdout
    with sqlite3.connect(path) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert "accounts" not in tables
    assert "employees" not in tables


async def grants_made(db: Database) -> int:
    """Two people join and the admin grants tokens; returns Boris's account id."""
    people = {ADMIN.id: ("Alice", "marketing"), BORIS: ("Boris", "sales")}
    await open_company(db, DEPARTMENTS, people, [ADMIN.id], language="ru")
    for key, target, amount in [("g1", "@boris", 50), ("g2", "Sales", 30), ("g3", "@alice", 7)]:
        await tokens.grant(
            db, actor_telegram_id=ADMIN.id, target=target, amount=amount, reason="launch", key=key
        )
    async with db.transaction() as session:
        account_id = await session.scalar(
            text(
                "SELECT accounts.id FROM accounts JOIN employees "
                "ON employees.id = accounts.employee_id WHERE employees.telegram_id = :tid"
            ),
            {"tid": BORIS},
        )
    assert account_id is not None
    return int(account_id)


@both_databases()
async def test_ledger_verify_calls_a_ledger_after_grants_clean(
    tmp_path: Path, database_url: str
) -> None:
    async with database(database_url) as db:
        await grants_made(db)

    result = await asyncio.to_thread(truce, tmp_path, "ledger", "verify", DATABASE_URL=database_url)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "ledger is clean" in result.stdout
    assert "transfers: 3" in result.stdout


@both_databases()
async def test_ledger_verify_fails_and_names_an_account_whose_balance_was_tampered_with(
    tmp_path: Path, database_url: str
) -> None:
    async with database(database_url) as db:
        boris_account = await grants_made(db)
        async with db.transaction() as session:
            await session.execute(
                text("UPDATE accounts SET balance = balance + 5 WHERE id = :id"),
                {"id": boris_account},
            )

    result = await asyncio.to_thread(truce, tmp_path, "ledger", "verify", DATABASE_URL=database_url)

    assert result.returncode != 0
    assert "ledger is clean" not in result.stdout
    assert f"account {boris_account} (Boris (@boris)): stored 55, journal says 50" in result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [["ledger", "verify"], ["export"], ["digest", "--preview"]])
def test_a_shell_command_on_a_database_never_migrated_says_to_upgrade_it_first(
    tmp_path: Path, command: list[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'never-migrated.db'}"

    result = truce(tmp_path, *command, DATABASE_URL=url)

    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "truce: the database is not up to date: run `truce db upgrade` first"
    ]
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "digest.png").exists()
