"""ORM models. Constraints live in the database, so no code path can break them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; store times in UTC")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Department(Base):
    __tablename__ = "departments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Employee(Base):
    __tablename__ = "employees"
    __table_args__ = (
        CheckConstraint("role IN ('employee', 'lead', 'admin')", name="role"),
        CheckConstraint("language IN ('ru', 'en')", name="language"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    first_name: Mapped[str] = mapped_column(String(128))
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    language: Mapped[str] = mapped_column(String(2))
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id"), index=True)
    role: Mapped[str] = mapped_column(String(16), default="employee")
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Account(Base):
    """A token account. Only the issuance account may go below zero."""

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint("kind IN ('employee', 'department', 'system')", name="kind"),
        CheckConstraint("allow_negative OR balance >= 0", name="balance_not_negative"),
        CheckConstraint(
            "(kind = 'employee' AND employee_id IS NOT NULL AND department_id IS NULL"
            " AND code IS NULL)"
            " OR (kind = 'department' AND department_id IS NOT NULL AND employee_id IS NULL"
            " AND code IS NULL)"
            " OR (kind = 'system' AND code IS NOT NULL AND employee_id IS NULL"
            " AND department_id IS NULL)",
            name="owner",
        ),
        CheckConstraint("kind = 'system' OR NOT allow_negative", name="only_system_negative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"), unique=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), unique=True)
    code: Mapped[str | None] = mapped_column(String(32), unique=True)
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    allow_negative: Mapped[bool] = mapped_column(Boolean, default=False)


class Transfer(Base):
    """One line of the double-entry journal: `amount` moves from one account to another."""

    __tablename__ = "transfers"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("from_account_id <> to_account_id", name="distinct_accounts"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(128), unique=True)
    from_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    to_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(500))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Thanks(Base):
    """Kudos: tokens given from a weekly allowance, paid to the receiver by the issuance account."""

    __tablename__ = "thanks"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("paid >= amount", name="paid_at_least_amount"),
        CheckConstraint("giver_id <> receiver_id", name="not_to_self"),
        # What a giver gave in a week: read for every group of thanks.
        Index("ix_thanks_giver_id_week", "giver_id", "week"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)
    giver_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    receiver_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    paid: Mapped[int] = mapped_column(Integer)
    cross_department: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(500))
    week: Mapped[date] = mapped_column(Date, index=True)
    day: Mapped[date] = mapped_column(Date)
    transfer_id: Mapped[int] = mapped_column(ForeignKey("transfers.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class Reward(Base):
    """Something in the shop: paid by the employee (personal) or their department's wallet."""

    __tablename__ = "rewards"
    __table_args__ = (
        CheckConstraint("price > 0", name="price_positive"),
        CheckConstraint("kind IN ('personal', 'department')", name="kind"),
        CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),
        CheckConstraint("per_person_limit IS NULL OR per_person_limit > 0", name="limit_positive"),
        CheckConstraint("limit_period IN ('week', 'month')", name="limit_period"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name_en: Mapped[str] = mapped_column(String(100))
    name_ru: Mapped[str] = mapped_column(String(100))
    price: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    stock: Mapped[int | None] = mapped_column(Integer)
    per_person_limit: Mapped[int | None] = mapped_column(Integer)
    limit_period: Mapped[str] = mapped_column(String(8), default="month")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Redemption(Base):
    """A reward asked for: its price waits in escrow until an admin approves or rejects it."""

    __tablename__ = "redemptions"
    __table_args__ = (
        CheckConstraint("price >= 0", name="price_not_negative"),
        CheckConstraint(
            "status IN ('proposed', 'pending', 'approved', 'rejected', 'expired')", name="status"
        ),
        CheckConstraint("fulfilled_at IS NULL OR status = 'approved'", name="fulfilled_approved"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)
    reward_id: Mapped[int] = mapped_column(ForeignKey("rewards.id"), index=True)
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    goal_id: Mapped[int | None] = mapped_column(ForeignKey("goals.id"))
    price: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    note: Mapped[str | None] = mapped_column(String(500))
    # A department reward asked for by a colleague waits ('proposed') until a lead of the
    # department or a second colleague backs it: money the whole department earned.
    backer_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    # How many of the reward are owed (a goal reached several times by one report).
    quantity: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fulfilled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class RedemptionNotice(Base):
    """A message with Approve / Reject buttons sent to an admin, edited once it is decided."""

    __tablename__ = "redemption_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    redemption_id: Mapped[int] = mapped_column(ForeignKey("redemptions.id"), index=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[int] = mapped_column(BigInteger)
    language: Mapped[str] = mapped_column(String(2))


class Goal(Base):
    """A shared KPI both departments work towards; reaching it pays both wallets."""

    __tablename__ = "goals"
    __table_args__ = (
        CheckConstraint("target > 0", name="target_positive"),
        CheckConstraint("reward_tokens >= 0", name="reward_not_negative"),
        CheckConstraint("period IN ('week', 'month', 'once')", name="period"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    target: Mapped[int] = mapped_column(Integer)
    period: Mapped[str] = mapped_column(String(8))
    reward_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    reward_id: Mapped[int | None] = mapped_column(ForeignKey("rewards.id"))
    reward_department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"))
    repeating: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class GoalProgress(Base):
    __tablename__ = "goal_progress"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(128), unique=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id"), index=True)
    period_key: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(Integer)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A voided report no longer counts, and the payouts it caused are reversed.
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_by: Mapped[int | None] = mapped_column(ForeignKey("employees.id"))


class GoalAchievement(Base):
    """Targets `ordinal` .. `ordinal + count - 1` of a goal reached in a period by one report;
    unique, so each is paid exactly once."""

    __tablename__ = "goal_achievements"
    __table_args__ = (
        UniqueConstraint("goal_id", "period_key", "ordinal"),
        CheckConstraint("count > 0", name="count_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id"))
    period_key: Mapped[str] = mapped_column(String(16))
    ordinal: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    progress_id: Mapped[int | None] = mapped_column(ForeignKey("goal_progress.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Setting(Base):
    """Company settings changed from Telegram (the company chat, schedules)."""

    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(500))


class Schedule(Base):
    """When a scheduled post runs: a weekday and a time in the company's timezone."""

    __tablename__ = "schedules"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("minute BETWEEN 0 AND 1439", name="minute"),
    )

    job: Mapped[str] = mapped_column(String(32), primary_key=True)
    weekday: Mapped[int] = mapped_column(Integer)
    minute: Mapped[int] = mapped_column(Integer)  # minutes after local midnight
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # When an admin last changed it: a moment of the new slot that had already passed then is
    # not run (the slot starts with its next moment).
    changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ScheduledRun(Base):
    """One run of a scheduled post for one period; unique, so it happens at most once."""

    __tablename__ = "scheduled_runs"
    __table_args__ = (
        UniqueConstraint("job", "period"),
        CheckConstraint("status IN ('running', 'done', 'skipped')", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(16), default="running")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Delivery(Base):
    """A message of a run claimed for one recipient, so a resumed run never sends it twice."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("run_id", "recipient"),
        CheckConstraint("status IN ('claimed', 'sent', 'failed')", name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("scheduled_runs.id"))
    recipient: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="claimed")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MixerRound(Base):
    __tablename__ = "mixer_rounds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(16), unique=True)
    topic: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MixerGroup(Base):
    """A pair (or trio) of people from different departments meeting this week."""

    __tablename__ = "mixer_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("mixer_rounds.id"), index=True)
    prompt: Mapped[str] = mapped_column(String(32))
    pain: Mapped[str | None] = mapped_column(String(500))
    met_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MixerMember(Base):
    __tablename__ = "mixer_members"
    __table_args__ = (UniqueConstraint("group_id", "employee_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("mixer_groups.id"), index=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"), index=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MixerWaiting(Base):
    """Someone left without a partner this week; they are paired first next week."""

    __tablename__ = "mixer_waiting"
    __table_args__ = (UniqueConstraint("round_id", "employee_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("mixer_rounds.id"))
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id"))


class InboxUpdate(Base):
    """An update as Telegram sent it, stored before it is confirmed, so a crash loses none."""

    __tablename__ = "inbox_updates"

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
