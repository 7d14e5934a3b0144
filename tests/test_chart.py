"""The digest's chart names each week by its dates and draws without pyplot's global state."""

from __future__ import annotations

import threading
from datetime import datetime

from bot import chart


def test_a_week_is_labelled_by_its_monday_and_sunday() -> None:
    assert chart.week_label(datetime(2026, 11, 30)) == "30.11–06.12"


def test_charts_drawn_in_two_threads_at_once_are_both_whole_pngs() -> None:
    weeks = [datetime(2026, 11, 2), datetime(2026, 11, 9)]
    results: list[bytes] = []

    def draw() -> None:
        png = chart.render(weeks, {"m": [1, 2]}, {"m": "Marketing"}, [0.5, None], ("T", "I"))
        results.append(png)

    threads = [threading.Thread(target=draw) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 2 and all(png.startswith(b"\x89PNG") for png in results)
