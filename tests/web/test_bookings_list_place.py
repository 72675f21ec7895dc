"""The bookings list says where each meeting takes place (issue 11): the kind of place with
its details (the address of an in-person meeting, the number of a phone call, a custom
place's description) and the online meeting's link when the booking has one; in English,
and in French for an organizer whose locale is ``fr``, reminders included."""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.bookings.test_booking_api import Page, at
from tests.factories import create_account, sign_in
from tests.scheduling.test_public_slots import next_monday

HTML = {"accept": "text/html"}
ADDRESS = "12 rue de la Paix, 75002 Paris"
PHONE = "+33 1 23 45 67 89"


@pytest.fixture
def ada(client: TestClient, session_factory: sessionmaker[Session]) -> Page:
    """Ada, signed in in ``client``, with a published page; invitees book from a browser
    of their own."""
    account = create_account(session_factory, "ada@example.com", time_zone="Europe/Paris")
    sign_in(client, "ada@example.com")
    page = Page(client, account)
    page.client = TestClient(client.app)
    return page


def new_type(ada: Page, title: str, **fields: Any) -> str:
    response = ada.client.post(
        "/api/v1/meeting-types",
        json={"title": title, "duration_minutes": 30, **fields},
        headers=ada.account.headers,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def book(ada: Page, start: str, type_id: str, name: str) -> dict[str, Any]:
    response = ada.book(start, type_id, name=name)
    assert response.status_code == 201, response.text
    return dict(response.json())


def rows(page_text: str) -> dict[str, str]:
    """Each booking's block of the list, by the invitee's name."""
    blocks = re.split(r'<article class="booking-row[^"]*">', page_text)[1:]
    found = {}
    for block in blocks:
        name = re.search(
            r"</strong> with ([^<&]+?) &middot;|</strong> avec ([^<&]+?) &middot;", block
        )
        assert name, block
        found[(name.group(1) or name.group(2)).strip()] = block
    return found


def place(block: str) -> str:
    """The text of a row's place line, as a person reads it."""
    line = re.search(r'<p class="booking-place">(.*?)</p>', block, re.S)
    assert line, block
    text = re.sub(r'<span class="visually-hidden">[^<]*</span>', "", line.group(1))
    return " ".join(unescape(re.sub(r"<[^>]+>", "", text)).split())


def test_each_booking_shows_its_place_with_the_address_number_or_link(
    client: TestClient, ada: Page
) -> None:
    in_person = new_type(ada, "Office visit", location={"kind": "in_person", "details": ADDRESS})
    phone = new_type(ada, "Phone call", location={"kind": "phone", "details": PHONE})
    custom = new_type(ada, "Site walk", location={"kind": "custom", "details": "Gate B, car park"})
    hybrid = new_type(
        ada,
        "Workshop",
        location={"kind": "in_person", "details": "Room 4\nSecond floor"},
        add_online_meeting=True,
    )
    monday = next_monday()
    online = book(ada, at(monday, 9), ada.t30, "Olivia Online")
    book(ada, at(monday, 10), in_person, "Ines Inperson")
    book(ada, at(monday, 11), phone, "Paul Phone")
    book(ada, at(monday, 14), custom, "Cora Custom")
    with_link = book(ada, at(monday, 15), hybrid, "Hugo Hybrid")

    listing = client.get("/bookings", headers=HTML)
    assert listing.status_code == 200
    found = rows(listing.text)

    url = online["online_meeting_url"]
    assert url.startswith("https://")
    assert place(found["Olivia Online"]) == f"Online meeting · {url}"
    assert f'href="{url}"' in found["Olivia Online"]

    # In person: the address, and no video link (none was asked for).
    assert place(found["Ines Inperson"]) == f"In person · {ADDRESS}"
    assert 'href="https://' not in found["Ines Inperson"]

    # A phone call: the number, to call in one tap.
    assert place(found["Paul Phone"]) == f"Phone call · {PHONE}"
    assert 'href="tel:+33123456789"' in found["Paul Phone"]

    # A custom place is its description.
    assert place(found["Cora Custom"]) == "Gate B, car park"

    # In person with a video link asked for: both, the address kept on its lines.
    hybrid_url = with_link["online_meeting_url"]
    assert hybrid_url.startswith("https://")
    assert (
        place(found["Hugo Hybrid"])
        == f"In person · Room 4 Second floor · online meeting {hybrid_url}"
    )
    assert "Room 4\nSecond floor" in unescape(found["Hugo Hybrid"])


def test_a_place_without_details_is_named_and_text_is_never_markup(
    client: TestClient, ada: Page
) -> None:
    bare = new_type(ada, "Coffee", location={"kind": "in_person"})
    sneaky = new_type(
        ada,
        "Sneaky",
        location={"kind": "phone", "details": '<script>alert("x")</script> ask at desk'},
    )
    monday = next_monday()
    book(ada, at(monday, 10), bare, "Bea Bare")
    book(ada, at(monday, 11), sneaky, "Sam Sneaky")
    found = rows(client.get("/bookings", headers=HTML).text)
    assert place(found["Bea Bare"]) == "In person"
    # Not a number, so no tel: link; and the text is shown as text.
    assert "tel:" not in found["Sam Sneaky"]
    assert "<script>" not in found["Sam Sneaky"]
    assert place(found["Sam Sneaky"]) == 'Phone call · <script>alert("x")</script> ask at desk'


def test_in_french_the_place_and_the_reminders_are_in_french(client: TestClient, ada: Page) -> None:
    assert (
        client.patch("/api/v1/me", json={"locale": "fr"}, headers=ada.account.headers).status_code
        == 200
    )
    in_person = new_type(ada, "Visite", location={"kind": "in_person", "details": ADDRESS})
    phone = new_type(ada, "Appel", location={"kind": "phone", "details": PHONE})
    monday = next_monday()
    online = book(ada, at(monday, 9), ada.t30, "Olivia Online")
    book(ada, at(monday, 10), in_person, "Ines Inperson")
    book(ada, at(monday, 11), phone, "Paul Phone")

    listing = client.get("/bookings", headers=HTML)
    text = unescape(listing.text)
    assert '<html lang="fr">' in listing.text
    found = rows(listing.text)
    assert place(found["Olivia Online"]) == f"Réunion en ligne · {online['online_meeting_url']}"
    assert place(found["Ines Inperson"]) == f"En personne · {ADDRESS}"
    assert place(found["Paul Phone"]) == f"Appel téléphonique · {PHONE}"
    assert "Lieu :" in found["Paul Phone"]
    # Each booking has the default reminder: 24 hours before, to the invitee.
    assert "Rappel pour l\u2019invité 24 heures avant" in text
    assert re.search(
        r"Rappel pour l\u2019invité 24 heures avant : <span[^>]*>programmé</span>", text
    )
    assert "Il sera envoyé à l\u2019heure prévue." in text
    for english in ("Online meeting", "In person", "Phone call", "Reminder to", "scheduled"):
        assert english not in text
