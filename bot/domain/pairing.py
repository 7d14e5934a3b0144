"""Weekly mixer pairing: every marketer meets every seller before any pair meets again.

The larger side is spread over the smaller one. Week `w` starts each person of the larger side
at the partner `(i + w) mod n` of a rotation (a Latin square when nobody joins or leaves), then
moves on to the least-met partner with room. Each partner takes one person, or two (a trio)
when the sides differ in size; whoever is still left waits and goes first next week.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Pairing:
    groups: list[tuple[int, ...]]  # each: (partner from the smaller side, *people from the larger)
    waiting: list[int]  # left without a partner this week


def pair(
    side_a: Sequence[int],
    side_b: Sequence[int],
    met: Mapping[tuple[int, int], int],
    week: int,
    waiting_first: Sequence[int] = (),
    max_group: int = 3,
) -> Pairing:
    """Group people across two sides for week number `week`.

    `met[(x, y)]` counts earlier meetings of x and y (either order). People in
    `waiting_first` were left out last time and are placed before anyone else.
    """
    small, large = sorted((sorted(set(side_a)), sorted(set(side_b))), key=len)
    if not small or not large:
        return Pairing([], sorted(set(side_a) | set(side_b)))
    n = len(small)
    index = {person: i for i, person in enumerate(large)}
    per_partner = min(max_group - 1, -(-len(large) // n))
    seats = dict.fromkeys(range(n), per_partner)
    # Everyone gets a partner before anyone gets a second one, so trios only fill spare seats.
    rounds = [1, per_partner] if per_partner > 1 else [1]
    chosen: dict[int, list[int]] = {i: [] for i in range(n)}
    placed: set[int] = set()

    position = {partner: i for i, partner in enumerate(small)}
    history: dict[int, dict[int, int]] = {person: {} for person in large}
    for (x, y), count in met.items():
        for person, partner in ((x, y), (y, x)):
            if person in history and partner in position:
                seen = history[person]
                seen[position[partner]] = seen.get(position[partner], 0) + count

    # Those left out last time go first; then whoever has met the fewest partners so far, so
    # the spare seats of an uneven week go round instead of always to the same people.
    first = set(waiting_first)
    rest = sorted((p for p in large if p not in first), key=lambda p: sum(history[p].values()))
    order = [p for p in large if p in first] + rest

    def times(person: int, partner: int) -> int:
        return history[person].get(partner, 0)

    def fewest(person: int) -> int:
        """The fewest meetings this person has had with any partner (0 if one is new)."""
        seen = history[person]
        return 0 if len(seen) < n else min(seen.values())

    for limit in rounds:
        free = [i for i in range(n) if len(chosen[i]) < min(limit, seats[i])]
        for person in order:
            if not free:
                break
            if person in placed:
                continue
            at = bisect_left(free, (index[person] + week) % n)
            floor = fewest(person)
            best = None
            # Walk the partners with a free seat, from this person's place in the rotation.
            for step in range(len(free)):
                partner = free[(at + step) % len(free)]
                if best is None or times(person, partner) < times(person, best):
                    best = partner
                    if times(person, partner) == floor:
                        break
            assert best is not None
            chosen[best].append(person)
            placed.add(person)
            if len(chosen[best]) >= min(limit, seats[best]):
                free.remove(best)
    groups = [(small[i], *chosen[i]) for i in range(n) if chosen[i]]
    lonely = [small[i] for i in range(n) if not chosen[i]]
    waiting = [p for p in order if p not in placed] + lonely
    return Pairing(groups, waiting)
