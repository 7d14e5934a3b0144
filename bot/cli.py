"""`truce`: run the bot, manage the database, and check the ledger from a shell.

Exit codes: 0 done; 1 `ledger verify` found differences; 2 a setting or an option is wrong
(BOT_TOKEN missing or rejected, a malformed value, a bad row in a file to import); 3 the database
cannot be reached or opened; 4 the Bot API cannot be reached, or TELEGRAM_API_URL does not point
at one.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path

from alembic import command
from alembic.config import Config
from pydantic import ValidationError

from bot.config import Settings, get_settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent


EXIT_CONFIG = 2
EXIT_DATABASE = 3
EXIT_BOT_API = 4
BOT_API_URL = "https://api.telegram.org"
CHECK_TIMEOUT = 10.0  # seconds for the database or the Bot API to answer at start-up


class ConfigError(Exception):
    """A setting or an option is missing or malformed; the message names it in one line."""

    code = EXIT_CONFIG


class DatabaseUnreachable(ConfigError):
    code = EXIT_DATABASE


class BotApiUnreachable(ConfigError):
    code = EXIT_BOT_API


def masked(database_url: str) -> str:
    """The database URL as an operator may read it: no driver name, no password."""
    from sqlalchemy import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(database_url)
    except ArgumentError:
        return "<unparseable DATABASE_URL>"
    return url.set(drivername=url.get_backend_name()).render_as_string(hide_password=True)


def _reason(exc: BaseException) -> str:
    """What went wrong, in a few words, from a driver's or a socket's error."""
    import socket

    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "unknown host"
    if isinstance(exc, TimeoutError):
        return "timed out"
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def check_database(database_url: str) -> None:
    """Stop with one line when the database cannot be opened or reached."""
    from sqlalchemy import make_url, text
    from sqlalchemy.exc import ArgumentError

    from bot.db import Database

    try:
        url = make_url(database_url)
    except ArgumentError:
        raise ConfigError("configuration error: DATABASE_URL: not a database URL") from None
    where = masked(database_url)
    if url.get_backend_name() == "sqlite":
        import sqlite3

        path = url.database
        if not path or path == ":memory:" or path.startswith("file:"):
            return
        try:
            sqlite3.connect(path).close()
        except sqlite3.Error as exc:
            raise DatabaseUnreachable(f"cannot open the database at {where} ({exc})") from None
        return

    async def probe() -> None:
        db = Database(database_url)
        try:
            async with asyncio.timeout(CHECK_TIMEOUT), db.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
        finally:
            await db.dispose()

    try:
        asyncio.run(probe())
    except Exception as exc:  # the driver's own errors, OSError, timeouts: all one line
        raise DatabaseUnreachable(
            f"cannot reach the database at {where} ({_reason(exc)})"
        ) from None


def bot_api_base(settings: Settings) -> str:
    return settings.telegram_api_url or BOT_API_URL


def check_bot_api(settings: Settings) -> None:
    """Stop with one line when the Bot API is unreachable, or is not a Bot API at all."""
    from telegram import Bot
    from telegram.error import InvalidToken, NetworkError, TelegramError, TimedOut
    from telegram.request import HTTPXRequest

    assert settings.bot_token is not None
    base = bot_api_base(settings)

    async def probe() -> None:
        request = HTTPXRequest(
            connect_timeout=CHECK_TIMEOUT, read_timeout=CHECK_TIMEOUT, write_timeout=CHECK_TIMEOUT
        )
        bot = Bot(
            settings.bot_token.get_secret_value(),  # type: ignore[union-attr]
            base_url=f"{base}/bot",
            request=request,
            get_updates_request=request,
        )
        try:
            await bot.get_me()
        finally:
            await request.shutdown()

    try:
        asyncio.run(probe())
    except InvalidToken as exc:
        # Telegram answers 401 to a token it does not know; any other Bot API's 404 means the
        # URL is wrong (Telegram's own 404 is for a malformed token).
        if settings.telegram_api_url and "not found" in str(exc).lower():
            raise BotApiUnreachable(
                f"the Bot API at {base} answered 404: check TELEGRAM_API_URL"
            ) from None
        raise ConfigError(
            "configuration error: BOT_TOKEN: rejected by Telegram; check it with @BotFather"
        ) from None
    except TimedOut:
        raise BotApiUnreachable(f"cannot reach the Bot API at {base} (timed out)") from None
    except NetworkError as exc:
        cause = exc.__cause__ if exc.__cause__ is not None else exc
        detail = str(cause).splitlines()[0] if str(cause).strip() else type(cause).__name__
        if "Name or service not known" in detail or "nodename nor servname" in detail:
            detail = "unknown host"
        elif "All connection attempts failed" in detail:
            detail = "connection refused"
        raise BotApiUnreachable(f"cannot reach the Bot API at {base} ({detail})") from None
    except TelegramError as exc:
        raise BotApiUnreachable(
            f"the Bot API at {base} gave an unexpected answer ({exc}): check TELEGRAM_API_URL"
        ) from None
    except Exception as exc:  # anything else the HTTP client meets: one line, not a traceback
        raise BotApiUnreachable(f"cannot reach the Bot API at {base} ({_reason(exc)})") from None


def load_settings() -> Settings:
    try:
        return get_settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise ConfigError(f"configuration error: {name}: {first['msg']}") from None


def alembic_config(database_url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Apply pending migrations, leaving the caller's logging set-up alone."""
    config = alembic_config(database_url)
    config.attributes["configure_logger"] = False
    command.upgrade(config, revision)


def require_current_schema(database_url: str) -> None:
    """Stop with one line when the database is behind the code (or not a Truce database)."""
    from alembic.script import ScriptDirectory
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from bot.db import Database

    async def current() -> str | None:
        db = Database(database_url)
        try:
            async with db.read() as session:
                return await session.scalar(text("SELECT version_num FROM alembic_version"))
        except DBAPIError:
            return None
        finally:
            await db.dispose()

    head = ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()
    if asyncio.run(current()) != head:
        raise ConfigError("the database is not up to date: run `truce db upgrade` first")


def _run(settings: Settings) -> int:
    from telegram.error import InvalidToken

    from bot import webhook
    from bot.app import build_application
    from bot.db import Database
    from bot.logs import setup_logging
    from bot.webhook import new_secret

    if settings.bot_token is None or not settings.bot_token.get_secret_value().strip():
        raise ConfigError(
            "configuration error: BOT_TOKEN: not set; get one from @BotFather"
            " and export BOT_TOKEN=..."
        )
    check_database(settings.database_url)
    check_bot_api(settings)
    # Without WEBHOOK_SECRET each start makes a new secret and gives it to Telegram, so only
    # Telegram can post updates; it is masked in the log like the token.
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else new_secret()
    setup_logging(settings.log_level, settings.bot_token.get_secret_value(), secret)
    # The schema must be current before the first update is handled.
    upgrade(settings.database_url)
    app = build_application(settings, Database(settings.database_url))
    try:
        if settings.webhook_url:
            webhook.run(
                app,
                webhook_url=settings.webhook_url,
                listen=settings.webhook_listen,
                port=settings.webhook_port,
                secret=secret,
            )
        else:
            app.run_polling()
    except InvalidToken:
        # python-telegram-bot writes the rejected token into this error's message.
        raise ConfigError(
            "configuration error: BOT_TOKEN: rejected by Telegram; check it with @BotFather"
        ) from None
    return 0


def _db(settings: Settings, action: str, revision: str | None) -> int:
    config = alembic_config(settings.database_url)
    if action == "upgrade":
        command.upgrade(config, revision or "head")
    elif action == "downgrade":
        command.downgrade(config, revision or "-1")
    else:
        command.current(config, verbose=False)
    return 0


def _verify(settings: Settings) -> int:
    from bot.db import Database
    from bot.services.ledger import verify

    async def go() -> int:
        db = Database(settings.database_url)
        try:
            report = await verify(db)
        finally:
            await db.dispose()
        print(
            f"accounts: {report.accounts}, transfers: {report.transfers}, "
            f"journal sum: {report.journal_sum}"
        )

        def name(account_id: int) -> str:
            owner = report.owners.get(account_id)
            return f"account {account_id} ({owner})" if owner else f"account {account_id}"

        for d in report.discrepancies:
            print(f"{name(d.account_id)}: stored {d.stored}, journal says {d.journal}")
        for account_id in report.negative_accounts:
            print(f"{name(account_id)}: negative balance")
        print("ledger is clean" if report.clean else "ledger has differences")
        return 0 if report.clean else 1

    return asyncio.run(go())


def _export(settings: Settings, since: str | None, output: str | None) -> int:
    from bot.db import Database
    from bot.services import schedule
    from bot.services.reports import export_csv

    day = None
    if since is not None:
        try:
            day = date.fromisoformat(since)
        except ValueError:
            raise ConfigError(f"--since: {since!r} is not a date like 2026-11-01") from None

    async def go() -> str:
        db = Database(settings.database_url)
        try:
            # The day starts at midnight in the company's timezone, as set from Telegram.
            tz = await schedule.timezone(db, settings.timezone)
            start = datetime.combine(day, time.min, tzinfo=tz) if day else None
            return await export_csv(db, since=start)
        finally:
            await db.dispose()

    text = asyncio.run(go())
    if output is None:
        sys.stdout.write(text)
    else:
        Path(output).write_text(text, encoding="utf-8")
        print(f"wrote {text.count(chr(10)) - 1} transfers to {output}", file=sys.stderr)
    return 0


def _digest_preview(settings: Settings, chart_path: str) -> int:
    """Print this week's digest as the company chat would get it, and write its chart."""
    from bot import chart
    from bot.db import Database
    from bot.handlers.rhythm import chart_titles, digest_text
    from bot.i18n import department_name
    from bot.services import company, digest, directory, schedule

    async def go() -> tuple[str, bytes]:
        db = Database(settings.database_url)
        try:
            await directory.bootstrap(db, settings.departments, settings.admin_ids)
            tz = await schedule.timezone(db, settings.timezone)
            end = datetime.now(tz)
            data = await digest.compute(
                db,
                start=end - timedelta(days=7),
                end=end,
                tz=tz,
                shame=await company.wall_of_shame(db),
            )
            language = settings.default_language
            names = {
                d.code: department_name(language, d) for d in await directory.list_departments(db)
            }
            text = digest_text(language, data, names, monthly=False, tz=tz)
            png = chart.render(
                data.chart_weeks,
                data.chart_tokens,
                names,
                data.chart_index,
                chart_titles(language),
            )
            return text, png
        finally:
            await db.dispose()

    text, png = asyncio.run(go())
    print(text)
    Path(chart_path).write_bytes(png)
    print(f"\nchart: {chart_path} ({len(png)} bytes)", file=sys.stderr)
    return 0


_FIELDS = {"first_name": "name", "department_id": "department"}


def _import_users(settings: Settings, path: str, dry_run: bool) -> int:
    """Add or update the people listed in a CSV file: all of them, or none if a row is bad."""
    from bot.db import Database
    from bot.domain.people import parse_people
    from bot.services import directory
    from bot.services.people import ImportResult, import_people

    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not a UTF-8 text file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    rows, problems = parse_people(text.splitlines(keepends=True))
    # A file with a bad row is tried as a dry run all the same, so that every problem in it
    # (an unknown department too) is named at once.
    trial = dry_run or bool(problems)

    async def go() -> ImportResult | None:
        db = Database(settings.database_url)
        try:
            if not trial:
                # What `truce run` does at every start: the configured departments and admins.
                await directory.bootstrap(db, settings.departments, settings.admin_ids)
            elif not await directory.list_departments(db):
                return None
            return await import_people(
                db, rows, default_language=settings.default_language, dry_run=trial
            )
        finally:
            await db.dispose()

    result = asyncio.run(go())
    if result is None and not problems:
        raise ConfigError(
            "the database has no departments yet: `truce run` or an import without --dry-run"
            " creates them from DEPARTMENTS"
        )
    found = sorted([*problems, *(result.problems if result else [])], key=lambda p: p.line)
    if found:
        for problem in found:
            where = f"line {problem.line}: " if problem.line else ""
            print(f"truce: {path}: {where}{problem.problem}", file=sys.stderr)
        print("truce: nothing was imported", file=sys.stderr)
        return EXIT_CONFIG
    assert result is not None
    would = "would " if dry_run else ""
    for row in result.added:
        print(f"{would}add {row.telegram_id} {row.name} ({row.department}, {row.role.value})")
    for row, changes in result.changed:
        what = ", ".join(_FIELDS.get(name, name) for name in changes)
        print(f"{would}change {row.telegram_id} {row.name}: {what}")
    if not result.added and not result.changed:
        print(f"no changes: all {result.unchanged} people are already as in {path}")
    else:
        counts = (len(result.added), len(result.changed), result.unchanged)
        if dry_run:
            print("dry run, nothing stored: {} to add, {} to change, {} unchanged".format(*counts))
        else:
            print("{} added, {} changed, {} unchanged".format(*counts))
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="truce", description=__doc__)
    sub = root.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="run the bot (long polling, or a webhook if WEBHOOK_URL is set)")
    db = sub.add_parser("db", help="database migrations")
    db.add_argument("action", choices=["upgrade", "downgrade", "current"])
    db.add_argument("revision", nargs="?", help="target revision (default: head / -1)")
    ledger = sub.add_parser("ledger", help="the token ledger")
    ledger.add_argument("action", choices=["verify"])
    export = sub.add_parser("export", help="write the token journal as CSV")
    export.add_argument("--since", help="only transfers from this day on (YYYY-MM-DD)")
    export.add_argument("--output", "-o", help="file to write (default: standard output)")
    digest = sub.add_parser("digest", help="the weekly digest")
    digest.add_argument(
        "--preview",
        action="store_true",
        required=True,
        help="print this week's digest and write its chart",
    )
    digest.add_argument("--chart", default="digest.png", help="where to write the chart (PNG)")
    people = sub.add_parser(
        "import-users",
        help="add or update people from a CSV file (telegram_id,name,department,role,language)",
    )
    people.add_argument("file", help="the CSV file; a bad row stops the import")
    people.add_argument(
        "--dry-run", action="store_true", help="show what would change and store nothing"
    )
    return root


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = load_settings()
        if args.command == "run":
            return _run(settings)
        if args.command == "db":
            return _db(settings, args.action, args.revision)
        if args.command in {"ledger", "export", "digest", "import-users"}:
            require_current_schema(settings.database_url)
        if args.command == "import-users":
            return _import_users(settings, args.file, args.dry_run)
        if args.command == "export":
            return _export(settings, args.since, args.output)
        if args.command == "digest":
            return _digest_preview(settings, args.chart)
        return _verify(settings)
    except ConfigError as exc:
        print(f"truce: {exc}", file=sys.stderr)
        return exc.code


if __name__ == "__main__":
    sys.exit(main())
