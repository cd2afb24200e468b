"""Keep the persisted read models current, and answer queries from them.

`maintain(store, team)` runs after every successful append (import, recording commands): it
folds the team's events from the earliest `at` among those recorded since the model's position
(R-T-5: a late event rewrites the models from its `at` on), starting from the nearest checkpoint
(`commands.history.state_at`), and writes the changed rows with the new position in one
transaction (`ledger.models_store.write`). Appends racing with it are caught up by their own
`maintain`; a crash between an append and its `maintain` leaves the model behind its store, and
the next `maintain` catches up. A model behind its store is never read: queries fall back to the
fold.

The `*_text` functions return the query's `--json` text read from the model, or None when the
model cannot answer (absent, behind the store, or past its horizon): the caller then folds.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import gc
from zoneinfo import ZoneInfo

from ledger import models_store as M
from ledger.errors import UnknownLead
from ledger.store import Store, to_micros
from projections import engine
from projections.models import Models, fold_models, models_after

from . import history

# A team with more events than this and no model yet is left to `ledger rebuild`.
AUTO_BUILD_LIMIT = 300_000
PAGE = 5000
TAIL_DAYS = 7
TAIL_EVERY = history.CHECKPOINT_EVERY // 4
ONE_US = dt.timedelta(microseconds=1)


@contextlib.contextmanager
def fewer_collections():
    """Collect garbage less often while folding a whole history. The fold builds a state of
    millions of small objects (leads, customers, timelines) that live until it ends, and the
    default young-generation threshold (700 allocations) has the collector walk them over and
    over: about a fifth of the fold's time, for almost no garbage. Restored on the way out."""
    thresholds = gc.get_threshold()
    gc.set_threshold(50_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def compute(store: Store, team: str, start: dt.datetime | None, head: int, *, page: int = PAGE,
            keep_checkpoint: bool = True, progress=None, covered: dt.datetime | None = None) -> Models:
    """Fold the team's events with `at >= start` (None: all) and seq <= head into models."""
    with fewer_collections():
        return _compute(store, team, start, head, page=page, keep_checkpoint=keep_checkpoint,
                        progress=progress, covered=covered)


def _compute(store: Store, team: str, start: dt.datetime | None, head: int, *, page: int,
             keep_checkpoint: bool, progress, covered: dt.datetime | None) -> Models:
    def records(after):
        for chunk in M.iter_by_time(store, team, after, page):
            kept = [r for r in chunk if r.seq <= head]
            if progress is not None:
                progress(len(chunk))
            yield from kept

    def keep(state: engine.TeamState) -> None:
        if keep_checkpoint and models_folded[0] >= history.SAVE_AFTER:
            history._save(store, team, state, head)

    models_folded = [0]
    # Checkpoints along the last days folded too (the team's latest `at` minus TAIL_DAYS): a
    # question a few days back (`--at`, `--as-recorded`) then folds from one of them. Earlier
    # ones would be thinned out again (`Store._thin_checkpoints`) at the cost of a save each.
    every = TAIL_EVERY if keep_checkpoint else None
    latest = store.latest_at(team) if keep_checkpoint else None
    tail = latest - dt.timedelta(days=TAIL_DAYS) if latest is not None else None

    def counted(iterable):
        for rec in iterable:
            models_folded[0] += 1
            yield rec

    if start is not None:
        try:
            before = start - ONE_US
            state = history.state_at(store, team, before)
            models = fold_models(state, counted(records((before, history.CHECKPOINT_SEQ))), start=start,
                                 covered=covered, keep=keep, keep_every=every, keep_from=tail)
            models.position = head
            return models
        except engine.NeedsFullReplay:  # a link re-decides earlier leads (R-ID-1)
            models_folded[0] = 0
    models = fold_models(None, counted(records(None)), start=None, keep=keep, keep_every=every, keep_from=tail)
    models.position = head
    return models


def maintain(store: Store, team: str, gen: int | None = None, *, attempts: int = 4) -> M.Generation | None:
    """Bring the team's live model (or generation `gen`) up to the store's head."""
    M.ensure_tables(store)
    for _ in range(attempts):
        found = [g for g in M.generations(store, team) if (g.live if gen is None else g.gen == gen)]
        head = store.head(team)
        if not found:
            if gen is not None or head == 0 or head > AUTO_BUILD_LIMIT:
                return None
            try:
                M.create_generation(store, team, 1, live=True)
            except Exception:  # another writer created it first
                pass
            continue
        g = found[0]
        if g.position >= head:
            return g
        # a link re-decides leads before its own `at` (R-ID-1): the models are folded anew
        start = None if g.position == 0 or M.relinked_since(store, team, g.position) \
            else M.first_unfolded_at(store, team, g.position)
        models = compute(store, team, start, head, covered=g.horizon)
        try:
            M.write(store, team, g.gen, models, g.position)
        except M.Stale:
            continue
        return M.Generation(team, g.gen, g.live, models.position, models.horizon, models.tz)
    return None


def maintain_after(store: Store, team: str, state: engine.TeamState, stored: list, head: int) -> bool:
    """`maintain` after a recording command appended `stored` onto `head`, from the state it
    decided on (`projections.models.models_after`; nothing was recorded after their instant).
    False when the live model was not at `head` or moved meanwhile, or the seats changed at that
    instant: the caller then runs `maintain`. The state is advanced to the models' horizon."""
    from ledger.errors import LedgerError

    try:
        g = M.live(store, team)
        if g is None or g.position != head:
            return False
        if any(r.event.type in ("CustomersLinked", "CustomersUnlinked") for r in stored):
            return False  # it re-decides earlier leads (R-ID-1): `maintain` folds anew
        at_us = to_micros(stored[0].event.at)
        if M.seats_changed_at(store, team, g.gen, at_us):
            return False  # the seats changed at this instant: only the full fold rewrites that row
        changed = {state.leads[lead].customer for lead in M.owners_changed_at(store, team, g.gen, at_us)
                   if lead in state.leads}
        models = models_after(state, stored, covered=g.horizon, changed=changed)
        M.write(store, team, g.gen, models, g.position)
    except (M.Stale, LedgerError):
        return False
    return True


def maintain_quietly(store: Store, teams) -> None:
    """`maintain` after an append: the events are stored whatever happens here, so nothing
    raised here may reach the user as a failure of the append (a traceback, or exit 1 with the
    events committed). A model left behind is never read, and the next command on the team
    brings it up to date (`current`)."""
    for team in teams:
        try:
            maintain(store, team)
        except Exception:
            pass


# -- answers from the model ---------------------------------------------------------------------


def current(store: Store, team: str) -> M.Generation | None:
    """The team's live generation if it has folded every recorded event."""
    try:
        g = M.live(store, team)
    except Exception:
        return None
    if g is None or g.position != store.head(team):
        return None
    return g


def caught_up(store: Store, team: str) -> M.Generation | None:
    """`current`, after bringing a model left behind (a writer killed between its commit and
    its `maintain`, or before the model's first build) up to date: the next query on the team
    repairs it. None when that fails too: the caller folds."""
    g = current(store, team)
    if g is None:
        try:
            maintain(store, team)
        except Exception:
            return None
        g = current(store, team)
    return g


def owner_text(store: Store, team: str, lead: str, at: dt.datetime) -> str | None:
    g = caught_up(store, team)
    if g is None or g.horizon is None or at > g.horizon:
        return None
    text = M.owner_answer(store, team, g.gen, lead, at)
    if text is None:
        shown = at.astimezone(ZoneInfo(g.tz)).isoformat(timespec="seconds")
        raise UnknownLead(f"unknown lead {lead!r} (not arrived by {shown})")
    return text


def turns_text(store: Store, team: str, first: dt.date, last: dt.date) -> str | None:
    from projections.models import dumps, turns_answer

    g = caught_up(store, team)
    if g is None or g.horizon is None:
        return None
    end = history.day_start(history.team_zones(store, team), last + dt.timedelta(days=1))  # §10
    if M.relinked_after(store, team, end - dt.timedelta(microseconds=1)):
        return None  # the fold up to the end of --to answers
    seats = M.seats_at(store, team, g.gen, min(end, g.horizon))
    return dumps(turns_answer(M.counts(store, team, g.gen, first, last), seats))


def commission_text(store: Store, team: str, month: str) -> str | None:
    g = caught_up(store, team)
    if g is None:
        return None
    year, number = int(month[:4]), int(month[5:7])
    following = history.month_start(history.team_zones(store, team), year + number // 12, number % 12 + 1)  # §10
    if M.relinked_after(store, team, following - dt.timedelta(microseconds=1)):
        return None  # R-CM-6: the statement of M rests on the events before the end of M
    return M.commission_answer(store, team, g.gen, month)
