"""What could not be read in a calendar that was otherwise read, told to its organizer."""

from __future__ import annotations

import re
from dataclasses import dataclass

SHOWN = 3  # UIDs named in the summary; the count covers the rest
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Problem:
    """One event (by its ``UID`` when it has one) that was left out (``whole``) or lost a
    part of itself, and what was wrong, in the product's words."""

    uid: str | None
    what: str
    whole: bool = False


def _name(problem: Problem) -> str:
    if not problem.uid:
        return f"an event without a UID ({problem.what})"
    uid = _UNPRINTABLE.sub("", problem.uid)
    uid = uid if len(uid) <= 60 else uid[:57] + "..."
    return f"{uid} ({problem.what})"


def _listed(problems: list[Problem]) -> str:
    named = ", ".join(_name(p) for p in problems[:SHOWN])
    more = len(problems) - SHOWN
    return named + (f" and {more} more" if more > 0 else "")


def summary(problems: list[Problem]) -> str | None:
    """One paragraph for ``last_error``: how many events were left out and which, then what
    was read only in part; None when everything was read."""
    if not problems:
        return None
    left_out = [p for p in problems if p.whole]
    partial = [p for p in problems if not p.whole]
    sentences = []
    if left_out:
        sentences.append(
            f"{len(left_out)} event{'s' if len(left_out) != 1 else ''} could not be read "
            f"and {'were' if len(left_out) != 1 else 'was'} left out: {_listed(left_out)}."
        )
    if partial:
        sentences.append(
            f"{len(partial)} event{'s' if len(partial) != 1 else ''} "
            f"{'were' if len(partial) != 1 else 'was'} read only in part: {_listed(partial)}."
        )
    sentences.append("Everything else in the calendar is used.")
    return " ".join(sentences)
