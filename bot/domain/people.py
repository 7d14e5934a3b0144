"""A list of people to import (`truce import-users`): each row checked before anything is stored."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass

from bot.domain.roles import Role
from bot.domain.text import ascii_number, visible_text

COLUMNS = ("telegram_id", "name", "department", "role", "language")
LANGUAGES = ("ru", "en")
MAX_NAME = 128
# Telegram user ids are positive and fit in 52 bits; anything longer is a typo.
MAX_TELEGRAM_ID = 2**52


@dataclass(frozen=True)
class PersonRow:
    line: int
    telegram_id: int
    name: str
    department: str  # as written: a code or a name in either language
    role: Role
    language: str


@dataclass(frozen=True)
class RowProblem:
    line: int
    problem: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.problem}"


def parse_people(lines: Iterable[str]) -> tuple[list[PersonRow], list[RowProblem]]:
    """The rows of a CSV file with a header naming the columns, and every problem found.

    Columns: telegram_id, name, department, role (employee, lead or admin; empty means
    employee) and language (ru or en; empty means the company's). A file with any problem is
    imported not at all, so every problem is reported at once.
    """
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        return [], [RowProblem(1, "the file is empty")]
    names = [visible_text(column).lower() for column in header]
    missing = [column for column in COLUMNS[:3] if column not in names]
    if missing:
        wanted = ", ".join(COLUMNS)
        return [], [RowProblem(1, f"the header lacks {', '.join(missing)} (columns: {wanted})")]
    rows: list[PersonRow] = []
    problems: list[RowProblem] = []
    seen: dict[int, int] = {}
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(names):
            problems.append(RowProblem(line, f"{len(cells)} cells, the header has {len(names)}"))
            continue
        record = dict(zip(names, (visible_text(cell) for cell in cells), strict=False))
        row = _row(line, record, problems)
        if row is None:
            continue
        if row.telegram_id in seen:
            problems.append(
                RowProblem(
                    line, f"telegram_id {row.telegram_id} is on line {seen[row.telegram_id]}"
                )
            )
            continue
        seen[row.telegram_id] = line
        rows.append(row)
    return rows, problems


def _row(line: int, record: dict[str, str], problems: list[RowProblem]) -> PersonRow | None:
    found: list[str] = []
    telegram_id = ascii_number(record.get("telegram_id", ""))
    if telegram_id is None or not 0 < telegram_id < MAX_TELEGRAM_ID:
        found.append(f"telegram_id {record.get('telegram_id', '')[:20]!r} is not a Telegram id")
    name = record.get("name", "")
    if not name:
        found.append("the name is empty")
    elif len(name) > MAX_NAME:
        found.append(f"the name is longer than {MAX_NAME} characters")
    department = record.get("department", "")
    if not department:
        found.append("the department is empty")
    role_text = record.get("role", "").lower() or Role.EMPLOYEE.value
    role = next((r for r in Role if r.value == role_text), None)
    if role is None:
        found.append(f"the role {role_text[:20]!r} is not employee, lead or admin")
    language = record.get("language", "").lower()
    if language and language not in LANGUAGES:
        found.append(f"the language {language[:10]!r} is not ru or en")
    if found:
        problems.append(RowProblem(line, "; ".join(found)))
        return None
    assert telegram_id is not None and role is not None
    return PersonRow(line, telegram_id, name, department, role, language)
