"""The admin settings page: the summary, the policy, plans, users and the audit log."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import create_account, csrf_token, sign_in

HTML = {"accept": "text/html"}
PB = "PersonalBookings"


def test_an_admin_turns_personal_bookings_off_and_on_from_the_page(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    create_account(session_factory, "root@example.com", name="Root", is_admin=True)
    adam = create_account(session_factory, "adam@example.com", name="Adam")
    sign_in(client, "root@example.com")
    page = client.get("/admin", headers=HTML)
    assert page.status_code == 200
    assert (
        "Personal bookings is on for the organization" in page.text
        and "Personal bookings is on for 2 of 2 users." in page.text
    )

    token = csrf_token(client)
    saved = client.post(
        "/admin/org",
        data={
            "csrftoken": token,
            "apps_enabled": "default",
            "app_access_policy": "allow",
            "app_allow_list": "",
            "app_block_list": "",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303
    page = client.get(saved.headers["location"], headers=HTML)
    assert (
        "The organization&#39;s settings are saved" in page.text
        or "The organization's settings are saved" in page.text
    )
    assert "Personal bookings is off for the whole organization" in page.text
    assert (
        f"The organization allows only the apps in its allow list, and {PB} is not in it."
        in page.text
    )
    assert (
        client.get("/api/v1/me", headers=adam.headers).json()["personal_bookings"]["enabled"]
        is False
    )

    client.post(
        "/admin/org",
        data={"csrftoken": token, "app_access_policy": "allow", "app_allow_list": f"{PB}\nOther"},
    )
    assert (
        client.get("/api/v1/me", headers=adam.headers).json()["personal_bookings"]["enabled"]
        is True
    )

    # One user: block list on their own settings, then deactivation.
    client.post(
        "/admin/users/adam@example.com",
        data={
            "csrftoken": token,
            "plan": "E3",
            "apps_enabled": "default",
            "app_access_policy": "block",
            "app_allow_list": "",
            "app_block_list": PB,
            "active": "on",
        },
    )
    user_page = client.get("/admin/users/adam@example.com", headers=HTML)
    assert (
        "Personal bookings is off" in user_page.text
        and f"{PB} is in this user&#39;s block list." in user_page.text
    )
    client.post(
        "/admin/users/adam@example.com",
        data={"csrftoken": token, "plan": "E3", "app_access_policy": "none"},
    )
    assert client.get("/api/v1/me", headers=adam.headers).status_code == 401  # "active" unticked
    log = client.get("/admin", headers=HTML).text
    assert "user.update" in log and "organization.update" in log


def test_plans_signup_and_new_users(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    create_account(session_factory, "root@example.com", name="Root", is_admin=True)
    sign_in(client, "root@example.com")
    token = csrf_token(client)
    client.post(
        "/admin/org",
        data={
            "csrftoken": token,
            "section": "plans",
            "eligible_plans": "E3\nE5",
            "default_plan": "E5",
            "allow_signup": "on",
        },
    )
    org = client.get("/api/v1/admin/org", headers={"X-CSRFToken": token}).json()
    assert (org["eligible_plans"], org["default_plan"], org["allow_signup"]) == (
        ["E3", "E5"],
        "E5",
        True,
    )

    created = client.post(
        "/admin/users",
        data={
            "csrftoken": token,
            "name": "Eve",
            "email": "eve@example.com",
            "time_zone": "Asia/Tokyo",
            "password": "long enough",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    eve = client.get("/api/v1/admin/users/eve@example.com").json()
    assert (eve["plan"], eve["time_zone"], eve["is_admin"]) == ("E5", "Asia/Tokyo", False)
    again = client.post(
        "/admin/users",
        data={"csrftoken": token, "name": "Eve", "email": "eve@example.com"},
        headers=HTML,
    )
    assert again.status_code == 409 and "already exists" in again.text
    bad = client.post(
        "/admin/users", data={"csrftoken": token, "name": "", "email": "x"}, headers=HTML
    )
    assert bad.status_code == 422


def test_the_page_is_for_admins_and_forms_need_the_token(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    create_account(session_factory, "root@example.com", name="Root", is_admin=True)
    create_account(session_factory, "adam@example.com", name="Adam")
    assert (
        client.get("/admin", headers=HTML, follow_redirects=False).status_code == 303
    )  # to sign in
    sign_in(client, "adam@example.com")
    assert client.get("/admin", headers=HTML).status_code == 403
    client.cookies.clear()
    sign_in(client, "root@example.com")
    forged = client.post("/admin/org", data={"csrftoken": "forged", "apps_enabled": "off"})
    assert forged.status_code == 403
    assert client.get("/api/v1/admin/org").json()["apps_enabled"] is None
