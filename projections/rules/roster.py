"""The roster (R-RO-*, R-RT-5): joins, leaves, seat swaps, and the seat and ranking orders the
queues walk (`reorder`)."""
from __future__ import annotations

from fractions import Fraction

from ledger.errors import RuleViolation

from ..state import ZERO, Consultant, TeamState
from . import rotation


def reorder(state: TeamState) -> None:
    active = [c for c in state.consultants.values() if c.left_at is None]
    active.sort(key=lambda c: c.seat)
    state.seat_order = [c.id for c in active]
    rev = state.rank_rev
    state.rank_order = [c.id for c in sorted(active, key=lambda c: (-rev.get(c.id, ZERO), c.seat))]


def on_joined(state: TeamState, rec) -> None:
    ev = rec.event
    if ev.consultant in state.consultants:
        return
    state.consultants[ev.consultant] = Consultant(ev.consultant, ev.name, ev.seat, ev.at, rec.seq, presence_seq=rec.seq)
    state.scores[ev.consultant] = Fraction(0)
    reorder(state)  # R-RT-5: the pointer stays on whoever is up


def on_left(state: TeamState, rec) -> None:
    ev = rec.event
    c = state.consultants.get(ev.consultant)
    if c is None or c.left_at is not None:
        return
    # R-RT-5: a queue whose pointer is on the leaver moves to the next one after them
    for channel, queue in state.queues.items():
        if queue.bonus_for == c.id:
            queue.bonus_for = None
        if queue.up == c.id:
            order = rotation.queue_order(state, rotation.queue_mode(state.policy, channel))
            if c.id in order and len(order) > 1:
                queue.up = order[(order.index(c.id) + 1) % len(order)]
            else:
                queue.up = None
    for channel, (date, up) in list(state.ot_queues.items()):
        if up == c.id:
            state.ot_queues[channel] = (date, None)
    c.left_at = ev.at
    reorder(state)


def on_swap(state: TeamState, rec) -> None:
    """R-RO-2: only two consultants adjacent in the current seat order may swap."""
    ev = rec.event
    try:
        check_swap(state, ev.a, ev.b)
    except RuleViolation:
        # imports reject such a swap (catalog); a late event can still make a stored swap
        # non-adjacent on replay: it is then ignored rather than failing every answer
        return
    a, b = state.consultants[ev.a], state.consultants[ev.b]
    a.seat, b.seat = b.seat, a.seat
    reorder(state)


def check_swap(state: TeamState, a: str, b: str) -> None:
    order = state.seat_order
    if a not in order or b not in order or a == b:
        raise RuleViolation(f"R-RO-2: {a} and {b} must both be current consultants")
    if abs(order.index(a) - order.index(b)) != 1:
        raise RuleViolation(f"R-RO-2: {a} and {b} are not adjacent in the seat order {order}")
