"""`truce import-users`: a company's people from one file, all of them or none."""

from __future__ import annotations

import pytest

from bot.db import Database
from bot.domain.people import parse_people
from bot.domain.roles import Role
from bot.services import directory
from bot.services.people import import_people
from tests.conftest import both_databases
from tests.fake_telegram import Person, Telegram
from tests.helpers import ALICE, open_company, said

GOOD = """telegram_id,name,department,role,language
5001,Ольга Петрова,Marketing,lead,ru
5002,Carl Young,sales,,en
5003,Ира,Продажи,employee,
"""


def rows(text: str) -> list:
    parsed, problems = parse_people(text.splitlines(keepends=True))
    assert problems == []
    return parsed


async def people(db: Database) -> dict[int, tuple[str, str, str, str]]:
    """Everyone registered: telegram id -> (name, department code, role, language)."""
    found = {}
    for telegram_id in (5001, 5002, 5003):
        person = await directory.find(db, telegram_id)
        if person is not None:
            found[telegram_id] = (
                person.first_name,
                person.department.code,
                person.role,
                person.language,
            )
    return found


@pytest.fixture
async def company_db(db: Database) -> Database:
    await open_company(db, ["Marketing", "Sales"], {ALICE.id: ("Alice", "sales")}, [ALICE.id])
    return db


@both_databases()
async def test_a_good_file_registers_everyone_with_their_department_role_and_language(
    company_db: Database,
) -> None:
    result = await import_people(company_db, rows(GOOD), default_language="ru")

    assert result.imported and len(result.added) == 3
    assert await people(company_db) == {
        5001: ("Ольга Петрова", "marketing", Role.LEAD.value, "ru"),
        5002: ("Carl Young", "sales", Role.EMPLOYEE.value, "en"),
        5003: ("Ира", "sales", Role.EMPLOYEE.value, "ru"),
    }


@both_databases()
async def test_importing_the_same_file_twice_changes_nothing_the_second_time(
    company_db: Database,
) -> None:
    await import_people(company_db, rows(GOOD), default_language="ru")
    before = await people(company_db)

    again = await import_people(company_db, rows(GOOD), default_language="ru")

    assert again.imported and again.added == [] and again.changed == [] and again.unchanged == 3
    assert await people(company_db) == before


@both_databases()
async def test_a_second_file_moves_and_promotes_people_and_says_what_changed(
    company_db: Database,
) -> None:
    await import_people(company_db, rows(GOOD), default_language="ru")
    moved = GOOD.replace("5002,Carl Young,sales,,en", "5002,Carl Young,Marketing,admin,en")

    result = await import_people(company_db, rows(moved), default_language="ru")

    assert [(row.telegram_id, changes) for row, changes in result.changed] == [
        (5002, ["department_id", "role"])
    ]
    assert (await people(company_db))[5002] == ("Carl Young", "marketing", "admin", "en")


@both_databases()
async def test_a_department_nobody_has_stops_the_import_and_names_its_line(
    company_db: Database,
) -> None:
    bad = GOOD + "5004,Pavel,Legal,employee,ru\n"

    result = await import_people(company_db, rows(bad), default_language="ru")

    assert not result.imported
    assert [str(problem) for problem in result.problems] == ["line 5: no department 'Legal'"]
    assert await people(company_db) == {}


async def test_a_dry_run_says_what_would_change_and_stores_nothing(company_db: Database) -> None:
    result = await import_people(company_db, rows(GOOD), default_language="ru", dry_run=True)

    assert [row.telegram_id for row in result.added] == [5001, 5002, 5003]
    assert await people(company_db) == {}


async def test_a_file_that_would_demote_the_last_admin_is_refused(company_db: Database) -> None:
    demoted = GOOD + f"{ALICE.id},Alice,Sales,employee,en\n"

    result = await import_people(company_db, rows(demoted), default_language="ru")

    assert not result.imported and "no admin" in str(result.problems[0])
    assert (await directory.find(company_db, ALICE.id)).role == Role.ADMIN.value  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("abc,Pavel,Sales,,", "line 2: telegram_id 'abc' is not a Telegram id"),
        ("٣٤,Pavel,Sales,,", "line 2: telegram_id '٣٤' is not a Telegram id"),
        ("-5,Pavel,Sales,,", "line 2: telegram_id '-5' is not a Telegram id"),
        ("5005,,Sales,,", "line 2: the name is empty"),
        ("5005,\u200b\u200b,Sales,,", "line 2: the name is empty"),
        ("5005," + "x" * 129 + ",Sales,,", "line 2: the name is longer than 128 characters"),
        ("5005,Pavel,,,", "line 2: the department is empty"),
        ("5005,Pavel,Sales,boss,", "line 2: the role 'boss' is not employee, lead or admin"),
        ("5005,Pavel,Sales,,de", "line 2: the language 'de' is not ru or en"),
        ("5005,Pavel,Sales,,,extra", "line 2: 6 cells, the header has 5"),
    ],
)
def test_a_bad_row_is_reported_with_its_line_number(line: str, problem: str) -> None:
    parsed, problems = parse_people(
        ["telegram_id,name,department,role,language\n", line + "\n", "5006,Ok,Sales,,\n"]
    )

    assert [str(p) for p in problems] == [problem]
    assert [row.telegram_id for row in parsed] == [5006]


def test_the_same_person_twice_in_one_file_is_a_problem_on_the_second_line() -> None:
    _, problems = parse_people(["telegram_id,name,department\n", "7,A,Sales\n", "7,B,Sales\n"])

    assert [str(p) for p in problems] == ["line 3: telegram_id 7 is on line 2"]


def test_a_header_without_the_needed_columns_is_refused() -> None:
    _, problems = parse_people(["id,name\n", "7,A\n"])

    assert str(problems[0]).startswith("line 1: the header lacks telegram_id, department")


async def test_an_imported_person_is_not_asked_for_a_department_at_start(
    company: Telegram, db: Database
) -> None:
    await import_people(db, rows(GOOD), default_language="ru")
    olga = Person(5001, "Olga", None, "ru")

    answer = said(await company.send(olga, "/start"))

    assert "Ольга Петрова" in answer or "Olga" in answer
    assert "Маркетинг" in answer
    assert company.buttons(company.last_message(olga.id)) == []
