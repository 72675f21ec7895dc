"""Limits on what invitees write without signing in (``bookings/limits.py``): one machine
cannot flood, nobody can use bookwithme to mail-bomb an address, and a real person or an
office behind one address never notices them."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.app import create_app
from bookwithme.bookings import limits
from bookwithme.config import Settings
from bookwithme.db import session_scope
from bookwithme.errors import RateLimited
from bookwithme.models import Booking, OutboxMessage, RateLimitHit, utcnow
from tests.bookings.test_booking_api import Page, at
from tests.factories import create_account
from tests.scheduling.test_public_slots import next_monday

HTML = {"accept": "text/html"}
FRENCH = {"accept": "text/html", "accept-language": "fr-FR,fr;q=0.9"}


@pytest.fixture
def ada(client: TestClient, session_factory: sessionmaker[Session]) -> Page:
    return Page(
        client, create_account(session_factory, "ada@example.com", time_zone="Europe/Paris")
    )


def browser(client: TestClient, address: str) -> TestClient:
    """An invitee whose connections come from ``address`` (not signed in)."""
    return TestClient(client.app, client=(address, 50000))


def book(
    who: TestClient, page: Page, start: str, email: str = "grace@example.com", **more: Any
) -> Any:
    return who.post(
        f"/api/v1/public/pages/{page.key}/meeting-types/{page.t30}/bookings",
        json={"start": start, "name": "Grace", "email": email, "time_zone": "UTC", **more},
    )


def rows(session: Session, model: type[Any]) -> int:
    session.rollback()  # see what the requests committed
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def utc(instant: str) -> str:
    """An instant as the API answers it: in UTC, with Z."""
    return datetime.fromisoformat(instant).astimezone(UTC).isoformat().replace("+00:00", "Z")


def saturday(monday: date, n: int) -> str:
    """Never offered: every booking at it answers 409."""
    return at(monday + timedelta(days=5), 9 + n % 8)


def assert_refused(response: Any, code: str = "rate_limited") -> int:
    """A 429 with Retry-After and a message; returns the seconds to wait."""
    assert response.status_code == 429, response.text
    error = response.json()["error"]
    assert error["code"] == code and "try again in" in error["message"]
    wait = int(response.headers["retry-after"])
    assert wait > 0
    return wait


def test_every_attempt_from_one_address_counts_then_429_writes_nothing(
    ada: Page, session: Session
) -> None:
    monday = next_monday()
    script = browser(ada.client, "203.0.113.7")
    # Failures count as much as bookings: 19 times already taken or never offered...
    for n in range(limits.BOOKINGS_FROM_ADDRESS.most - 1):
        assert book(script, ada, saturday(monday, n), f"p{n}@example.com").status_code == 409
    # ...and one booked: the 20th attempt.
    assert book(script, ada, at(monday, 10), "victim@example.com").status_code == 201
    bookings, emails = rows(session, Booking), rows(session, OutboxMessage)
    hits = rows(session, RateLimitHit)

    refused = book(script, ada, at(monday, 11), "other@example.com")
    wait = assert_refused(refused)
    assert 590 <= wait <= 601  # when the first of the 20 leaves the 10-minute window
    assert "from your network" in refused.json()["error"]["message"]
    # No booking, no email, and not even a hit of its own.
    assert (rows(session, Booking), rows(session, OutboxMessage)) == (bookings, emails)
    assert rows(session, RateLimitHit) == hits
    assert at(monday, 11) in ada.starts(monday)


def test_other_addresses_still_book_and_ipv6_counts_per_network(
    ada: Page, session_factory: sessionmaker[Session]
) -> None:
    monday = next_monday()
    now = utcnow()
    with session_scope(session_factory, write=True) as session:
        for _ in range(limits.BOOKINGS_FROM_ADDRESS.most):
            limits.take_for_address(session, limits.BOOKINGS_FROM_ADDRESS, "203.0.113.7", now)
            limits.take_for_address(session, limits.BOOKINGS_FROM_ADDRESS, "2001:db8::1", now)
    assert_refused(book(browser(ada.client, "203.0.113.7"), ada, at(monday, 9)))
    assert book(browser(ada.client, "203.0.113.8"), ada, at(monday, 9)).status_code == 201
    # One IPv6 host holds a whole /64: another address in it is the same machine.
    assert_refused(book(browser(ada.client, "2001:db8::beef"), ada, at(monday, 10)))
    assert_refused(book(browser(ada.client, "::ffff:203.0.113.7"), ada, at(monday, 10)))
    other_network = browser(ada.client, "2001:db8:0:1::1")
    assert book(other_network, ada, at(monday, 10), "ada2@example.com").status_code == 201


def test_one_email_address_gets_at_most_five_bookings_whoever_sends_them(
    ada: Page, session: Session
) -> None:
    monday = next_monday()
    # A failed booking sends nothing, so it does not count for the email address.
    taken = book(browser(ada.client, "198.51.100.1"), ada, saturday(monday, 0))
    assert taken.status_code == 409
    for n in range(limits.BOOKINGS_FOR_EMAIL.most):
        machine = browser(ada.client, f"198.51.100.{n + 2}")
        # +tags and capitals reach the same inbox: they are the same address here.
        email = f"Victim+{n}@Example.com" if n % 2 else "victim@example.com"
        assert book(machine, ada, at(monday, 9 + n), email).status_code == 201
    before = rows(session, Booking), rows(session, OutboxMessage)
    refused = book(
        browser(ada.client, "198.51.100.99"), ada, at(monday, 15), "victim+x@example.com"
    )
    wait = assert_refused(refused)
    assert 590 <= wait <= 601
    assert "for this email address" in refused.json()["error"]["message"]
    assert (rows(session, Booking), rows(session, OutboxMessage)) == before
    # Someone else, from that same machine, books.
    fine = book(browser(ada.client, "198.51.100.99"), ada, at(monday, 15), "ada@example.org")
    assert fine.status_code == 201


def test_private_link_bookings_are_limited_too(ada: Page, session: Session) -> None:
    link = ada.client.post(
        f"/api/v1/meeting-types/{ada.t30}/private-links", headers=ada.account.headers, json={}
    ).json()
    monday = next_monday()
    script = browser(ada.client, "203.0.113.50")
    path = f"/api/v1/public/links/{link['token']}/bookings"
    body = {"name": "Grace", "time_zone": "UTC"}
    for n in range(limits.BOOKINGS_FOR_EMAIL.most):
        made = script.post(
            path, json={**body, "start": at(monday, 9 + n), "email": "v@example.com"}
        )
        assert made.status_code == 201, made.text
    before = rows(session, Booking), rows(session, OutboxMessage)
    assert_refused(
        script.post(path, json={**body, "start": at(monday, 15), "email": "v@example.com"})
    )
    assert (rows(session, Booking), rows(session, OutboxMessage)) == before


def test_the_count_is_shared_by_every_server_process(
    ada: Page, settings: Settings, session: Session
) -> None:
    """A second app has its own engine, pool and memory, as another ``serve`` process:
    what the first counted, it counts too."""
    monday = next_monday()
    with TestClient(create_app(settings), client=("203.0.113.7", 1)) as other_server:
        half = limits.BOOKINGS_FROM_ADDRESS.most // 2
        for n in range(half):
            assert (
                book(browser(ada.client, "203.0.113.7"), ada, saturday(monday, n)).status_code
                == 409
            )
            assert book(other_server, ada, saturday(monday, n)).status_code == 409
        assert_refused(book(other_server, ada, at(monday, 9)))
        assert_refused(book(browser(ada.client, "203.0.113.7"), ada, at(monday, 9)))
    assert rows(session, Booking) == 0


def test_the_window_frees_again(ada: Page, session: Session) -> None:
    monday = next_monday()
    script = browser(ada.client, "203.0.113.7")
    for n in range(limits.BOOKINGS_FROM_ADDRESS.most):
        assert book(script, ada, saturday(monday, n)).status_code == 409
    assert_refused(book(script, ada, at(monday, 9)))

    def age(by: timedelta) -> None:
        session.rollback()
        for hit in session.scalars(select(RateLimitHit)):
            hit.at -= by
        session.commit()

    age(timedelta(minutes=9))  # a minute to go
    assert 1 <= assert_refused(book(script, ada, at(monday, 9))) <= 61
    age(timedelta(minutes=1, seconds=1))  # all 20 now older than 10 minutes
    assert book(script, ada, at(monday, 9)).status_code == 201
    # Hits older than any window are deleted as new ones come.
    age(limits.LONGEST_WINDOW)
    assert book(script, ada, at(monday, 10), "someone@example.com").status_code == 201
    session.rollback()
    ages = session.scalars(select(RateLimitHit.at)).all()
    assert len(ages) == 2  # the latest attempt, for its address and for its email


def test_take_with_injected_time(session_factory: sessionmaker[Session]) -> None:
    limit = limits.BOOKINGS_FOR_EMAIL
    now = utcnow()
    with session_scope(session_factory, write=True) as session:
        for n in range(limit.most):
            limits.take(session, limit, "grace@example.com", now + timedelta(minutes=n))
    with (
        session_scope(session_factory, write=True) as session,
        pytest.raises(RateLimited) as refused,
    ):
        limits.take(session, limit, "grace@example.com", now + timedelta(minutes=5))
    # The first hit leaves the 10-minute window 5 minutes from then (and a second).
    assert refused.value.retry_after == 5 * 60 + 1
    assert refused.value.message.endswith("try again in 6 minutes.")
    with session_scope(session_factory) as session:
        assert session.scalar(select(func.count()).select_from(RateLimitHit)) == limit.most
    with session_scope(session_factory, write=True) as session:
        # The first one leaves the window: room for exactly one.
        limits.take(session, limit, "grace@example.com", now + limit.window + timedelta(seconds=1))
        with pytest.raises(RateLimited):
            limits.take(
                session, limit, "grace@example.com", now + limit.window + timedelta(seconds=1)
            )
        limits.take(session, limit, "someone@example.com", now)  # other keys are free


def test_email_key() -> None:
    assert limits.email_key("Ada+Talks@Example.COM") == "ada@example.com"
    assert limits.email_key(" ada@example.com ") == "ada@example.com"
    assert limits.email_key("+only@example.com") == "+only@example.com"


def test_the_booking_form_answers_a_readable_page(ada: Page, session: Session) -> None:
    monday = next_monday()
    script = browser(ada.client, "203.0.113.7")
    for n in range(limits.BOOKINGS_FROM_ADDRESS.most):
        assert book(script, ada, saturday(monday, n)).status_code == 409
    path = f"/p/{ada.key}/{ada.t30}"
    form = {
        "start": at(monday, 10),
        "tz": "Europe/Paris",
        "name": "Grace",
        "email": "g@example.com",
    }
    page = script.post(path, data=form, headers=HTML)
    assert page.status_code == 429
    assert page.headers["content-type"].startswith("text/html")
    assert 590 <= int(page.headers["retry-after"]) <= 601
    assert "Too many tries for now" in page.text
    assert "Nothing was saved." in page.text
    assert "Please wait 10 min, then try again." in page.text
    assert f'href="{path}"' in page.text and "Back to the booking page" in page.text
    french = script.post(path, data=form, headers=FRENCH)
    assert french.status_code == 429
    assert "Trop d’essais pour le moment" in french.text  # noqa: RUF001
    assert "Veuillez patienter 10 min, puis réessayer." in french.text
    assert rows(session, Booking) == 0 and rows(session, OutboxMessage) == 0
    # The form's own path counts like the API's: another machine books there.
    done = browser(ada.client, "203.0.113.8").post(path, data=form, follow_redirects=False)
    assert done.status_code == 303


def test_the_email_limit_on_the_booking_form(ada: Page, session: Session) -> None:
    monday = next_monday()
    path = f"/p/{ada.key}/{ada.t30}"
    form = {"tz": "Europe/Paris", "name": "Grace", "email": "victim@example.com"}
    for n in range(limits.BOOKINGS_FOR_EMAIL.most):
        sent = browser(ada.client, f"198.51.100.{n}").post(
            path, data={**form, "start": at(monday, 9 + n)}, follow_redirects=False
        )
        assert sent.status_code == 303
    before = rows(session, Booking), rows(session, OutboxMessage)
    refused = browser(ada.client, "198.51.100.77").post(
        path, data={**form, "start": at(monday, 15)}, headers=HTML
    )
    assert refused.status_code == 429 and "Too many tries for now" in refused.text
    assert (rows(session, Booking), rows(session, OutboxMessage)) == before


def test_one_booking_moves_at_most_ten_times_an_hour(ada: Page, session: Session) -> None:
    monday = next_monday()
    booked = book(browser(ada.client, "198.51.100.1"), ada, at(monday, 9))
    token = booked.json()["manage_token"]
    path = f"/api/v1/public/bookings/{token}"
    # Taken starts change nothing and send nothing: they count for the address only.
    ada_other = book(browser(ada.client, "198.51.100.2"), ada, at(monday, 16), "x@example.com")
    assert ada_other.status_code == 201
    mover = browser(ada.client, "198.51.100.3")
    assert mover.post(f"{path}/reschedule", json={"start": at(monday, 16)}).status_code == 409
    for n in range(limits.CHANGES_TO_BOOKING.most):
        # From several machines: the limit is the booking's.
        who = browser(ada.client, f"198.51.100.{10 + n % 3}")
        moved = who.post(f"{path}/reschedule", json={"start": at(monday, 10 + n % 2)})
        assert moved.status_code == 200, moved.text
    before = rows(session, OutboxMessage)
    refused = browser(ada.client, "198.51.100.99").post(
        f"{path}/reschedule", json={"start": at(monday, 14)}
    )
    wait = assert_refused(refused)
    assert 3500 < wait <= 3601
    assert "moved or cancelled too many times" in refused.json()["error"]["message"]
    assert_refused(browser(ada.client, "198.51.100.99").post(f"{path}/cancel", json={}))
    assert rows(session, OutboxMessage) == before
    still = ada.client.get(path).json()
    assert still["status"] == "confirmed" and still["start"] == utc(at(monday, 11))
    # The organizer is not limited: they cancel from their bookings list.
    cancelled = ada.client.post(
        f"/api/v1/bookings/{booked.json()['id']}/cancel", headers=ada.account.headers
    )
    assert cancelled.status_code == 200


def test_changes_from_one_address_are_limited_whatever_the_token(
    ada: Page, session: Session
) -> None:
    monday = next_monday()
    token = book(ada.client, ada, at(monday, 9)).json()["manage_token"]
    guesser = browser(ada.client, "203.0.113.66")
    for n in range(limits.CHANGES_FROM_ADDRESS.most):
        wrong = guesser.post(f"/api/v1/public/bookings/guess{n}/cancel", json={})
        assert wrong.status_code == 404
    before = rows(session, OutboxMessage)
    refused = guesser.post(f"/api/v1/public/bookings/{token}/cancel", json={})
    assert_refused(refused)
    assert "changes to bookings were tried from your network" in refused.json()["error"]["message"]
    assert rows(session, OutboxMessage) == before
    assert ada.client.get(f"/api/v1/public/bookings/{token}").json()["status"] == "confirmed"
    # The invitee, at home, cancels.
    done = browser(ada.client, "198.51.100.5").post(f"/api/v1/public/bookings/{token}/cancel")
    assert done.status_code == 200 and done.json()["status"] == "cancelled"


def test_the_manage_page_answers_a_readable_page(ada: Page, session: Session) -> None:
    monday = next_monday()
    token = book(ada.client, ada, at(monday, 9), locale="fr").json()["manage_token"]
    guesser = browser(ada.client, "203.0.113.66")
    for n in range(limits.CHANGES_FROM_ADDRESS.most):
        assert guesser.post(f"/b/guess{n}/cancel", data={}, headers=HTML).status_code == 404
    before = rows(session, OutboxMessage)
    for action, form in (("cancel", {"reason": "x"}), ("reschedule", {"start": at(monday, 11)})):
        page = guesser.post(f"/b/{token}/{action}", data=form, headers=HTML)
        assert page.status_code == 429 and int(page.headers["retry-after"]) > 0
        assert "Too many tries for now" in page.text and "Please wait 10 min" in page.text
        assert f'href="/b/{token}"' in page.text and "Back to your meeting" in page.text
    assert rows(session, OutboxMessage) == before
    booking = session.scalars(select(Booking)).one()
    assert booking.status == "confirmed"
    assert booking.start_at == datetime.fromisoformat(at(monday, 9))


def test_limits_can_be_turned_off(
    settings: Settings, session_factory: sessionmaker[Session], session: Session
) -> None:
    """For a load test from one machine, or a kiosk that books for many people."""
    settings.public_write_limits = False
    with TestClient(create_app(settings)) as kiosk:
        page = Page(kiosk, create_account(session_factory, "ada@example.com"))
        monday = next_monday()
        for n in range(limits.BOOKINGS_FROM_ADDRESS.most + 1):
            assert book(kiosk, page, saturday(monday, n)).status_code == 409
        for n in range(limits.BOOKINGS_FOR_EMAIL.most + 1):
            assert book(kiosk, page, at(monday, 9 + n)).status_code == 201
    assert rows(session, RateLimitHit) == 0


def test_the_api_documents_429(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    for path in (
        "/api/v1/public/pages/{page_key}/meeting-types/{type_id}/bookings",
        "/api/v1/public/links/{token}/bookings",
        "/api/v1/public/bookings/{manage_token}/reschedule",
        "/api/v1/public/bookings/{manage_token}/cancel",
    ):
        answer = document["paths"][path]["post"]["responses"]["429"]
        assert answer["x-error-codes"] == ["rate_limited"], path
        assert "Retry-After" in answer["headers"]
        assert answer["content"]["application/json"]["schema"]["$ref"].endswith("/Error")
