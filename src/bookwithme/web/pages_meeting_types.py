"""The organizer's meeting-type page (``/meeting-types/{id}``): what a type is, where it
takes place and whether it gets an online meeting link, its scheduling rules, its own
hours or the working hours, its colour, the questions of its booking form (added,
removed and reordered) and its reminders; and creating, duplicating and deleting types.

One form (``MeetingTypeForm``) reads the page and writes exactly what the API's
``PATCH /api/v1/meeting-types/{id}`` would. Every form works without JavaScript: the
question buttons (up, down, remove, add) post the whole form and the page comes back with
the edits kept and not yet saved; ``static/js/meeting_type.js`` does the same in place.
Each successful POST redirects (303) to a page with a notice, so reloading never posts
again."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from functools import partial
from typing import Annotated, Any, ClassVar

from babel.dates import format_date
from fastapi import APIRouter, Depends, Query, Request
from pydantic_core import ErrorDetails
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from bookwithme.admin.policy import personal_bookings_status
from bookwithme.config import Settings
from bookwithme.i18n import N_, spoken, translations
from bookwithme.meeting_types import service as meeting_types
from bookwithme.meeting_types.schemas import (
    MAX_LINK_LABEL,
    MAX_OPTIONS,
    MAX_QUESTIONS,
    MAX_REMINDERS,
    NO_LINK_KINDS,
    MeetingTypeCreate,
    MeetingTypeOut,
    MeetingTypeUpdate,
    Question,
)
from bookwithme.models import Booking, MeetingType, Organization, Page, User, utcnow
from bookwithme.scheduling import store
from bookwithme.scheduling.schedules import ScheduleData
from bookwithme.timezones import known_zones, named_zone
from bookwithme.web import reminders as reminder_form
from bookwithme.web.deps import PageUser, SessionDep, SettingsDep
from bookwithme.web.forms import Form, Loc, ScheduleForm, form_fields, hours_text, week_days
from bookwithme.web.pages_organizer import notice_in
from bookwithme.web.setup_gate import require_setup
from bookwithme.web.templating import render

router = APIRouter(include_in_schema=False, dependencies=[Depends(require_setup)])
FormFields = Annotated[dict[str, str], Depends(form_fields)]

LOCATION_KINDS = (
    ("online", N_("Online meeting")),
    ("in_person", N_("In person")),
    ("phone", N_("Phone call")),
    ("custom", N_("Somewhere else")),
)
QUESTION_KINDS = (
    ("text", N_("Short text")),
    ("textarea", N_("Long text")),
    ("select", N_("Choice from a list")),
    ("checkbox", N_("Checkbox")),
)
TYPE_NUMBERS = (
    "duration_minutes",
    "buffer_before_minutes",
    "buffer_after_minutes",
    "minimum_notice_minutes",
    "max_advance_days",
)
OPTIONAL_NUMBERS = ("slot_interval_minutes", "max_bookings_per_day")
# What the colour picker shows for a type without a colour (the page's own blue).
DEFAULT_COLOR = "#3b5bdb"
LINK_STATUSES = {
    "active": N_("active"),
    "expired": N_("expired"),
    "used": N_("used"),
    "revoked": N_("turned off"),
}
NOT_SAVED_YET = N_("Not saved yet: press Save to keep these changes.")
_QUESTION_LABEL = re.compile(r"q(\d{1,3})_label")
_ACTION = re.compile(r"q_(up|down|remove)_(\d{1,3})")
_NUMBER = re.compile(r"-?[0-9]+")


def _blank_question() -> dict[str, Any]:
    return {"id": "", "label": "", "kind": "text", "options": "", "required": False}


def _is_blank(row: dict[str, Any]) -> bool:
    return not row["label"].strip() and not row["options"].strip() and not row["id"]


def _with_blank_row(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows and, below the last one filled in, an empty one to add a question."""
    if (not rows or not _is_blank(rows[-1])) and len(rows) < MAX_QUESTIONS:
        rows = [*rows, _blank_question()]
    return rows


class MeetingTypeForm(Form[MeetingTypeUpdate]):
    """The meeting-type page as a ``MeetingTypeUpdate``. A part of the page the form does
    not post (questions, reminders, colour or hours) is left as it is, as the API leaves
    a field out of a PATCH."""

    schema = MeetingTypeUpdate
    field_messages: ClassVar[dict[str, str]] = {
        "title": N_("Give the meeting type a title, on one line, of at most 200 characters."),
        "description": N_("Write the description in at most 5,000 characters."),
        "duration_minutes": N_("Enter a length from 5 to 720 minutes."),
        "buffer_before_minutes": N_("Enter 0 to 240 minutes."),
        "buffer_after_minutes": N_("Enter 0 to 240 minutes."),
        "minimum_notice_minutes": N_("Enter 0 to 43,200 minutes (30 days)."),
        "max_advance_days": N_("Enter 1 to 730 days."),
        "slot_interval_minutes": N_("Enter 5 to 720 minutes, or leave it empty."),
        "max_bookings_per_day": N_("Enter 1 to 100, or leave it empty for no limit."),
        "visibility": N_("Choose who can book it from the list."),
        "location_kind": N_("Choose where the meeting takes place from the list."),
        "location_details": N_("Write the details in at most 1,000 characters."),
        "color": N_(
            "Choose a colour, or “No colour”. A colour is written # and six hexadecimal "
            "digits, such as #3b5bdb."
        ),
        "hours": N_("Choose your working hours or this type's own hours."),
    }

    def __init__(self, lang: str = "en") -> None:
        super().__init__(lang)
        self.hours = ScheduleForm(lang, with_range=True)
        self.question_rows: list[int] = []  # the form's row of each question sent
        self.link_unticked = False

    @staticmethod
    def values_of(out: MeetingTypeOut, working: ScheduleData) -> dict[str, Any]:
        """The page's fields for a saved type; its own hours start from the working hours."""
        values: dict[str, Any] = {
            "title": out.title,
            "description": out.description,
            "visibility": out.visibility,
            "active": out.active,
            "location_kind": out.location.kind,
            "location_details": out.location.details or "",
            "add_online_meeting": out.add_online_meeting,
            "color_choice": "pick" if out.color else "none",
            "color": out.color or DEFAULT_COLOR,
            "hours": "custom" if out.availability else "default",
            **ScheduleForm.values_of(out.availability or working),
            "question_rows": _with_blank_row(
                [
                    {
                        "id": q.id or "",
                        "label": q.label,
                        "kind": q.kind,
                        "options": ", ".join(q.options),
                        "required": q.required,
                    }
                    for q in out.questions
                ]
            ),
            "reminder_rows": reminder_form.rows_of([r.model_dump() for r in out.reminders]),
        }
        for name in TYPE_NUMBERS + OPTIONAL_NUMBERS:
            number = getattr(out, name)
            values[name] = "" if number is None else str(number)
        return values

    def read(self, fields: Mapping[str, str]) -> dict[str, Any]:
        values = self.values
        for name in ("title", "description", "location_details"):
            values[name] = fields.get(name, "")
        values["visibility"] = fields.get("visibility", "public")
        values["location_kind"] = kind = fields.get("location_kind", "online")
        values["active"] = "active" in fields
        payload: dict[str, Any] = {
            "title": values["title"],
            "description": values["description"],
            "visibility": values["visibility"],
            "active": values["active"],
            "location": {"kind": kind, "details": values["location_details"].strip() or None},
            "add_online_meeting": self._online_link(fields, kind),
        }
        for name in TYPE_NUMBERS + OPTIONAL_NUMBERS:
            text = values[name] = fields.get(name, "").strip()
            if not text and name in OPTIONAL_NUMBERS:
                payload[name] = None
            elif _NUMBER.fullmatch(text):
                payload[name] = int(text)
            else:
                self.fail(name, N_("Enter a whole number."))
        rows = self._typed_questions(fields)
        if rows is not None:
            values["question_rows"] = rows
            payload["questions"] = self._questions(rows)
        if "r0_amount" in fields:  # a form without the reminder rows leaves them as they are
            reminders, problems, values["reminder_rows"] = reminder_form.read(
                dict(fields), self.gettext
            )
            payload["reminders"] = reminders
            for field, problem in problems.items():
                self.errors.setdefault(field, problem)
        if "color_choice" in fields:
            payload["color"] = self._color(fields)
        if "hours" in fields:
            values["hours"] = fields["hours"]
            schedule = self.hours.read(fields)
            values.update(self.hours.values)
            if values["hours"] == "custom":
                payload["availability"] = schedule
                self.errors.update(
                    {k: v for k, v in self.hours.errors.items() if k not in self.errors}
                )
            elif values["hours"] == "default":
                payload["availability"] = None
            else:
                self.fail("hours", self.field_messages["hours"])
        return payload

    def _online_link(self, fields: Mapping[str, str], kind: str) -> bool:
        """Whether bookings get an online meeting link. A box still ticked from when the
        meeting was online is unticked when Where becomes in person or phone: the page
        says what it showed (``online_was``, ``location_was``) and the script whether the
        organizer touched the box; ticking it on a page showing in person keeps it."""
        ticked = "add_online_meeting" in fields
        left_over = (
            ticked
            and kind in NO_LINK_KINDS
            and fields.get("online_was") == "on"
            and fields.get("location_was", "") not in NO_LINK_KINDS
            and fields.get("online_touched") != "1"
        )
        self.link_unticked = left_over
        self.values["add_online_meeting"] = ticked and not left_over
        return ticked and not left_over

    def _typed_questions(self, fields: Mapping[str, str]) -> list[dict[str, Any]] | None:
        """The question rows as typed, in the form's order; None for a form without any."""
        numbers = sorted(
            {int(m.group(1)) for key in fields if (m := _QUESTION_LABEL.fullmatch(key))}
        )
        if not numbers:
            return None
        return [
            {
                "id": fields.get(f"q{i}_id", "").strip(),
                "label": fields.get(f"q{i}_label", ""),
                "kind": fields.get(f"q{i}_kind", "text"),
                "options": fields.get(f"q{i}_options", ""),
                "required": f"q{i}_required" in fields,
            }
            for i in numbers
        ]

    def _questions(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The rows with a label, each checked as a ``Question``; a row whose label is
        cleared is no question."""
        questions = []
        self.question_rows = []
        for position, row in enumerate(rows):
            if not row["label"].strip():
                continue
            question: dict[str, Any] = {
                "label": row["label"],
                "kind": row["kind"],
                "required": row["required"],
                "options": [o.strip() for o in row["options"].split(",") if o.strip()]
                if row["kind"] == "select"
                else [],
            }
            if row["id"]:
                question["id"] = row["id"]
            field = f"q{position}"
            self.check(Question, question, partial(self._ask, field, question))
            questions.append(question)
            self.question_rows.append(position)
        return questions

    def _ask(self, field: str, question: dict[str, Any], error: ErrorDetails) -> tuple[str, str]:
        """What is wrong with one question, from where ``Question`` found it."""
        return field, self._question_problem(error, question)

    def _question_problem(self, error: ErrorDetails, question: dict[str, Any]) -> str:
        where = error["loc"][:1]
        label = question["label"].strip()
        if where == ("label",):
            return self.say(N_("Write the question on one line, in at most 200 characters."))
        if where == ("kind",):
            return self.say(N_("Choose a kind of answer from the list."))
        if where == ("options",):
            if error["type"] == "too_long":
                return self.say(N_("A list can have at most %(count)s options."), count=MAX_OPTIONS)
            return self.say(N_("Each option can have at most 200 characters, on one line."))
        if where == ("id",):
            return self.say(N_("This question cannot be read: remove it and add it again."))
        if question["kind"] == "select" and not question["options"]:
            return self.say(
                N_("“%(label)s” needs options: write them separated by commas."), label=label
            )
        if question["kind"] == "select":
            return self.say(N_("“%(label)s” has the same option twice."), label=label)
        return self.describe(error)

    def _color(self, fields: Mapping[str, str]) -> str | None:
        choice = self.values["color_choice"] = fields["color_choice"]
        color = self.values["color"] = fields.get("color", "").strip()
        if choice == "none":
            return None
        if choice != "pick":
            self.fail("color", self.field_messages["color"])
        return color

    def where(self, error: ErrorDetails) -> tuple[str, str]:
        loc = tuple(error["loc"])
        if loc[:1] == ("availability",):
            return self.hours.where({**error, "loc": loc[1:]})
        return super().where(error)

    def field_of(self, loc: Loc) -> str:
        head = loc[0] if loc else ""
        if head == "location":
            return "location_kind" if loc[1:2] == ("kind",) else "location_details"
        if head == "questions" and len(loc) > 1 and isinstance(loc[1], int):
            return f"q{self.question_rows[loc[1]]}"
        return str(head)

    def message_of(self, field: str, error: ErrorDetails) -> str:
        if field == "questions":
            if error["type"] == "too_long":
                return self.say(
                    N_("A meeting type can have at most %(count)s questions."),
                    count=MAX_QUESTIONS,
                )
            return self.say(N_("Two questions are the same: remove one of them."))
        if field == "reminders":
            return self.say(
                N_("A meeting type can have at most %(count)s reminders, all different."),
                count=MAX_REMINDERS,
            )
        return super().message_of(field, error)


def moved_questions(rows: list[dict[str, Any]], action: str) -> tuple[list[dict[str, Any]], int]:
    """The question rows after a question button (``q_up_2``, ``q_down_0``, ``q_remove_1``,
    ``q_add``), and the row to show; the rows as they were for anything else."""
    rows = list(rows)
    if action == "q_add":
        if len(rows) < MAX_QUESTIONS + 1:
            rows.append(_blank_question())
        return rows, len(rows) - 1
    match = _ACTION.fullmatch(action)
    if match is None or int(match.group(2)) >= len(rows):
        return _with_blank_row(rows), 0
    move, at = match.group(1), int(match.group(2))
    if move == "remove":
        del rows[at]
        return _with_blank_row(rows), max(0, min(at, len(rows) - 1))
    other = at - 1 if move == "up" else at + 1
    if 0 <= other < len(rows):
        rows[at], rows[other] = rows[other], rows[at]
        return rows, other
    return rows, at


class NewTypeForm(Form[MeetingTypeCreate]):
    """The start page's "New meeting type": a title and a length."""

    schema = MeetingTypeCreate
    field_messages: ClassVar[dict[str, str]] = {
        "title": MeetingTypeForm.field_messages["title"],
        "duration_minutes": MeetingTypeForm.field_messages["duration_minutes"],
    }

    def read(self, fields: Mapping[str, str]) -> dict[str, Any]:
        title = self.values["title"] = fields.get("title", "")
        duration = self.values["duration_minutes"] = fields.get("duration_minutes", "30").strip()
        if not _NUMBER.fullmatch(duration):
            self.fail("duration_minutes", self.field_messages["duration_minutes"])
        return {"title": title, "duration_minutes": int(duration) if not self.errors else 0}


# --- The page -------------------------------------------------------------------------


def _working_hours(session: Session, user: User) -> ScheduleData:
    return store.to_data(store.default_schedule_row(session, user))


def _type_page(
    request: Request,
    session: Session,
    settings: Settings,
    user: User,
    mt: MeetingType,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    *,
    notice: str | None = None,
    focus: str | None = None,
    status_code: int = 200,
) -> Response:
    lang = spoken(user.locale)
    now = utcnow()
    working = _working_hours(session, user)
    shown = MeetingTypeForm.values_of(meeting_types.type_out(mt), working)
    shown.update(values or {})
    zone = named_zone(user.time_zone)

    def day(value: datetime) -> str:
        return format_date(value.astimezone(zone).date(), "medium", locale=lang)

    links = [
        (out, day(out.created_at), day(out.expires_at))
        for out in (
            meeting_types.link_out(link, now) for link in meeting_types.list_links(session, mt)
        )
    ]
    page = session.scalar(select(Page).where(Page.user_id == mt.user_id))
    organization = session.get_one(Organization, user.organization_id)
    days = week_days(lang)
    return render(
        request,
        "organizer/meeting_type.html",
        {
            "mt": mt,
            "values": shown,
            "errors": errors or {},
            "notice": notice,
            "focus": focus,
            "question_kinds": QUESTION_KINDS,
            "location_kinds": LOCATION_KINDS,
            "no_link_kinds": sorted(NO_LINK_KINDS),
            "max_questions": MAX_QUESTIONS,
            "reminder_units": reminder_form.UNIT_NAMES,
            "reminder_recipients": reminder_form.RECIPIENTS,
            "max_reminders": MAX_REMINDERS,
            "days": days,
            "zones": sorted(known_zones()),
            "working": [
                (short, hours_text(getattr(working.weekly, key)))
                for key, _, short in days
                if getattr(working.weekly, key)
            ],
            "working_zone": working.time_zone,
            "links": links,
            "link_statuses": LINK_STATUSES,
            "max_label": MAX_LINK_LABEL,
            "bookings_enabled": personal_bookings_status(organization, user).enabled,
            "action_url": f"/meeting-types/{mt.id}",
            "booking_url": f"{settings.base_url}/p/{page.key}/{mt.id}"
            if page and page.published and mt.visibility == "public" and mt.active
            else None,
        },
        status_code=status_code,
        lang=lang,
    )


@router.post("/meeting-types")
def type_create(
    request: Request, fields: FormFields, user: PageUser, session: SessionDep
) -> Response:
    form = NewTypeForm(spoken(user.locale))
    data = form.validate(fields)
    if data is None:
        return render(
            request,
            "error.html",
            {
                "status_code": 422,
                "title": form.say(N_("The meeting type was not created")),
                "message": " ".join(form.errors.values()),
                "code": "validation_error",
            },
            status_code=422,
            lang=form.lang,
        )
    mt = meeting_types.create_type(session, user, data)
    return RedirectResponse(f"/meeting-types/{mt.id}?notice=created", status_code=303)


@router.get("/meeting-types/{type_id}")
def type_page(
    type_id: str,
    request: Request,
    user: PageUser,
    session: SessionDep,
    settings: SettingsDep,
    notice: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    mt = meeting_types.get_type(session, user, type_id)
    return _type_page(
        request, session, settings, user, mt, notice=notice_in(notice, spoken(user.locale))
    )


@router.post("/meeting-types/{type_id}")
def type_save(
    type_id: str,
    request: Request,
    fields: FormFields,
    user: PageUser,
    session: SessionDep,
    settings: SettingsDep,
) -> Response:
    mt = meeting_types.get_type(session, user, type_id)
    form = MeetingTypeForm(spoken(user.locale))
    action = fields.get("action", "save")
    if action.startswith("q_"):  # a question button: the page again, edits kept, unsaved
        form.read(fields)
        form.values["link_unticked"] = form.link_unticked
        rows = form.values.get("question_rows")
        if rows is None:
            rows = MeetingTypeForm.values_of(
                meeting_types.type_out(mt), _working_hours(session, user)
            )["question_rows"]
        form.values["question_rows"], shown = moved_questions(rows, action)
        return _type_page(
            request,
            session,
            settings,
            user,
            mt,
            form.values,
            notice=form.say(NOT_SAVED_YET),
            focus=f"q{shown}_label",
        )
    data = form.validate(fields)
    form.values["link_unticked"] = form.link_unticked
    if data is None:
        return _type_page(
            request, session, settings, user, mt, form.values, form.errors, status_code=422
        )
    meeting_types.update_type(session, user, mt, data)
    notice = "saved_no_link" if form.link_unticked else "saved"
    return RedirectResponse(f"/meeting-types/{mt.id}?notice={notice}", status_code=303)


@router.post("/meeting-types/{type_id}/duplicate")
def type_duplicate(type_id: str, user: PageUser, session: SessionDep) -> Response:
    copy = meeting_types.duplicate_type(
        session, user, meeting_types.get_type(session, user, type_id)
    )
    return RedirectResponse(f"/meeting-types/{copy.id}?notice=duplicated", status_code=303)


@router.get("/meeting-types/{type_id}/delete")
def type_delete_confirm(
    type_id: str, request: Request, user: PageUser, session: SessionDep
) -> Response:
    """ "Delete this meeting type?": the question, and the button that does it."""
    lang = spoken(user.locale)
    gettext = translations(lang).gettext
    mt = meeting_types.get_type(session, user, type_id)
    upcoming = session.scalar(
        select(func.count(Booking.id)).where(
            Booking.meeting_type_id == mt.id,
            Booking.status == "confirmed",
            Booking.end_at > utcnow(),
        )
    )
    kept = translations(lang).ngettext(
        "Its upcoming booking stays: the invitee can still move or cancel it.",
        "Its %(count)d upcoming bookings stay: their invitees can still move or cancel them.",
        upcoming or 0,
    ) % {"count": upcoming or 0}
    return render(
        request,
        "organizer/confirm.html",
        {
            "heading": gettext("Delete a meeting type"),
            "question": gettext("Delete “%(title)s”?") % {"title": mt.title},
            "explanation": gettext("Invitees can no longer book it. Bookings already made stay.")
            + (" " + kept if upcoming else ""),
            "done": None,
            "action": f"/meeting-types/{mt.id}/delete",
            "fields": {},
            "button": gettext("Delete the meeting type"),
            "cancel": f"/meeting-types/{mt.id}",
        },
        lang=lang,
    )


@router.post("/meeting-types/{type_id}/delete")
def type_delete(type_id: str, fields: FormFields, user: PageUser, session: SessionDep) -> Response:
    mt = meeting_types.get_type(session, user, type_id)
    if fields.get("confirm") != "yes":  # a form without the question: ask it first
        return RedirectResponse(f"/meeting-types/{mt.id}/delete", status_code=303)
    meeting_types.delete_type(session, mt, utcnow())
    return RedirectResponse("/?notice=deleted", status_code=303)
