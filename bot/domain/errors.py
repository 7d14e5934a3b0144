"""Typed domain errors. Each names the catalog key that explains it to a user."""

from __future__ import annotations

from typing import Any


class TruceError(Exception):
    """A rule was broken; nothing was changed. `key` and `params` make the user's message."""

    key = "error.generic"

    def __init__(self, **params: Any) -> None:
        super().__init__(self.key, params)
        self.params = params


class NotAllowed(TruceError):
    """The actor's role is below `needed` ("employee", "lead" or "admin"); the message names it."""

    key = "error.not_allowed.admin"

    def __init__(self, needed: str = "admin") -> None:
        super().__init__()
        self.key = f"error.not_allowed.{needed}"


class NotRegistered(TruceError):
    key = "error.not_registered"


class UnknownUser(TruceError):
    key = "error.unknown_user"


class UnknownTarget(TruceError):
    key = "error.unknown_target"


class UnknownDepartment(TruceError):
    key = "error.unknown_department"


class BadDate(TruceError):
    key = "error.bad_date"


class TooManyReceivers(TruceError):
    key = "error.too_many_receivers"


class InsufficientTokens(TruceError):
    key = "error.insufficient_tokens"


class InvalidAmount(TruceError):
    key = "error.invalid_amount"


class AmountTooLarge(TruceError):
    key = "error.amount_too_large"


class ReasonRequired(TruceError):
    key = "error.reason_required"


class ReasonTooLong(TruceError):
    key = "error.reason_too_long"


class LastAdmin(TruceError):
    key = "error.last_admin"


class UnknownRole(TruceError):
    key = "error.unknown_role"


class UsageError(TruceError):
    """The command was not written the way it is used; `usage` names the usage key."""

    key = "error.usage"


class ForeignButton(TruceError):
    """A button pressed by someone it was not sent to."""

    key = "error.foreign_button"


class BadButton(TruceError):
    """Callback data this bot never sends: forged or from an old version."""

    key = "error.bad_button"


class AboveAllowance(TruceError):
    """One /thanks for more than the whole weekly allowance."""

    key = "error.above_allowance"


class OwnThanks(TruceError):
    """A "+1" on one's own thanks."""

    key = "error.own_thanks"


class ThanksToSelf(TruceError):
    key = "error.thanks_self"


class ThanksToBot(TruceError):
    key = "error.thanks_bot"


class ReceiverPaused(TruceError):
    key = "error.receiver_paused"


class AllowanceExceeded(TruceError):
    key = "error.allowance_exceeded"

    def __init__(self, *, left: int, allowance: int) -> None:
        super().__init__(left=left, allowance=allowance)
        if left <= 0:  # "0 left" reads badly: say it is used up
            self.key = "error.allowance_used_up"


class PairCapReached(TruceError):
    key = "error.pair_cap"

    def __init__(self, *, left: int, cap: int) -> None:
        super().__init__(left=left, cap=cap)
        if left <= 0:
            self.key = "error.pair_cap_used_up"


class UnknownReward(TruceError):
    key = "error.unknown_reward"


class RewardInactive(TruceError):
    key = "error.reward_inactive"


class OutOfStock(TruceError):
    key = "error.out_of_stock"


class RedemptionLimit(TruceError):
    key = "error.redemption_limit"


class UnknownRedemption(TruceError):
    key = "error.unknown_redemption"


class AlreadySettled(TruceError):
    key = "error.already_settled"


class NotYourDepartment(TruceError):
    """Backing a department's request from outside that department."""

    key = "error.not_your_department"


class OwnRequest(TruceError):
    key = "error.own_request"


class AlreadyBacked(TruceError):
    key = "error.already_backed"


class NotBackedYet(TruceError):
    key = "error.not_backed_yet"


class NotApproved(TruceError):
    key = "error.not_approved"


class UnknownGoal(TruceError):
    key = "error.unknown_goal"


class ReportTooLarge(TruceError):
    key = "error.report_too_large"


class UnknownReport(TruceError):
    key = "error.unknown_report"


class ReportAlreadyVoided(TruceError):
    key = "error.report_already_voided"


class ReportRewardHandedOver(TruceError):
    key = "error.report_reward_handed_over"


class GoalExists(TruceError):
    key = "error.goal_exists"


class TextTooLong(TruceError):
    key = "error.text_too_long"


class RewardExists(TruceError):
    key = "error.reward_exists"


class BadSchedule(TruceError):
    key = "error.bad_schedule"


class UnknownTimezone(TruceError):
    key = "error.unknown_timezone"


class NotInPair(TruceError):
    key = "error.not_in_pair"


class AlreadyConfirmed(TruceError):
    key = "error.already_confirmed"


class MixerOver(TruceError):
    key = "error.mixer_over"


class GroupChatOnly(TruceError):
    key = "error.group_only"


class EmptyPain(TruceError):
    key = "error.empty_pain"


class BadGoalCode(TruceError):
    key = "error.bad_goal_code"


class BadPeriod(TruceError):
    key = "error.bad_period"


class GoalTitleMissing(TruceError):
    key = "error.goal_title_missing"


class GoalRewardMissing(TruceError):
    key = "error.goal_reward_missing"
