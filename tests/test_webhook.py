"""`truce run` on a webhook: only Telegram, which holds the secret token, gets in.

The bot is its own process, as in production; the test plays Telegram (the fake Bot API over
HTTP, which records the secret `setWebhook` was given) and an attacker posting to the port.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN
from tests.fake_telegram import TOKEN, FakeBotApi, serve_http
from tests.helpers import BORIS, clean_environment, truce_command
from tests.test_run_end_to_end import let_the_last_poll_end

DEADLINE = 30.0
HOOK = "https://bot.example.com/truce-hook"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Hooked:
    api: FakeBotApi
    process: subprocess.Popen[bytes]
    log: Path
    port: int
    secret: str

    def post(self, body: bytes | dict[str, Any], secret: str | None) -> int:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        answer = httpx.post(
            f"http://127.0.0.1:{self.port}/truce-hook", content=payload, headers=headers
        )
        return answer.status_code

    def output(self) -> str:
        return self.log.read_bytes().decode(errors="replace")


def wait(condition: Any, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"truce run exited:\n{log.read_text(errors='replace')}")
        if time.monotonic() > deadline:
            pytest.fail(f"truce run took too long:\n{log.read_text(errors='replace')}")
        time.sleep(0.05)


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def truce_on_a_webhook(tmp_path: Path, **settings: str) -> Iterator[Hooked]:
    api = FakeBotApi()
    port = free_port()
    log = tmp_path / "truce.log"
    with serve_http(api) as url, log.open("wb") as output:
        env = clean_environment(
            BOT_TOKEN=TOKEN,
            TELEGRAM_API_URL=url,
            DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'truce.db'}",
            ADMIN_IDS=str(ADMIN.id),
            WEBHOOK_URL=HOOK,
            WEBHOOK_PORT=str(port),
            LOG_LEVEL="DEBUG",
            **settings,
        )
        process = subprocess.Popen(
            [*truce_command(), "run"], cwd=tmp_path, env=env, stdout=output, stderr=output
        )
        try:
            wait(lambda: bool(api.calls_to("setWebhook")) and listening(port), process, log)
            secret = str(api.calls_to("setWebhook")[-1].params.get("secret_token") or "")
            yield Hooked(api, process, log, port, secret)
            process.send_signal(signal.SIGINT)
            process.wait(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            let_the_last_poll_end(api)


def update_from(person: Any, text: str, update_id: int) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": int(time.time()),
            "chat": {"id": person.id, "type": "private", "first_name": person.first_name},
            "from": person.as_user(),
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}],
        },
    }


def test_without_the_secret_forged_updates_are_refused_and_telegrams_are_handled(
    tmp_path: Path,
) -> None:
    with truce_on_a_webhook(tmp_path) as hooked:
        assert hooked.api.calls_to("setWebhook")[-1].params["url"] == HOOK
        assert len(hooked.secret) >= 32  # none was set: the bot made a strong one
        hooked.api.chats[ADMIN.id] = {"id": ADMIN.id, "type": "private", "first_name": "Alice"}
        hooked.api.chats[BORIS.id] = {"id": BORIS.id, "type": "private", "first_name": "Boris"}
        forged = update_from(ADMIN, "/start", 1)

        assert hooked.post(forged, secret=None) == 403
        assert hooked.post(update_from(ADMIN, "/start", 2), secret="guessed") == 403
        assert hooked.post(update_from(ADMIN, "/start", 3), secret=hooked.secret[:-1]) == 403
        time.sleep(0.5)
        assert hooked.api.sent() == []  # nobody was answered: nothing got in

        assert hooked.post(update_from(BORIS, "/start", 4), secret=hooked.secret) == 200
        wait(lambda: bool(hooked.api.sent(BORIS.id)), hooked.process, hooked.log)
        assert hooked.api.sent(BORIS.id)[0]["text"].startswith("Привет, Boris!")
        assert hooked.api.sent(ADMIN.id) == []

    output = hooked.output()
    assert hooked.process.returncode == 0, output
    assert output.count("refused a request without the secret token") == 3
    assert hooked.secret not in output  # DEBUG logs setWebhook's parameters: masked
    assert TOKEN.partition(":")[2] not in output


@pytest.mark.parametrize(
    "body",
    [b"{not json", b"[]", b'{"update_id": "one"}', b"\xff\xfe", b""],
    ids=["not-json", "a-list", "no-number", "not-utf8", "empty"],
)
def test_a_malformed_body_is_refused_with_one_log_line(tmp_path: Path, body: bytes) -> None:
    with truce_on_a_webhook(tmp_path) as hooked:
        assert hooked.post(body, secret=hooked.secret) == 400
        time.sleep(0.2)

    output = hooked.output()
    assert hooked.process.returncode == 0, output
    assert output.count("refused a malformed body") == 1
    assert "Traceback" not in output


def test_a_secret_given_in_the_settings_is_the_one_telegram_is_told(tmp_path: Path) -> None:
    chosen = "our-own_secret-123"
    with truce_on_a_webhook(tmp_path, WEBHOOK_SECRET=chosen) as hooked:
        assert hooked.secret == chosen
        assert hooked.post(update_from(BORIS, "/start", 1), secret="another") == 403

    assert chosen not in hooked.output()


def test_a_secret_telegram_would_refuse_stops_the_start_in_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [*truce_command(), "run"],
        cwd=tmp_path,
        env=clean_environment(BOT_TOKEN=TOKEN, WEBHOOK_URL=HOOK, WEBHOOK_SECRET="has spaces in it"),
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "WEBHOOK_SECRET" in line
    assert "has spaces in it" not in line
