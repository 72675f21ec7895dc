"""What an invitee's browser gets when a page cannot be shown: a page (never JSON) in the
visitor's language, saying what happened and what to do next; the API keeps answering JSON
on the same faults."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.models import PrivateLink, utcnow
from tests.factories import Account, create_account

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
FRENCH = {"accept": BROWSER, "accept-language": "fr-FR,fr;q=0.9,en;q=0.8"}
ENGLISH = {"accept": BROWSER, "accept-language": "en-US,en;q=0.9"}


@pytest.fixture
def ada(session_factory: sessionmaker[Session]) -> Account:
    return create_account(session_factory, "ada@example.com", name="Ada Lovelace")


def first_type(client: TestClient, ada: Account) -> str:
    return str(client.get("/api/v1/meeting-types", headers=ada.headers).json()["items"][0]["id"])


def new_link(client: TestClient, ada: Account, **body: object) -> dict[str, str]:
    url = f"/api/v1/meeting-types/{first_type(client, ada)}/private-links"
    return client.post(url, json=body, headers=ada.headers).json()  # type: ignore[no-any-return]


def page_parts(html: str) -> tuple[str, str, list[str]]:
    """The page's language, its heading and the addresses of its buttons."""
    lang = re.search(r'<html lang="([^"]+)"', html)
    heading = re.search(r"<h1>([^<]+)</h1>", html)
    buttons = re.findall(r'<a class="button [^"]+" href="([^"]+)"', html)
    assert lang and heading, html[:500]
    return lang.group(1), heading.group(1), buttons


def test_a_used_link_in_french_offers_the_organizers_page(
    client: TestClient, ada: Account, session: Session
) -> None:
    key = client.post("/api/v1/page/publish", headers=ada.headers).json()["key"]
    link = new_link(client, ada, single_use=True)
    session.execute(
        update(PrivateLink).where(PrivateLink.id == uuid.UUID(link["id"])).values(used_at=utcnow())
    )
    session.commit()

    page = client.get(f"/l/{link['token']}", headers=FRENCH)
    assert page.status_code == 410 and page.headers["content-type"].startswith("text/html")
    lang, heading, buttons = page_parts(page.text)
    assert (lang, heading, buttons) == ("fr", "Ce lien a déjà servi", [f"/p/{key}"])
    assert "ne valait que pour une réservation" in page.text
    assert "Demandez un nouveau lien à Ada Lovelace." in page.text
    assert "Voir la page de réservation de Ada Lovelace" in page.text
    assert 'href="/"' not in page.text.split("</header>")[-1]  # no start page: it is hers

    # The same fault through the API stays JSON.
    api = client.get(f"/api/v1/public/links/{link['token']}", headers=FRENCH)
    assert api.status_code == 410 and api.json()["error"]["code"] == "link_used"


@pytest.mark.parametrize(
    ("state", "heading"),
    [("expired", "This link has expired"), ("revoked", "This link was turned off")],
)
def test_expired_and_revoked_links_without_a_published_page(
    client: TestClient, ada: Account, session: Session, state: str, heading: str
) -> None:
    link = new_link(client, ada)
    if state == "expired":
        session.execute(
            update(PrivateLink)
            .where(PrivateLink.id == uuid.UUID(link["id"]))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        session.commit()
    else:
        client.delete(f"/api/v1/private-links/{link['id']}", headers=ada.headers)
    page = client.get(f"/l/{link['token']}", headers=ENGLISH)
    assert page.status_code == 410
    assert page_parts(page.text) == ("en", heading, [])  # no page to send them to
    assert "Ask Ada Lovelace for a new link." in page.text


def test_browsers_that_accept_anything_get_a_page_and_api_clients_json(
    client: TestClient, ada: Account
) -> None:
    for accept in ("*/*", ""):
        page = client.get("/l/not-a-link", headers={"accept": accept})
        assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
        assert "Ask the person who sent it for a new link." in page.text
    json = client.get("/l/not-a-link", headers={"accept": "application/json"})
    assert json.status_code == 404 and json.json()["error"]["code"] == "not_found"


def test_unknown_pages_types_and_bookings(client: TestClient, ada: Account) -> None:
    key = client.post("/api/v1/page/publish", headers=ada.headers).json()["key"]

    unknown_page = client.get("/p/nobody-here", headers=FRENCH)
    assert unknown_page.status_code == 404
    assert page_parts(unknown_page.text) == ("fr", "Introuvable", [])
    assert "Il n\u2019y a pas de page de réservation à cette adresse." in unknown_page.text

    gone_type = client.get(f"/p/{key}/{uuid.uuid4()}", headers=ENGLISH)
    assert gone_type.status_code == 404
    assert page_parts(gone_type.text)[2] == [f"/p/{key}"]
    assert "This meeting type is not offered any more." in gone_type.text

    unknown_booking = client.get("/b/not-a-booking", headers=FRENCH)
    assert unknown_booking.status_code == 404
    assert "Utilisez le lien de votre e-mail de confirmation" in unknown_booking.text


def test_another_organizers_page_is_never_offered(
    client: TestClient, ada: Account, session_factory: sessionmaker[Session]
) -> None:
    bob = create_account(session_factory, "bob@example.com", name="Bob")
    client.post("/api/v1/page/publish", headers=bob.headers)
    page = client.get("/l/not-a-link", headers=ENGLISH)
    assert page_parts(page.text)[2] == []
