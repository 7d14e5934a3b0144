"""Text people type is stored as they would read it: no invisible or direction-changing marks,
and numbers only in ASCII digits, whatever a client sends."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.db import Database
from bot.domain.errors import InvalidAmount, ReasonRequired
from bot.domain.ledger import clean_reason, parse_amount
from bot.domain.text import ascii_number, visible_text
from bot.services import ledger, schedule
from tests.fake_telegram import Telegram
from tests.helpers import ALICE, BORIS, said

ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


@given(st.text())
def test_visible_text_never_keeps_an_invisible_character_or_a_double_space(text: str) -> None:
    cleaned = visible_text(text)

    assert all(unicodedata.category(c) not in {"Cf", "Cc", "Cs", "Co"} for c in cleaned)
    assert "  " not in cleaned and cleaned == cleaned.strip()


@pytest.mark.parametrize("text", [ZERO_WIDTH, BIDI, " \u200b \n\t\u2066 ", "\x00\x07"])
def test_a_reason_of_only_invisible_characters_is_no_reason(text: str) -> None:
    with pytest.raises(ReasonRequired):
        clean_reason(text)


def test_a_direction_override_is_dropped_from_a_reason_and_the_words_stay() -> None:
    assert clean_reason("for the \u202elaunch\u202c deck") == "for the launch deck"


@pytest.mark.parametrize("text", ["٣", "１", "३", "12٣", "⁵", "+٣"])
def test_digits_of_other_scripts_are_not_a_number(text: str) -> None:
    assert ascii_number(text) is None
    with pytest.raises(InvalidAmount):
        parse_amount(text, 100)


def test_a_number_too_long_to_be_an_id_is_not_read_at_all() -> None:
    assert ascii_number("1" * 30) is None
    assert ascii_number("007") == 7


async def test_thanks_with_a_reason_made_of_zero_width_characters_asks_for_a_reason(
    company: Telegram, db: Database
) -> None:
    before = (await ledger.verify(db)).transfers

    answer = await company.send(ALICE, f"/thanks @boris 1 {ZERO_WIDTH}")

    assert "reason" in said(answer, ALICE.id).lower()
    assert (await ledger.verify(db)).transfers == before
    assert said(answer, BORIS.id) == ""


async def test_a_thanks_reason_reaches_the_receiver_without_direction_overrides(
    company: Telegram,
) -> None:
    answer = await company.send(ALICE, "/thanks @boris 1 great \u202edemo\u202c today")

    told = said(answer, BORIS.id)
    assert "great demo today" in told
    assert not set(BIDI) & set(told)


async def test_a_five_thousand_character_timezone_is_unknown_and_the_timezone_stays(
    staff: Telegram, db: Database
) -> None:
    answer = await staff.send(ALICE, "/schedule timezone " + "A" * 5000)

    assert "I don't know the timezone" in said(answer)
    assert str(await schedule.timezone(db, "Europe/Moscow")) == "Europe/Moscow"
