"""The booking page's month calendar (``/p/{key}/{type}`` and ``/l/{token}``): the grid
marks exactly the days the ``/days`` API gives, the chosen day's times are exactly the
slots API's, the next day with room is chosen, the months page forward and back, the
zone picker is grouped with offsets and local times, and the clock follows the locale."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.web import pages_invitee
from tests.bookings.test_booking_api import Page
from tests.factories import create_account
from tests.scheduling.test_public_slots import next_monday

NBSP = "\N{NO-BREAK SPACE}"
US = {"accept-language": "en-US,en;q=0.9"}
GB = {"accept-language": "en-GB,en;q=0.9"}
FRENCH = {"accept-language": "fr-FR,fr;q=0.9,en;q=0.5"}


@pytest.fixture
def ada(client: TestClient, session_factory: sessionmaker[Session]) -> Page:
    return Page(
        client, create_account(session_factory, "ada@example.com", time_zone="Europe/Paris")
    )


def marked_days(html: str) -> list[str]:
    """The dates the month grid offers, in order."""
    return re.findall(r'<a id="d-(\d{4}-\d{2}-\d{2})" class="day-link', html)


def chosen_day(html: str) -> str | None:
    found = re.search(r'data-date="(\d{4}-\d{2}-\d{2})"[^>]*aria-current="true"', html)
    return found.group(1) if found else None


def offered(html: str) -> list[tuple[str, str]]:
    return [
        (parse_qs(urlsplit(unescape(href)).query)["start"][0], unescape(label))
        for href, label in re.findall(r'<a class="time" href="([^"]+)">([^<]+)</a>', html)
    ]


def link_to(html: str, element_id: str) -> dict[str, str] | None:
    found = re.search(rf'id="{element_id}" class="[^"]*" href="([^"]+)"', html)
    if not found:
        return None
    return {k: v[0] for k, v in parse_qs(urlsplit(unescape(found.group(1))).query).items()}


def this_month(zone: str) -> date:
    return datetime.now(ZoneInfo(zone)).date().replace(day=1)


def next_month(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1)


def days_api(ada: Page, month: date, zone: str, base: str | None = None) -> list[str]:
    base = base or f"/api/v1/public/pages/{ada.key}/meeting-types/{ada.t30}"
    answer = ada.client.get(f"{base}/days", params={"month": f"{month:%Y-%m}", "tz": zone})
    assert answer.status_code == 200, answer.text
    return [d["date"] for d in answer.json()["days"]]


def slots_api(ada: Page, day: date, zone: str) -> list[str]:
    answer = ada.client.get(
        f"/api/v1/public/pages/{ada.key}/meeting-types/{ada.t30}/slots",
        params={"start": day.isoformat(), "end": day.isoformat(), "tz": zone},
    )
    assert answer.status_code == 200, answer.text
    return [s["start"] for s in answer.json()["slots"]]


def set_hours(ada: Page, overrides: list[dict[str, Any]]) -> None:
    """No weekly hours at all: only the given dates are open."""
    put = ada.client.put(
        "/api/v1/me/availability",
        json={
            "time_zone": "Europe/Paris",
            "weekly": {d: [] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
            "overrides": overrides,
            "date_range": None,
        },
        headers=ada.account.headers,
    )
    assert put.status_code == 200, put.text


def page(ada: Page, headers: dict[str, str] | None = None, **params: str) -> str:
    answer = TestClient(ada.client.app).get(
        f"/p/{ada.key}/{ada.t30}", params=params, headers={"accept": "text/html", **(headers or {})}
    )
    assert answer.status_code == 200, answer.text
    return answer.text


@pytest.mark.parametrize("zone", ["Europe/Paris", "America/New_York", "Pacific/Kiritimati"])
def test_the_grid_marks_exactly_the_days_the_days_api_gives(ada: Page, zone: str) -> None:
    # A full day (a busy block over all of next Monday's hours) must not be marked.
    monday = next_monday()
    block = ada.client.post(
        "/api/v1/me/busy",
        json={
            "start": f"{monday}T06:00:00Z",
            "end": f"{monday}T17:00:00Z",
            "title": "Offsite",
        },
        headers=ada.account.headers,
    )
    assert block.status_code == 201, block.text
    for month in (this_month(zone), next_month(this_month(zone))):
        html = page(ada, tz=zone, month=f"{month:%Y-%m}")
        expected = days_api(ada, month, zone)
        assert marked_days(html) == expected
        if zone == "Europe/Paris" and monday.month == month.month:
            assert monday.isoformat() not in expected
            assert (monday + timedelta(days=1)).isoformat() in expected


@pytest.mark.parametrize("zone", ["Europe/Paris", "America/New_York", "Asia/Kolkata"])
def test_the_chosen_days_times_are_the_slots_api_s(ada: Page, zone: str) -> None:
    monday = next_monday()
    html = page(ada, tz=zone, day=monday.isoformat())
    assert chosen_day(html) == monday.isoformat()
    starts = [start for start, _ in offered(html)]
    assert starts == slots_api(ada, monday, zone)
    assert starts  # a Monday of default hours has room in every one of these zones
    # No Accept-Language at all: a 24-hour clock.
    first = datetime.fromisoformat(starts[0])
    assert offered(html)[0][1] == f"{first:%H:%M}"
    # The older ``from`` address still opens that day.
    assert offered(page(ada, tz=zone, **{"from": monday.isoformat()})) == offered(html)


def test_the_next_day_with_room_is_chosen_even_months_ahead(ada: Page) -> None:
    zone = "Europe/Paris"
    html = page(ada, tz=zone)
    month = this_month(zone)
    days = days_api(ada, month, zone) or days_api(ada, next_month(month), zone)
    assert chosen_day(html) == days[0]
    assert [start for start, _ in offered(html)] == slots_api(
        ada, date.fromisoformat(days[0]), zone
    )

    # Nothing for the next five weeks: the first visit opens the month with room.
    later = datetime.now(ZoneInfo(zone)).date() + timedelta(days=40)
    set_hours(ada, [{"date": later.isoformat(), "intervals": [{"start": "09:00", "end": "10:00"}]}])
    html = page(ada, tz=zone)
    assert chosen_day(html) == later.isoformat()
    assert f"{later:%B %Y}" in html
    assert [label for _, label in offered(html)] == ["09:00", "09:30"]
    # Asking for this month on purpose shows it, empty, with the way to the next free day.
    if later.month != month.month:
        empty = page(ada, tz=zone, month=f"{month:%Y-%m}")
        assert marked_days(empty) == [] and offered(empty) == []
        assert "No free times in this month." in empty
        jump = re.search(r'href="([^"]+)">Next free day: ([^<]+)</a>', empty)
        assert jump is not None
        assert f"day={later.isoformat()}" in unescape(jump.group(1))
    # A day without room says so and points on.
    html = page(ada, tz=zone, day=(later - timedelta(days=1)).isoformat())
    assert "No free times on this day." in html
    assert "Next free day:" in html

    # Beyond the type's horizon (60 days) nothing is looked for.
    set_hours(ada, [])
    html = page(ada, tz=zone)
    assert chosen_day(html) is None and "Next free day" not in html


def test_months_page_forward_and_back_but_not_into_the_past(ada: Page) -> None:
    zone = "America/New_York"
    month = this_month(zone)
    html = page(ada, tz=zone)
    assert link_to(html, "m-prev") is None  # not before the current month
    assert link_to(html, "m-next") == {"tz": zone, "month": f"{next_month(month):%Y-%m}"}
    following = page(ada, tz=zone, month=f"{next_month(month):%Y-%m}")
    assert link_to(following, "m-prev") == {"tz": zone, "month": f"{month:%Y-%m}"}
    # A past month shows the current one; one beyond the horizon, the last one with room.
    assert marked_days(page(ada, tz=zone, month="2020-01")) == marked_days(html)
    far = page(ada, tz=zone, month=f"{month.year + 5}-01")
    assert link_to(far, "m-next") is None
    horizon = datetime.now(ZoneInfo(zone)).date() + timedelta(days=61)
    assert f"{horizon:%Y-%m}" in far
    # Every day link keeps the zone and the month.
    monday = next_monday()
    day_link = link_to(page(ada, tz=zone, day=monday.isoformat()), f"d-{monday.isoformat()}")
    assert day_link == {"tz": zone, "month": f"{monday:%Y-%m}", "day": monday.isoformat()}


@pytest.mark.parametrize("month", ["2026-13", "26-01", "someday", "2026-1"])
def test_a_bad_month_is_422(ada: Page, month: str) -> None:
    answer = TestClient(ada.client.app).get(
        f"/p/{ada.key}/{ada.t30}", params={"month": month}, headers={"accept": "text/html"}
    )
    assert answer.status_code == 422 and "month" in answer.text


def test_the_zone_list_is_grouped_with_offsets_and_local_times(ada: Page) -> None:
    html = page(ada, US, tz="Europe/Paris")
    select = html[html.index('<select id="f-tz"') : html.index("</select>")]
    groups = re.findall(r'<optgroup label="([^"]+)"', select)
    assert groups[0] == "Your time zone"
    assert {"Africa", "America", "Asia", "Europe", "Pacific Ocean", "Universal time"} <= set(groups)
    now = datetime.now(UTC)
    paris = now.astimezone(ZoneInfo("Europe/Paris"))
    hours = int(paris.utcoffset().total_seconds() // 3600)  # type: ignore[union-attr]
    first = re.search(r'<option value="Europe/Paris" selected>([^<]+)</option>', select)
    assert first is not None
    assert first.group(1).startswith(f"(UTC+{hours:02d}:00) Paris \N{EM DASH} ")
    assert first.group(1).endswith(("AM", "PM"))  # en-US: the local time on a 12-hour clock
    # Old aliases are not offered.
    values = re.findall(r'<option value="([^"]+)"', select)
    for alias in ("US/Eastern", "W-SU", "Zulu", "Etc/GMT+5", "Asia/Calcutta"):
        assert alias not in values
    assert {"America/New_York", "Asia/Kolkata", "UTC", "Europe/London"} <= set(values)
    assert len(values) > 400
    # Each group runs by offset, west to east.
    america = select[select.index('label="America"') :]
    america = america[: america.index("</optgroup>")]
    names = re.findall(r'<option value="([^"]+)"', america)
    assert names.index("America/Los_Angeles") < names.index("America/New_York")

    french = page(ada, FRENCH, tz="Europe/London")
    select = french[french.index('<select id="f-tz"') : french.index("</select>")]
    assert 'label="Amérique"' in select
    london = re.search(r'<option value="Europe/London" selected>([^<]+)</option>', select)
    assert london is not None and "Londres" in london.group(1)
    assert re.search(r"\d\d:\d\d$", london.group(1))  # 24-hour in French


def test_the_zone_list_is_rendered_once_per_language_and_minute(ada: Page) -> None:
    pages_invitee._zone_groups.cache_clear()
    page(ada, US, tz="Europe/Paris")
    page(ada, US, tz="Asia/Tokyo")
    page(ada, FRENCH, tz="Asia/Tokyo")
    info = pages_invitee._zone_groups.cache_info()
    # Two languages (and maybe a minute boundary crossed): a handful of renderings at most.
    assert info.misses <= 4 and info.hits >= 1


def test_a_zone_outside_the_list_is_still_shown_first(ada: Page) -> None:
    html = page(ada, tz="US/Eastern")
    assert re.search(r'<option value="US/Eastern" selected>\(UTC-0[45]:00\)', html)


@pytest.mark.parametrize(
    ("headers", "params", "label"),
    [
        (US, {}, f"3:00{NBSP}AM"),
        (GB, {}, "03:00"),
        (FRENCH, {}, "03:00"),
        ({"accept-language": "en"}, {}, f"3:00{NBSP}AM"),
        (US, {"clock": "24"}, "03:00"),
        (FRENCH, {"clock": "12"}, f"3:00{NBSP}AM"),
    ],
)
def test_the_clock_follows_the_locale_and_the_toggle(
    ada: Page, headers: dict[str, str], params: dict[str, str], label: str
) -> None:
    monday = next_monday()
    html = page(ada, headers, tz="America/New_York", day=monday.isoformat(), **params)
    assert offered(html)[0][1] == label  # 09:00 in Paris
    # The toggle links keep the place; the chosen clock travels with every link.
    twelve = re.search(r'<a href="([^"]+clock=12[^"]*)"', html)
    assert twelve is not None and f"day={monday}" in unescape(twelve.group(1))
    if params:
        assert all(
            f"clock={params['clock']}" in unescape(href)
            for href in re.findall(r'<a class="time" href="([^"]+)"', html)
        )


def test_time_links_kept_for_one_zone_language_and_clock_serve_only_that(ada: Page) -> None:
    """The part of a time link after the page's address is kept per zone, language and
    clock: asked again, or asked in another of those, each page writes its own."""
    pages_invitee._link_tails.cache_clear()
    monday = next_monday()
    asks = [
        (US, "America/New_York", f"3:00{NBSP}AM"),
        (US, "America/New_York", f"3:00{NBSP}AM"),
        (GB, "America/New_York", "03:00"),
        (US, "Asia/Kolkata", f"1:30{NBSP}PM"),
        (FRENCH, "Asia/Kolkata", "13:30"),
        (US, "America/New_York", f"3:00{NBSP}AM"),
    ]
    for headers, zone, label in asks:
        html = page(ada, headers, tz=zone, day=monday.isoformat())
        start, shown = offered(html)[0]
        assert shown == label, (headers, zone)
        assert start == slots_api(ada, monday, zone)[0]


def test_the_details_step_uses_the_same_clock(ada: Page) -> None:
    monday = next_monday()
    html = page(ada, US, tz="America/New_York", day=monday.isoformat())
    start = offered(html)[0][0]
    details = page(ada, US, tz="America/New_York", start=start)
    assert f"3:00{NBSP}AM" in unescape(details) and f"3:30{NBSP}AM" in unescape(details)


def test_the_private_link_page_has_the_same_calendar(ada: Page) -> None:
    mt = ada.client.post(
        "/api/v1/meeting-types",
        json={"title": "Board review", "visibility": "private"},
        headers=ada.account.headers,
    ).json()
    link = ada.client.post(
        f"/api/v1/meeting-types/{mt['id']}/private-links",
        json={"single_use": True},
        headers=ada.account.headers,
    ).json()
    browser = TestClient(ada.client.app)
    zone = "America/New_York"
    month = next_month(this_month(zone))
    html = browser.get(
        f"/l/{link['token']}", params={"tz": zone, "month": f"{month:%Y-%m}"}, headers=US
    ).text
    assert marked_days(html) == days_api(ada, month, zone, f"/api/v1/public/links/{link['token']}")
    assert "/l/" in (re.search(r'id="m-prev" class="[^"]*" href="([^"]+)"', html) or [""])[0]
    monday = next_monday()
    html = browser.get(
        f"/l/{link['token']}", params={"tz": zone, "day": monday.isoformat()}, headers=US
    ).text
    api = browser.get(
        f"/api/v1/public/links/{link['token']}/slots",
        params={"start": monday.isoformat(), "end": monday.isoformat(), "tz": zone},
    ).json()
    assert [s for s, _ in offered(html)] == [s["start"] for s in api["slots"]]
    assert offered(html)[0][1] == f"3:00{NBSP}AM"


def test_htmx_gets_only_the_picker(ada: Page) -> None:
    monday = next_monday()
    answer = TestClient(ada.client.app).get(
        f"/p/{ada.key}/{ada.t30}",
        params={"tz": "Europe/Paris", "day": monday.isoformat()},
        headers={"hx-request": "true"},
    )
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith("{#") is False
    assert "<html" not in answer.text and 'id="picker"' in answer.text
    assert "HX-Request" in answer.headers["vary"]
    assert offered(answer.text) == offered(page(ada, tz="Europe/Paris", day=monday.isoformat()))
    # htmx restoring its history needs the whole page.
    restore = TestClient(ada.client.app).get(
        f"/p/{ada.key}/{ada.t30}",
        params={"tz": "Europe/Paris"},
        headers={"hx-request": "true", "hx-history-restore-request": "true"},
    )
    assert "<html" in restore.text


def test_the_page_weighs_under_150_kb(ada: Page) -> None:
    """HTML, stylesheet and scripts together, uncompressed (the zone list is most of it)."""
    html = page(ada, US, tz="America/New_York")
    assets = re.findall(r'(?:src|href)="(/static/[^"]+\.(?:js|css))"', html)
    assert "/static/js/htmx.min.js" in assets
    total = len(html.encode()) + sum(
        len(TestClient(ada.client.app).get(asset).content) for asset in assets
    )
    assert total < 150_000, total
