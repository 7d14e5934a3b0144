"""The digest's arithmetic: the cross-department index and its change."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CrossCounts:
    """This period's thanks and mixer meetings, and how many crossed the department line."""

    thanks: int
    cross_thanks: int
    meetings: int
    cross_meetings: int

    @property
    def index(self) -> float | None:
        """The share (0..1) of thanks and meetings that crossed; None when there were none."""
        total = self.thanks + self.meetings
        return (self.cross_thanks + self.cross_meetings) / total if total else None


def change(current: float | None, previous: float | None) -> float | None:
    """The index's change in percentage points, when both periods have one."""
    if current is None or previous is None:
        return None
    return round((current - previous) * 100, 1)
