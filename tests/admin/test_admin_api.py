"""The admin API: organization and user policy, users, the audit log; 403 for everyone else."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import Account, create_account, sign_in

PB = "PersonalBookings"


@pytest.fixture
def root(session_factory: sessionmaker[Session]) -> Account:
    return create_account(session_factory, "root@example.com", name="Root", is_admin=True)


@pytest.fixture
def adam(session_factory: sessionmaker[Session], root: Account) -> Account:
    return create_account(
        session_factory, "adam@example.com", name="Adam", time_zone="Europe/Paris"
    )


def test_org_settings_with_add_and_remove(client: TestClient, root: Account, adam: Account) -> None:
    org = client.get("/api/v1/admin/org", headers=root.headers).json()
    assert org == {
        "name": "Acme",
        "apps_enabled": None,
        "app_access_policy": None,
        "app_allow_list": [],
        "app_block_list": [],
        "eligible_plans": [
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
        ],
        "default_plan": "Business Standard",
        "allow_signup": False,
    }
    # Seeds, step 2A: EnforceAllowList without the app turns it off for everyone...
    changed = client.patch(
        "/api/v1/admin/org",
        json={"app_access_policy": "EnforceAllowList", "app_allow_list": {"add": ["Other"]}},
        headers=root.headers,
    ).json()
    assert changed["app_allow_list"] == ["Other"]
    assert client.get("/api/v1/me", headers=adam.headers).json()["personal_bookings"] == {
        "enabled": False,
        "reasons": [
            f"The access policy of the organization is EnforceAllowList and {PB} is not in its allow list"
        ],
    }
    # ...and @{Add="PersonalBookings"} turns it back on at the next request.
    client.patch(
        "/api/v1/admin/org", json={"app_allow_list": {"add": [PB, PB]}}, headers=root.headers
    )
    assert (
        client.get("/api/v1/me", headers=adam.headers).json()["personal_bookings"]["enabled"]
        is True
    )
    removed = client.patch(
        "/api/v1/admin/org", json={"app_allow_list": {"remove": ["Other"]}}, headers=root.headers
    ).json()
    assert removed["app_allow_list"] == [PB]
    replaced = client.patch(
        "/api/v1/admin/org",
        json={"app_allow_list": ["A", "B", "A"], "apps_enabled": None},
        headers=root.headers,
    ).json()
    assert replaced["app_allow_list"] == ["A", "B"]
    plans = client.patch(
        "/api/v1/admin/org",
        json={"eligible_plans": {"remove": ["Business Standard"]}},
        headers=root.headers,
    ).json()
    assert "Business Standard" not in plans["eligible_plans"]


@pytest.mark.parametrize(
    "body",
    [
        {"app_access_policy": "AllowAll"},
        {"apps_enabled": "yes"},
        {"app_allow_list": "PersonalBookings"},
        {"app_allow_list": {"add": ["has space"]}},
        {"app_allow_list": {"append": ["X"]}},
        {"app_block_list": ["x" * 101]},
        {"eligible_plans": [""]},
        {"name": None},
        {"allow_signup": None},
        {"unknown": 1},
    ],
)
def test_bad_org_settings_are_refused_and_logged_nowhere(
    client: TestClient, root: Account, body: dict
) -> None:  # type: ignore[type-arg]
    before = client.get("/api/v1/admin/org", headers=root.headers).json()
    response = client.patch("/api/v1/admin/org", json=body, headers=root.headers)
    assert response.status_code == 422, body
    assert client.get("/api/v1/admin/org", headers=root.headers).json() == before
    assert client.get("/api/v1/admin/audit-log", headers=root.headers).json()["items"] == []


def test_users_policy_plans_and_deactivation(
    client: TestClient, root: Account, adam: Account
) -> None:
    users = client.get("/api/v1/admin/users", headers=root.headers).json()["items"]
    assert [(u["email"], u["personal_bookings"]["enabled"]) for u in users] == [
        ("adam@example.com", True),
        ("root@example.com", True),
    ]

    blocked = client.patch(
        "/api/v1/admin/users/ADAM@example.com",
        json={"app_access_policy": "EnforceBlockList", "app_block_list": {"add": [PB]}},
        headers=root.headers,
    ).json()
    assert blocked["personal_bookings"] == {
        "enabled": False,
        "reasons": [
            f"The access policy of this user is EnforceBlockList and {PB} is in its block list"
        ],
    }
    assert (
        client.post("/api/v1/page/publish", headers=adam.headers).json()["error"]["code"]
        == "personal_bookings_disabled"
    )
    client.patch(
        "/api/v1/admin/users/adam@example.com",
        json={"app_block_list": {"remove": [PB]}},
        headers=root.headers,
    )
    assert client.post("/api/v1/page/publish", headers=adam.headers).status_code == 200

    kiosk = client.patch(
        "/api/v1/admin/users/adam@example.com", json={"plan": "Kiosk"}, headers=root.headers
    ).json()
    assert kiosk["personal_bookings"]["reasons"] == [
        "The user's plan 'Kiosk' is not one of the organization's eligible plans"
    ]

    sign_in(client, "adam@example.com")
    off = client.patch(
        "/api/v1/admin/users/adam@example.com", json={"active": False}, headers=root.headers
    ).json()
    assert (
        off["active"] is False and "The user is deactivated" in off["personal_bookings"]["reasons"]
    )
    assert client.get("/api/v1/me").status_code == 401  # the session ended
    assert (
        client.get("/api/v1/me", headers=adam.headers).status_code == 401
    )  # and the token stopped

    created = client.post(
        "/api/v1/admin/users",
        json={"email": "Eve@Example.com", "name": "Eve", "plan": "E5", "time_zone": "Asia/Tokyo"},
        headers=root.headers,
    )
    assert (
        created.status_code == 201
        and created.json()["email"] == "eve@example.com"
        and created.json()["plan"] == "E5"
    )
    assert (
        client.post(
            "/api/v1/admin/users",
            json={"email": "eve@example.com", "name": "Eve"},
            headers=root.headers,
        ).status_code
        == 409
    )
    assert (
        client.get("/api/v1/admin/users/nobody@example.com", headers=root.headers).status_code
        == 404
    )


def test_the_last_admin_stays(client: TestClient, root: Account) -> None:
    for body in ({"is_admin": False}, {"active": False}):
        response = client.patch(
            "/api/v1/admin/users/root@example.com", json=body, headers=root.headers
        )
        assert response.status_code == 409 and response.json()["error"]["code"] == "last_admin"
    client.post(
        "/api/v1/admin/users",
        json={"email": "second@example.com", "name": "Second", "is_admin": True},
        headers=root.headers,
    )
    assert (
        client.patch(
            "/api/v1/admin/users/root@example.com", json={"is_admin": False}, headers=root.headers
        ).status_code
        == 200
    )


def test_every_change_is_in_the_audit_log_newest_first(
    client: TestClient, root: Account, adam: Account
) -> None:
    client.patch("/api/v1/admin/org", json={"apps_enabled": False}, headers=root.headers)
    client.patch(
        "/api/v1/admin/users/adam@example.com",
        json={"plan": "E3", "name": "Adam"},
        headers=root.headers,
    )
    client.patch(
        "/api/v1/admin/org", json={"apps_enabled": False}, headers=root.headers
    )  # no change, no entry
    log = client.get("/api/v1/admin/audit-log", headers=root.headers).json()
    assert [(e["action"], e["target"], e["actor"]) for e in log["items"]] == [
        ("user.update", "adam@example.com", "root@example.com"),
        ("organization.update", "Acme", "root@example.com"),
    ]
    assert log["items"][0]["before"] == {"plan": "Business Standard"} and log["items"][0][
        "after"
    ] == {"plan": "E3"}
    assert log["items"][1]["before"] == {"apps_enabled": None} and log["items"][1]["after"] == {
        "apps_enabled": False
    }
    assert log["items"][0]["created_at"].endswith("Z")
    first = client.get("/api/v1/admin/audit-log", params={"limit": 1}, headers=root.headers).json()
    second = client.get(
        "/api/v1/admin/audit-log",
        params={"limit": 1, "cursor": first["next_cursor"]},
        headers=root.headers,
    ).json()
    assert [first["items"][0]["id"], second["items"][0]["id"]] == [e["id"] for e in log["items"]]


def test_non_admins_get_403_everywhere(client: TestClient, adam: Account) -> None:
    for method, path in (
        ("GET", "/api/v1/admin/org"),
        ("PATCH", "/api/v1/admin/org"),
        ("GET", "/api/v1/admin/users"),
        ("POST", "/api/v1/admin/users"),
        ("GET", "/api/v1/admin/users/adam@example.com"),
        ("PATCH", "/api/v1/admin/users/adam@example.com"),
        ("GET", "/api/v1/admin/audit-log"),
        ("GET", "/api/v1/admin/outbox"),
    ):
        response = client.request(
            method, path, headers=adam.headers, json={} if method in ("PATCH", "POST") else None
        )
        assert response.status_code == 403, path
        assert response.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"eligible_plans": {"add": ["E3", "\f"]}}, "eligible_plans.change.add.1"),
        ({"eligible_plans": ["E3", "  "]}, "eligible_plans.list.1"),
        ({"eligible_plans": ["E3", "two\nlines"]}, "eligible_plans.list.1"),
        ({"default_plan": "\u2003"}, "default_plan"),
        ({"app_allow_list": {"add": ["no spaces allowed"]}}, "app_allow_list.change.add.0"),
        ({"eligible_plans": 3}, "eligible_plans.list"),
    ],
)
def test_a_bad_plan_or_list_is_named_once_by_what_was_sent(
    client: TestClient, root: Account, body: dict, field: str
) -> None:  # type: ignore[type-arg]
    """A list and an {add, remove} change are told apart by what was sent: the error names
    that one place, not each way the value could have been read."""
    response = client.patch("/api/v1/admin/org", json=body, headers=root.headers)
    assert response.status_code == 422, response.text
    details = response.json()["error"]["details"]
    assert [d["field"] for d in details] == [field], details
    assert "function-before" not in response.text and "constrained-str" not in response.text
