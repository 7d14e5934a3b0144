"""`truce import-users users.csv` as an admin runs it at a shell: a real process and database."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.db import Database
from bot.services import directory
from tests.conftest import both_databases
from tests.fake_telegram import FakeBotApi, Person
from tests.helpers import ALICE, database, make_settings, open_company, running_bot, said
from tests.test_cli import truce

GOOD = """telegram_id,name,department,role,language
5001,Ольга Петрова,Marketing,lead,ru
5002,Carl Young,sales,,en
5003,Ира,Продажи,employee,
"""
BAD_ROW = GOOD + "5004,Pavel,Sales,boss,ru\n"
IDS = (5001, 5002, 5003, 5004)


async def people(url: str) -> dict[int, tuple[str, str, str, str]]:
    """Everyone of the file who is registered: id -> (name, department code, role, language)."""
    async with database(url) as db:
        found = {}
        for telegram_id in IDS:
            person = await directory.find(db, telegram_id)
            if person is not None:
                found[telegram_id] = (
                    person.first_name,
                    person.department.code,
                    person.role,
                    person.language,
                )
        return found


async def set_up(url: str) -> None:
    """The company as the bot leaves it after its first start: two departments, Alice the admin."""
    async with database(url) as db:
        await open_company(db, ["Marketing", "Sales"], {ALICE.id: ("Alice", "sales")}, [ALICE.id])


async def import_users(tmp_path: Path, url: str, text: str, *options: str) -> tuple[int, str, str]:
    (tmp_path / "users.csv").write_text(text, encoding="utf-8")
    result = await asyncio.to_thread(
        truce,
        tmp_path,
        "import-users",
        "users.csv",
        *options,
        DATABASE_URL=url,
        ADMIN_IDS=str(ALICE.id),
        DEFAULT_LANGUAGE="ru",
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result.returncode, result.stdout, result.stderr


@both_databases()
async def test_a_good_file_registers_everyone_and_says_who_was_added(
    tmp_path: Path, database_url: str
) -> None:
    await set_up(database_url)

    code, out, err = await import_users(tmp_path, database_url, GOOD)

    assert code == 0, err
    assert out.splitlines() == [
        "add 5001 Ольга Петрова (Marketing, lead)",
        "add 5002 Carl Young (sales, employee)",
        "add 5003 Ира (Продажи, employee)",
        "3 added, 0 changed, 0 unchanged",
    ]
    assert await people(database_url) == {
        5001: ("Ольга Петрова", "marketing", "lead", "ru"),
        5002: ("Carl Young", "sales", "employee", "en"),
        5003: ("Ира", "sales", "employee", "ru"),
    }


@both_databases()
async def test_a_file_with_one_bad_row_names_its_line_and_imports_nobody(
    tmp_path: Path, database_url: str
) -> None:
    await set_up(database_url)

    code, out, err = await import_users(tmp_path, database_url, BAD_ROW)

    assert code == 2
    assert out == ""
    assert err.splitlines() == [
        "truce: users.csv: line 5: the role 'boss' is not employee, lead or admin",
        "truce: nothing was imported",
    ]
    assert await people(database_url) == {}


@both_databases()
async def test_an_unknown_department_and_a_bad_row_are_both_named_at_once(
    tmp_path: Path, database_url: str
) -> None:
    await set_up(database_url)
    text = BAD_ROW.replace("5002,Carl Young,sales", "5002,Carl Young,Legal")

    code, _, err = await import_users(tmp_path, database_url, text)

    assert code == 2
    assert err.splitlines() == [
        "truce: users.csv: line 3: no department 'Legal'",
        "truce: users.csv: line 5: the role 'boss' is not employee, lead or admin",
        "truce: nothing was imported",
    ]
    assert await people(database_url) == {}


@both_databases()
async def test_importing_the_same_file_again_reports_no_change_and_changes_nothing(
    tmp_path: Path, database_url: str
) -> None:
    await set_up(database_url)
    await import_users(tmp_path, database_url, GOOD)
    before = await people(database_url)

    code, out, err = await import_users(tmp_path, database_url, GOOD)

    assert code == 0, err
    assert out.splitlines() == ["no changes: all 3 people are already as in users.csv"]
    assert await people(database_url) == before


@both_databases()
async def test_a_dry_run_says_what_would_change_and_stores_nothing(
    tmp_path: Path, database_url: str
) -> None:
    await set_up(database_url)
    await import_users(tmp_path, database_url, GOOD)
    before = await people(database_url)
    moved = GOOD.replace("5002,Carl Young,sales,,en", "5002,Carl Young,Marketing,admin,en")

    code, out, err = await import_users(
        tmp_path, database_url, moved + "5004,Pavel,Sales,,\n", "--dry-run"
    )

    assert code == 0, err
    assert out.splitlines() == [
        "would add 5004 Pavel (Sales, employee)",
        "would change 5002 Carl Young: department, role",
        "dry run, nothing stored: 1 to add, 1 to change, 2 unchanged",
    ]
    assert await people(database_url) == before


async def test_a_first_import_before_the_bot_ever_ran_sets_up_the_departments(
    tmp_path: Path, database_url: str
) -> None:
    dry_code, _, dry_err = await import_users(tmp_path, database_url, GOOD, "--dry-run")

    code, out, err = await import_users(tmp_path, database_url, GOOD)

    assert dry_code == 2
    assert "the database has no departments yet" in dry_err
    assert code == 0, err
    assert out.splitlines()[-1] == "3 added, 0 changed, 0 unchanged"
    assert len(await people(database_url)) == 3


async def test_a_database_behind_the_code_is_named_and_the_file_is_not_read(
    tmp_path: Path, empty_database_url: str
) -> None:
    code, _, err = await import_users(tmp_path, empty_database_url, GOOD)

    assert code == 2
    assert err.splitlines() == [
        "truce: the database is not up to date: run `truce db upgrade` first"
    ]


async def test_a_missing_file_is_named_in_one_line(tmp_path: Path, database_url: str) -> None:
    result = await asyncio.to_thread(
        truce, tmp_path, "import-users", "nobody.csv", DATABASE_URL=database_url
    )

    assert result.returncode == 2
    assert result.stderr.splitlines() == ["truce: nobody.csv: no such file"]


async def test_an_imported_person_is_welcomed_at_start_without_the_department_question(
    tmp_path: Path, database_url: str
) -> None:
    """The file is imported at a shell, then the person opens the bot for the first time."""
    await set_up(database_url)
    await import_users(tmp_path, database_url, GOOD)
    carl = Person(5002, "Carl Young", None, "en")

    async with running_bot(make_settings(database_url), database_url, FakeBotApi()) as tg:
        answer = await tg.send(carl, "/start")

        assert "Sales" in said(answer) and "Carl Young" in said(answer)
        assert tg.buttons(tg.last_message(carl.id)) == []
        async with database(database_url) as db:
            assert await _department(db, carl.id) == "sales"


async def _department(db: Database, telegram_id: int) -> str | None:
    person = await directory.find(db, telegram_id)
    return person.department.code if person else None
