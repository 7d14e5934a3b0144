"""The webhook: Telegram posts updates here instead of being polled.

Only a request carrying the secret token given to Telegram in `setWebhook` is taken; anything
else is refused with 403. A body that is not an update is refused with 400 and one log line.
An update is answered 200 only once the update queue has stored it (bot.intake), so an update
Telegram was told arrived is never lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import secrets
import signal
from typing import Any
from urllib.parse import urlsplit

import tornado.httpserver
import tornado.web
from telegram import Update
from telegram.ext import Application

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1024 * 1024  # bytes: far above any update, far below what could hurt
SECRET_BYTES = 32


def new_secret() -> str:
    """A secret token Telegram accepts (letters, digits, _ and -), strong enough to guess never."""
    return secrets.token_urlsafe(SECRET_BYTES)


class UpdateHandler(tornado.web.RequestHandler):
    """POST: one update from Telegram."""

    def initialize(self, app: Application[Any, Any, Any, Any, Any, Any], secret: str) -> None:
        self.app = app
        self.secret = secret.encode()

    async def post(self) -> None:
        given = self.request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self.secret):
            log.warning("webhook: refused a request without the secret token")
            self.set_status(403)
            return
        try:
            data = json.loads(self.request.body)
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("not an update")
            update = Update.de_json(data, self.app.bot)
        except Exception as exc:  # whatever the body is, it is not an update
            log.warning(
                "webhook: refused a malformed body of %d bytes (%s)",
                len(self.request.body),
                type(exc).__name__,
            )
            self.set_status(400)
            return
        await self.app.update_queue.put(update)
        self.set_status(200)

    def get(self) -> None:
        self.set_status(405)


def _quiet(handler: tornado.web.RequestHandler) -> None:
    """Tornado's access log writes a line per update; the handler logs what matters."""


def web_application(app: Application[Any, Any, Any, Any, Any, Any], path: str, secret: str) -> Any:
    return tornado.web.Application(
        [(path, UpdateHandler, {"app": app, "secret": secret})], log_function=_quiet
    )


def path_of(webhook_url: str) -> str:
    path = urlsplit(webhook_url).path.rstrip("/")
    return f"{path or ''}/?"


async def serve(
    app: Application[Any, Any, Any, Any, Any, Any],
    *,
    webhook_url: str,
    listen: str,
    port: int,
    secret: str,
    stop: asyncio.Event | None = None,
) -> None:
    """Run the bot on a webhook until SIGINT or SIGTERM (or `stop` is set)."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Not on the main thread, or no signals on this system: `stop` alone ends the run.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    server = tornado.httpserver.HTTPServer(
        web_application(app, path_of(webhook_url), secret), max_body_size=MAX_BODY
    )
    await app.initialize()
    try:
        if app.post_init is not None:
            await app.post_init(app)
        server.listen(port, address=listen)
        await app.start()
        await app.bot.set_webhook(
            webhook_url, secret_token=secret, allowed_updates=Update.ALL_TYPES
        )
        log.info("listening for Telegram on %s:%d", listen, port)
        await stop.wait()
    finally:
        server.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)


def run(
    app: Application[Any, Any, Any, Any, Any, Any],
    *,
    webhook_url: str,
    listen: str,
    port: int,
    secret: str | None,
) -> None:
    asyncio.run(
        serve(app, webhook_url=webhook_url, listen=listen, port=port, secret=secret or new_secret())
    )
