"""/thanks: tokens from the weekly allowance, with a bonus across the department line."""

from __future__ import annotations

import asyncio
import logging

from telegram import Message, Update, User
from telegram.constants import ChatType
from telegram.error import TelegramError

from bot import keyboards
from bot.domain.errors import ThanksToBot, UnknownUser
from bot.domain.roles import Role
from bot.domain.thanks import ThanksRules, parse_thanks
from bot.handlers.common import TruceContext, escape, notify
from bot.i18n import t, tokens
from bot.services import directory, thanks

log = logging.getLogger(__name__)

PLUS_LINE_MARK = "\n🙌"  # where the line of "+1"s starts in a thanks post


def rules(context: TruceContext) -> ThanksRules:
    s = context.settings
    return ThanksRules(
        weekly_allowance=s.thanks_weekly_allowance,
        pair_daily_cap=s.thanks_pair_daily_cap,
        cross_multiplier=s.thanks_cross_multiplier,
    )


def allowance_line(context: TruceContext, left: int) -> str:
    """What is left of the week's allowance, or that it is used up (never "0 left")."""
    if left <= 0:
        return context.t("thanks.allowance_used_up")
    return context.t("thanks.allowance_left", left=tokens(context.lang, left))


def replied_to(message: Message) -> User | None:
    """The person the command replies to, if it is a reply at all."""
    # In a forum topic Telegram makes every message a reply to the topic's opening message.
    original = message.reply_to_message
    if original is None or original.forum_topic_created is not None:
        return None
    return original.from_user


async def give_thanks(update: Update, context: TruceContext) -> None:
    """Thank colleagues: `/thanks @user 2 reason`, `/thanks @carl @olga 1 reason`, or
    `/thanks 2 reason` as a reply."""
    actor = context.require(Role.EMPLOYEE)
    message, chat = update.effective_message, update.effective_chat
    assert message is not None and chat is not None
    replied = replied_to(message)
    request = parse_thanks(
        context.args or [],
        replying=replied is not None,
        maximum=context.settings.thanks_weekly_allowance,
    )
    receivers: list[str | int] = list(request.receivers)
    if not receivers:
        assert replied is not None
        if replied.is_bot:
            raise ThanksToBot()
        if await directory.find(context.db, replied.id) is None:
            raise UnknownUser(name=replied.first_name)
        receivers = [replied.id]
    elif len(receivers) > 1:
        # Several people at once: all of them known, and the allowance enough for all, before
        # anyone is thanked, so a typo in one name does not leave the others half done.
        await thanks.check_several(
            context.db,
            giver_telegram_id=actor.telegram_id,
            receivers=request.receivers,
            amount=request.amount,
            rules=rules(context),
            tz=context.tz,
        )
    request_id = f"{chat.id}:{message.message_id}"
    for index, receiver in enumerate(receivers):
        thanks_id = request_id if index == 0 else f"{request_id}:{index}"
        result = await thanks.give(
            context.db,
            giver_telegram_id=actor.telegram_id,
            receiver=receiver,
            amount=request.amount,
            reason=request.reason,
            key=thanks_id,
            rules=rules(context),
            tz=context.tz,
        )
        await _tell(message, context, result, thanks_id, private=chat.type == ChatType.PRIVATE)


async def _tell(
    message: Message,
    context: TruceContext,
    result: thanks.ThanksResult,
    key: str,
    *,
    private: bool,
) -> None:
    """The giver's confirmation (in private, "you"), and the receiver's notice."""
    lang = context.lang
    multiplier = context.settings.thanks_cross_multiplier
    bonus = (
        context.t("thanks.cross_bonus", multiplier=multiplier) if result.cross_department else ""
    )
    params = {
        "receiver": escape(result.receiver.first_name),
        "amount": tokens(lang, result.paid),
        "reason": escape(result.reason),
        "bonus": bonus,
    }
    if private:
        text = context.t("thanks.given_by_you", **params)
        text = f"{text}\n{allowance_line(context, result.allowance_left)}"
    else:
        text = context.t("thanks.given", giver=escape(result.giver.first_name), **params)
    # In a group, others may add their own thanks to this one.
    markup = None if private else keyboards.plus_one(lang, key)
    answer = message.reply_text(text, parse_mode="HTML", reply_markup=markup)
    if result.replayed:
        await answer
        return
    # Two chats, two messages: neither waits for the other.
    await asyncio.gather(answer, _tell_receiver(context, result))


async def _tell_receiver(context: TruceContext, result: thanks.ThanksResult) -> None:
    multiplier = context.settings.thanks_cross_multiplier
    person = result.receiver
    notice = t(
        person.language,
        "thanks.received",
        giver=escape(result.giver.first_name),
        amount=tokens(person.language, result.paid),
        reason=escape(result.reason),
        bonus=t(person.language, "thanks.cross_bonus", multiplier=multiplier)
        if result.cross_department
        else "",
    )
    await notify(context, person, notice)


async def plus_one(update: Update, context: TruceContext) -> None:
    """ "+1" under a thanks in the company chat: the presser thanks the same person for the
    same reason, from their own allowance, once."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    key = keyboards.parse_plus(query.data)
    presser = context.require(Role.EMPLOYEE)
    result, names = await thanks.plus_one(
        context.db,
        presser_telegram_id=presser.telegram_id,
        original_key=key,
        rules=rules(context),
        tz=context.tz,
    )
    lang = context.lang
    if result.replayed:
        await query.answer(context.t("thanks.plus_already"))
        return
    done = context.t(
        "thanks.plus_done", receiver=result.receiver.first_name, amount=tokens(lang, result.paid)
    )
    await query.answer(f"{done} {allowance_line(context, result.allowance_left)}", show_alert=True)
    await _tell_receiver(context, result)
    message = query.message
    if isinstance(message, Message) and message.text:
        # The post in plain text as Telegram keeps it, and one line of who added theirs.
        post = message.text.split(PLUS_LINE_MARK)[0].rstrip("\n")
        line = t(context.company_lang, "thanks.plus_line", names=", ".join(names))
        try:
            await message.edit_text(f"{post}\n{line}", reply_markup=message.reply_markup)
        except TelegramError as exc:  # too many edits at once, or an old message
            log.info("thanks post %s not edited: %s", key, exc)
