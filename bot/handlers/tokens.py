"""Seeing one's tokens (/me) and granting them (/grant)."""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode

from bot import people_keyboards
from bot.domain.commands import GrantRequest, parse_grant
from bot.domain.errors import BadButton, UnknownUser
from bot.domain.roles import Role
from bot.domain.text import ascii_number
from bot.handlers.common import TruceContext, escape, notify, reply
from bot.handlers.goals import goal_line
from bot.i18n import department_name, signed, t, tokens, when
from bot.services import directory, goals
from bot.services import tokens as token_service


async def me(update: Update, context: TruceContext) -> None:
    """Show the caller's department, role, balances and latest movements."""
    actor = context.require(Role.EMPLOYEE)
    lang, tz = context.lang, context.tz
    summary = await token_service.summary(
        context.db,
        actor.telegram_id,
        allowance=context.settings.thanks_weekly_allowance,
        tz=tz,
    )
    lines = [
        context.t(
            "me.header",
            name=escape(actor.first_name),
            department=department_name(lang, actor.department),
            role=context.t(f"role.{actor.role}"),
        ),
        context.t("me.balance", amount=tokens(lang, summary.balance)),
        context.t(
            "me.department_balance",
            department=department_name(lang, actor.department),
            amount=tokens(lang, summary.department_balance),
        ),
        context.t("me.thanks_left", amount=tokens(lang, summary.thanks_left))
        if summary.thanks_left
        else context.t("me.thanks_used_up"),
    ]
    if summary.recent:
        lines += ["", context.t("me.recent")]
        lines += [
            context.t(
                "me.line",
                amount=signed(line.amount),
                when=when(lang, line.when, tz),
                what=context.t(f"history.{line.kind}", reason=escape(line.reason)),
            )
            for line in summary.recent
        ]
    elif summary.department_balance:
        lines += ["", context.t("me.no_history_of_your_own")]
    else:
        lines += ["", context.t("me.no_history")]
    active = await goals.active_goals(context.db, tz)
    if active:
        lines += ["", context.t("me.goals")]
        lines += [goal_line(lang, goal) for goal in active]
    assert update.effective_message is not None
    await update.effective_message.reply_text("\n".join(lines), parse_mode="HTML")


# Buttons of the /grant list: a person (`grantto:<telegram id>.<command>`) and a page of it
# (`grantpg:<page>.<command>`), where <command> is the id of the /grant message they answer.
PICK, TURN = "grantto", "grantpg"
PENDING = (
    "grants_to_choose"  # user_data: /grant message id -> its request, until a person is chosen
)
PENDING_KEPT = 10  # an admin's lists still open; older ones say they have expired


async def grant(update: Update, context: TruceContext) -> None:
    """Admins grant tokens to a person or a department, with a reason."""
    actor = context.require(Role.ADMIN)
    message, chat = update.effective_message, update.effective_chat
    assert message is not None and chat is not None
    replied = message.reply_to_message.from_user if message.reply_to_message else None
    private = chat.type == "private"
    # Without a target written out, the person is the one replied to or, in private, one
    # chosen from a list.
    request = parse_grant(
        context.args or [],
        replying=replied is not None or private,
        maximum=context.settings.grant_max,
    )
    once = _once(message.chat_id, message.message_id)
    if request.target is not None:
        await _grant(update, context, request.target, request, once)
        return
    if replied is None:
        await _offer_people(update, context, actor.telegram_id, request)
        return
    if replied.is_bot:
        await reply(update, context, "grant.not_a_person")
        return
    if await directory.find(context.db, replied.id) is None:
        raise UnknownUser(name=replied.first_name)
    await _grant(update, context, replied.id, request, once)


async def _offer_people(
    update: Update, context: TruceContext, owner: int, request: GrantRequest
) -> None:
    """Ask who gets the tokens, with a button per person; the request waits for the press."""
    message = update.effective_message
    assert message is not None and context.user_data is not None
    listed = await directory.people_page(context.db, 0, people_keyboards.PAGE_SIZE)
    if not listed.people:
        await reply(update, context, "people.nobody")
        return
    pending: dict[int, GrantRequest] = context.user_data.setdefault(PENDING, {})
    pending[message.message_id] = request
    for old in sorted(pending)[:-PENDING_KEPT]:
        del pending[old]
    await message.reply_text(
        context.t(
            "people.choose_for_grant",
            amount=tokens(context.lang, request.amount),
            reason=escape(request.reason),
        ),
        parse_mode=ParseMode.HTML,
        reply_markup=people_keyboards.people(
            context.lang,
            listed,
            pick=PICK,
            turn=TURN,
            rest=str(message.message_id),
            owner=owner,
        ),
    )


async def grant_button(update: Update, context: TruceContext) -> None:
    """A press in a /grant list: turn the page, or grant the person chosen."""
    query = update.callback_query
    assert query is not None and query.message is not None and context.user_data is not None
    prefix, number, rest = people_keyboards.choice(query.data, query.from_user.id)
    actor = context.require(Role.ADMIN)
    command_id = ascii_number(rest, max_digits=12)
    if command_id is None:
        raise BadButton()
    request = context.user_data.get(PENDING, {}).get(command_id)
    if request is None:  # granted already, or the bot restarted since the list was sent
        await reply(update, context, "people.expired")
        return
    if prefix == TURN:
        listed = await directory.people_page(context.db, number, people_keyboards.PAGE_SIZE)
        await query.answer()
        await query.edit_message_reply_markup(
            people_keyboards.people(
                context.lang, listed, pick=PICK, turn=TURN, rest=rest, owner=actor.telegram_id
            )
        )
        return
    if await directory.find(context.db, number) is None:
        raise BadButton()  # nobody registered has this id: a forged button
    # The key of the /grant itself: however often its list is pressed, it grants once.
    await _grant(update, context, number, request, _once(query.message.chat.id, command_id))
    context.user_data[PENDING].pop(command_id, None)


def _once(chat_id: int, message_id: int) -> str:
    """The idempotency key of a /grant: a repeated delivery, an edit or a second press of its
    list all carry it, and the journal keeps only the first transfer."""
    return f"grant:{chat_id}:{message_id}"


async def _grant(
    update: Update, context: TruceContext, target: str | int, request: GrantRequest, once: str
) -> None:
    """Make the grant, say so where it was asked (a message, or the list), tell the receiver."""
    assert update.effective_user is not None
    result = await token_service.grant(
        context.db,
        actor_telegram_id=update.effective_user.id,
        target=target,
        amount=request.amount,
        reason=request.reason,
        key=once,
    )
    if result.replayed:
        # A repeated delivery or an edit of a /grant already carried out: the journal keeps the
        # first transfer, and the request in hand may not match it, so claim nothing new.
        await reply(update, context, "grant.already_done")
        return
    if result.employee is not None:
        receiver = escape(result.employee.first_name)
    else:
        assert result.department is not None
        receiver = department_name(context.lang, result.department)
    text = context.t(
        "grant.done",
        amount=tokens(context.lang, result.amount),
        receiver=receiver,
        reason=escape(result.reason),
    )
    if update.callback_query is not None:
        await update.callback_query.answer()
        await update.callback_query.edit_message_text(text, parse_mode=ParseMode.HTML)
    else:
        assert update.effective_message is not None
        await update.effective_message.reply_text(text, parse_mode=ParseMode.HTML)
    if result.employee is not None:
        person = result.employee
        await notify(
            context,
            person,
            t(
                person.language,
                "grant.received",
                amount=tokens(person.language, result.amount),
                reason=escape(result.reason),
            ),
        )
