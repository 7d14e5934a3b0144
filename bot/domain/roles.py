"""Who may do what."""

from __future__ import annotations

from enum import StrEnum

from bot.domain.errors import LastAdmin, NotAllowed, UnknownRole


class Role(StrEnum):
    EMPLOYEE = "employee"
    LEAD = "lead"
    ADMIN = "admin"


_RANK = {Role.EMPLOYEE: 0, Role.LEAD: 1, Role.ADMIN: 2}


def parse_role(text: str) -> Role:
    try:
        return Role(text.strip().lower())
    except ValueError:
        raise UnknownRole(role=text) from None


def at_least(role: str, needed: Role) -> bool:
    return _RANK[Role(role)] >= _RANK[needed]


def require(role: str | None, needed: Role) -> None:
    """Raise `NotAllowed` unless `role` is `needed` or above."""
    if role is None or not at_least(role, needed):
        raise NotAllowed(needed.value)


def check_role_change(current: Role, new: Role, admins_left_after: int) -> None:
    """Refuse a change that would leave the company without an admin."""
    if current is Role.ADMIN and new is not Role.ADMIN and admins_left_after < 1:
        raise LastAdmin()
