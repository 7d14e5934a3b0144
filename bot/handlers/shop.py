"""The shop: /shop, /redeem, /chipin, admins' Approve / Reject, /redemptions and /rewards."""

from __future__ import annotations

import logging

from telegram import ForceReply, Message, Update
from telegram.error import TelegramError

from bot import keyboards
from bot.domain.commands import possible_id
from bot.domain.errors import BadButton, ReasonTooLong, UnknownRedemption, UsageError
from bot.domain.ledger import MAX_REASON_LENGTH, clean_reason, parse_amount
from bot.domain.roles import Role
from bot.domain.shop import MAX_PRICE, Status, parse_new_reward, parse_optional_count
from bot.domain.text import ascii_number
from bot.handlers.common import TruceContext, escape, notify, reply
from bot.handlers.onboarding import not_understood
from bot.i18n import department_name, t, tokens
from bot.services import directory, shop
from bot.services.shop import Notice, RedemptionView, RewardView

log = logging.getLogger(__name__)
OPEN_LIST_LIMIT = 20  # requests shown by /redemptions at once, oldest first


def _reward_line(language: str, reward: RewardView) -> str:
    stock = t(language, "shop.stock", n=reward.stock) if reward.stock is not None else ""
    limit = (
        t(language, f"shop.limit.{reward.limit_period}", n=reward.per_person_limit)
        if reward.per_person_limit
        else ""
    )
    return t(
        language,
        "shop.line",
        name=escape(reward.name(language)),
        price=tokens(language, reward.price),
        kind=t(language, f"shop.kind.{reward.kind}"),
        stock=stock,
        limit=limit,
        code=reward.code,
    )


async def show_shop(update: Update, context: TruceContext) -> None:
    """List the rewards with a Redeem button each."""
    actor = context.require(Role.EMPLOYEE)
    items = await shop.rewards(context.db)
    lang = context.lang
    if not items:
        await reply(update, context, "shop.empty")
        return
    text = "\n".join([context.t("shop.title"), *(_reward_line(lang, r) for r in items)])
    buttons = [(r.id, context.t("shop.button", name=r.name(lang), price=r.price)) for r in items]
    assert update.effective_message is not None
    await update.effective_message.reply_text(
        text, parse_mode="HTML", reply_markup=keyboards.shop(buttons, actor.telegram_id)
    )


async def redeem_command(update: Update, context: TruceContext) -> None:
    """`/redeem pizza` (or the reward's number)."""
    context.require(Role.EMPLOYEE)
    args = context.args or []
    if len(args) != 1:
        raise UsageError(usage="usage.redeem")
    message = update.effective_message
    assert message is not None
    await _redeem(update, context, args[0], key=f"msg:{message.chat_id}:{message.message_id}")


async def redeem_button(update: Update, context: TruceContext) -> None:
    """A Redeem button under /shop."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None and query.message is not None
    reward_id = keyboards.parse(query.data, "shop", user.id)
    context.require(Role.EMPLOYEE)
    if ascii_number(reward_id, max_digits=12) is None:
        raise BadButton()
    # Keyed on the /shop message and the reward, so a double tap asks once.
    message = query.message
    await _redeem(
        update, context, reward_id, key=f"cb:{message.chat.id}:{message.message_id}:{reward_id}"
    )


async def _redeem(update: Update, context: TruceContext, ref: str, *, key: str) -> None:
    redemption = await shop.redeem(
        context.db,
        telegram_id=context.require(Role.EMPLOYEE).telegram_id,
        reward_ref=ref,
        key=key,
        tz=context.tz,
    )
    query = update.callback_query
    if query is not None and not redemption.created:
        # Another press of the same button: the first press answered and told everyone.
        await query.answer(context.t("shop.already_requested", id=redemption.id))
        return
    lang = context.lang
    key = "shop.proposed" if redemption.status == Status.PROPOSED else "shop.requested"
    params = {
        "reward": escape(redemption.reward.name(lang)),
        "price": tokens(lang, redemption.price),
    }
    await reply(update, context, key, **params)
    if query is not None and update.effective_user is not None:
        await context.bot.send_message(
            update.effective_user.id, context.t(key, **params), parse_mode="HTML"
        )
    if not redemption.created:
        return  # the same message delivered again: everyone was told the first time
    await tell_department(context, redemption)
    if redemption.status == Status.PENDING:
        await tell_admins(context, redemption)


async def tell_department(context: TruceContext, r: RedemptionView) -> None:
    """A department reward spends what everyone in the department earned: they all hear of it
    when it is reserved (with a Back button while it needs a colleague), spent or refunded."""
    if r.department is None or r.from_goal:
        return
    for person in await shop.department_told(context.db, r):
        text = _department_text(person.language, r)
        markup = keyboards.back(person.language, r.id) if r.status == Status.PROPOSED else None
        try:
            await context.bot.send_message(
                person.telegram_id, text, parse_mode="HTML", reply_markup=markup
            )
        except TelegramError as exc:  # a blocked colleague must not stop the others
            log.info("employee %s not told of redemption %s: %s", person.id, r.id, exc)


def _department_text(language: str, r: RedemptionView, status: str | None = None) -> str:
    """What the department hears of its request when it reaches `status` (by default, now)."""
    assert r.department is not None
    status = status or r.status
    if status == Status.PROPOSED:
        key = "redemption.backing_request"
    elif status == Status.PENDING:
        key = "redemption.wallet_reserved"
    elif status == Status.APPROVED:
        key = "redemption.wallet_spent"
    else:
        key = "redemption.wallet_refunded"
    return t(
        language,
        key,
        who=escape(r.requester_name or "—"),
        reward=escape(r.reward.name(language)),
        price=tokens(language, r.price),
        department=department_name(language, r.department),
    )


async def back_button(update: Update, context: TruceContext) -> None:
    """A colleague's Back button under a department request."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    redemption_id = keyboards.parse_back(query.data)
    context.require(Role.EMPLOYEE)
    r = await shop.back(context.db, actor_telegram_id=user.id, redemption_id=redemption_id)
    await query.answer(context.t("redemption.backed_toast"))
    if isinstance(query.message, Message):
        try:
            asked = _department_text(context.lang, r, Status.PROPOSED)
            note = context.t("redemption.backed_note", backer=escape(r.backer or ""))
            await query.message.edit_text(f"{asked}\n\n{note}", parse_mode="HTML")
        except TelegramError as exc:
            log.info("backing request %s not edited: %s", r.id, exc)
    if r.requester_telegram_id is not None:
        requester = await directory.find(context.db, r.requester_telegram_id)
        if requester is not None:
            await notify(
                context,
                requester,
                t(
                    requester.language,
                    "redemption.backed_requester",
                    id=r.id,
                    backer=escape(r.backer or ""),
                    reward=escape(r.reward.name(requester.language)),
                ),
            )
    await tell_admins(context, r)


async def tell_admins(context: TruceContext, r: RedemptionView) -> None:
    """Every admin gets the request: Approve / Reject while pending, Fulfilled once approved."""
    for admin in await directory.admins(context.db):
        sent = await _send_to_admin(context, admin, r)
        if sent is not None:
            await shop.add_notice(context.db, r.id, sent)


def _request_text(language: str, r: RedemptionView) -> str:
    if r.from_goal:
        times = t(language, "redemption.times", n=r.quantity) if r.quantity > 1 else ""
        return t(
            language,
            "redemption.goal_request",
            id=r.id,
            reward=escape(r.reward.name(language)) + times,
            department=department_name(language, r.department),
            goal=escape(r.note or ""),
        )
    payer = (
        t(
            language,
            "redemption.payer_department",
            department=department_name(language, r.department),
        )
        if r.department
        else t(language, "redemption.payer_personal")
    )
    text = t(
        language,
        "redemption.request",
        id=r.id,
        who=escape(r.requester_name or "—"),
        reward=escape(r.reward.name(language)),
        price=tokens(language, r.price),
        payer=payer,
    )
    if r.backer:
        text += t(language, "redemption.backed_by", backer=escape(r.backer))
    return text


async def _send_to_admin(
    context: TruceContext, admin: directory.EmployeeView, r: RedemptionView
) -> Notice | None:
    try:
        message = await context.bot.send_message(
            admin.telegram_id,
            _request_text(admin.language, r),
            parse_mode="HTML",
            reply_markup=keyboards.decide(admin.language, r.id)
            if r.status == "pending"
            else keyboards.fulfil(admin.language, r.id),
        )
    except TelegramError as exc:  # a blocked admin must not stop the others being told
        log.info("admin %s not told of redemption %s: %s", admin.id, r.id, exc)
        return None
    return Notice(message.chat_id, message.message_id, admin.language)


def _note(language: str, r: RedemptionView) -> str:
    """The admin's reason as a sentence of its own, or nothing (no trailing space)."""
    return t(language, "redemption.note", note=escape(r.note)) if r.note else ""


def _outcome_text(language: str, r: RedemptionView) -> str:
    if r.fulfilled:
        return t(language, "redemption.fulfilled", request=_request_text(language, r))
    return t(
        language,
        f"redemption.outcome.{r.status}",
        request=_request_text(language, r),
        admin=escape(r.decided_by or ""),
        note=_note(language, r),
    )


async def show_outcome(
    context: TruceContext, r: RedemptionView, pressed: Notice | None = None
) -> None:
    """Edit every admin's copy of the request (and the one pressed) to show how it stands."""
    notices = await shop.notices(context.db, r.id)
    if pressed is not None and all(
        (n.chat_id, n.message_id) != (pressed.chat_id, pressed.message_id) for n in notices
    ):
        notices.append(pressed)  # a copy from /redemptions, not one sent with the request
    owed = r.status == "approved" and not r.fulfilled
    for notice in notices:
        try:
            await context.bot.edit_message_text(
                _outcome_text(notice.language, r),
                chat_id=notice.chat_id,
                message_id=notice.message_id,
                parse_mode="HTML",
                reply_markup=keyboards.fulfil(notice.language, r.id) if owed else None,
            )
        except TelegramError as exc:  # deleted, already showing this (a double press), or down
            log.info("admin notice for redemption %s not edited: %s", r.id, exc)


def _pressed(update: Update, context: TruceContext) -> Notice | None:
    """The admin's message whose button was pressed, if any."""
    query = update.callback_query
    if query is None or query.message is None:
        return None
    return Notice(query.message.chat.id, query.message.message_id, context.lang)


async def decide_button(update: Update, context: TruceContext) -> None:
    """An admin's Approve, Reject or Fulfilled button."""
    query, user = update.callback_query, update.effective_user
    assert query is not None and user is not None
    action, redemption_id = keyboards.parse_admin_action(query.data)
    context.require(Role.ADMIN)
    if action == "fulfil":
        r = await shop.mark_fulfilled(
            context.db, actor_telegram_id=user.id, redemption_id=redemption_id
        )
        await query.answer(context.t("redemption.fulfilled_toast"))
        await show_outcome(context, r, _pressed(update, context))
        if r.created:
            await tell_requester(context, r)
        return
    if action == "why":
        await _ask_why(update, context, redemption_id)
        return
    await _settle(update, context, redemption_id, approve=action == "approve", note=None)


async def _ask_why(update: Update, context: TruceContext, redemption_id: int) -> None:
    """Reject with a reason: the admin answers a question the bot asks; a reply to it, even
    days or a restart later, rejects the request with that reason."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    r = await shop.pending(context.db, redemption_id)
    await query.answer()
    asked = await context.bot.send_message(
        update.effective_user.id,
        context.t("redemption.why", id=r.id),
        reply_markup=ForceReply(
            selective=True, input_field_placeholder=context.t("redemption.why_hint")
        ),
    )
    await shop.add_notice(context.db, r.id, Notice(asked.chat_id, asked.message_id, context.lang))


async def reason_reply(update: Update, context: TruceContext) -> None:
    """A reply in private: the reason for a rejection the bot asked for, or else not ours."""
    message = update.effective_message
    assert message is not None and message.reply_to_message is not None
    asked = message.reply_to_message
    redemption_id = None
    if asked.from_user is not None and asked.from_user.id == context.bot.id:
        redemption_id = await shop.noticed(context.db, asked.chat_id, asked.message_id)
    if redemption_id is None:
        await not_understood(update, context)
        return
    context.require(Role.ADMIN)
    note = clean_reason(message.text)
    await _settle(update, context, redemption_id, approve=False, note=note)


async def _settle(
    update: Update, context: TruceContext, redemption_id: int, *, approve: bool, note: str | None
) -> None:
    r = await shop.settle(
        context.db,
        actor_telegram_id=context.require(Role.ADMIN).telegram_id,
        redemption_id=redemption_id,
        approve=approve,
        note=note,
    )
    await reply(update, context, f"redemption.done.{r.status}", id=r.id)
    await show_outcome(context, r, _pressed(update, context))
    await tell_requester(context, r)
    await tell_department(context, r)


async def tell_requester(context: TruceContext, r: RedemptionView) -> None:
    """Tell the person who asked how their redemption ended."""
    if r.requester_telegram_id is None or r.requester_language is None:
        return
    person = await directory.find(context.db, r.requester_telegram_id)
    if person is None:
        return
    lang = person.language
    key = "redemption.told.fulfilled" if r.fulfilled else f"redemption.told.{r.status}"
    await notify(
        context,
        person,
        t(
            lang,
            key,
            reward=escape(r.reward.name(lang)),
            price=tokens(lang, r.price),
            note=_note(lang, r),
        ),
    )


async def redemptions(update: Update, context: TruceContext) -> None:
    """Admins: pending and owed redemptions, or `/redemptions reject 12 reason`."""
    actor = context.require(Role.ADMIN)
    args = context.args or []
    if args:
        if len(args) < 2 or args[0].lower() not in {"approve", "reject"}:
            raise UsageError(usage="usage.redemptions")
        typed = args[1].removeprefix("#")
        number = ascii_number(typed, max_digits=12)
        if number is None or not possible_id(number):
            if ascii_number(typed, max_digits=40) is None:
                raise UsageError(usage="usage.redemptions")
            raise UnknownRedemption(id=typed)  # as typed: no number read differently
        note = " ".join(args[2:]).strip() or None
        if note is not None and len(note) > MAX_REASON_LENGTH:
            raise ReasonTooLong(maximum=MAX_REASON_LENGTH)
        await _settle(update, context, number, approve=args[0].lower() == "approve", note=note)
        return
    items = await shop.open_redemptions(context.db, actor_telegram_id=actor.telegram_id)
    if not items:
        await reply(update, context, "redemption.none_open")
        return
    assert update.effective_message is not None
    shown = items[:OPEN_LIST_LIMIT]
    for r in shown:
        markup = (
            keyboards.decide(context.lang, r.id)
            if r.status == "pending"
            else keyboards.fulfil(context.lang, r.id)
        )
        key = "redemption.open_pending" if r.status == "pending" else "redemption.open_owed"
        await update.effective_message.reply_text(
            context.t(key, request=_request_text(context.lang, r)),
            parse_mode="HTML",
            reply_markup=markup,
        )
    if len(items) > len(shown):
        await reply(update, context, "redemption.more", n=len(items) - len(shown))


async def chip_in(update: Update, context: TruceContext) -> None:
    """`/chipin 20 for the pizza`: move tokens from oneself to the department wallet."""
    actor = context.require(Role.EMPLOYEE)
    args = context.args or []
    if not args:
        raise UsageError(usage="usage.chipin")
    amount = parse_amount(args[0], MAX_PRICE)
    if args[1:] and ascii_number(args[1].lstrip("+-−")) is not None:
        raise UsageError(usage="usage.chipin")  # two numbers: which one is the amount?
    reason = clean_reason(" ".join(args[1:])) if args[1:] else ""
    message = update.effective_message
    assert message is not None
    own, wallet = await shop.chip_in(
        context.db,
        telegram_id=actor.telegram_id,
        amount=amount,
        key=f"{message.chat_id}:{message.message_id}",
        reason=reason,
    )
    lang = context.lang
    await reply(
        update,
        context,
        "chipin.done",
        amount=tokens(lang, amount),
        department=department_name(lang, actor.department),
        wallet=tokens(lang, wallet),
        balance=tokens(lang, own),
    )


_ARGUMENTS = {"price": (2,), "stock": (2,), "limit": (2, 3)}  # `limit code 1 [week|month]`


async def manage_rewards(update: Update, context: TruceContext) -> None:
    """Admins: list rewards, add one, or change price, stock, limit, on/off."""
    actor = context.require(Role.ADMIN)
    args = context.args or []
    lang = context.lang
    if not args:
        items = await shop.rewards(context.db, include_inactive=True)
        lines = [context.t("rewards.title")]
        for r in items:
            line = _reward_line(lang, r)
            lines.append(line if r.active else context.t("rewards.inactive", line=line))
        lines += ["", context.t("usage.rewards")]
        assert update.effective_message is not None
        await update.effective_message.reply_text("\n".join(lines), parse_mode="HTML")
        return
    action, rest = args[0].lower(), args[1:]
    if action == "add":
        reward = await shop.add_reward(
            context.db, actor_telegram_id=actor.telegram_id, reward=parse_new_reward(rest)
        )
    elif action in {"price", "stock", "limit"} and len(rest) in _ARGUMENTS[action]:
        if action == "price":
            changes: dict[str, object] = {"price": parse_amount(rest[1], MAX_PRICE)}
        elif action == "stock":
            changes = {"stock": parse_optional_count(rest[1])}
        else:
            count = parse_optional_count(rest[1])
            if count == 0:
                raise UsageError(usage="usage.rewards")
            changes = {"per_person_limit": count}
            if len(rest) == 3:
                if rest[2].lower() not in {"week", "month"}:
                    raise UsageError(usage="usage.rewards")
                changes["limit_period"] = rest[2].lower()
        reward = await shop.change_reward(
            context.db, actor_telegram_id=actor.telegram_id, reward_ref=rest[0], **changes
        )
    elif action in {"on", "off"} and len(rest) == 1:
        reward = await shop.change_reward(
            context.db,
            actor_telegram_id=actor.telegram_id,
            reward_ref=rest[0],
            active=action == "on",
        )
    else:
        raise UsageError(usage="usage.rewards")
    line = _reward_line(lang, reward)
    await reply(
        update,
        context,
        "rewards.saved",
        line=line if reward.active else context.t("rewards.inactive", line=line),
    )
