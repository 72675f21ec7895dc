"""Reminders as the organizer's pages write and read them.

The meeting-type form has one row per reminder, "[24] [hours] before, to [the invitee]",
and one empty row to add another (up to ``MAX_REMINDERS``); a row whose number is empty, or
whose Remove box is ticked, is no reminder. It works without JavaScript: saving with the
empty row filled in adds a reminder, and the page comes back with a new empty row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bookwithme.i18n import N_
from bookwithme.meeting_types.schemas import MAX_REMINDERS

UNITS = {"minutes": 1, "hours": 60, "days": 1440}
MOST_MINUTES = 10080  # a week: SPEC 2.8
# The words of a row, as the organizer reads them (translated by the page).
UNIT_NAMES = {"minutes": N_("minutes"), "hours": N_("hours"), "days": N_("days")}
RECIPIENTS = {
    "invitee": N_("the invitee"),
    "organizer": N_("you"),
    "both": N_("you and the invitee"),
}


def split(minutes: int) -> tuple[int, str]:
    """``minutes`` in the largest unit that divides it, as people say it: 90 minutes, 24
    hours (a day is said in hours), 2 days."""
    if minutes % UNITS["days"] == 0 and minutes >= 2 * UNITS["days"]:
        return minutes // UNITS["days"], "days"
    if minutes % UNITS["hours"] == 0:
        return minutes // UNITS["hours"], "hours"
    return minutes, "minutes"


def _empty_row() -> dict[str, Any]:
    return {"amount": "", "unit": "hours", "to": "invitee", "remove": False}


def rows_of(reminders: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The form's rows for saved reminders: one each, then an empty one to add another."""
    rows = []
    for reminder in reminders:
        amount, unit = split(int(reminder["minutes_before"]))
        rows.append({"amount": str(amount), "unit": unit, "to": reminder["to"], "remove": False})
    return _with_empty_row(rows)


def _with_empty_row(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if len(rows) < MAX_REMINDERS:
        rows.append(_empty_row())
    return rows


def read(
    fields: dict[str, str], gettext: Callable[[str], str] = str
) -> tuple[list[dict[str, Any]], dict[str, str], list[dict[str, Any]]]:
    """The posted rows as ``reminders`` for a meeting-type update, a plain message for each
    row that is wrong (``reminder{i}``, in the language of ``gettext``), and the rows as
    typed (to show them again)."""
    reminders: list[dict[str, Any]] = []
    errors: dict[str, str] = {}
    typed: list[dict[str, Any]] = []
    seen: dict[tuple[int, str], int] = {}
    for i in range(MAX_REMINDERS):
        amount_text = fields.get(f"r{i}_amount", "").strip()
        unit_name = fields.get(f"r{i}_unit", "hours")
        to = fields.get(f"r{i}_to", "invitee")
        remove = f"r{i}_remove" in fields
        typed.append({"amount": amount_text, "unit": unit_name, "to": to, "remove": remove})
        if not amount_text or remove:
            continue
        key = f"reminder{i}"
        unit = UNITS.get(unit_name)
        if unit is None:
            errors[key] = gettext(N_("Choose minutes, hours or days."))
            continue
        if to not in RECIPIENTS:
            errors[key] = gettext(N_("Choose who gets the reminder: the invitee, you, or both."))
            continue
        try:
            amount = int(amount_text)
        except ValueError:
            errors[key] = gettext(N_("Enter a whole number, such as 24."))
            continue
        minutes = amount * unit
        if amount < 1:
            errors[key] = gettext(N_("Enter 1 or more: a reminder comes at least 1 minute before."))
        elif minutes > MOST_MINUTES:
            errors[key] = gettext(N_("A reminder can be at most 7 days (168 hours) before."))
        elif (minutes, to) in seen:
            errors[key] = gettext(N_("This is the same as reminder %(number)s.")) % {
                "number": seen[(minutes, to)] + 1
            }
        else:
            seen[(minutes, to)] = i
            reminders.append({"minutes_before": minutes, "to": to})
    # Shown again up to the last row that holds something, then one empty row.
    while typed and not typed[-1]["amount"] and not typed[-1]["remove"]:
        typed.pop()
    return reminders, errors, _with_empty_row(typed)
