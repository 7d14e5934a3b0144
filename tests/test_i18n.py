"""The catalogs: both languages carry every message the code asks for, with the same blanks."""

from __future__ import annotations

import ast
import itertools
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

import bot
from bot.domain.goals import PERIODS
from bot.domain.mixer import PROMPTS, TOPICS
from bot.domain.roles import Role
from bot.domain.schedule import DAY_NAMES
from bot.domain.shop import RewardKind, Status
from bot.handlers.menu import COMMANDS
from bot.i18n import LANGUAGES, LOCALES_DIR, catalog, placeholders, t, tokens
from bot.services.schedule import DIGEST, MIXER, MONTHLY

SOURCE = Path(bot.__file__).parent
PLURAL_FORMS = {"en": 2, "ru": 3}

# What goes into the blank of a key built with an f-string, by the text before the blank.
SETTLED = [Status.APPROVED.value, Status.REJECTED.value, Status.EXPIRED.value]
KEY_VALUES: dict[str, list[str]] = {
    "role.": [role.value for role in Role],
    "error.not_allowed.": [role.value for role in Role],
    "help.section.": [role.value for role in Role],
    "command.": sorted({name for names in COMMANDS.values() for name in names}),
    "department.": ["marketing", "sales", "other"],
    "goal.period.": list(PERIODS),
    "shop.kind.": [kind.value for kind in RewardKind],
    "shop.limit.": ["week", "month"],  # the rewards table allows no other limit period
    "redemption.outcome.": SETTLED,
    "redemption.told.": SETTLED,
    "redemption.done.": [Status.APPROVED.value, Status.REJECTED.value],  # an admin's decision
    "day.": list(DAY_NAMES),
    "day.on.": list(DAY_NAMES),
    "history.": [
        "grant",
        "thanks",
        "reserve",
        "reserve_spent",
        "reserve_refunded",
        "spend",
        "refund",
        "chipin",
        "goal",
        "mixer",
    ],
    "schedule.": ["on", "off"],
    "schedule.job.": [MIXER, DIGEST, MONTHLY],
    "schedule.saved_next.": [MIXER, DIGEST, MONTHLY],
    "mixer.topic.": [str(n) for n in range(1, TOPICS + 1)],
    "mixer.prompt.": [str(n) for n in range(1, PROMPTS + 1)],
}
KEY_SHAPE = re.compile(r"[a-z_]+(\.[a-z_]+)+")


def _f_string_keys(node: ast.JoinedStr, where: str) -> Iterator[str]:
    """Every key an f-string such as f"command.{name}.help" can produce."""
    choices: list[list[str]] = []
    text_so_far = ""
    for part in node.values:
        if isinstance(part, ast.Constant):
            choices.append([str(part.value)])
            text_so_far += str(part.value)
            continue
        prefix = next((p for p in KEY_VALUES if text_so_far.endswith(p)), None)
        if prefix is None:
            raise AssertionError(
                f"{where}: teach this test what fills the blank in {ast.unparse(node)}"
            )
        choices.append(KEY_VALUES[prefix])
        text_so_far += "{}"
    for combination in itertools.product(*choices):
        yield "".join(combination)


def _keys_in(node: ast.expr | None, where: str) -> Iterator[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.JoinedStr):
        yield from _f_string_keys(node, where)
    elif isinstance(node, ast.IfExp):
        yield from _keys_in(node.body, where)
        yield from _keys_in(node.orelse, where)


def _key_argument(call: ast.Call) -> ast.expr | None:
    """The argument that names a message: t(lang, KEY), context.t(KEY), reply(u, c, KEY)."""
    function, args = call.func, call.args
    if isinstance(function, ast.Name) and function.id == "t" and len(args) >= 2:
        return args[1]
    if isinstance(function, ast.Attribute) and function.attr == "t" and args:
        return args[0]
    if isinstance(function, ast.Name) and function.id == "reply" and len(args) >= 3:
        return args[2]
    return None


def _assignments(node: ast.Assign) -> Iterator[tuple[str, ast.expr]]:
    """(name, value) for `a = x` and for each pair of `a, b = x, y`."""
    for target in node.targets:
        if isinstance(target, ast.Name):
            yield target.id, node.value
        elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
            for element, value in zip(target.elts, node.value.elts, strict=False):
                if isinstance(element, ast.Name):
                    yield element.id, value


def keys_used_in_code() -> dict[str, str]:
    """Every message key the code can ask for, with where it is asked for."""
    used: dict[str, str] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            where = f"{path.relative_to(SOURCE.parent)}:{getattr(node, 'lineno', 0)}"
            found: list[str] = []
            if isinstance(node, ast.Call):
                found += _keys_in(_key_argument(node), where)
                for keyword in node.keywords:
                    if keyword.arg == "usage":
                        found += _keys_in(keyword.value, where)
            elif isinstance(node, ast.Assign):
                # `key = "error.x"` in an error class, `text_key, params = "…", {}`,
                # `key = f"department.{…}"`; idempotency keys ("grant:1:2") have another shape.
                for name, value in _assignments(node):
                    if name == "key" or name.endswith("_key"):
                        found += [k for k in _keys_in(value, where) if KEY_SHAPE.fullmatch(k)]
            for key in found:
                used.setdefault(key, where)
    return used


def test_the_scan_finds_keys_in_every_way_the_code_names_them() -> None:
    used = keys_used_in_code()

    assert {
        "lang.switched",  # context.t("…")
        "button.open_private",  # t(language, "…")
        "roles.changed",  # reply(update, context, "…")
        "error.bad_button",  # key = "…" in an error class
        "error.internal",  # text_key = "…"
        "start.joined_admin",  # key = "…" if … else "…"
        "usage.lang",  # usage="…"
        "command.grant.help",  # f"command.{name}.help"
        "help.section.lead",  # f"help.section.{level.value}"
        "role.employee",  # f"role.{role.value}"
        "department.other",  # f"department.{department.code}"
    } <= set(used)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_the_code_asks_for_exists(language: str) -> None:
    messages = catalog(language)

    missing = {key: where for key, where in keys_used_in_code().items() if key not in messages}

    assert missing == {}


def test_both_languages_have_the_same_keys() -> None:
    english, russian = set(catalog("en")), set(catalog("ru"))

    assert sorted(english - russian) == []
    assert sorted(russian - english) == []


def test_both_languages_fill_the_same_placeholders_in_every_form() -> None:
    english, russian = catalog("en"), catalog("ru")
    differences = {}
    for key in sorted(set(english) & set(russian)):
        expected = placeholders(english[key]) | placeholders(russian[key])
        for language, message in (("en", english[key]), ("ru", russian[key])):
            forms = message if isinstance(message, tuple) else (message,)
            for index, form in enumerate(forms):
                if placeholders(form) != expected:
                    differences[f"{language} {key} [{index}]"] = sorted(placeholders(form))
    assert differences == {}


def test_plural_messages_are_plural_in_both_languages_with_every_form() -> None:
    forms = {
        (language, key): len(message) if isinstance(message, tuple) else 1
        for language in LANGUAGES
        for key, message in catalog(language).items()
    }
    plural_keys = {key for (_, key), count in forms.items() if count > 1}

    assert "unit.tokens" in plural_keys
    wrong = {
        (language, key): forms.get((language, key))
        for key in plural_keys
        for language in LANGUAGES
        if forms.get((language, key)) != PLURAL_FORMS[language]
    }
    assert wrong == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_key_is_written_twice_in_one_language(language: str) -> None:
    ids = Counter(
        match
        for path in sorted((LOCALES_DIR / language).glob("*.po"))
        for match in re.findall(r'^msgid "(.+)"$', path.read_text(encoding="utf-8"), re.M)
    )

    assert [key for key, count in ids.items() if count > 1] == []


@pytest.mark.parametrize(
    ("n", "russian", "english"),
    [
        (1, "1 токен", "1 token"),
        (2, "2 токена", "2 tokens"),
        (4, "4 токена", "4 tokens"),
        (5, "5 токенов", "5 tokens"),
        (11, "11 токенов", "11 tokens"),
        (12, "12 токенов", "12 tokens"),
        (21, "21 токен", "21 tokens"),
        (22, "22 токена", "22 tokens"),
        (0, "0 токенов", "0 tokens"),
        (111, "111 токенов", "111 tokens"),
        (1001, "1001 токен", "1001 tokens"),
    ],
)
def test_token_counts_take_the_right_plural_form(n: int, russian: str, english: str) -> None:
    assert tokens("ru", n) == russian
    assert tokens("en", n) == english


def test_a_message_is_filled_in_the_language_asked_for() -> None:
    assert t("ru", "error.amount_too_large", maximum=7) == (
        "Слишком много токенов за раз: не больше 7."
    )
    assert t("en", "error.amount_too_large", maximum=7) == (
        "That is too many tokens at once: the most is 7."
    )


# Placeholders that the code fills with a count already written with its noun ("21 токен").
COUNTED = {"price", "amount", "left", "paid", "balance", "total", "wallet", "reward_tokens"}
COUNTS = [1, 2, 5, 11, 21]
RUSSIAN_TOKENS = {1: "1 токен", 2: "2 токена", 5: "5 токенов", 11: "11 токенов", 21: "21 токен"}
ENGLISH_TOKENS = {1: "1 token", 2: "2 tokens", 5: "5 tokens", 11: "11 tokens", 21: "21 tokens"}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("n", COUNTS)
def test_every_message_renders_with_sample_values_and_counts_agree(language: str, n: int) -> None:
    """Each message, filled with sample values (a count of `n` where it takes one), reads as a
    finished sentence: no blank left, and `n` tokens in the form the language wants."""
    written = (RUSSIAN_TOKENS if language == "ru" else ENGLISH_TOKENS)[n]
    unfinished = {}
    for key, message in catalog(language).items():
        forms = message if isinstance(message, tuple) else (message,)
        values = {
            name: tokens(language, n) if name in COUNTED else ("Ольга" if name != "n" else n)
            for name in placeholders(forms[0])
        }
        if isinstance(message, tuple):
            values["n"] = n
        text = t(language, key, **values)
        if re.search(r"\{\w*\}", text):
            unfinished[key] = text
        counted = [name for name in values if name in COUNTED]
        if counted:
            assert written in text, (key, text)
    assert unfinished == {}


@pytest.mark.parametrize(("n", "form"), [(1, 0), (2, 1), (5, 2), (11, 2), (21, 0)])
def test_russian_plural_messages_choose_the_form_a_russian_reader_expects(
    n: int, form: int
) -> None:
    """1 and 21 take the first form («токен»), 2 the second («токена»), 5 and 11 the third
    («токенов»), in every plural message of the Russian catalog."""
    for key, message in catalog("ru").items():
        if isinstance(message, tuple):
            values = {name: "x" for name in placeholders(message[0])} | {"n": n}
            assert t("ru", key, **values) == message[form].format(**values), key
