"""Thanks and redemptions per second, end to end through the offline Bot API.

Each update goes through a real Application: the actor middleware, the handler, the service's
transaction, and every message the bot sends in answer. A bare python-telegram-bot echo bot,
on the same fake Bot API in the same run, is the yardstick.

    python -m tests.bench.bench_economy                 # SQLite
    python -m tests.bench.bench_economy --db postgresql # needs TRUCE_BENCH_DATABASE_URL
    python -m tests.bench.bench_economy --latency 0.05   # only: each Bot API call takes 50 ms

By default it measures with an instant Bot API, where the figures are the CPU cost of an
update, and with a round trip like Telegram's (50 ms, a fast one), where they are what a
running bot sustains. Either way 256 updates are in flight, as many as Truce handles at once,
and each figure is the median of three rounds, the echo bot measured again beside each.
"""

from __future__ import annotations

import argparse
import asyncio
from statistics import median

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from bot.services import directory, tokens
from tests.bench.common import database, rate, running_bot
from tests.fake_telegram import TOKEN, FakeBotApi, FakeRequest, Person, Telegram

ADMIN = Person(1, "Admin", "admin", "en")


async def echo_rate(count: int, concurrency: int, latency: float) -> float:
    """Updates per second for an Application that only echoes the text back."""

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None and update.effective_message.text
        await update.effective_message.reply_text(update.effective_message.text)

    api = FakeBotApi()
    app = Application.builder().token(TOKEN).request(FakeRequest(api, latency)).build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    await app.initialize()
    tg = Telegram(app, api)
    person = Person(5, "Echo", "echo", "en")
    try:
        return await rate(
            count,
            lambda i: tg.deliver(person, f"/thanks @someone 1 hello {i}"),
            concurrency=concurrency,
            warmup=count // 10,
        )
    finally:
        await app.shutdown()


async def economy_rates(
    kind: str, count: int, concurrency: int, latency: float
) -> tuple[float, float]:
    """(thanks per second, redemptions per second) on a fresh database of `kind`."""
    givers = [Person(10_000 + i, f"M{i}", f"m{i}", "en") for i in range(count // 4 + 1)]
    receivers = [Person(20_000 + i, f"S{i}", f"s{i}", "ru") for i in range(count // 2 + 1)]
    async with database(kind) as url:
        api = FakeBotApi()
        async with running_bot(url, api, latency, admin_ids=[ADMIN.id]) as tg:
            db = tg.app.bot_data["db"]
            for person, department in (
                [(ADMIN, "marketing")]
                + [(p, "marketing") for p in givers]
                + [(p, "sales") for p in receivers]
            ):
                tg.private_chat(person)
                await directory.register(
                    db,
                    telegram_id=person.id,
                    first_name=person.first_name,
                    username=person.username,
                    language=person.language_code or "en",
                    department_code=department,
                    admin_ids=[ADMIN.id],
                )

            def thank(i: int) -> object:
                giver = givers[i // 4]
                receiver = receivers[(i // 4 + i % 4) % len(receivers)]
                return tg.deliver(giver, f"/thanks @{receiver.username} 1 for the demo {i}")

            thanks_per_second = await rate(
                count, thank, concurrency=concurrency, warmup=count // 10
            )
            sent = len(api.calls_to("sendMessage"))
            assert sent >= 2 * count, f"only {sent} messages for {count} thanks"

            buyers = receivers[: count // 4 + 1]
            for n, person in enumerate(buyers):
                await tokens.grant(
                    db,
                    actor_telegram_id=ADMIN.id,
                    target=person.id,
                    amount=20 * 4,
                    reason="bench",
                    key=f"bench-grant-{n}",
                )

            def redeem(i: int) -> object:
                return tg.deliver(buyers[i // 4], "/redeem coffee")

            redemptions_per_second = await rate(
                count, redeem, concurrency=concurrency, warmup=count // 10
            )
            pending = len(api.calls_to("sendMessage")) - sent
            assert pending >= 2 * count, f"only {pending} messages for {count} redemptions"
        return thanks_per_second, redemptions_per_second


# Bot API round trips, in seconds: none (what is measured is the bot's own work), then one
# like Telegram's (tens of milliseconds; 50 ms is a fast one).
LATENCIES = [0.0, 0.05]
# Updates in flight: what Truce handles at once (`concurrent_updates(True)` in PTB).
IN_FLIGHT = 256


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("-n", "--count", type=int, default=2000, help="updates per measurement")
    parser.add_argument(
        "-c", "--concurrency", type=int, default=IN_FLIGHT, help="updates in flight at once"
    )
    parser.add_argument(
        "--latency",
        type=float,
        default=None,
        help="seconds each Bot API call takes, as over a network (default: 0, then 0.05)",
    )
    parser.add_argument(
        "-r", "--rounds", type=int, default=3, help="measurements of each; the median is shown"
    )
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    latencies = LATENCIES if args.latency is None else [args.latency]
    for latency in latencies:
        print(
            f"{args.count} updates per figure, {args.concurrency} in flight, "
            f"Bot API round trip {latency * 1000:.0f} ms, median of {args.rounds}"
        )
        for kind in kinds:
            # The echo bot is measured again beside each figure: the machine's speed drifts.
            rounds = []
            for _ in range(args.rounds):
                echo = await echo_rate(args.count, args.concurrency, latency)
                thanks, redemptions = await economy_rates(
                    kind, args.count, args.concurrency, latency
                )
                rounds.append((thanks / echo, redemptions / echo, echo, thanks, redemptions))
            ratio, redemption_ratio, echo, thanks, redemptions = (
                median(column) for column in zip(*rounds, strict=True)
            )
            print(
                f"{kind:10s} echo bot: {echo:7.1f}/s   thanks: {thanks:7.1f}/s "
                f"({ratio:.2f} of echo)   redemptions: {redemptions:6.1f}/s "
                f"({redemption_ratio:.2f} of echo)"
            )
        print()


if __name__ == "__main__":
    asyncio.run(main())
