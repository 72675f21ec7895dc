"""The organizer's start page: the page's address, the embed snippet and each new private
link come with a copy button (and stay selectable text without JavaScript); private links
carry a label and are made and turned off with a redirect after the form, the new address
shown once; upcoming days off and special hours are listed; all of it in French for a
French organizer."""

from __future__ import annotations

import re
import time
from datetime import date, datetime, timedelta
from html import unescape
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import Account, create_account, sign_in
from tests.factories import post_form as post

HTML = {"accept": "text/html"}


@pytest.fixture
def ada(client: TestClient, session_factory: sessionmaker[Session]) -> Account:
    account = create_account(session_factory, "ada@example.com", time_zone="Europe/Paris")
    sign_in(client, "ada@example.com")
    return account


def api(client: TestClient, account: Account, path: str) -> Any:
    return client.get(path, headers=account.headers).json()


def start_page(client: TestClient) -> str:
    answer = client.get("/", headers=HTML)
    assert answer.status_code == 200
    return unescape(answer.text)


def first_type(client: TestClient, account: Account) -> dict[str, Any]:
    return api(client, account, "/api/v1/meeting-types")["items"][0]  # type: ignore[no-any-return]


def test_the_page_address_and_the_embed_snippet_have_copy_buttons(
    client: TestClient, ada: Account
) -> None:
    post(client, "/page", action="publish")
    page = api(client, ada, "/api/v1/page")
    html = client.get("/", headers=HTML).text
    # The address is plain, selectable text; the button appears only with JavaScript
    # (copy.js shows it), so nobody without it sees a button that does nothing.
    field = re.search(r'<input id="page-url" type="text" readonly value="([^"]+)">', html)
    assert field is not None and field.group(1) == page["url"]
    button = re.search(
        r'<button type="button"[^>]*data-copy="page-url"[^>]*>([^<]+)</button>', html
    )
    assert button is not None and button.group(1) == "Copy link"
    assert " hidden>" in button.group(0) and 'data-copied="Copied"' in button.group(0)
    assert re.search(r'data-copy="embed-snippet"[^>]*hidden>Copy code</button>', html)
    assert f'src="{page["url"]}"' in unescape(html)  # the snippet itself
    assert '<script src="/static/js/copy.js" defer></script>' in html
    script = client.get("/static/js/copy.js")
    assert script.status_code == 200 and "aria-live" in script.text


def test_a_labelled_link_is_made_once_and_its_address_shown_once(
    client: TestClient, ada: Account
) -> None:
    mt = first_type(client, ada)
    made = post(
        client,
        "/private-links",
        meeting_type_id=mt["id"],
        label="  For Acme's sales team ",
        expires_in_days="30",
        single_use="on",
    )
    # Redirected (so a reload makes no second link), and the address is not in the URL.
    assert made.status_code == 303
    location = made.headers["location"]
    assert re.fullmatch(r"/private-links/[0-9a-f-]{36}/created", location)
    links = api(client, ada, f"/api/v1/meeting-types/{mt['id']}/private-links")["items"]
    assert len(links) == 1
    assert links[0]["label"] == "For Acme's sales team" and links[0]["single_use"] is True
    assert location == f"/private-links/{links[0]['id']}/created"

    shown = client.get(location, headers=HTML)
    assert shown.status_code == 200 and shown.headers["cache-control"] == "private, no-store"
    text = unescape(shown.text)
    url = re.search(
        r'<input id="new-link" type="text" readonly value="(http://testserver/l/[^"]+)"', text
    )
    assert url is not None and "Copy it now: it is shown only this once." in text
    assert "For Acme's sales team" in text and f"For {mt['title']}" in text
    assert re.search(r'data-copy="new-link"[^>]*hidden>Copy link</button>', text)
    invitee = TestClient(client.app)
    assert (
        invitee.get(url.group(1).replace("http://testserver", ""), headers=HTML).status_code == 200
    )

    # Shown once: reloading the page no longer shows the address, and made no second link.
    again = unescape(client.get(location, headers=HTML).text)
    assert url.group(1) not in again and "This link's address is no longer shown." in again
    assert len(api(client, ada, f"/api/v1/meeting-types/{mt['id']}/private-links")["items"]) == 1

    # The start page lists it by its label, with how to turn it off.
    home = start_page(client)
    assert "For Acme's sales team" in home and "one booking only" in home
    assert f'href="/private-links/{links[0]["id"]}/revoke?from=start"' in home
    assert url.group(1) not in home


def test_the_address_is_not_shown_to_another_browser_nor_after_a_few_minutes(
    client: TestClient,
    ada: Account,
    session_factory: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    mt = first_type(client, ada)
    made = post(client, f"/meeting-types/{mt['id']}/links", label="Board", expires_in_days="7")
    location = made.headers["location"]
    # The same organizer in another browser: the link, but not its address.
    elsewhere = TestClient(client.app)
    sign_in(elsewhere, "ada@example.com")
    page = unescape(elsewhere.get(location, headers=HTML).text)
    assert "/l/" not in page and "This link's address is no longer shown." in page
    # Another organizer: no such link.
    create_account(session_factory, "grace@example.com", name="Grace")
    grace = TestClient(client.app)
    sign_in(grace, "grace@example.com")
    assert grace.get(location, headers=HTML).status_code == 404
    # Ada's own browser, eleven minutes later: too late.
    later = time.time() + 11 * 60
    monkeypatch.setattr(time, "time", lambda: later)
    assert "/l/" not in client.get(location, headers=HTML).text


def test_a_link_label_is_one_line_of_at_most_200_characters(
    client: TestClient, ada: Account
) -> None:
    mt = first_type(client, ada)
    for label in ("x" * 201, "two\nlines"):
        refused = post(client, "/private-links", meeting_type_id=mt["id"], label=label)
        assert refused.status_code == 422
        assert "The label must be one line of at most 200 characters." in unescape(refused.text)
    unknown = post(client, "/private-links", meeting_type_id="not-a-type", label="x")
    assert unknown.status_code == 422
    assert "Choose the meeting type the link is for." in unescape(unknown.text)
    assert api(client, ada, f"/api/v1/meeting-types/{mt['id']}/private-links")["items"] == []
    # An empty label is no label.
    post(client, "/private-links", meeting_type_id=mt["id"], label="   ")
    link = api(client, ada, f"/api/v1/meeting-types/{mt['id']}/private-links")["items"][0]
    assert link["label"] is None and "No label" in start_page(client)


def test_the_api_takes_and_shows_a_label(client: TestClient, ada: Account) -> None:
    mt = first_type(client, ada)
    path = f"/api/v1/meeting-types/{mt['id']}/private-links"
    made = client.post(path, json={"label": "For Acme\u2019s sales team"}, headers=ada.headers)
    assert made.status_code == 201
    assert made.json()["label"] == "For Acme\u2019s sales team" and made.json()["token"]
    plain = client.post(path, json={}, headers=ada.headers)
    assert plain.status_code == 201 and plain.json()["label"] is None
    assert {item["label"] for item in api(client, ada, path)["items"]} == {
        "For Acme\u2019s sales team",
        None,
    }
    too_long = client.post(path, json={"label": "x" * 201}, headers=ada.headers)
    assert too_long.status_code == 422
    assert too_long.json()["error"]["details"][0]["field"] == "label"
    assert client.post(path, json={"label": "a\tb"}, headers=ada.headers).status_code == 422
    assert len(api(client, ada, path)["items"]) == 2


def test_turning_a_link_off_asks_first(client: TestClient, ada: Account) -> None:
    mt = first_type(client, ada)
    link = client.post(
        f"/api/v1/meeting-types/{mt['id']}/private-links",
        json={"label": "Board"},
        headers=ada.headers,
    ).json()
    path = f"/api/v1/meeting-types/{mt['id']}/private-links"

    question = client.get(f"/private-links/{link['id']}/revoke?from=start", headers=HTML)
    text = unescape(question.text)
    assert question.status_code == 200
    assert f"Turn off the link “Board” to {mt['title']}?" in text
    assert 'name="confirm" value="yes"' in text and 'name="from" value="start"' in text
    assert api(client, ada, path)["items"][0]["status"] == "active"  # asking changes nothing

    # A form that does not say it was confirmed (an old page) leads to the question.
    unasked = post(client, f"/private-links/{link['id']}/revoke")
    assert unasked.status_code == 303
    assert unasked.headers["location"] == f"/private-links/{link['id']}/revoke?from=type"
    assert api(client, ada, path)["items"][0]["status"] == "active"

    done = post(client, f"/private-links/{link['id']}/revoke", confirm="yes", **{"from": "start"})
    assert done.status_code == 303 and done.headers["location"] == "/?notice=revoked"
    assert api(client, ada, path)["items"][0]["status"] == "revoked"
    home = unescape(client.get(done.headers["location"], headers=HTML).text)
    assert "The link is turned off. Nobody can book through it any more." in home
    assert "Board" not in home  # only links still in use are listed
    asked_again = unescape(client.get(f"/private-links/{link['id']}/revoke", headers=HTML).text)
    assert "This link is already off." in asked_again and 'value="yes"' not in asked_again

    back_to_type = post(client, f"/private-links/{link['id']}/revoke", confirm="yes")
    assert back_to_type.headers["location"] == f"/meeting-types/{mt['id']}?notice=revoked"
    assert client.get("/private-links/not-an-id/revoke", headers=HTML).status_code == 404


def test_upcoming_days_off_and_special_hours_are_listed(client: TestClient, ada: Account) -> None:
    today = datetime.now(ZoneInfo("Europe/Paris")).date()
    schedule = api(client, ada, "/api/v1/me/availability")
    schedule["overrides"] = [
        {"date": (today - timedelta(days=3)).isoformat(), "intervals": []},
        {"date": (today + timedelta(days=2)).isoformat(), "intervals": []},
        {
            "date": (today + timedelta(days=5)).isoformat(),
            "intervals": [{"start": "10:00", "end": "12:00"}, {"start": "14:00", "end": "15:00"}],
        },
    ]
    saved = client.put("/api/v1/me/availability", json=schedule, headers=ada.headers)
    assert saved.status_code == 200, saved.text
    home = start_page(client)

    def heading(day: date) -> str:
        return f"{day:%A}, {day:%B} {day.day}"

    assert "Days off and special hours" in home
    assert f"<dt>{heading(today + timedelta(days=2))}</dt>" in home
    assert '<dd><span class="muted">Day off</span></dd>' in home
    assert f"<dt>{heading(today + timedelta(days=5))}</dt>" in home
    assert "<dd>10:00\u201312:00, 14:00\u201315:00 only</dd>" in home
    assert heading(today - timedelta(days=3)) not in home  # past
    assert '<a href="/availability">Change days off and special hours</a>' in home

    schedule["overrides"] = []
    client.put("/api/v1/me/availability", json=schedule, headers=ada.headers)
    assert "None coming up." in start_page(client)


def test_the_start_page_in_french(client: TestClient, ada: Account) -> None:
    assert client.patch("/api/v1/me", json={"locale": "fr"}, headers=ada.headers).status_code == 200
    schedule = api(client, ada, "/api/v1/me/availability")
    schedule["overrides"] = [{"date": "2099-12-24", "intervals": []}]
    client.put("/api/v1/me/availability", json=schedule, headers=ada.headers)
    post(client, "/page", action="publish")
    published = post(client, "/page", action="publish")
    home = unescape(client.get(published.headers["location"], headers=HTML).text)
    assert '<html lang="fr">' in home
    assert "Votre page est publiée. Partagez son adresse." in home
    assert "Bonjour, Ada Lovelace" in home and "Publiée" in home
    assert "Copier le lien" in home and 'data-copied="Copié"' in home
    assert "Jours de congé et horaires particuliers" in home
    assert "<dt>jeudi 24 décembre</dt>" in home and "Jour de congé" in home
    assert "<dt>Lundi</dt>" in home  # the working hours' days too
    assert "Liens privés" in home and "Libellé (facultatif)" in home
    assert "Published" not in home and "Working hours" not in home

    mt = first_type(client, ada)
    made = post(client, "/private-links", meeting_type_id=mt["id"], label="Conseil")
    created = unescape(client.get(made.headers["location"], headers=HTML).text)
    assert "Votre nouveau lien privé" in created
    assert "Copiez-le maintenant" in created and "Copier le lien" in created
    link = api(client, ada, f"/api/v1/meeting-types/{mt['id']}/private-links")["items"][0]
    question = unescape(client.get(f"/private-links/{link['id']}/revoke", headers=HTML).text)
    assert f"Désactiver le lien «\u00a0Conseil\u00a0» vers {mt['title']}\u00a0?" in question
    assert "Désactiver le lien</button>" in question and "Keep it" not in question
