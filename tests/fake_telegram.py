"""An in-process Telegram Bot API for tests and benchmarks.

`FakeBotApi` answers the Bot API methods the bot uses the way Telegram does (including its
errors: a blocked user, a chat the bot may not write to, an unmodified edit, flood limits) and
records every call. `FakeRequest` plugs it into python-telegram-bot in place of the network;
`serve_http` puts it behind a real HTTP port for a bot running in another process.
`Telegram` lets a test act as people: send messages and press buttons in private and group
chats, through a real `Application`.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from telegram import Update
from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

BOT_ID = 7_000_000_001
BOT_USERNAME = "truce_test_bot"
TOKEN = "7000000001:TEST-token-never-logged"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None):
        super().__init__(description)
        self.code, self.description, self.retry_after = code, description, retry_after


class FakeBotApi:
    """A pretend Telegram: chats, messages, updates for polling, and every call made."""

    def __init__(self, *, messages_per_second: float | None = None) -> None:
        self.calls: list[Call] = []
        self.chats: dict[int, dict[str, Any]] = {}
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.blocked: set[int] = set()
        self.bot_admin_in: set[int] = set()
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.pending_updates: list[dict[str, Any]] = []
        self.messages_per_second = messages_per_second
        self.flood_errors = 0
        self.retry_after: dict[int, int] = {}  # chat id -> seconds: its next send answers 429
        self._allowance = float(messages_per_second or 0)
        self._checked = time.monotonic()
        self._message_ids: dict[int, Iterator[int]] = {}
        self._update_ids = itertools.count(1)
        self._lock = threading.RLock()
        self._updates_ready = threading.Condition(self._lock)

    # -- the people's side -------------------------------------------------------------------

    def next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def next_update_id(self) -> int:
        return next(self._update_ids)

    def enqueue(self, update: dict[str, Any]) -> None:
        """Queue an update for a bot that polls with getUpdates."""
        with self._updates_ready:
            self.pending_updates.append(update)
            self._updates_ready.notify_all()

    # -- the bot's side ----------------------------------------------------------------------

    def bot_user(self) -> dict[str, Any]:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Truce",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Answer one Bot API call as Telegram would: (HTTP status, JSON body)."""
        with self._lock:
            self.calls.append(Call(method, params))
        try:
            handler = getattr(self, f"_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found")
            result = handler(params)
        except ApiError as exc:
            body: dict[str, Any] = {
                "ok": False,
                "error_code": exc.code,
                "description": exc.description,
            }
            if exc.retry_after is not None:
                body["parameters"] = {"retry_after": exc.retry_after}
            return exc.code, body
        return 200, {"ok": True, "result": result}

    def _chat(self, chat_id: Any) -> dict[str, Any]:
        chat_id = int(chat_id)
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        chat = self.chats.get(chat_id)
        if chat is None:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat

    def _throttle(self, chat_id: int) -> None:
        """Telegram's flood control: a one-off 429 set by a test, and a bucket of
        `messages_per_second` that refills continuously (a burst up to the rate, then the rate)."""
        with self._lock:
            seconds = self.retry_after.pop(chat_id, None)
            if seconds is not None:
                self.flood_errors += 1
                raise ApiError(429, f"Too Many Requests: retry after {seconds}", seconds)
            if self.messages_per_second is None:
                return
            now = time.monotonic()
            rate = self.messages_per_second
            self._allowance = min(rate, self._allowance + (now - self._checked) * rate)
            self._checked = now
            if self._allowance < 1:
                self.flood_errors += 1
                raise ApiError(429, "Too Many Requests: retry after 1", retry_after=1)
            self._allowance -= 1

    def _store(self, chat_id: int, content: dict[str, Any], params: dict[str, Any]) -> dict:
        chat = self._chat(chat_id)
        self._throttle(chat["id"])
        with self._lock:
            message = {
                "message_id": self.next_message_id(chat["id"]),
                "date": int(time.time()),
                "chat": chat,
                "from": self.bot_user(),
                **content,
            }
            markup = _decoded(params.get("reply_markup"))
            if markup and "inline_keyboard" in markup:  # Telegram echoes inline keyboards only
                message["reply_markup"] = markup
            self.messages[(chat["id"], message["message_id"])] = message
        return message

    def _getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.bot_user()

    def _getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 1.0)
        with self._updates_ready:
            while True:
                ready = [u for u in self.pending_updates if u["update_id"] >= offset]
                # Asking from `offset` confirms every update before it: Telegram forgets them.
                self.pending_updates = ready
                if ready or time.monotonic() >= deadline:
                    return ready[: int(params.get("limit") or 100)]
                self._updates_ready.wait(max(deadline - time.monotonic(), 0.01))

    def _deleteWebhook(self, params: dict[str, Any]) -> bool:
        return True

    def _setWebhook(self, params: dict[str, Any]) -> bool:
        return True

    def _setMyCommands(self, params: dict[str, Any]) -> bool:
        scope = _decoded(params.get("scope")) or {"type": "default"}
        key = (json.dumps(scope, sort_keys=True), params.get("language_code") or "")
        self.commands[key] = _decoded(params["commands"])
        return True

    def _deleteMyCommands(self, params: dict[str, Any]) -> bool:
        return True

    def _sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        text = str(params["text"])
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            raise ApiError(400, "Bad Request: message is too long")
        return self._store(int(params["chat_id"]), {"text": text}, params)

    def _sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        photo = [{"file_id": "photo-1", "file_unique_id": "p1", "width": 800, "height": 600}]
        content = {"photo": photo, "caption": params.get("caption")}
        return self._store(int(params["chat_id"]), content, params)

    def _sendDocument(self, params: dict[str, Any]) -> dict[str, Any]:
        document = {"file_id": "doc-1", "file_unique_id": "d1", "file_name": "file"}
        content = {"document": document, "caption": params.get("caption")}
        return self._store(int(params["chat_id"]), content, params)

    def _edit(self, params: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
        key = (int(params["chat_id"]), int(params["message_id"]))
        with self._lock:
            message = self.messages.get(key)
            if message is None:
                raise ApiError(400, "Bad Request: message to edit not found")
            markup = _decoded(params.get("reply_markup"))
            if all(message.get(k) == v for k, v in changes.items()) and markup == message.get(
                "reply_markup"
            ):
                raise ApiError(400, "Bad Request: message is not modified")
            message.update(changes)
            if markup:
                message["reply_markup"] = markup
            else:
                message.pop("reply_markup", None)
            message["edit_date"] = int(time.time())
            return dict(message)

    def _editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._edit(params, {"text": str(params["text"])})

    def _editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._edit(params, {})

    def _deleteMessage(self, params: dict[str, Any]) -> bool:
        with self._lock:
            self.messages.pop((int(params["chat_id"]), int(params["message_id"])), None)
        return True

    def _answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        return True

    def _getChat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self.chats.get(int(params["chat_id"]))
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        return chat

    def _getChatMember(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id, user_id = int(params["chat_id"]), int(params["user_id"])
        if user_id == BOT_ID:
            status = "administrator" if chat_id in self.bot_admin_in else "member"
        else:
            status = "member"
        member: dict[str, Any] = {"status": status, "user": self.bot_user()}
        if status == "administrator":
            member.update(
                can_be_edited=False,
                is_anonymous=False,
                can_manage_chat=True,
                can_delete_messages=True,
                can_manage_video_chats=False,
                can_restrict_members=False,
                can_promote_members=False,
                can_change_info=False,
                can_invite_users=True,
                can_post_stories=False,
                can_edit_stories=False,
                can_delete_stories=False,
            )
        return member

    # -- what tests read ---------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        """Messages the bot sent (in order), optionally to one chat."""
        with self._lock:
            messages = list(self.messages.values())
        return [
            m
            for m in messages
            if m["from"]["id"] == BOT_ID and (chat_id is None or m["chat"]["id"] == chat_id)
        ]


def _decoded(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        return json.loads(value)
    return value


class FakeRequest(BaseRequest):
    """Sends python-telegram-bot's requests to a `FakeBotApi` instead of the network.

    `latency` (seconds) makes every call take as long as a round trip to Telegram would.
    """

    def __init__(self, api: FakeBotApi, latency: float = 0.0) -> None:
        self.api = api
        self.latency = latency

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        if self.latency:
            await asyncio.sleep(self.latency)
        if api_method == "getUpdates":
            status, body = await asyncio.to_thread(self.api.handle, api_method, params)
        else:
            status, body = self.api.handle(api_method, params)
        return status, json.dumps(body).encode()


BOT_ROUTE = re.compile(r"/bot(?P<token>\d+:[\w-]+)/(?P<method>\w+)/?")


@contextmanager
def serve_http(api: FakeBotApi) -> Iterator[str]:
    """Serve `api` over HTTP on a free local port; yields the base URL for TELEGRAM_API_URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            # Telegram's own routes: /bot<token>/<method>; anything else is 404, as there.
            route = BOT_ROUTE.fullmatch(self.path)
            if route is None:
                self._answer(404, {"ok": False, "error_code": 404, "description": "Not Found"})
                return
            method = route["method"]
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode() if length else ""
            kind = self.headers.get("Content-Type", "")
            if kind.startswith("application/json"):
                params = json.loads(raw or "{}")
            elif kind.startswith("multipart/form-data"):
                params = {}
            else:
                params = {k: _decoded(v) for k, v in parse_qsl(raw)}
            self._answer(*api.handle(method, params))

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# -- acting as people ------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    id: int
    first_name: str
    username: str | None = None
    language_code: str | None = "en"
    is_bot: bool = False

    def as_user(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user


class Telegram:
    """Drives a real `Application` as people would: messages, commands, button presses."""

    def __init__(self, app: Application[Any, Any, Any, Any, Any, Any], api: FakeBotApi):
        self.app, self.api = app, api

    def private_chat(self, person: Person) -> dict[str, Any]:
        chat = {"id": person.id, "type": "private", "first_name": person.first_name}
        if person.username:
            chat["username"] = person.username
        self.api.chats.setdefault(person.id, chat)
        return self.api.chats[person.id]

    def group(self, chat_id: int = -1001, title: str = "Company") -> dict[str, Any]:
        chat = {"id": chat_id, "type": "supergroup", "title": title}
        self.api.chats.setdefault(chat_id, chat)
        return self.api.chats[chat_id]

    def _message(
        self,
        person: Person,
        text: str,
        chat: dict[str, Any] | None,
        reply_to: dict[str, Any] | None,
    ) -> dict[str, Any]:
        chat = chat or self.private_chat(person)
        message: dict[str, Any] = {
            "message_id": self.api.next_message_id(chat["id"]),
            "date": int(time.time()),
            "chat": chat,
            "from": person.as_user(),
            "text": text,
        }
        if text.startswith("/"):
            command = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        self.api.messages[(chat["id"], message["message_id"])] = message
        return message

    async def send(
        self,
        person: Person,
        text: str,
        *,
        chat: dict[str, Any] | None = None,
        reply_to: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """`person` writes `text`; returns what the bot sent in answer, anywhere."""
        message = self._message(person, text, chat, reply_to)
        return await self._process({"update_id": self.api.next_update_id(), "message": message})

    async def deliver(self, person: Person, text: str) -> None:
        """`person` writes `text` in their private chat; what the bot answers is not collected
        (for benchmarks, where collecting it would cost more than the bot's own work)."""
        message = self._message(person, text, None, None)
        update = {"update_id": self.api.next_update_id(), "message": message}
        await self.app.process_update(Update.de_json(update, self.app.bot))

    async def press(
        self, person: Person, message: dict[str, Any], data: str
    ) -> list[dict[str, Any]]:
        """`person` presses a button with callback `data` under the bot's `message`."""
        update = {
            "update_id": self.api.next_update_id(),
            "callback_query": {
                "id": str(self.api.next_update_id()),
                "from": person.as_user(),
                "message": message,
                "chat_instance": str(message["chat"]["id"]),
                "data": data,
            },
        }
        return await self._process(update)

    async def _process(self, update: dict[str, Any]) -> list[dict[str, Any]]:
        before = len(self.api.calls)
        await self.app.process_update(Update.de_json(update, self.app.bot))
        return [
            call.params | {"method": call.method}
            for call in self.api.calls[before:]
            if call.method
            in {
                "sendMessage",
                "editMessageText",
                "answerCallbackQuery",
                "sendDocument",
                "sendPhoto",
            }
        ]

    def last_message(self, chat_id: int) -> dict[str, Any]:
        return self.api.sent(chat_id)[-1]

    @staticmethod
    def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
        """(text, callback data) of every button under a message."""
        markup = message.get("reply_markup") or {}
        return [
            (button["text"], button.get("callback_data") or button.get("url", ""))
            for row in markup.get("inline_keyboard", [])
            for button in row
        ]
