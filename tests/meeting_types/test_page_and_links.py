"""Publishing the page and handing out private links (SPEC 2.4)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.models import Organization, PrivateLink, utcnow
from bookwithme.security import hash_token
from tests.factories import Account, create_account


@pytest.fixture
def ada(session_factory: sessionmaker[Session]) -> Account:
    return create_account(session_factory, "ada@example.com")


def types_of(client: TestClient, account: Account) -> list[dict]:  # type: ignore[type-arg]
    return client.get("/api/v1/meeting-types", headers=account.headers).json()["items"]


def test_publish_republish_with_a_new_link_and_unpublish(client: TestClient, ada: Account) -> None:
    page = client.get("/api/v1/page", headers=ada.headers).json()
    assert page["published"] is False and page["url"] == f"http://testserver/p/{page['key']}"
    assert client.get(f"/api/v1/public/pages/{page['key']}").status_code == 404

    client.patch(
        "/api/v1/page",
        json={"title": "Book time with Ada", "intro": "Pick a slot."},
        headers=ada.headers,
    )
    published = client.post("/api/v1/page/publish", headers=ada.headers).json()
    assert published["published"] is True and published["key"] == page["key"]
    public = client.get(f"/api/v1/public/pages/{page['key']}").json()
    assert public["organizer"] == {"name": "Ada Lovelace"}
    assert (public["title"], public["intro"]) == ("Book time with Ada", "Pick a slot.")
    assert [t["title"] for t in public["meeting_types"]] == [
        "15 minute meeting",
        "30 minute meeting",
    ]
    assert set(public["meeting_types"][0]) == {
        "id",
        "title",
        "description",
        "duration_minutes",
        "location",
        "questions",
        "color",
    }

    renewed = client.post(
        "/api/v1/page/publish", json={"new_link": True}, headers=ada.headers
    ).json()
    assert renewed["key"] != page["key"] and len(renewed["key"]) >= 43
    assert client.get(f"/api/v1/public/pages/{page['key']}").status_code == 404  # at once
    assert client.get(f"/api/v1/public/pages/{renewed['key']}").status_code == 200

    assert client.post("/api/v1/page/unpublish", headers=ada.headers).json()["published"] is False
    assert client.get(f"/api/v1/public/pages/{renewed['key']}").status_code == 404


def test_the_page_lists_only_public_active_types(client: TestClient, ada: Account) -> None:
    key = client.post("/api/v1/page/publish", headers=ada.headers).json()["key"]
    private = client.post(
        "/api/v1/meeting-types",
        json={"title": "Secret", "visibility": "private"},
        headers=ada.headers,
    ).json()
    t15, t30 = types_of(client, ada)[:2]
    client.patch(f"/api/v1/meeting-types/{t15['id']}", json={"active": False}, headers=ada.headers)
    listed = [t["title"] for t in client.get(f"/api/v1/public/pages/{key}").json()["meeting_types"]]
    assert listed == ["30 minute meeting"]
    # A private type cannot be reached through the page, even by id.
    assert (
        client.get(f"/api/v1/public/pages/{key}/meeting-types/{private['id']}/slots").status_code
        == 404
    )
    assert (
        client.get(f"/api/v1/public/pages/{key}/meeting-types/{t15['id']}/slots").status_code == 404
    )
    assert (
        client.get(f"/api/v1/public/pages/{key}/meeting-types/{t30['id']}/slots").status_code == 200
    )


def test_private_links(client: TestClient, ada: Account, session: Session) -> None:
    private = client.post(
        "/api/v1/meeting-types",
        json={"title": "Interview", "visibility": "private"},
        headers=ada.headers,
    ).json()
    url = f"/api/v1/meeting-types/{private['id']}/private-links"
    created = client.post(url, headers=ada.headers)
    assert created.status_code == 201
    link = created.json()
    assert link["status"] == "active" and link["single_use"] is False
    assert link["url"] == f"http://testserver/l/{link['token']}"
    assert len(link["token"]) >= 43  # 256 random bits
    # 90 days by default.
    expires = link["expires_at"]
    assert expires.endswith("Z")
    stored = session.scalars(select(PrivateLink)).one()
    assert stored.token_hash == hash_token(link["token"]) and link["token"] not in stored.token_hash
    assert abs((stored.expires_at - utcnow()) - timedelta(days=90)) < timedelta(minutes=1)

    public = client.get(f"/api/v1/public/links/{link['token']}").json()
    assert public["organizer"] == {"name": "Ada Lovelace"}
    assert public["meeting_type"]["title"] == "Interview"
    assert client.get(f"/api/v1/public/links/{link['token']}/slots").status_code == 200

    listed = client.get(url, headers=ada.headers).json()["items"]
    assert [(i["id"], i["status"], i["url"]) for i in listed] == [(link["id"], "active", None)]
    assert "token" not in listed[0]

    short = client.post(
        url, json={"expires_in_days": 1, "single_use": True}, headers=ada.headers
    ).json()
    assert short["single_use"] is True
    for bad in (
        {"expires_in_days": 0},
        {"expires_in_days": 366},
        {"single_use": "yes"},
        {"colour": 1},
    ):
        assert client.post(url, json=bad, headers=ada.headers).status_code == 422


def test_expired_used_and_revoked_links_answer_410_with_the_reason(
    client: TestClient, ada: Account, session: Session
) -> None:
    mt = types_of(client, ada)[0]
    url = f"/api/v1/meeting-types/{mt['id']}/private-links"
    expired = client.post(url, headers=ada.headers).json()
    used = client.post(url, json={"single_use": True}, headers=ada.headers).json()
    revoked = client.post(url, headers=ada.headers).json()
    session.execute(
        update(PrivateLink)
        .where(PrivateLink.id == uuid.UUID(expired["id"]))
        .values(expires_at=utcnow() - timedelta(seconds=1))
    )
    session.execute(
        update(PrivateLink).where(PrivateLink.id == uuid.UUID(used["id"])).values(used_at=utcnow())
    )
    session.commit()
    assert (
        client.delete(f"/api/v1/private-links/{revoked['id']}", headers=ada.headers).status_code
        == 204
    )

    for link, code in ((expired, "link_expired"), (used, "link_used"), (revoked, "link_revoked")):
        for path in (
            f"/api/v1/public/links/{link['token']}",
            f"/api/v1/public/links/{link['token']}/slots",
            f"/api/v1/public/links/{link['token']}/days",
        ):
            response = client.get(path)
            assert response.status_code == 410, path
            assert response.json()["error"]["code"] == code
    statuses = {i["id"]: i["status"] for i in client.get(url, headers=ada.headers).json()["items"]}
    assert statuses == {expired["id"]: "expired", used["id"]: "used", revoked["id"]: "revoked"}
    assert client.get("/api/v1/public/links/not-a-real-token").status_code == 404


def test_links_of_deleted_or_inactive_types_are_not_found(client: TestClient, ada: Account) -> None:
    mt = types_of(client, ada)[0]
    token = client.post(
        f"/api/v1/meeting-types/{mt['id']}/private-links", headers=ada.headers
    ).json()["token"]
    client.patch(f"/api/v1/meeting-types/{mt['id']}", json={"active": False}, headers=ada.headers)
    assert client.get(f"/api/v1/public/links/{token}").status_code == 404
    client.patch(f"/api/v1/meeting-types/{mt['id']}", json={"active": True}, headers=ada.headers)
    assert client.get(f"/api/v1/public/links/{token}").status_code == 200
    client.delete(f"/api/v1/meeting-types/{mt['id']}", headers=ada.headers)
    assert client.get(f"/api/v1/public/links/{token}").status_code == 404


def test_another_organizer_cannot_revoke_my_link(
    client: TestClient, ada: Account, session_factory: sessionmaker[Session]
) -> None:
    bob = create_account(session_factory, "bob@example.com", name="Bob")
    mt = types_of(client, ada)[0]
    link = client.post(
        f"/api/v1/meeting-types/{mt['id']}/private-links", headers=ada.headers
    ).json()
    assert (
        client.delete(f"/api/v1/private-links/{link['id']}", headers=bob.headers).status_code == 404
    )
    assert client.get(f"/api/v1/public/links/{link['token']}").status_code == 200


def test_when_personal_bookings_is_off_nothing_is_reachable(
    client: TestClient, ada: Account, session: Session
) -> None:
    key = client.post("/api/v1/page/publish", headers=ada.headers).json()["key"]
    mt = types_of(client, ada)[0]
    token = client.post(
        f"/api/v1/meeting-types/{mt['id']}/private-links", headers=ada.headers
    ).json()["token"]

    session.execute(update(Organization).values(apps_enabled=False))
    session.commit()
    # Takes effect on the next request.
    assert client.get(f"/api/v1/public/pages/{key}").status_code == 404
    assert (
        client.get(f"/api/v1/public/pages/{key}/meeting-types/{mt['id']}/slots").status_code == 404
    )
    assert client.get(f"/api/v1/public/links/{token}").status_code == 404
    for path in ("/api/v1/page/publish", f"/api/v1/meeting-types/{mt['id']}/private-links"):
        response = client.post(path, headers=ada.headers)
        assert response.status_code == 403
        error = response.json()["error"]
        assert error["code"] == "personal_bookings_disabled"
        assert "Apps are turned off for the organization" in error["message"]
    assert client.post("/api/v1/page/unpublish", headers=ada.headers).status_code == 200
    me = client.get("/api/v1/me", headers=ada.headers).json()
    assert me["personal_bookings"] == {
        "enabled": False,
        "reasons": ["Apps are turned off for the organization (apps_enabled is false)"],
    }

    session.execute(update(Organization).values(apps_enabled=None))
    session.commit()
    assert client.get(f"/api/v1/public/links/{token}").status_code == 200
