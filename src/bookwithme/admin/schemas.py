"""What the admin API reads and writes: the organization's and users' settings (SPEC 2.7)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, StringConstraints, Tag

from bookwithme.accounts.schemas import PersonalBookingsOut
from bookwithme.instants import UTCInstant
from bookwithme.scheduling.schedules import TimeZoneName
from bookwithme.validation import Email, Flag, Locale, Name, PatchModel, at_most

AppId = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9._-]{1,100}$")]
# One line with something besides spaces, as a name: a plan that strips to nothing or
# spans lines could never be chosen again.
PlanName = Annotated[Name, StringConstraints(max_length=100), at_most(100)]
AccessPolicy = Literal["EnforceAllowList", "EnforceBlockList"]
MAX_LIST = 100


class ListChange(BaseModel):
    """The seeds' ``@{Add=…}`` / ``@{Remove=…}``: change a list without restating it."""

    model_config = ConfigDict(extra="forbid")

    add: Annotated[list[AppId], Field(max_length=MAX_LIST)] = []
    remove: Annotated[list[AppId], Field(max_length=MAX_LIST)] = []


class PlanListChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    add: Annotated[list[PlanName], Field(max_length=MAX_LIST)] = []
    remove: Annotated[list[PlanName], Field(max_length=MAX_LIST)] = []


def _list_or_change(value: Any) -> str:
    return "change" if isinstance(value, (dict, BaseModel)) else "list"


# A list or a change, told apart by the value's own shape, so a mistake is reported against
# what was sent (not once for each reading of it).
AppList = Annotated[
    Annotated[list[AppId], Field(max_length=MAX_LIST), Tag("list")]
    | Annotated[ListChange, Tag("change")],
    Discriminator(_list_or_change),
]
PlanList = Annotated[
    Annotated[list[PlanName], Field(max_length=MAX_LIST), Tag("list")]
    | Annotated[PlanListChange, Tag("change")],
    Discriminator(_list_or_change),
]


def apply_list(current: list[Any], change: list[str] | ListChange | PlanListChange) -> list[str]:
    """A list replaces; ``{"add", "remove"}`` edits (order kept, no duplicates)."""
    if isinstance(change, list):
        result = list(dict.fromkeys(change))
    else:
        result = [item for item in current if item not in change.remove]
        for item in change.add:
            if item not in result:
                result.append(item)
    if len(result) > MAX_LIST:
        raise ValueError(f"a list holds at most {MAX_LIST} entries")
    return result


class PolicyPatch(PatchModel):
    nullable: ClassVar[frozenset[str]] = frozenset({"apps_enabled", "app_access_policy"})

    apps_enabled: Flag | None = None
    app_access_policy: AccessPolicy | None = None
    app_allow_list: AppList | None = None
    app_block_list: AppList | None = None


class OrgOut(BaseModel):
    name: str
    apps_enabled: bool | None
    app_access_policy: str | None
    app_allow_list: list[str]
    app_block_list: list[str]
    eligible_plans: list[str]
    default_plan: str
    allow_signup: bool


class OrgPatch(PolicyPatch):
    name: Name | None = None
    eligible_plans: PlanList | None = None
    default_plan: PlanName | None = None
    allow_signup: Flag | None = None


class AdminUserOut(BaseModel):
    id: uuid.UUID
    email: str
    name: str
    time_zone: str
    locale: str
    plan: str
    is_admin: bool
    active: bool
    apps_enabled: bool | None
    app_access_policy: str | None
    app_allow_list: list[str]
    app_block_list: list[str]
    personal_bookings: PersonalBookingsOut


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    name: Name
    time_zone: TimeZoneName = "UTC"
    locale: Locale = "en"
    plan: PlanName | None = None
    is_admin: Flag = False
    password: Annotated[str, StringConstraints(min_length=8, max_length=1024)] | None = None


class UserPatch(PolicyPatch):
    name: Name | None = None
    plan: PlanName | None = None
    is_admin: Flag | None = None
    active: Flag | None = None


class AuditEntryOut(BaseModel):
    id: uuid.UUID
    created_at: UTCInstant
    actor: str
    action: str
    target_type: str
    target: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
