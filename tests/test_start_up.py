"""`truce run` when something it needs is not there: one line naming it, and a documented code.

Codes (bot/cli.py, README): 3 the database cannot be reached or opened, 4 the Bot API cannot be
reached or TELEGRAM_API_URL does not point at one. A TELEGRAM_API_URL ending in `/bot` (as the
Bot API's own documentation writes its URLs) names the same server and simply works.
"""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ADMIN
from tests.fake_telegram import TOKEN, FakeBotApi, serve_http
from tests.helpers import BORIS, clean_environment, truce_command
from tests.test_run_end_to_end import buttons, truce_run


def closed_port() -> int:
    """A local port nobody listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(tmp_path: Path, **settings: str) -> subprocess.CompletedProcess[str]:
    environment = {
        "BOT_TOKEN": TOKEN,
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'truce.db'}",
        "ADMIN_IDS": str(ADMIN.id),
    } | settings
    return subprocess.run(
        [*truce_command(), "run"],
        cwd=tmp_path,
        env=clean_environment(**environment),
        capture_output=True,
        text=True,
        timeout=90,
    )


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("url", "cause"),
    [
        (f"postgresql+asyncpg://postgres@127.0.0.1:{closed_port()}/truce", "connection refused"),
        ("postgresql+asyncpg://postgres@no-such-host.invalid/truce", "unknown host"),
    ],
    ids=["refused", "unknown-host"],
)
def test_an_unreachable_database_is_named_in_one_line_and_exits_3(
    tmp_path: Path, url: str, cause: str
) -> None:
    with serve_http(FakeBotApi()) as api_url:
        result = run(tmp_path, DATABASE_URL=url, TELEGRAM_API_URL=api_url)

    assert result.returncode == 3
    line = one_line(result)
    assert "cannot reach the database" in line
    assert cause in line
    assert "asyncpg" not in line  # the operator's URL, not the driver's


def test_a_sqlite_file_that_cannot_be_created_is_named_and_exits_3(tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "folder" / "truce.db"
    with serve_http(FakeBotApi()) as api_url:
        result = run(
            tmp_path, DATABASE_URL=f"sqlite+aiosqlite:///{missing}", TELEGRAM_API_URL=api_url
        )

    assert result.returncode == 3
    line = one_line(result)
    assert "cannot open the database" in line
    assert str(missing) in line


def test_an_unreachable_bot_api_is_named_in_one_line_and_exits_4(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    result = run(tmp_path, TELEGRAM_API_URL=url)

    assert result.returncode == 4
    line = one_line(result)
    assert f"cannot reach the Bot API at {url}" in line
    assert "connection refused" in line
    assert TOKEN.partition(":")[2] not in result.stdout + result.stderr


def test_a_telegram_api_url_that_is_no_bot_api_says_to_check_it_and_exits_4(
    tmp_path: Path,
) -> None:
    with serve_http(FakeBotApi()) as api_url:
        result = run(tmp_path, TELEGRAM_API_URL=f"{api_url}/api/v2")

    assert result.returncode == 4
    line = one_line(result)
    assert "404" in line
    assert "TELEGRAM_API_URL" in line


def test_a_telegram_api_url_ending_in_bot_simply_works(tmp_path: Path) -> None:
    with truce_run(tmp_path, api_suffix="/bot/") as chats:
        chats.open(BORIS)
        chats.send(BORIS, "/start")
        greeting = chats.wait_for(BORIS, lambda m: bool(buttons(m)))

    assert greeting["text"].startswith("Привет, Boris!")
    assert chats.process.returncode == 0, chats.output()
