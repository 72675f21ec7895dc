"""What the API reads and writes about meeting types, private links and the page."""

from __future__ import annotations

import re
import uuid
from typing import Annotated, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    field_validator,
    model_validator,
)

from bookwithme.instants import UTCInstant
from bookwithme.scheduling.schedules import ScheduleData
from bookwithme.validation import SINGLE_LINE, Flag, LongText, Name, PatchModel, at_most

LocationKind = Literal["online", "in_person", "phone", "custom"]
# Where a meeting needs no video link: such a type gets an online meeting link only when
# ``add_online_meeting`` asks for it (SPEC 2.2).
NO_LINK_KINDS = frozenset({"in_person", "phone"})
QuestionKind = Literal["text", "textarea", "select", "checkbox"]
Visibility = Literal["public", "private"]
QuestionId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,49}$")]
OptionText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), at_most(200)
]
Color = Annotated[str, StringConstraints(pattern=r"^#[0-9a-fA-F]{6}$")]
MAX_QUESTIONS = 20
MAX_REMINDERS = 5
MAX_OPTIONS = 50


class Location(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: LocationKind = "online"
    details: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000), at_most(1000)]
        | None
    ) = None


class Question(BaseModel):
    """A custom question on the booking form. ``id`` is the key of the answer; when left
    out it is made from the label."""

    model_config = ConfigDict(extra="forbid")

    id: QuestionId | None = None
    label: Name
    kind: QuestionKind = "text"
    required: Flag = False
    options: Annotated[list[OptionText], Field(max_length=MAX_OPTIONS)] = []

    @model_validator(mode="after")
    def _options_fit_the_kind(self) -> Question:
        if self.kind == "select":
            if not self.options:
                raise ValueError(f"the select question '{self.label}' needs options")
            if len(set(self.options)) != len(self.options):
                raise ValueError(f"the options of '{self.label}' repeat themselves")
        elif self.options:
            raise ValueError(f"options are only for select questions, not '{self.kind}'")
        return self


class Reminder(BaseModel):
    """A reminder of each booking, ``minutes_before`` its start (at most a week), to the
    invitee, the organizer or both."""

    model_config = ConfigDict(extra="forbid")

    minutes_before: Annotated[int, Field(ge=1, le=10080), Strict()]
    to: Literal["invitee", "organizer", "both"] = "invitee"


Reminders = Annotated[list[Reminder], Field(max_length=MAX_REMINDERS)]
DEFAULT_REMINDER = Reminder(minutes_before=1440, to="invitee")


def _slug(label: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:50]
    return slug or "question"


def _with_ids(questions: list[Question]) -> list[Question]:
    seen: set[str] = set()
    result = []
    for q in questions:
        qid = q.id
        if qid is None:
            base = _slug(q.label)
            qid, n = base, 2
            while qid in seen:
                qid, n = f"{base[:45]}_{n}", n + 1
        elif qid in seen:
            raise ValueError(f"two questions have the id '{qid}'")
        seen.add(qid)
        result.append(q.model_copy(update={"id": qid}))
    return result


Questions = Annotated[list[Question], Field(max_length=MAX_QUESTIONS)]
Duration = Annotated[int, Field(ge=5, le=720), Strict()]
Buffer = Annotated[int, Field(ge=0, le=240), Strict()]
Notice = Annotated[int, Field(ge=0, le=43200), Strict()]
AdvanceDays = Annotated[int, Field(ge=1, le=730), Strict()]
SlotInterval = Annotated[int, Field(ge=5, le=720), Strict()]
PerDay = Annotated[int, Field(ge=1, le=100), Strict()]


class MeetingTypeFields(BaseModel):
    """Fields shared by create and update, with the limits of SPEC 2.2."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("questions", check_fields=False)
    @classmethod
    def _question_ids(cls, questions: list[Question] | None) -> list[Question] | None:
        return _with_ids(questions) if questions else questions

    @field_validator("reminders", check_fields=False)
    @classmethod
    def _reminders_differ(cls, reminders: list[Reminder] | None) -> list[Reminder] | None:
        if reminders and len({(r.minutes_before, r.to) for r in reminders}) != len(reminders):
            raise ValueError("two reminders are the same; remove one")
        return reminders


class MeetingTypeCreate(MeetingTypeFields):
    title: Name
    description: LongText = ""
    duration_minutes: Duration = 30
    visibility: Visibility = "public"
    active: Flag = True
    location: Location = Location()
    add_online_meeting: Flag | None = None  # left out: on for online meetings only
    buffer_before_minutes: Buffer = 0
    buffer_after_minutes: Buffer = 0
    minimum_notice_minutes: Notice = 0
    max_advance_days: AdvanceDays = 60
    slot_interval_minutes: SlotInterval | None = None
    max_bookings_per_day: PerDay | None = None
    availability: ScheduleData | None = None
    questions: Questions = []
    reminders: Reminders = [DEFAULT_REMINDER]
    color: Color | None = None


class MeetingTypeUpdate(MeetingTypeFields, PatchModel):
    nullable: ClassVar[frozenset[str]] = frozenset(
        {"slot_interval_minutes", "max_bookings_per_day", "availability", "color"}
    )

    title: Name | None = None
    description: LongText | None = None
    duration_minutes: Duration | None = None
    visibility: Visibility | None = None
    active: Flag | None = None
    location: Location | None = None
    # Left out while ``location`` moves to in person or phone: turned off (no video link
    # for a meeting in a room or on the phone unless asked for).
    add_online_meeting: Flag | None = None
    buffer_before_minutes: Buffer | None = None
    buffer_after_minutes: Buffer | None = None
    minimum_notice_minutes: Notice | None = None
    max_advance_days: AdvanceDays | None = None
    slot_interval_minutes: SlotInterval | None = None
    max_bookings_per_day: PerDay | None = None
    availability: ScheduleData | None = None
    questions: Questions | None = None
    reminders: Reminders | None = None
    color: Color | None = None


class MeetingTypeOut(BaseModel):
    id: uuid.UUID
    title: str
    description: str
    duration_minutes: int
    visibility: str
    active: Flag
    location: Location
    add_online_meeting: Flag
    buffer_before_minutes: int
    buffer_after_minutes: int
    minimum_notice_minutes: int
    max_advance_days: int
    slot_interval_minutes: int | None
    max_bookings_per_day: int | None
    availability: ScheduleData | None
    questions: list[Question]
    reminders: list[Reminder]
    color: str | None
    created_at: UTCInstant
    updated_at: UTCInstant


class PublicMeetingTypeOut(BaseModel):
    """What an invitee sees of a meeting type."""

    id: uuid.UUID
    title: str
    description: str
    duration_minutes: int
    location: Location
    questions: list[Question]
    color: str | None


MAX_EMBED_ORIGINS = 10
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
# An https origin: host name labels and an optional port, nothing after it but a "/".
ORIGIN_PATTERN = rf"^[Hh][Tt][Tt][Pp][Ss]://{_LABEL}(?:\.{_LABEL})*(?::[0-9]{{1,5}})?/?$"
_ORIGIN = re.compile(ORIGIN_PATTERN)
ORIGIN_MESSAGE = (
    "each site must be an https:// origin such as https://www.example.com (no path after it)"
)


def embed_origin(value: str) -> str:
    """A site that may frame the page, as ``https://host[:port]`` in lower case."""
    if not _ORIGIN.match(value.strip()):
        raise ValueError(ORIGIN_MESSAGE)
    return value.strip().rstrip("/").lower()


Origin = Annotated[
    str,
    StringConstraints(max_length=300),
    Field(json_schema_extra={"pattern": ORIGIN_PATTERN}),
]


class PageOut(BaseModel):
    published: bool
    key: str
    url: str
    title: str
    intro: str
    embed_origins: list[str]


class PageUpdate(PatchModel):
    title: (
        Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), at_most(200)]
        | None
    ) = None
    intro: LongText | None = None
    embed_origins: Annotated[list[Origin], Field(max_length=MAX_EMBED_ORIGINS)] | None = None

    @field_validator("embed_origins")
    @classmethod
    def _origins(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        return list(dict.fromkeys(embed_origin(v) for v in value))


class PublishIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    new_link: Flag = False


MAX_LINK_LABEL = 200
_LINE_BREAK_OR_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _one_line(value: str) -> str:
    if _LINE_BREAK_OR_CONTROL.search(value):
        raise ValueError("must be a single line without control characters")
    return value


# Whom a private link is for, in the organizer's words ("For Acme's sales team"): one line;
# an empty one is no label.
LinkLabel = Annotated[
    str,
    StringConstraints(strip_whitespace=True, max_length=MAX_LINK_LABEL),
    at_most(MAX_LINK_LABEL),
    AfterValidator(_one_line),
    SINGLE_LINE,
]


class PrivateLinkCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    single_use: Flag = False
    expires_in_days: Annotated[int, Field(ge=1, le=365), Strict()] = 90
    label: LinkLabel | None = None

    @field_validator("label")
    @classmethod
    def _empty_is_none(cls, value: str | None) -> str | None:
        return value or None


LinkStatus = Literal["active", "expired", "used", "revoked"]


class PrivateLinkOut(BaseModel):
    id: uuid.UUID
    meeting_type_id: uuid.UUID
    # The link's token is stored only as a hash, so its URL can be shown once, when the
    # link is created; afterwards ``url`` is null.
    url: str | None
    label: str | None
    single_use: Flag
    expires_at: UTCInstant
    status: LinkStatus
    created_at: UTCInstant
    used_at: UTCInstant | None = None
    revoked_at: UTCInstant | None = None


class PrivateLinkCreated(PrivateLinkOut):
    token: str
