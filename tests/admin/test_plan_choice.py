"""On the admin pages a plan is a choice among the organization's plans (the eligible ones,
the other known plan names marked as not eligible, and a user's own unusual plan marked as
such), so a typo can no longer make someone ineligible without a word. The API still takes
any plan name. The pages are in the administrator's language."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import Account, create_account, sign_in
from tests.factories import post_form as post

HTML = {"accept": "text/html"}


@pytest.fixture
def root(client: TestClient, session_factory: sessionmaker[Session]) -> Account:
    account = create_account(session_factory, "root@example.com", name="Root", is_admin=True)
    sign_in(client, "root@example.com")
    return account


def admin_api(client: TestClient, root: Account, path: str) -> Any:
    return client.get(path, headers=root.headers).json()


def options(page: str, select_id: str) -> list[tuple[str, str, bool]]:
    """(value, text, selected) of each option of the <select id=select_id>."""
    select = re.search(rf'<select id="{select_id}"[^>]*>(.*?)</select>', page, re.S)
    assert select is not None
    return [
        (value, unescape(text), bool(selected))
        for value, selected, text in re.findall(
            r'<option value="([^"]*)"( selected)?>([^<]*)</option>', select.group(1)
        )
    ]


def test_a_users_plan_is_a_choice_with_their_unusual_plan_marked(
    client: TestClient, root: Account, session_factory: sessionmaker[Session]
) -> None:
    create_account(session_factory, "adam@example.com", name="Adam", plan="Contoso Gold")
    page = client.get("/admin/users/adam@example.com", headers=HTML).text
    choices = options(page, "f-plan")
    assert choices[:10] == [
        (plan, plan, False)
        for plan in (
            "A3",
            "A5",
            "E1",
            "E3",
            "E5",
            "F1",
            "F3",
            "Business Basic",
            "Business Standard",
            "Business Premium",
        )
    ]
    assert choices[10:] == [("Contoso Gold", "Contoso Gold (current plan, not in the list)", True)]
    assert 'optgroup label="Eligible for personal bookings"' in page
    assert "The plan “Contoso Gold” is not one of the organization&#39;s eligible plans." in page

    # Saving the page as it is keeps the unusual plan: it is one of the choices.
    kept = post(client, "/admin/users/adam@example.com", plan="Contoso Gold", active="on")
    assert kept.status_code == 303
    assert admin_api(client, root, "/api/v1/admin/users/adam@example.com")["plan"] == "Contoso Gold"

    chosen = post(client, "/admin/users/adam@example.com", plan="E3", active="on")
    assert chosen.status_code == 303
    adam = admin_api(client, root, "/api/v1/admin/users/adam@example.com")
    assert adam["plan"] == "E3" and adam["personal_bookings"]["enabled"] is True
    # Once changed, the old unusual plan is no longer offered.
    page = client.get("/admin/users/adam@example.com", headers=HTML).text
    assert "Contoso Gold" not in page and ("E3", "E3", True) in options(page, "f-plan")


def test_a_plan_that_is_not_in_the_list_is_refused_with_a_clear_message(
    client: TestClient, root: Account, session_factory: sessionmaker[Session]
) -> None:
    create_account(session_factory, "adam@example.com", name="Adam", plan="E3")
    typo = post(client, "/admin/users/adam@example.com", plan="Busines Standard", active="on")
    assert typo.status_code == 422
    assert (
        "“Busines Standard” is not one of the organization's plans. Choose a plan from the list."
        in unescape(typo.text)
    )
    assert ("E3", "E3", True) in options(typo.text, "f-plan")  # the form as stored
    assert admin_api(client, root, "/api/v1/admin/users/adam@example.com")["plan"] == "E3"

    refused = post(
        client,
        "/admin/users",
        name="Eve",
        email="eve@example.com",
        time_zone="UTC",
        plan="Bussiness Premium",
    )
    assert refused.status_code == 422
    assert "“Bussiness Premium” is not one of the organization's plans." in unescape(refused.text)
    assert (
        client.get("/api/v1/admin/users/eve@example.com", headers=root.headers).status_code == 404
    )

    # The API keeps taking any plan name (SPEC 2.7): that is the page's choice only.
    patched = client.patch(
        "/api/v1/admin/users/adam@example.com", json={"plan": "Anything"}, headers=root.headers
    )
    assert patched.status_code == 200 and patched.json()["plan"] == "Anything"


def test_the_plan_of_new_users_is_a_choice_too(client: TestClient, root: Account) -> None:
    page = client.get("/admin", headers=HTML).text
    default = options(page, "f-default_plan")
    assert ("Business Standard", "Business Standard", True) in default
    new_user = options(page, "n-plan")
    assert [c for c in new_user if c[2]] == [("Business Standard", "Business Standard", True)]

    # The eligible plans change with the same form: a plan taken off stays a choice,
    # marked as not eligible, and a new one is offered.
    saved = post(
        client,
        "/admin/org",
        section="plans",
        eligible_plans="E3\nContoso Gold",
        default_plan="Contoso Gold",
    )
    assert saved.status_code == 303
    org = admin_api(client, root, "/api/v1/admin/org")
    assert (org["eligible_plans"], org["default_plan"]) == (["E3", "Contoso Gold"], "Contoso Gold")
    page = client.get("/admin", headers=HTML).text
    default = options(page, "f-default_plan")
    assert default[:2] == [("E3", "E3", False), ("Contoso Gold", "Contoso Gold", True)]
    assert ("E5", "E5 (not eligible)", False) in default

    typo = post(client, "/admin/org", section="plans", eligible_plans="E3", default_plan="E33")
    assert typo.status_code == 422
    assert "“E33” is not one of the organization's plans." in unescape(typo.text)
    org = admin_api(client, root, "/api/v1/admin/org")
    assert (org["eligible_plans"], org["default_plan"]) == (["E3", "Contoso Gold"], "Contoso Gold")


def test_the_admin_pages_in_the_admins_language(
    client: TestClient, root: Account, session_factory: sessionmaker[Session]
) -> None:
    create_account(session_factory, "adam@example.com", name="Adam", plan="Kiosk")
    client.patch("/api/v1/me", json={"locale": "fr"}, headers=root.headers)
    page = unescape(client.get("/admin", headers=HTML).text)
    assert '<html lang="fr">' in page
    assert "Paramètres des réservations personnelles" in page
    assert "Réservations personnelles activées : 1 sur 2 utilisateurs." in page
    assert (
        "Le forfait «\u00a0Kiosk\u00a0» ne fait pas partie des forfaits éligibles de l\u2019organisation."
        in page
    )
    assert "Forfait des nouveaux utilisateurs" in page and "Journal d\u2019audit" in page
    user_page = unescape(client.get("/admin/users/adam@example.com", headers=HTML).text)
    assert "Réservations personnelles désactivées" in user_page
    assert "Kiosk (forfait actuel, absent de la liste)" in user_page
    assert "Stratégie d\u2019accès (EwsApplicationAccessPolicy)" in user_page
    saved = post(client, "/admin/users/adam@example.com", plan="E3", active="on")
    after = unescape(client.get(saved.headers["location"], headers=HTML).text)
    assert "L\u2019utilisateur est enregistré." in after
    # The audit log's times are in the administrator's zone, named in the column's heading.
    assert "Quand (Europe/Paris)" in after
