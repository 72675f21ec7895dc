"""The organizer's pages in the browser: publishing, working hours, meeting types with their
private links, and bookings. Each form changes what the API shows, or nothing at all."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from html import unescape
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.bookings.test_booking_api import Page, at
from tests.factories import Account, create_account, sign_in
from tests.factories import post_form as post
from tests.scheduling.test_public_slots import next_monday

HTML = {"accept": "text/html"}


@pytest.fixture
def ada(client: TestClient, session_factory: sessionmaker[Session]) -> Account:
    account = create_account(session_factory, "ada@example.com", time_zone="Europe/Paris")
    sign_in(client, "ada@example.com")
    return account


def api(client: TestClient, account: Account, path: str) -> Any:
    return client.get(path, headers=account.headers).json()


def test_pages_need_a_signed_in_organizer(client: TestClient, ada: Account) -> None:
    stranger = TestClient(client.app)
    for path in ("/availability", "/bookings", "/meeting-types/x"):
        answer = stranger.get(path, headers=HTML, follow_redirects=False)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/signin")
    # A form without the browser's CSRF token changes nothing.
    forged = client.post("/page", data={"action": "publish"}, headers=HTML)
    assert forged.status_code == 403
    assert api(client, ada, "/api/v1/page")["published"] is False


def test_publish_move_and_hide_the_page(client: TestClient, ada: Account) -> None:
    published = post(client, "/page", action="publish")
    assert published.status_code == 303 and published.headers["location"] == "/?notice=published"
    page = api(client, ada, "/api/v1/page")
    assert page["published"] is True
    home = client.get(published.headers["location"], headers=HTML)
    assert "Your page is published." in home.text and page["url"] in home.text

    post(client, "/page", action="new_link")
    moved = api(client, ada, "/api/v1/page")
    assert moved["key"] != page["key"] and moved["published"] is True
    assert client.get(f"/p/{page['key']}", headers=HTML).status_code == 404

    saved = post(client, "/page", action="save", title="Meet Ada", intro="Any weekday.")
    assert saved.status_code == 303
    assert api(client, ada, "/api/v1/page")["title"] == "Meet Ada"
    too_long = post(client, "/page", action="save", title="x" * 201, intro="")
    assert too_long.status_code == 422 and "title" in too_long.text
    assert api(client, ada, "/api/v1/page")["title"] == "Meet Ada"

    post(client, "/page", action="unpublish")
    assert api(client, ada, "/api/v1/page")["published"] is False
    assert client.get(f"/p/{moved['key']}", headers=HTML).status_code == 404


def test_working_hours_are_written_as_people_write_them(client: TestClient, ada: Account) -> None:
    form = client.get("/availability", headers=HTML)
    assert 'value="09:00-17:00"' in form.text and "Europe/Paris" in form.text
    saved = post(
        client,
        "/availability",
        time_zone="America/New_York",
        mon="9:00-12:00, 13:00 - 17:30",
        tue="08:00\u201316:00",
        wed="",
        thu="10:00-24:00",
        fri="",
        sat="",
        sun="",
        overrides="2026-12-24: off\n\n2026-12-27: 10:00-12:00",
    )
    assert saved.status_code == 303, saved.text
    schedule = api(client, ada, "/api/v1/me/availability")
    assert schedule["time_zone"] == "America/New_York"
    assert schedule["weekly"]["mon"] == [
        {"start": "09:00", "end": "12:00"},
        {"start": "13:00", "end": "17:30"},
    ]
    assert schedule["weekly"]["tue"] == [{"start": "08:00", "end": "16:00"}]
    assert schedule["weekly"]["thu"] == [{"start": "10:00", "end": "24:00"}]
    assert schedule["weekly"]["wed"] == [] and schedule["weekly"]["fri"] == []
    assert schedule["overrides"] == [
        {"date": "2026-12-24", "intervals": []},
        {"date": "2026-12-27", "intervals": [{"start": "10:00", "end": "12:00"}]},
    ]
    again = client.get("/availability", headers=HTML)
    assert (
        "2026-12-27: 10:00-12:00" in again.text and 'value="09:00-12:00, 13:00-17:30"' in again.text
    )


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"mon": "nine to five"}, "mon", "is not a time range"),
        ({"tue": "17:00-09:00"}, "tue", "start"),
        ({"wed": "09:00-12:00, 11:00-13:00"}, "wed", "overlap"),
        ({"thu": "25:00-26:00"}, "thu", "HH:MM"),
        ({"time_zone": "Mars/Base"}, "time_zone", "IANA"),
        ({"overrides": "someday: off"}, "overrides", "date"),
        ({"overrides": "2026-12-24: lunch"}, "overrides", "Line 1"),
    ],
)
def test_wrong_hours_are_explained_and_nothing_is_saved(
    client: TestClient, ada: Account, fields: dict[str, str], field: str, message: str
) -> None:
    before = api(client, ada, "/api/v1/me/availability")
    form = {"time_zone": "Europe/Paris", "mon": "09:00-17:00", **fields}
    answer = post(client, "/availability", **form)
    assert answer.status_code == 422
    assert "Nothing was saved." in answer.text
    assert message in unescape(answer.text), answer.text[-2000:]
    marked = re.findall(r'class="field[^"]*has-error[^"]*">\s*<label for="f-(\w+)"', answer.text)
    assert marked == [field]
    assert api(client, ada, "/api/v1/me/availability") == before


def test_meeting_types_are_created_edited_linked_and_deleted(
    client: TestClient, ada: Account
) -> None:
    created = post(client, "/meeting-types", title="Intro call", duration_minutes="45")
    assert created.status_code == 303
    type_id = created.headers["location"].split("/")[2].split("?")[0]
    mt = api(client, ada, f"/api/v1/meeting-types/{type_id}")
    assert (mt["title"], mt["duration_minutes"]) == ("Intro call", 45)

    fields = {
        "title": "Intro call",
        "description": "A first talk.",
        "duration_minutes": "20",
        "visibility": "private",
        "location_kind": "phone",
        "location_details": "+33 1 23 45 67 89",
        "active": "on",
        "buffer_before_minutes": "5",
        "buffer_after_minutes": "10",
        "minimum_notice_minutes": "120",
        "max_advance_days": "30",
        "slot_interval_minutes": "",
        "max_bookings_per_day": "3",
    }
    saved = post(client, f"/meeting-types/{type_id}", **fields)
    assert saved.status_code == 303
    mt = api(client, ada, f"/api/v1/meeting-types/{type_id}")
    assert mt["duration_minutes"] == 20 and mt["visibility"] == "private"
    assert mt["location"] == {"kind": "phone", "details": "+33 1 23 45 67 89"}
    assert (mt["buffer_before_minutes"], mt["buffer_after_minutes"]) == (5, 10)
    assert mt["slot_interval_minutes"] is None and mt["max_bookings_per_day"] == 3
    assert mt["add_online_meeting"] is False and mt["active"] is True

    wrong = post(
        client,
        f"/meeting-types/{type_id}",
        **{**fields, "duration_minutes": "721", "max_advance_days": "soon"},
    )
    assert wrong.status_code == 422
    assert "Enter a whole number." in wrong.text and 'value="721"' in wrong.text
    assert api(client, ada, f"/api/v1/meeting-types/{type_id}")["duration_minutes"] == 20
    limits = post(client, f"/meeting-types/{type_id}", **{**fields, "duration_minutes": "721"})
    assert limits.status_code == 422 and "Enter a length from 5 to 720 minutes." in limits.text

    made = post(client, f"/meeting-types/{type_id}/links", expires_in_days="7", single_use="on")
    assert made.status_code == 303  # reloading the page it leads to makes no second link
    shown = client.get(made.headers["location"], headers=HTML)
    url = re.search(r'href="(http://testserver/l/[^"]+)"', shown.text)
    assert url is not None and "shown only this once" in shown.text
    links = api(client, ada, f"/api/v1/meeting-types/{type_id}/private-links")["items"]
    assert len(links) == 1 and links[0]["single_use"] is True
    invitee = TestClient(client.app)
    assert (
        invitee.get(url.group(1).replace("http://testserver", ""), headers=HTML).status_code == 200
    )
    assert post(client, f"/meeting-types/{type_id}/links", expires_in_days="400").status_code == 422
    revoked = post(client, f"/private-links/{links[0]['id']}/revoke", confirm="yes")
    assert revoked.status_code == 303
    assert (
        api(client, ada, f"/api/v1/meeting-types/{type_id}/private-links")["items"][0]["status"]
        == "revoked"
    )
    gone = invitee.get(url.group(1).replace("http://testserver", ""), headers=HTML)
    assert gone.status_code == 410

    copy = post(client, f"/meeting-types/{type_id}/duplicate")
    copy_id = copy.headers["location"].split("/")[2].split("?")[0]
    assert copy_id != type_id
    assert api(client, ada, f"/api/v1/meeting-types/{copy_id}")["duration_minutes"] == 20
    asked = post(client, f"/meeting-types/{copy_id}/delete")  # without the question: asked
    assert asked.headers["location"] == f"/meeting-types/{copy_id}/delete"
    assert client.get(f"/api/v1/meeting-types/{copy_id}", headers=ada.headers).status_code == 200
    deleted = post(client, f"/meeting-types/{copy_id}/delete", confirm="yes")
    assert deleted.status_code == 303
    assert client.get(f"/api/v1/meeting-types/{copy_id}", headers=ada.headers).status_code == 404
    assert client.get(f"/meeting-types/{copy_id}", headers=HTML).status_code == 404


def test_another_organizers_things_are_not_found(
    client: TestClient, ada: Account, session_factory: sessionmaker[Session]
) -> None:
    grace = create_account(session_factory, "grace@example.com", name="Grace")
    theirs = api(client, grace, "/api/v1/meeting-types")["items"][0]["id"]
    assert client.get(f"/meeting-types/{theirs}", headers=HTML).status_code == 404
    assert post(client, f"/meeting-types/{theirs}", title="Mine now").status_code == 404
    assert post(client, f"/meeting-types/{theirs}/delete").status_code == 404
    assert api(client, grace, f"/api/v1/meeting-types/{theirs}")["title"] != "Mine now"


def test_bookings_are_listed_with_answers_and_cancelled_from_the_list(
    client: TestClient, ada: Account
) -> None:
    page = Page(client, ada)
    page.client = TestClient(client.app)  # the invitee books from their own browser
    monday = next_monday()
    booked = page.book(at(monday, 10), name="Grace <Hopper>", notes="About compilers").json()
    listing = client.get("/bookings", headers=HTML)
    assert "Grace &lt;Hopper&gt;" in listing.text and "About compilers" in listing.text
    assert "10:00" in listing.text and "30 minute meeting" in listing.text
    cancelled = post(client, f"/bookings/{booked['id']}/cancel", reason="Sorry, ill")
    assert cancelled.status_code == 303
    assert api(client, ada, f"/api/v1/bookings/{booked['id']}")["status"] == "cancelled"
    assert "No upcoming bookings yet." in client.get("/bookings", headers=HTML).text
    shown = client.get("/bookings", params={"show": "cancelled"}, headers=HTML).text
    assert "Sorry, ill" in shown
    assert client.get("/bookings", params={"show": "everything"}, headers=HTML).status_code == 422
    assert post(client, "/bookings/not-an-id/cancel").status_code == 404


@pytest.mark.private_targets  # the feed is served on 127.0.0.1
def test_calendars_are_connected_read_and_disconnected_in_the_browser(
    client: TestClient, ada: Account
) -> None:
    from tests.calendars.test_calendar_sync import Feed, ics

    paris = ZoneInfo("Europe/Paris")
    tomorrow = datetime.now(paris).date() + timedelta(days=1)

    def when(hour: int, days: int = 0) -> datetime:
        day = tomorrow + timedelta(days=days)
        return datetime(day.year, day.month, day.day, hour, tzinfo=paris)

    feed = Feed()
    try:
        feed.body = ics((when(10), when(11)), (when(14), when(15)))
        assert "Connect a calendar" in client.get("/", headers=HTML).text
        connected = post(client, "/calendars", kind="ics", url=feed.url, name="")
        assert connected.status_code == 303
        page = client.get(connected.headers["location"], headers=HTML).text
        # Read at once: what it blocks in the coming week is listed, in Ada's zone.
        assert "2 busy periods" in page and "(Europe/Paris)" in page
        assert f"<dt>{tomorrow:%A}, {tomorrow:%B} {tomorrow.day}</dt>" in page
        assert "<dd>10:00\u201311:00, 14:00\u201315:00</dd>" in page
        calendar = api(client, ada, "/api/v1/calendars")["items"][0]
        assert calendar["name"] == "127.0.0.1" and calendar["last_synced_at"] is not None

        feed.body = ics((when(9), when(10, days=1)))  # into the next day
        read = post(client, f"/calendars/{calendar['id']}/sync")
        assert read.status_code == 303
        after = client.get(read.headers["location"], headers=HTML).text
        assert "1 busy period " in after and "Read again just now." in after
        later = tomorrow + timedelta(days=1)
        assert f"<dd>09:00\u2013{later:%a} {later.day} {later:%b} 10:00</dd>" in after

        feed.status = 500
        post(client, f"/calendars/{calendar['id']}/sync")
        failing = client.get("/calendars", headers=HTML).text
        assert "500" in failing and "1 busy period " in failing  # last good copy

        gone = post(client, f"/calendars/{calendar['id']}/delete", confirm="yes")
        assert gone.status_code == 303
        assert api(client, ada, "/api/v1/calendars")["items"] == []
    finally:
        feed.stop()


@pytest.mark.private_targets  # the feed is served on 127.0.0.1
def test_a_calendar_that_cannot_be_read_is_not_connected(client: TestClient, ada: Account) -> None:
    from tests.calendars.test_calendar_sync import Feed

    feed = Feed()
    try:
        feed.body = b"<!DOCTYPE html><html><body>Sign in to Contoso</body></html>"
        answer = post(client, "/calendars", kind="ics", url=feed.url, name="Work")
        assert answer.status_code == 422
        assert "Nothing was connected." in answer.text
        assert "The address answered a web page, not a calendar" in answer.text
        assert "Contoso" not in answer.text  # what the server sent is not repeated
        assert f'value="{feed.url}"' in answer.text  # the address is kept to correct it
        feed.status, feed.body = 404, b"Not here"
        answer = post(client, "/calendars", kind="ics", url=feed.url, name="Work")
        assert answer.status_code == 422 and "answered 404" in answer.text
        assert api(client, ada, "/api/v1/calendars")["items"] == []
    finally:
        feed.stop()


def test_a_calendar_on_a_private_address_is_refused_in_the_browser(
    client: TestClient, ada: Account
) -> None:
    from tests.support.local_http import LocalServer

    server = LocalServer()
    try:
        answer = post(client, "/calendars", kind="ics", url=server.url + "cal.ics", name="Work")
        assert answer.status_code == 422
        assert "non-public network" in answer.text
        assert "BOOKWITHME_ALLOW_PRIVATE_TARGETS=true" in answer.text
        assert server.requests == []  # nothing was asked of it
        assert api(client, ada, "/api/v1/calendars")["items"] == []
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "ics", "url": "ftp://example.com/cal.ics"}, "http:// or https://"),
        ({"kind": "ics", "url": "https://example.com/c.ics", "password": "x"}, "read-only"),
        (
            {"kind": "exchange", "url": "https://example.com/c.ics"},
            "&#39;ics&#39; or &#39;caldav&#39;",
        ),
        ({"kind": "ics", "url": ""}, "at least 8"),
    ],
)
def test_a_calendar_that_cannot_be_connected_is_explained(
    client: TestClient, ada: Account, fields: dict[str, str], message: str
) -> None:
    answer = post(client, "/calendars", **fields)
    assert answer.status_code == 422
    assert "Nothing was connected." in answer.text and message in answer.text
    assert 'value="x"' not in answer.text  # a typed password is never sent back
    assert api(client, ada, "/api/v1/calendars")["items"] == []


def test_questions_are_added_changed_and_removed_on_the_meeting_type_page(
    client: TestClient, ada: Account
) -> None:
    type_id = api(client, ada, "/api/v1/meeting-types")["items"][1]["id"]
    form = client.get(f"/meeting-types/{type_id}", headers=HTML)
    assert 'name="q0_label"' in form.text and 'name="q1_label"' not in form.text  # one empty row
    base = {
        "title": "30 minute meeting",
        "duration_minutes": "30",
        "visibility": "public",
        "location_kind": "online",
        "active": "on",
        "buffer_before_minutes": "0",
        "buffer_after_minutes": "0",
        "minimum_notice_minutes": "0",
        "max_advance_days": "60",
    }
    added = post(
        client,
        f"/meeting-types/{type_id}",
        **base,
        q0_label="Company",
        q0_kind="text",
        q0_required="on",
        q1_label="Topic",
        q1_kind="select",
        q1_options="Hiring, Sales ,",
    )
    assert added.status_code == 303, added.text
    questions = api(client, ada, f"/api/v1/meeting-types/{type_id}")["questions"]
    assert questions == [
        {"id": "company", "label": "Company", "kind": "text", "required": True, "options": []},
        {
            "id": "topic",
            "label": "Topic",
            "kind": "select",
            "required": False,
            "options": ["Hiring", "Sales"],
        },
    ]
    shown = client.get(f"/meeting-types/{type_id}", headers=HTML).text
    assert 'value="Hiring, Sales"' in shown and 'name="q2_label"' in shown  # 2 + 1 empty row
    assert 'name="q3_label"' not in shown

    # Renaming keeps the id (answers already given keep their key); a cleared label removes.
    post(
        client,
        f"/meeting-types/{type_id}",
        **base,
        q0_id="company",
        q0_label="Company name",
        q0_kind="text",
        q1_id="topic",
        q1_label="",
        q1_kind="select",
        q1_options="Hiring, Sales",
    )
    questions = api(client, ada, f"/api/v1/meeting-types/{type_id}")["questions"]
    assert questions == [
        {"id": "company", "label": "Company name", "kind": "text", "required": False, "options": []}
    ]

    wrong = post(
        client,
        f"/meeting-types/{type_id}",
        **base,
        q0_id="company",
        q0_label="Company name",
        q0_kind="text",
        q1_label="Pick one",
        q1_kind="select",
        q1_options="",
    )
    assert wrong.status_code == 422
    assert "needs options" in unescape(wrong.text) and 'value="Pick one"' in wrong.text
    assert len(api(client, ada, f"/api/v1/meeting-types/{type_id}")["questions"]) == 1
