"""Embedding (SPEC 2.10): the organizer lists the sites that may show the booking page in
an iframe; the invitee's pages of that organizer then answer ``frame-ancestors`` with them,
and everything else still refuses framing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import Account, create_account, csrf_token, sign_in

HTML = {"accept": "text/html"}
SITES = ["https://www.ada.example", "https://blog.ada.example:8443"]


@pytest.fixture
def ada(session_factory: sessionmaker[Session]) -> Account:
    return create_account(session_factory, "ada@example.com", name="Ada Lovelace")


def framing(response) -> tuple[str | None, str | None]:  # type: ignore[no-untyped-def]
    return (
        response.headers.get("x-frame-options"),
        response.headers.get("content-security-policy"),
    )


def test_listed_sites_may_frame_the_invitee_pages_and_nothing_else(
    client: TestClient, ada: Account
) -> None:
    key = client.post("/api/v1/page/publish", headers=ada.headers).json()["key"]
    type_id = client.get("/api/v1/meeting-types", headers=ada.headers).json()["items"][0]["id"]
    link = client.post(
        f"/api/v1/meeting-types/{type_id}/private-links", headers=ada.headers
    ).json()["token"]
    invitee_pages = [f"/p/{key}", f"/p/{key}/{type_id}", f"/l/{link}"]
    for path in invitee_pages:
        assert framing(client.get(path, headers=HTML)) == ("DENY", "frame-ancestors 'none'")

    saved = client.patch(
        "/api/v1/page",
        json={"embed_origins": ["HTTPS://www.Ada.example/", *SITES]},
        headers=ada.headers,
    )
    assert saved.status_code == 200 and saved.json()["embed_origins"] == SITES
    assert client.get("/api/v1/page", headers=ada.headers).json()["embed_origins"] == SITES
    policy = "frame-ancestors 'self' https://www.ada.example https://blog.ada.example:8443"
    for path in invitee_pages:
        answer = client.get(path, headers=HTML)
        assert answer.status_code == 200 and framing(answer) == (None, policy)
    # A booking made inside the frame lands on its confirmation, which may be framed too.
    slot = client.get(f"/api/v1/public/pages/{key}/meeting-types/{type_id}/slots").json()
    booked = client.post(
        f"/api/v1/public/pages/{key}/meeting-types/{type_id}/bookings",
        json={
            "start": slot["slots"][0]["start"],
            "name": "Grace",
            "email": "grace@example.com",
            "time_zone": "Europe/Paris",
        },
    ).json()
    assert framing(client.get(f"/b/{booked['manage_token']}", headers=HTML)) == (None, policy)
    # The organizer's own pages, the API and unknown addresses still refuse framing.
    for path in ("/api/v1/public/pages/" + key, "/signin", "/p/someone-else"):
        assert framing(client.get(path, headers=HTML)) == ("DENY", "frame-ancestors 'none'")


@pytest.mark.parametrize(
    "origins",
    [
        ["http://www.ada.example"],
        ["https://www.ada.example/booking"],
        ["https://www.ada.example?x=1"],
        ["javascript:alert(1)"],
        ["https://*.ada.example"],
        ["https://" + "a" * 300],
        [f"https://site{n}.example" for n in range(11)],
    ],
)
def test_what_is_not_a_site_is_refused(
    client: TestClient, ada: Account, origins: list[str]
) -> None:
    answer = client.patch("/api/v1/page", json={"embed_origins": origins}, headers=ada.headers)
    assert answer.status_code == 422
    assert answer.json()["error"]["details"][0]["field"].startswith("embed_origins")
    assert client.get("/api/v1/page", headers=ada.headers).json()["embed_origins"] == []


def test_the_start_page_offers_the_link_and_the_embed_code(
    client: TestClient, ada: Account
) -> None:
    sign_in(client, "ada@example.com")
    key = client.post("/api/v1/page/publish", headers=ada.headers).json()["key"]
    start = client.get("/", headers=HTML).text
    assert f'value="http://testserver/p/{key}"' in start and 'data-copy="page-url"' in start
    assert f"&lt;iframe src=&#34;http://testserver/p/{key}&#34;" in start.replace("&quot;", "&#34;")

    def save(text: str):  # type: ignore[no-untyped-def]
        return client.post(
            "/page",
            data={"action": "embed", "embed_origins": text, "csrftoken": csrf_token(client)},
            headers=HTML,
            follow_redirects=False,
        )

    assert save("https://www.ada.example\n\nhttps://blog.ada.example\n").status_code == 303
    page = client.get("/api/v1/page", headers=ada.headers).json()
    assert page["embed_origins"] == ["https://www.ada.example", "https://blog.ada.example"]
    refused = save("https://www.ada.example\nftp://nope")
    assert refused.status_code == 422
    assert "Ftp://nope: each site must be" not in refused.text
    assert "ftp://nope: each site must be an https:// origin" in refused.text
    assert client.get("/api/v1/page", headers=ada.headers).json() == page
