"""The two-command promise: `truce run` on a fresh database, against a Bot API over HTTP."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ADMIN
from tests.fake_telegram import TOKEN, FakeBotApi, Person, serve_http
from tests.helpers import BORIS, clean_environment, truce_command

DEADLINE = 20.0
POLL_SECONDS = 1.0  # FakeBotApi holds a getUpdates open for at most this long
SECRETS = (TOKEN, TOKEN.partition(":")[2])

Message = dict[str, Any]


def bot_environment(tmp_path: Path, api_url: str, **settings: str) -> dict[str, str]:
    """The settings of a first start: a token, the Bot API, a new SQLite file, one admin."""
    return clean_environment(
        BOT_TOKEN=TOKEN,
        TELEGRAM_API_URL=api_url,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'truce.db'}",
        ADMIN_IDS=str(ADMIN.id),
        **settings,
    )


@dataclass
class Chats:
    """People writing to a bot that polls `api`, and waiting for what it answers."""

    api: FakeBotApi
    process: subprocess.Popen[bytes]
    log: Path

    def output(self) -> str:
        return self.log.read_bytes().decode(errors="replace")

    def open(self, person: Person) -> None:
        chat = {"id": person.id, "type": "private", "first_name": person.first_name}
        if person.username:
            chat["username"] = person.username
        self.api.chats[person.id] = chat

    def send(self, person: Person, text: str) -> None:
        message: Message = {
            "message_id": self.api.next_message_id(person.id),
            "date": int(time.time()),
            "chat": self.api.chats[person.id],
            "from": person.as_user(),
            "text": text,
        }
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        self.api.enqueue({"update_id": self.api.next_update_id(), "message": message})

    def press(self, person: Person, message: Message, data: str) -> None:
        query = {
            "id": str(self.api.next_update_id()),
            "from": person.as_user(),
            "message": message,
            "chat_instance": str(person.id),
            "data": data,
        }
        self.api.enqueue({"update_id": self.api.next_update_id(), "callback_query": query})

    def wait_for(self, person: Person, found: Callable[[Message], bool]) -> Message:
        """The first message the bot sent `person` that satisfies `found`, within the deadline."""
        deadline = time.monotonic() + DEADLINE
        while time.monotonic() < deadline:
            for message in self.api.sent(person.id):
                if found(message):
                    return message
            if self.process.poll() is not None:
                pytest.fail(f"truce run exited early:\n{self.output()}")
            time.sleep(0.05)
        texts = [m.get("text") for m in self.api.sent(person.id)]
        pytest.fail(f"no such answer to {person.first_name}; got {texts}\n{self.output()}")


@contextmanager
def truce_run(tmp_path: Path, api_suffix: str = "") -> Iterator[Chats]:
    """`truce run` on a fresh SQLite file, polling a fake Bot API; stopped with Ctrl-C on exit.
    `api_suffix` is written after the server's address in TELEGRAM_API_URL."""
    api = FakeBotApi()
    log = tmp_path / "truce.log"
    with serve_http(api) as url, log.open("wb") as output:
        # At DEBUG python-telegram-bot logs the Bot API URL, which carries the token.
        env = bot_environment(tmp_path, url + api_suffix, LOG_LEVEL="DEBUG")
        process = subprocess.Popen(
            [*truce_command(), "run"], cwd=tmp_path, env=env, stdout=output, stderr=output
        )
        try:
            yield Chats(api, process, log)
            process.send_signal(signal.SIGINT)
            process.wait(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            let_the_last_poll_end(api)


def let_the_last_poll_end(api: FakeBotApi) -> None:
    """Wait out a getUpdates the stopped bot left open, so the server closes without noise."""
    polls = api.calls_to("getUpdates")
    if polls:
        time.sleep(max(0.0, polls[-1].at + POLL_SECONDS + 0.2 - time.monotonic()))


def buttons(message: Message) -> list[tuple[str, str]]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [(button["text"], button.get("callback_data", "")) for row in rows for button in row]


def text_of(message: Message) -> str:
    return str(message.get("text") or "")


def test_a_newcomer_joins_in_russian_and_sees_the_tokens_an_admin_granted(
    tmp_path: Path,
) -> None:
    with truce_run(tmp_path) as chats:
        chats.open(BORIS)
        chats.open(ADMIN)

        chats.send(BORIS, "/start")
        greeting = chats.wait_for(BORIS, lambda m: bool(buttons(m)))
        assert text_of(greeting).startswith("Привет, Boris!")
        departments = [data for _, data in buttons(greeting) if data.startswith("dept:")]
        assert len(departments) == 2, buttons(greeting)

        chats.press(BORIS, greeting, departments[-1])
        chats.wait_for(BORIS, lambda m: text_of(m).startswith("Добро пожаловать в игру"))

        chats.send(ADMIN, "/start")
        admin_greeting = chats.wait_for(ADMIN, lambda m: bool(buttons(m)))
        chats.press(ADMIN, admin_greeting, buttons(admin_greeting)[0][1])
        chats.wait_for(ADMIN, lambda m: "/grant" in text_of(m))
        chats.send(ADMIN, "/grant @boris 50 launch")
        chats.wait_for(BORIS, lambda m: text_of(m).startswith("Вам начислено"))

        chats.send(BORIS, "/me")
        me = chats.wait_for(BORIS, lambda m: "Ваш баланс" in text_of(m))
        assert "50 токенов" in text_of(me)

    output = chats.output()
    assert chats.process.returncode == 0, output
    assert "Traceback" not in output
    assert "Truce is up" in output
    for secret in SECRETS:
        assert secret not in output


class RejectingBotApi(FakeBotApi):
    """Telegram's answer to a revoked or mistyped token: 401 to every call."""

    def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}


def test_a_token_telegram_rejects_stops_the_bot_without_printing_the_token(
    tmp_path: Path,
) -> None:
    with serve_http(RejectingBotApi()) as url:
        result = subprocess.run(
            [*truce_command(), "run"],
            cwd=tmp_path,
            env=bot_environment(tmp_path, url),
            capture_output=True,
            text=True,
            timeout=60,
        )

    output = result.stdout + result.stderr
    assert result.returncode == 2, output
    assert "BOT_TOKEN" in result.stderr.strip().splitlines()[-1]
    for secret in SECRETS:
        assert secret not in output
