"""/chipin to the department wallet, the /top leaderboard, and the journal export (bot, shell)."""

from __future__ import annotations

import csv
import io
import re
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.db import Database
from bot.services import directory, ledger, reports, shop, thanks
from bot.services import tokens as token_service
from tests.fake_telegram import Person, Telegram
from tests.helpers import (
    ALICE,
    BORIS,
    CAROL,
    DEFAULT_RULES,
    DEPARTMENT,
    DMITRY,
    MOSCOW,
    PEOPLE,
    clean_environment,
    join,
    ledger_books,
    register,
    said,
    truce_command,
)

JOINED = PEOPLE  # all four, in `staff`


@pytest.fixture
async def company(staff: Telegram) -> Telegram:
    """Alice and Carol in Sales (English), Boris and Dmitry in Marketing (Russian); Boris has 50."""
    await staff.send(ALICE, "/grant @boris 50 great launch")
    return staff


async def books(db: Database) -> tuple[int, list[tuple[int, int]]]:
    """How many transfers there are, and each person's own and department balance."""
    return await ledger_books(db, JOINED)


# -- /chipin ------------------------------------------------------------------------------------


async def test_chipping_in_moves_tokens_to_the_department_wallet_everyone_in_it_can_see(
    company: Telegram, db: Database
) -> None:
    answer = await company.send(BORIS, "/chipin 20")

    assert said(answer, BORIS.id) == (
        "Вы перевели в кошелёк отдела «Маркетинг» 20 токенов: теперь там 20 токенов,"
        " у вас — 30 токенов."
    )
    boris = said(await company.send(BORIS, "/me"))
    assert "Ваш баланс: <b>30 токенов</b>" in boris
    assert "Кошелёк отдела «Маркетинг»: 20 токенов" in boris
    colleague = said(await company.send(DMITRY, "/me"))
    assert "Кошелёк отдела «Маркетинг»: 20 токенов" in colleague
    assert "Ваш баланс: <b>0 токенов</b>" in colleague
    assert "Sales wallet: 0 tokens" in said(await company.send(CAROL, "/me"))
    assert (await ledger.verify(db)).clean


async def test_an_english_speaker_chipping_in_is_answered_in_english(
    company: Telegram, db: Database
) -> None:
    await company.send(ALICE, "/grant @carol 5 first deal")

    answer = await company.send(CAROL, "/chipin 5")

    assert said(answer, CAROL.id) == (
        "You chipped in 5 tokens: the Sales wallet now has 5 tokens; you have 0 tokens."
    )
    assert "Sales wallet: 5 tokens" in said(await company.send(ALICE, "/me"))


@pytest.mark.parametrize(
    ("sender", "command", "answer"),
    [
        (BORIS, "/chipin 51", "Не хватает токенов: нужно 51, есть 50."),
        (DMITRY, "/chipin 1", "Не хватает токенов: нужно 1, есть 0."),
        (BORIS, "/chipin 0", "«0» — не количество"),
        (BORIS, "/chipin -5", "«-5» — не количество"),
        (BORIS, "/chipin abc", "«abc» — не количество"),
        (BORIS, "/chipin", "Как пользоваться: /chipin 20"),
        (BORIS, "/chipin 5 10", "Как пользоваться: /chipin 20"),
        (CAROL, "/chipin ten", "“ten” is not an amount"),
    ],
)
async def test_bad_chip_ins_are_refused_clearly_and_change_nothing(
    company: Telegram, db: Database, sender: Person, command: str, answer: str
) -> None:
    before = await books(db)

    calls = await company.send(sender, command)

    assert answer in said(calls, sender.id)
    assert [call["chat_id"] for call in calls] == [sender.id]
    assert await books(db) == before


async def test_chipping_in_from_a_group_points_to_the_private_chat_and_moves_nothing(
    company: Telegram, db: Database
) -> None:
    group = company.group()
    before = await books(db)

    answer = await company.send(BORIS, "/chipin 20", chat=group)

    assert said(answer, group["id"]) == "Давайте обсудим это в личном чате со мной."
    assert await books(db) == before


# -- /top ---------------------------------------------------------------------------------------


async def redemption_id(tg: Telegram) -> int:
    """The number of the latest request Alice, the admin, was asked to decide."""
    found = re.search(r"#(\d+)", tg.last_message(ALICE.id)["text"])
    assert found is not None
    return int(found.group(1))


@pytest.fixture
async def season(company: Telegram, db: Database) -> Telegram:
    """Tokens earned this week and before it, plus moves that earn nothing.

    Earned this week: Boris 50 (grant), Carol 2 (thanks), Sales 10 (grant to the wallet).
    Earned last week: Alice 2 (Boris thanked her across the department line).
    Not earned: Boris chips in 20, and a coffee he asked for is rejected and refunded.
    """
    await thanks.give(
        db,
        giver_telegram_id=BORIS.id,
        receiver="@alice",
        amount=1,
        reason="leads",
        key="last-week",
        rules=DEFAULT_RULES,
        tz=MOSCOW,
        now=datetime.now(UTC) - timedelta(days=8),
    )
    await company.send(ALICE, "/thanks @carol 2 closed the deal")
    await company.send(ALICE, "/grant sales 10 joint win")
    await company.send(BORIS, "/chipin 20")
    await company.send(BORIS, "/redeem coffee")
    await company.send(ALICE, f"/redemptions reject {await redemption_id(company)} not today")
    assert "Ваш баланс: <b>30 токенов</b>" in said(await company.send(BORIS, "/me"))
    return company


async def test_the_leaderboard_in_russian_shows_the_week_all_time_and_departments_per_head(
    season: Telegram,
) -> None:
    answer = await season.send(BORIS, "/top")

    assert said(answer) == "\n".join(
        [
            "🏆 Рейтинг",
            "",
            "На этой неделе:",
            "1. Boris (Маркетинг) — 50 токенов",
            "2. Carol (Продажи) — 2 токена",
            "",
            "За всё время:",
            "1. Boris (Маркетинг) — 50 токенов",
            "2. Alice (Продажи) — 2 токена",
            "3. Carol (Продажи) — 2 токена",
            "",
            "Отделы:",
            "Маркетинг: 50 токенов, 25,0 на человека (2 человека)",
            "Продажи: 14 токенов, 7,0 на человека (2 человека)",
        ]
    )


async def test_the_leaderboard_in_english_counts_neither_chip_ins_nor_refunds_as_earned(
    season: Telegram,
) -> None:
    answer = await season.send(CAROL, "/top")

    assert said(answer) == "\n".join(
        [
            "🏆 Leaderboard",
            "",
            "This week:",
            "1. Boris (Marketing) — 50 tokens",
            "2. Carol (Sales) — 2 tokens",
            "",
            "All time:",
            "1. Boris (Marketing) — 50 tokens",
            "2. Alice (Sales) — 2 tokens",
            "3. Carol (Sales) — 2 tokens",
            "",
            "Departments:",
            "Marketing: 50 tokens, 25.0 per head (2 people)",
            "Sales: 14 tokens, 7.0 per head (2 people)",
        ]
    )


async def test_the_leaderboard_can_be_asked_for_in_the_group_and_is_answered_there(
    season: Telegram,
) -> None:
    group = season.group()

    answer = await season.send(CAROL, "/top", chat=group)

    assert [call["chat_id"] for call in answer] == [group["id"]]
    # Carol reads English, but the group reads the company's language.
    assert "1. Boris (Маркетинг) — 50 токенов" in said(answer)


async def test_a_leaderboard_before_anyone_earned_says_nobody_yet(tg: Telegram) -> None:
    await join(tg, CAROL, "sales")

    answer = await tg.send(CAROL, "/top")

    text = said(answer)
    assert text.count("nobody yet") == 2
    assert "Sales: 0 tokens, 0.0 per head" in text
    assert "Marketing: 0 tokens, 0.0 per head" in text


# -- /export ------------------------------------------------------------------------------------


def rows(journal: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(journal)))


async def test_an_admin_gets_the_journal_as_a_csv_document(company: Telegram, db: Database) -> None:
    await company.send(BORIS, "/chipin 20")
    await company.send(ALICE, '/grant @carol 5 =HYPERLINK("http://evil")')
    await company.send(CAROL, "/chipin 5")

    answer = await company.send(ALICE, "/export")

    documents = company.api.calls_to("sendDocument")
    assert len(documents) == 1 and [call["method"] for call in answer] == ["sendDocument"]
    assert int(documents[0].params["chat_id"]) == ALICE.id
    assert documents[0].params["caption"] == (
        "The token journal, one row per transfer (times in UTC)."
    )
    journal = rows(await reports.export_csv(db))
    moves = [(r["from"], r["to"], r["amount"], r["kind"]) for r in journal]
    assert moves == [
        ("system:issuance", "employee:@boris", "50", "grant"),
        ("employee:@boris", "department:marketing", "20", "chipin"),
        ("system:issuance", "employee:@carol", "5", "grant"),
        ("employee:@carol", "department:sales", "5", "chipin"),
    ]
    assert journal[0]["reason"] == "great launch"
    assert journal[2]["reason"] == '\'=HYPERLINK("http://evil")'


@pytest.mark.parametrize(
    ("argument", "answer"),
    [
        ("garbage", "“garbage” is not a date: write it like 2026-11-01."),
        ("2026-13-01", "“2026-13-01” is not a date: write it like 2026-11-01."),
        ("２０２６-11-01", "“２０２６-11-01” is not a date: write it like 2026-11-01."),
        ("2026-11-01 more", "Usage: /export for the whole journal"),
    ],
)
async def test_export_with_a_bad_date_says_so_and_sends_nothing(
    company: Telegram, argument: str, answer: str
) -> None:
    reply = said(await company.send(ALICE, f"/export {argument}"))

    assert reply.startswith(answer)
    assert company.api.calls_to("sendDocument") == []


async def test_exporting_is_refused_to_someone_who_is_not_an_admin(company: Telegram) -> None:
    answer = await company.send(BORIS, "/export")

    assert said(answer) == "Простите, это доступно только админам."
    assert company.api.calls_to("sendDocument") == []


async def test_exporting_is_refused_to_someone_who_never_joined(tg: Telegram) -> None:
    answer = await tg.send(DMITRY, "/export")

    assert "Вы ещё не в игре" in said(answer)
    assert tg.api.calls_to("sendDocument") == []


# -- `truce export` at a shell ------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str  # exactly as written: CSV lines end in CRLF
    stderr: str


def truce(cwd: Path, database_url: str, *args: str) -> Run:
    """Run `truce *args` in `cwd` with only DATABASE_URL set among Truce's settings."""
    assert not (cwd / ".env").exists()
    result = subprocess.run(
        [*truce_command(), *args],
        cwd=cwd,
        env=clean_environment(DATABASE_URL=database_url),
        capture_output=True,
        timeout=60,
    )
    return Run(result.returncode, result.stdout.decode("utf-8"), result.stderr.decode("utf-8"))


@pytest.fixture
async def journal_db(db: Database) -> Database:
    """A migrated SQLite file with a few transfers: one in 2019, the rest now."""
    await directory.bootstrap(db, ["Marketing", "Sales"], [ALICE.id])
    for person in (ALICE, BORIS):
        await register(db, person, DEPARTMENT[person], [ALICE.id])
    await thanks.give(
        db,
        giver_telegram_id=ALICE.id,
        receiver="@boris",
        amount=1,
        reason="an old favour",
        key="2019",
        rules=DEFAULT_RULES,
        tz=MOSCOW,
        now=datetime(2019, 12, 31, 12, tzinfo=UTC),
    )
    await token_service.grant(
        db, actor_telegram_id=ALICE.id, target="@boris", amount=50, reason="launch", key="g1"
    )
    await token_service.grant(
        db, actor_telegram_id=ALICE.id, target="@alice", amount=10, reason="=1+2", key="g2"
    )
    await shop.chip_in(db, telegram_id=BORIS.id, amount=20, key="c1")
    await shop.chip_in(db, telegram_id=ALICE.id, amount=10, key="c2")
    return db


async def test_truce_export_writes_the_journal_since_a_day_to_a_file(
    journal_db: Database, database_url: str, tmp_path: Path
) -> None:
    output = tmp_path / "j.csv"

    result = truce(
        tmp_path, database_url, "export", "--since", "2020-01-01", "--output", str(output)
    )

    assert result.returncode == 0, result.stderr
    since = datetime(2020, 1, 1, tzinfo=MOSCOW)
    written = output.read_bytes().decode("utf-8")
    assert written == await reports.export_csv(journal_db, since=since)
    journal = rows(written)
    assert [(r["from"], r["to"], r["amount"]) for r in journal] == [
        ("system:issuance", "employee:@boris", "50"),
        ("system:issuance", "employee:@alice", "10"),
        ("employee:@boris", "department:marketing", "20"),
        ("employee:@alice", "department:sales", "10"),
    ]
    assert journal[1]["reason"] == "'=1+2"
    assert "an old favour" not in written


async def test_truce_export_without_an_output_prints_the_whole_journal(
    journal_db: Database, database_url: str, tmp_path: Path
) -> None:
    result = truce(tmp_path, database_url, "export")

    assert result.returncode == 0, result.stderr
    assert result.stdout == await reports.export_csv(journal_db)
    assert "an old favour" in result.stdout
    assert len(rows(result.stdout)) == 5


@pytest.mark.parametrize("since", ["2020-13-45", "yesterday", "01.01.2020"])
async def test_truce_export_with_a_bad_date_says_so_in_one_line_and_writes_nothing(
    journal_db: Database, database_url: str, tmp_path: Path, since: str
) -> None:
    output = tmp_path / "j.csv"

    result = truce(tmp_path, database_url, "export", "--since", since, "--output", str(output))

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "--since" in lines[0] and since in lines[0]
    assert result.stdout == ""
    assert not output.exists()
