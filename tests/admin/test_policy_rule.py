"""Every row of the seeds' decision tree, as a table: EwsEnabled true / empty / false; policy
allow list / block list / empty; the app in or out of the list; organization and user level;
eligible and ineligible plans; active and deactivated users."""

from __future__ import annotations

from typing import Any

import pytest

from bookwithme.admin.policy import personal_bookings_status
from bookwithme.models import Organization, User
from bookwithme.models.organization import DEFAULT_ELIGIBLE_PLANS

PB = "PersonalBookings"
ORG_OFF = "Apps are turned off for the organization (apps_enabled is false)"
USER_OFF = "Apps are turned off for this user (apps_enabled is false)"
ORG_ALLOW = (
    f"The access policy of the organization is EnforceAllowList and {PB} is not in its allow list"
)
USER_ALLOW = f"The access policy of this user is EnforceAllowList and {PB} is not in its allow list"
ORG_BLOCK = (
    f"The access policy of the organization is EnforceBlockList and {PB} is in its block list"
)
USER_BLOCK = f"The access policy of this user is EnforceBlockList and {PB} is in its block list"


def org(**fields: Any) -> Organization:
    base = {
        "apps_enabled": None,
        "app_access_policy": None,
        "app_allow_list": [],
        "app_block_list": [],
        "eligible_plans": list(DEFAULT_ELIGIBLE_PLANS),
    }
    return Organization(name="Contoso", **{**base, **fields})


def user(**fields: Any) -> User:
    base = {
        "apps_enabled": None,
        "app_access_policy": None,
        "app_allow_list": [],
        "app_block_list": [],
        "active": True,
        "plan": "Business Standard",
    }
    return User(email="adam@contoso.com", name="Adam", **{**base, **fields})


ROWS = [
    # EwsEnabled, organization level
    ("org apps_enabled true", org(apps_enabled=True), user(), []),
    ("org apps_enabled empty", org(apps_enabled=None), user(), []),
    ("org apps_enabled false", org(apps_enabled=False), user(), [ORG_OFF]),
    # EwsEnabled, user level
    ("user apps_enabled true", org(), user(apps_enabled=True), []),
    ("user apps_enabled false", org(), user(apps_enabled=False), [USER_OFF]),
    # Organization policy
    (
        "org allow list with the app",
        org(app_access_policy="EnforceAllowList", app_allow_list=[PB]),
        user(),
        [],
    ),
    (
        "org allow list without the app",
        org(app_access_policy="EnforceAllowList", app_allow_list=["Other"]),
        user(),
        [ORG_ALLOW],
    ),
    ("org allow list empty", org(app_access_policy="EnforceAllowList"), user(), [ORG_ALLOW]),
    (
        "org block list with the app",
        org(app_access_policy="EnforceBlockList", app_block_list=[PB]),
        user(),
        [ORG_BLOCK],
    ),
    (
        "org block list without the app",
        org(app_access_policy="EnforceBlockList", app_block_list=["Other"]),
        user(),
        [],
    ),
    (
        "org no policy, app in block list",
        org(app_block_list=[PB]),
        user(),
        [],
    ),  # SPEC 2.7: null allows every app
    ("org no policy, app not in allow list", org(app_allow_list=["Other"]), user(), []),
    # User policy
    (
        "user allow list with the app",
        org(),
        user(app_access_policy="EnforceAllowList", app_allow_list=[PB]),
        [],
    ),
    (
        "user allow list without the app",
        org(),
        user(app_access_policy="EnforceAllowList"),
        [USER_ALLOW],
    ),
    (
        "user block list with the app",
        org(),
        user(app_access_policy="EnforceBlockList", app_block_list=[PB]),
        [USER_BLOCK],
    ),
    (
        "user block list without the app",
        org(),
        user(app_access_policy="EnforceBlockList", app_block_list=["X"]),
        [],
    ),
    ("user no policy, app in block list", org(), user(app_block_list=[PB]), []),
    # Both levels must allow it
    (
        "org allows, user blocks",
        org(app_access_policy="EnforceAllowList", app_allow_list=[PB]),
        user(app_access_policy="EnforceBlockList", app_block_list=[PB]),
        [USER_BLOCK],
    ),
    (
        "org blocks, user allows",
        org(app_access_policy="EnforceBlockList", app_block_list=[PB]),
        user(app_access_policy="EnforceAllowList", app_allow_list=[PB]),
        [ORG_BLOCK],
    ),
    (
        "everything off",
        org(apps_enabled=False, app_access_policy="EnforceBlockList", app_block_list=[PB]),
        user(apps_enabled=False, active=False, plan="Kiosk"),
        [
            ORG_OFF,
            ORG_BLOCK,
            USER_OFF,
            "The user is deactivated",
            "The user's plan 'Kiosk' is not one of the organization's eligible plans",
        ],
    ),
    # Plans and activity
    *[(f"eligible plan {p}", org(), user(plan=p), []) for p in DEFAULT_ELIGIBLE_PLANS],
    (
        "ineligible plan",
        org(),
        user(plan="Exchange Online Kiosk"),
        ["The user's plan 'Exchange Online Kiosk' is not one of the organization's eligible plans"],
    ),
    (
        "plan removed from the eligible list",
        org(eligible_plans=["E5"]),
        user(plan="E3"),
        ["The user's plan 'E3' is not one of the organization's eligible plans"],
    ),
    ("deactivated user", org(), user(active=False), ["The user is deactivated"]),
]


@pytest.mark.parametrize(
    ("organization", "person", "reasons"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS]
)
def test_the_rule(organization: Organization, person: User, reasons: list[str]) -> None:
    status = personal_bookings_status(organization, person)
    assert status.reasons == reasons
    assert status.enabled is (reasons == [])
