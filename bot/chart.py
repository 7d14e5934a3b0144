"""The digest's chart: department tokens per week and the cross-department index, as a PNG."""

from __future__ import annotations

import io
from datetime import datetime


def render(
    weeks: list[datetime],
    tokens: dict[str, list[int]],
    labels: dict[str, str],
    index: list[float | None],
    titles: tuple[str, str],
) -> bytes:
    """A two-panel PNG: tokens earned per week by department, and the cross-department share."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    x = [w.strftime("%d.%m") for w in weeks]
    fig, (top, bottom) = plt.subplots(
        2, 1, figsize=(8, 6), dpi=100, sharex=True, gridspec_kw={"height_ratios": [3, 2]}
    )
    try:
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
        fig.tight_layout()
        out = io.BytesIO()
        fig.savefig(out, format="png")
        return out.getvalue()
    finally:
        plt.close(fig)
