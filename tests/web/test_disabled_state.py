"""When personal bookings is off for an organizer, the start page says so honestly: no green
"Published" badge, no publishing or link-making buttons, and a banner that says in plain
words who turned it off (the organization, an administrator, a list of apps, the plan)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.admin import policy
from bookwithme.admin.policy import personal_bookings_status
from bookwithme.db import session_scope
from bookwithme.i18n import translations
from bookwithme.models import Organization, User
from bookwithme.web import switched_off
from tests.factories import Account, create_account, sign_in
from tests.factories import post_form as post

HTML = {"accept": "text/html"}
PB = "PersonalBookings"
PUBLISHING = ('value="publish"', 'value="new_link"', 'value="unpublish"', 'action="/private-links"')


@pytest.fixture
def ada(client: TestClient, session_factory: sessionmaker[Session]) -> Account:
    account = create_account(session_factory, "ada@example.com")
    sign_in(client, "ada@example.com")
    post(client, "/page", action="publish")  # published while it was on
    return account


def change(
    factory: sessionmaker[Session], account: Account, edit: Callable[[Organization, User], None]
) -> None:
    with session_scope(factory, write=True) as session:
        user = session.get_one(User, account.user.id)
        edit(session.get_one(Organization, user.organization_id), user)


def start_page(client: TestClient) -> str:
    answer = client.get("/", headers=HTML)
    assert answer.status_code == 200
    return unescape(answer.text)


def assert_switched_off(page: str) -> None:
    assert "Personal bookings is turned off, so nobody can book you." in page
    assert "Published" not in page and "badge success" not in page
    for button in PUBLISHING:
        assert button not in page
    assert 'id="page-url"' not in page and 'id="embed-snippet"' not in page
    for internal in ("apps_enabled", "EnforceAllowList", "EnforceBlockList", PB):
        assert internal not in page


def test_while_on_the_page_is_published_with_its_actions(client: TestClient, ada: Account) -> None:
    page = start_page(client)
    assert '<span class="badge success">Published</span>' in page
    for button in PUBLISHING[1:]:
        assert button in page
    assert "turned off" not in page


def test_a_plan_that_is_not_eligible(
    client: TestClient, ada: Account, session_factory: sessionmaker[Session]
) -> None:
    change(session_factory, ada, lambda org, user: setattr(user, "plan", "Kiosk"))
    page = start_page(client)
    assert_switched_off(page)
    assert (
        "<li>Your plan, Kiosk, does not include personal bookings. Ask your administrator.</li>"
        in page
    )
    assert "Switched off" in page
    # The buttons are gone, and the forms they posted refuse too.
    refused = post(client, "/page", action="new_link")
    assert refused.status_code == 403
    mt = client.get("/api/v1/meeting-types", headers=ada.headers).json()["items"][0]
    assert post(client, "/private-links", meeting_type_id=mt["id"]).status_code == 403

    client.patch("/api/v1/me", json={"locale": "fr"}, headers=ada.headers)
    french = start_page(client)
    assert (
        "Votre forfait, Kiosk, n\u2019inclut pas les réservations personnelles. "
        "Adressez-vous à votre administrateur." in french
    )
    assert "Hors service" in french and "Publiée" not in french


@pytest.mark.parametrize(
    ("edit", "words"),
    [
        (
            lambda org, user: setattr(org, "apps_enabled", False),
            "Your organization has turned personal bookings off for everyone.",
        ),
        (
            lambda org, user: setattr(user, "apps_enabled", False),
            "An administrator has turned personal bookings off for your account.",
        ),
        (
            lambda org, user: (
                setattr(org, "app_access_policy", "EnforceAllowList"),
                setattr(org, "app_allow_list", ["Other"]),
            ),
            "Your organization allows only the apps on its allow list, and personal bookings "
            "is not on it.",
        ),
        (
            lambda org, user: (
                setattr(org, "app_access_policy", "EnforceBlockList"),
                setattr(org, "app_block_list", [PB]),
            ),
            "Your organization has put personal bookings on its block list.",
        ),
        (
            lambda org, user: (
                setattr(user, "app_access_policy", "EnforceAllowList"),
                setattr(user, "app_allow_list", []),
            ),
            "An administrator allowed only some apps for your account, and personal bookings "
            "is not one of them.",
        ),
        (
            lambda org, user: (
                setattr(user, "app_access_policy", "EnforceBlockList"),
                setattr(user, "app_block_list", [PB]),
            ),
            "An administrator has blocked personal bookings for your account.",
        ),
    ],
    ids=[
        "organization",
        "administrator",
        "org-allow-list",
        "org-block-list",
        "user-allow-list",
        "user-block-list",
    ],
)
def test_the_banner_says_who_turned_it_off(
    client: TestClient,
    ada: Account,
    session_factory: sessionmaker[Session],
    edit: Callable[[Organization, User], None],
    words: str,
) -> None:
    change(session_factory, ada, edit)
    page = start_page(client)
    assert_switched_off(page)
    assert f"<li>{words}</li>" in page
    # The API still gives the rule's own reasons, unchanged.
    me = client.get("/api/v1/me", headers=ada.headers).json()
    assert me["personal_bookings"]["enabled"] is False and me["personal_bookings"]["reasons"]


def test_every_cause_is_found_exactly_when_the_rule_says_off() -> None:
    """The rule as SPEC 2.7 states it, written out here on its own, against the causes the
    pages word: all 3 x 5 x 3 x 5 x 2 x 2 settings, each cause with words for both readers."""
    apps = (None, True, False)
    policies = (
        (None, [], []),
        ("EnforceAllowList", [PB], []),
        ("EnforceAllowList", [], [PB]),
        ("EnforceBlockList", [], [PB]),
        ("EnforceBlockList", [PB], []),
    )

    def permits(policy: tuple[str | None, list[str], list[str]]) -> bool:
        name, allow, block = policy
        if name == "EnforceAllowList":
            return PB in allow
        if name == "EnforceBlockList":
            return PB not in block
        return True

    gettext = translations("en").gettext
    for org_apps, org_policy, user_apps, user_policy, active, plan in itertools.product(
        apps, policies, apps, policies, (True, False), ("E3", "Kiosk")
    ):
        org = Organization(
            name="Acme",
            apps_enabled=org_apps,
            app_access_policy=org_policy[0],
            app_allow_list=org_policy[1],
            app_block_list=org_policy[2],
            eligible_plans=["E3"],
        )
        user = User(
            apps_enabled=user_apps,
            app_access_policy=user_policy[0],
            app_allow_list=user_policy[1],
            app_block_list=user_policy[2],
            active=active,
            plan=plan,
        )
        on = (
            org_apps is not False
            and user_apps is not False
            and permits(org_policy)
            and permits(user_policy)
            and active
            and plan == "E3"
        )
        causes = policy.causes(org, user)
        status = personal_bookings_status(org, user)
        assert (not causes) is on and status.enabled is on
        assert [c.reason() for c in causes] == status.reasons
        organizer_words = [switched_off.for_organizer(c, gettext) for c in causes]
        admin_words = [switched_off.for_admin(c, gettext) for c in causes]
        # Each cause has its own words, for the organizer and for the admin.
        assert len(set(organizer_words)) == len(causes) == len(set(admin_words))
