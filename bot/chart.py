"""The digest's chart: department tokens per week and the cross-department index, as a PNG."""

from __future__ import annotations

import io
import logging
from datetime import datetime, timedelta


def week_label(start: datetime) -> str:
    """A week by its dates, Monday to Sunday: "24.11–30.11"."""
    end = start + timedelta(days=6)
    return f"{start:%d.%m}–{end:%d.%m}"


def render(
    weeks: list[datetime],
    tokens: dict[str, list[int]],
    labels: dict[str, str],
    index: list[float | None],
    titles: tuple[str, str],
) -> bytes:
    """A two-panel PNG: tokens earned per week by department, and the cross-department share."""
    # Imported on the first chart: matplotlib is heavy, and a bot at rest needs none of it.
    # A Figure of its own, not pyplot's global state, so charts may be drawn in any thread.
    from matplotlib.figure import Figure

    logging.getLogger("matplotlib").setLevel(logging.WARNING)  # its font-cache INFO lines
    x = [week_label(w) for w in weeks]
    small = {"fontsize": 8} if len(x) > 4 else {}
    fig = Figure(figsize=(8, 6), dpi=100)
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    for code, series in tokens.items():
        top.plot(x, series, marker="o", linewidth=2, label=labels.get(code, code))
    top.set_ylim(bottom=0)
    top.set_title(titles[0])
    top.legend(loc="upper left")
    top.grid(alpha=0.3)
    shares = [100 * v if v is not None else 0 for v in index]
    bottom.bar(x, shares, color="#7b61ff")
    bottom.set_ylim(0, 100)
    bottom.set_title(titles[1])
    bottom.set_ylabel("%")
    bottom.grid(alpha=0.3, axis="y")
    bottom.tick_params(axis="x", labelrotation=30 if small else 0, labelsize=small.get("fontsize"))
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()
