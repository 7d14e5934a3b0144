"""Mixer pairing, the pure rule: who meets whom week after week."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from itertools import combinations

from bot.domain.pairing import Pairing, pair

FIRST_WEEK = 2026 * 53 + 10  # week_number("2026-W10"), as the mixer service numbers weeks


class Mixer:
    """Runs `pair` week after week the way the service does: every group of a week is fed
    back as meetings, and whoever was left out goes first the next week."""

    def __init__(self, marketers: Sequence[int], sellers: Sequence[int]) -> None:
        self.marketers, self.sellers = list(marketers), list(sellers)
        self.met: Counter[tuple[int, int]] = Counter()
        self.waiting: list[int] = []
        self.week = FIRST_WEEK

    def next_week(self) -> Pairing:
        result = pair(self.marketers, self.sellers, self.met, self.week, self.waiting)
        for group in result.groups:
            for x, y in combinations(sorted(group), 2):
                self.met[(x, y)] += 1
        self.waiting = result.waiting
        self.week += 1
        return result


def cross_pairs(result: Pairing, marketers: Sequence[int]) -> set[tuple[int, int]]:
    """(marketer, seller) of each meeting in a week; two of one side in a trio don't count."""
    return {
        (x, y) if x in marketers else (y, x)
        for group in result.groups
        for x, y in combinations(group, 2)
        if (x in marketers) != (y in marketers)
    }


def grouped(result: Pairing) -> list[int]:
    return [person for group in result.groups for person in group]


MARKETERS = [1, 2, 3, 4, 5]
SELLERS = [11, 12, 13]


def test_five_marketers_and_three_sellers_meet_every_pair_before_any_pair_meets_again() -> None:
    mixer = Mixer(MARKETERS, SELLERS)
    everyone = {(m, s) for m in MARKETERS for s in SELLERS}
    met_this_cycle: set[tuple[int, int]] = set()
    cycles = 0

    for _ in range(6):
        week = cross_pairs(mixer.next_week(), MARKETERS)
        assert not week & met_this_cycle, "a pair met again before every pair had met"
        met_this_cycle |= week
        if met_this_cycle == everyone:
            cycles += 1
            met_this_cycle = set()

    assert cycles == 2  # all 15 pairs in weeks 1–3, and all 15 again in weeks 4–6


def test_five_marketers_and_three_sellers_leave_nobody_out_in_any_week() -> None:
    mixer = Mixer(MARKETERS, SELLERS)

    for _ in range(6):
        week = mixer.next_week()
        assert sorted(grouped(week)) == sorted(MARKETERS + SELLERS)
        assert week.waiting == []
        assert sorted(len(group) for group in week.groups) == [2, 3, 3]  # one pair, two trios
        for group in week.groups:
            assert sum(person in SELLERS for person in group) == 1  # one seller in each


def test_four_marketers_and_four_sellers_meet_all_sixteen_pairs_in_four_weeks() -> None:
    marketers, sellers = [1, 2, 3, 4], [11, 12, 13, 14]
    mixer = Mixer(marketers, sellers)

    weeks = [mixer.next_week() for _ in range(4)]

    met = [pair_ for week in weeks for pair_ in cross_pairs(week, marketers)]
    assert len(met) == 16 and set(met) == {(m, s) for m in marketers for s in sellers}
    assert all(len(group) == 2 for week in weeks for group in week.groups)


def test_seven_marketers_and_two_sellers_make_two_trios_and_carry_the_rest_over() -> None:
    marketers, sellers = [1, 2, 3, 4, 5, 6, 7], [11, 12]
    mixer = Mixer(marketers, sellers)

    first = mixer.next_week()

    assert [len(group) for group in first.groups] == [3, 3]
    assert {group[0] for group in first.groups} == set(sellers)
    assert len(first.waiting) == 3
    assert set(first.waiting) | set(grouped(first)) == set(marketers + sellers)

    second = mixer.next_week()

    assert set(first.waiting) <= set(grouped(second))  # those carried over are placed first
    assert not set(second.waiting) & set(first.waiting)


def test_when_the_sides_are_uneven_everyone_sits_out_in_turn() -> None:
    marketers, sellers = [1, 2, 3, 4, 5, 6, 7], [11, 12]
    mixer = Mixer(marketers, sellers)
    sat_out: Counter[int] = Counter()

    for _ in range(7):
        sat_out.update(mixer.next_week().waiting)
        counts = [sat_out[person] for person in marketers]
        assert max(counts) - min(counts) <= 1, f"some sit out far more often: {sat_out}"

    assert all(sat_out[person] == 3 for person in marketers)  # 21 seats left empty, 3 each


def test_a_side_with_nobody_in_it_makes_no_groups_and_everyone_waits() -> None:
    assert pair([1, 2], [], {}, FIRST_WEEK) == Pairing([], [1, 2])
    assert pair([], [11], {}, FIRST_WEEK) == Pairing([], [11])
    assert pair([], [], {}, FIRST_WEEK) == Pairing([], [])


def test_someone_who_joins_late_gets_a_partner_in_their_first_week() -> None:
    mixer = Mixer([1, 2, 3], [11, 12, 13])
    for _ in range(3):
        mixer.next_week()
    mixer.marketers.append(4)
    mixer.sellers.append(14)

    week = mixer.next_week()

    assert week.waiting == []
    assert {4, 14} <= set(grouped(week))


def test_someone_who_joins_late_is_not_the_one_left_out_when_seats_run_short() -> None:
    mixer = Mixer([1, 2, 3, 4], [11, 12])
    for _ in range(2):
        assert mixer.next_week().waiting == []  # two sellers, two seats each: all four meet
    mixer.marketers.append(9)

    week = mixer.next_week()

    assert 9 in grouped(week)
    assert len(week.waiting) == 1
