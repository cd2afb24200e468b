"""The engine's sentences: what a timeline entry says happened (`Entry.summary`).

A summary is a tuple of phrases, each `(template, values)`: the template is an English sentence
with named fields (`"{lead} arrived by {channel}"`), which is also its message id in the
translation catalogs (`ledger/locale`, extracted where it is marked `N_`), and `values` fills
them. The fold only builds the tuples; the text is made when it is read:

    english(summary)               what `explain --json` prints (INTERCHANGE: English)
    say(summary, tr, word)         the same in the shell's language: `tr(template, **values)`,
                                   with the values in `WORDS` (codes such as a channel) said
                                   through `word`

In the fold's hottest places the summary is `(make, args)` instead, a module-level function and
its arguments: `make(*args)` gives the phrases when they are read (building them for every
event of a year costs more than the rest of those events' entries). A summary may also be a
plain string (an entry written before summaries were phrases): both give it back as it is.

A candidate's reason (`why`, in `explain`, `next`, the board and the recording answers) stays an
English string, as the --json answers carry it; the engine writes each from one of the templates
of `REASONS`, so that `reason(text)` reads it back into phrases for `say`.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

Summary = "tuple[tuple[str, dict[str, Any]], ...] | str"

# values that are codes of the vocabulary (ledger.vocabulary), said as words in another language
WORDS = frozenset({"channel", "direction", "grade", "type", "presence", "shift"})
NESTED = frozenset({"why"})  # values that are reasons themselves


def N_(template: str) -> str:
    """Marks an English template as a message id for extraction (Babel's `N_`); returns it."""
    return template


def phrase(template: str, **values: Any) -> tuple:
    """A summary of one phrase."""
    return ((template, values),)


def phrases(summary: Any) -> Any:
    """The phrases of a summary (made now when it is `(make, args)`), or its plain string."""
    if type(summary) is tuple and summary and type(summary[0]) is not tuple:
        return summary[0](*summary[1])
    return summary


def english(summary: Any) -> str:
    summary = phrases(summary)
    if type(summary) is str:
        return summary
    return "".join(template.format_map(values) if values else template for template, values in summary)


def say(summary: Any, tr: Callable[..., str], word: Callable[[str], str]) -> str:
    summary = phrases(summary)
    if type(summary) is str:
        return summary
    out = []
    for template, values in summary:
        shown = {key: _shown(key, value, tr, word) for key, value in (values or {}).items()}
        out.append(tr(template, **shown))
    return "".join(out)


def value(summary: Any, name: str) -> Any:
    """The first value called `name` in a summary (None for a plain string or when absent)."""
    summary = phrases(summary)
    if type(summary) is str:
        return None
    for _, values in summary:
        if name in values:
            return values[name]
    return None


def _shown(key: str, value: Any, tr: Callable[..., str], word: Callable[[str], str]) -> Any:
    if key in WORDS and isinstance(value, str):
        return word(value)
    if key in NESTED and isinstance(value, str):
        return say(reason(value), tr, word)
    return value


# -- candidates' reasons: the templates the rules write them with

BUSY_NEW = N_("busy_new, counted as a turn (R-PR-3)")
BUSY_NEW_LAPSE = N_("busy_new (R-PR-3)")
LEFT = N_("left (R-RO-3)")
ABSENT = N_("{presence} (R-PR-2)")
HELD = N_("no follow-up within 48 hours (R-FU-3)")
SUSPENDED = N_("suspended ({rule})")
SKIP = N_("skip ({rule})")
THROTTLED = N_("throttled {take} of {of} ({rule})")
SHIFT_HOLDER = N_("{shift} shift holder ({rule})")
SHIFT_ABSENT = N_("{shift} shift holder not on post: {presence} ({rule})")
OVERTIME = N_("overtime queue (R-SH-4)")
OVERTIME_ABSENT = N_("overtime holder not on post: {presence} (R-SH-4)")
TURN_CONSUMED = N_("turn consumed, the lead goes to {owner} (R-RT-6)")
GOES_TO = N_("the lead goes to {owner} ({rule})")
BONUS = N_("bonus second lead (R-RT-4)")
BONUS_LAPSES = N_("{why}; bonus second lead lapses (R-RT-4)")
TURN_HOLDER = N_("turn holder (R-RT-2)")
WEIGHTED = N_("weight {weight}, score {score} (R-RT-8)")
TOP_EARNER = N_("month revenue {amount} (R-FU-2)")
# the board's longer reasons (projections.board.status)
BOARD_BUSY_NEW = N_("busy_new: passes, counted as a turn (R-PR-3)")
BOARD_SUSPENDED_UNTIL = N_("suspended until {until} ({rule})")
BOARD_HELD = N_("no follow-up of {lead} within {hours} hours (R-FU-3)")
BOARD_SKIP = N_("skip, {left} left ({rule})")
BOARD_THROTTLED = N_("throttled {take} of {of}, reach {reach} passes ({rule})")

REASONS = (BUSY_NEW, BUSY_NEW_LAPSE, LEFT, ABSENT, HELD, SUSPENDED, SKIP, THROTTLED, SHIFT_HOLDER, SHIFT_ABSENT,
           OVERTIME, OVERTIME_ABSENT, TURN_CONSUMED, GOES_TO, BONUS, BONUS_LAPSES, TURN_HOLDER, WEIGHTED, TOP_EARNER,
           BOARD_BUSY_NEW, BOARD_SUSPENDED_UNTIL, BOARD_HELD, BOARD_SKIP, BOARD_THROTTLED)


_FIELD = (r"[^\s,;]+?", ".+?")  # a value (an id, a code, a number, a time), or a nested reason


@functools.cache
def _patterns() -> tuple:
    import re

    out = []
    for template in REASONS:
        parts = re.split(r"\{(\w+)\}", template)
        regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>{_FIELD[part in NESTED]})"
                        for i, part in enumerate(parts))
        out.append((template, re.compile(regex + r"\Z", re.DOTALL)))
    return tuple(out)


def reason(text: str | None) -> Any:
    """A candidate's reason read back into phrases (`say`), or the text itself when no template
    of `REASONS` wrote it."""
    if not text:
        return text or ""
    for template, pattern in _patterns():
        found = pattern.match(text)
        if found:
            return ((template, found.groupdict()),)
    return text
