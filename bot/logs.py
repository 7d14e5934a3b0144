"""Logging set-up. The bot token is part of every Bot API URL, so it is masked in every line, and
so is the webhook's secret token (python-telegram-bot logs `setWebhook`'s parameters at DEBUG)."""

from __future__ import annotations

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactToken(logging.Formatter):
    """Format a record, then replace the bot token with `<token>` anywhere in the text.

    Masking the finished text, not the message alone, also covers tracebacks: a rejected
    token, for one, comes back inside the exception python-telegram-bot logs.
    """

    def __init__(self, fmt: str, token: str, *others: str) -> None:
        super().__init__(fmt)
        # The part after the colon is the secret; it may also appear with the colon escaped.
        self.secrets = [(part, "<token>") for part in (token, token.partition(":")[2]) if part]
        self.secrets += [(other, "<secret>") for other in others if other]

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret, mask in self.secrets:
            text = text.replace(secret, mask)
        return text


def setup_logging(level: str, token: str | None, *secrets: str) -> None:
    """Log to stderr at `level`, masking `token` and the other `secrets` in every line."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        RedactToken(FORMAT, token, *secrets) if token else logging.Formatter(FORMAT)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # httpx logs every request URL at INFO; keep it for debugging only.
    logging.getLogger("httpx").setLevel(logging.WARNING)
