"""The public slot endpoints: the engine fed with the organizer's real busy time."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.db import session_scope
from bookwithme.key_reads import KeyRead
from bookwithme.models import BusyBlock, CalendarBusyInterval, CalendarConnection, utcnow
from bookwithme.web.admission import AsyncKeyReads
from tests.factories import Account, add_booking, create_account

PARIS = ZoneInfo("Europe/Paris")


def next_monday(weeks_ahead: int = 1) -> date:
    today = datetime.now(PARIS).date()
    return today + timedelta(days=(7 - today.weekday()) + 7 * (weeks_ahead - 1))


def paris(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS).astimezone(UTC)


class Organizer:
    def __init__(self, client: TestClient, account: Account) -> None:
        self.client, self.account = client, account
        self.key = client.post("/api/v1/page/publish", headers=account.headers).json()["key"]
        types = client.get("/api/v1/meeting-types", headers=account.headers).json()["items"]
        self.t30 = types[1]["id"]

    def slots(self, type_id: str | None = None, **params: str) -> list[str]:
        response = self.client.get(
            f"/api/v1/public/pages/{self.key}/meeting-types/{type_id or self.t30}/slots",
            params=params,
        )
        assert response.status_code == 200, response.text
        return [s["start"] for s in response.json()["slots"]]


@pytest.fixture
def ada(client: TestClient, session_factory: sessionmaker[Session]) -> Organizer:
    return Organizer(
        client, create_account(session_factory, "ada@example.com", time_zone="Europe/Paris")
    )


def test_a_week_of_default_hours_in_the_organizer_zone(ada: Organizer) -> None:
    monday = next_monday()
    response = ada.client.get(
        f"/api/v1/public/pages/{ada.key}/meeting-types/{ada.t30}/slots",
        params={"start": monday.isoformat(), "end": (monday + timedelta(days=6)).isoformat()},
    ).json()
    assert response["time_zone"] == "Europe/Paris" and response["duration_minutes"] == 30
    starts = [s["start"] for s in response["slots"]]
    assert len(starts) == 5 * 16  # Mon-Fri, 09:00-17:00, every 30 minutes
    assert starts[0] == datetime(monday.year, monday.month, monday.day, 9, tzinfo=PARIS).isoformat()
    assert response["slots"][0]["end"].startswith(f"{monday.isoformat()}T09:30:00")


def test_the_invitee_zone_changes_only_how_instants_are_written(ada: Organizer) -> None:
    monday = next_monday()
    paris_view = ada.slots(start=monday.isoformat(), end=monday.isoformat(), tz="Europe/Paris")
    ny_view = ada.slots(
        start=(monday - timedelta(days=1)).isoformat(),
        end=monday.isoformat(),
        tz="America/New_York",
    )
    assert ny_view[0].endswith("-05:00") or ny_view[0].endswith("-04:00")
    as_instants = lambda xs: {datetime.fromisoformat(x) for x in xs}  # noqa: E731
    assert as_instants(paris_view) <= as_instants(ny_view)
    utc_view = ada.slots(start=monday.isoformat(), end=monday.isoformat(), tz="UTC")
    assert utc_view[0].endswith("Z")


def test_busy_blocks_bookings_and_calendar_time_remove_slots(
    ada: Organizer, session_factory: sessionmaker[Session]
) -> None:
    monday = next_monday()
    day = {"start": monday.isoformat(), "end": monday.isoformat(), "tz": "Europe/Paris"}
    hours = lambda: [s[11:16] for s in ada.slots(**day)]  # noqa: E731
    assert hours()[:4] == ["09:00", "09:30", "10:00", "10:30"]

    ada.client.post(
        "/api/v1/me/busy",
        json={"start": paris(monday, 9).isoformat(), "end": paris(monday, 10).isoformat()},
        headers=ada.account.headers,
    )
    assert hours()[:2] == ["10:00", "10:30"]

    # A confirmed booking of another type blocks its time widened by its own buffers.
    other_type = ada.client.get("/api/v1/meeting-types", headers=ada.account.headers).json()[
        "items"
    ][0]["id"]
    add_booking(
        session_factory, ada.account.user, other_type, paris(monday, 12), 15, before=30, after=15
    )
    # 11:30-12:30 is blocked; a 30-minute candidate touching it is fine.
    assert (
        "11:00" in hours()
        and "11:30" not in hours()
        and "12:00" not in hours()
        and "12:30" in hours()
    )
    # Cancelled bookings free their time.
    add_booking(
        session_factory, ada.account.user, other_type, paris(monday, 14), 30, status="cancelled"
    )
    assert "14:00" in hours()

    with session_scope(session_factory) as session:
        connection = CalendarConnection(
            user_id=ada.account.user.id,
            kind="ics",
            name="Work",
            url="https://example.com/cal.ics",
            last_success_at=utcnow(),
        )
        session.add(connection)
        session.flush()
        session.add(
            CalendarBusyInterval(
                connection_id=connection.id,
                user_id=ada.account.user.id,
                start_at=paris(monday, 15),
                end_at=paris(monday, 16),
            )
        )
    assert "15:00" not in hours() and "15:30" not in hours() and "16:00" in hours()


def test_a_calendar_that_never_synced_blocks_every_slot(
    ada: Organizer, session_factory: sessionmaker[Session]
) -> None:
    monday = next_monday()
    assert ada.slots(start=monday.isoformat(), end=monday.isoformat())
    with session_scope(session_factory) as session:
        session.add(
            CalendarConnection(
                user_id=ada.account.user.id,
                kind="ics",
                name="Work",
                url="https://example.com/cal.ics",
            )
        )
    assert ada.slots(start=monday.isoformat(), end=monday.isoformat()) == []


def test_custom_hours_and_daily_limit_of_a_type(
    ada: Organizer, session_factory: sessionmaker[Session]
) -> None:
    monday = next_monday()
    custom = ada.client.post(
        "/api/v1/meeting-types",
        json={
            "title": "Evening call",
            "duration_minutes": 60,
            "max_bookings_per_day": 1,
            "availability": {
                "time_zone": "Asia/Kolkata",
                "weekly": {"mon": [{"start": "20:00", "end": "22:00"}]},
            },
        },
        headers=ada.account.headers,
    ).json()
    params = {"start": monday.isoformat(), "end": monday.isoformat(), "tz": "Asia/Kolkata"}
    assert [s[11:16] for s in ada.slots(custom["id"], **params)] == ["20:00", "21:00"]
    kolkata = ZoneInfo("Asia/Kolkata")
    add_booking(
        session_factory,
        ada.account.user,
        custom["id"],
        datetime(monday.year, monday.month, monday.day, 20, tzinfo=kolkata),
        60,
    )
    assert ada.slots(custom["id"], **params) == []


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2026-12-01", "end": "2027-02-01"}, "at most 62 days"),
        ({"start": "2026-12-10", "end": "2026-12-01"}, "must not be before start"),
        ({"start": "2026-12-01", "tz": "Mars/Crater"}, "not a known IANA time zone"),
        ({"start": "12/01/2026"}, "valid date"),
    ],
)
def test_bad_windows_are_a_422(ada: Organizer, params: dict[str, str], message: str) -> None:
    response = ada.client.get(
        f"/api/v1/public/pages/{ada.key}/meeting-types/{ada.t30}/slots", params=params
    )
    assert response.status_code == 422
    assert message in response.json()["error"]["message"]


def test_sixty_two_days_are_allowed(ada: Organizer) -> None:
    start = next_monday()
    starts = ada.slots(start=start.isoformat(), end=(start + timedelta(days=61)).isoformat())
    assert starts  # the 60-day horizon still applies inside the window
    last = datetime.fromisoformat(starts[-1]).date()
    assert last <= datetime.now(PARIS).date() + timedelta(days=60)


def test_unknown_pages_and_types_are_404(ada: Organizer) -> None:
    for path in (
        "/api/v1/public/pages/nope",
        "/api/v1/public/pages/nope/meeting-types/{t}/slots",
        f"/api/v1/public/pages/{ada.key}/meeting-types/{uuid.uuid4()}/slots",
        f"/api/v1/public/pages/{ada.key}/meeting-types/not-an-id/slots",
    ):
        response = ada.client.get(path.replace("{t}", ada.t30))
        assert response.status_code == 404, path
        assert response.json()["error"]["code"] == "not_found"


def count_queries(engine: Engine, run) -> int:  # type: ignore[no-untyped-def]
    """Statements sent to the database while ``run`` runs: through the engine, and the
    single-row reads sent to the driver directly (``KeyRead``), or awaited on the event
    loop's own connections (PostgreSQL, ``AsyncKeyReads``)."""
    statements: list[str] = []
    on_driver = KeyRead._on_driver
    awaited = AsyncKeyReads.first

    def driver_read(self, connection, params):  # type: ignore[no-untyped-def]
        statements.append(str(self.statement))
        return on_driver(self, connection, params)

    async def awaited_read(self, read, params):  # type: ignore[no-untyped-def]
        statements.append(str(read.statement))
        return await awaited(self, read, params)

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        if (
            not statement.lstrip()
            .upper()
            .startswith(("BEGIN", "COMMIT", "ROLLBACK", "PRAGMA", "SAVEPOINT", "RELEASE"))
        ):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    KeyRead._on_driver = driver_read  # type: ignore[method-assign]
    AsyncKeyReads.first = awaited_read  # type: ignore[method-assign]
    try:
        run()
    finally:
        KeyRead._on_driver = on_driver  # type: ignore[method-assign]
        AsyncKeyReads.first = awaited  # type: ignore[method-assign]
        event.remove(engine, "before_cursor_execute", record)
    return len(statements)


def test_slots_take_a_constant_number_of_queries(
    ada: Organizer, app, session_factory: sessionmaker[Session]
) -> None:  # type: ignore[no-untyped-def]
    monday = next_monday()
    params = {"start": monday.isoformat(), "end": (monday + timedelta(days=6)).isoformat()}
    engine = app.state.engine
    baseline = count_queries(engine, lambda: ada.slots(**params))
    for i in range(40):
        ada.client.post(
            "/api/v1/me/busy",
            json={
                "start": paris(monday, 9, 0).isoformat(),
                "end": (paris(monday, 9, 0) + timedelta(minutes=i + 1)).isoformat(),
            },
            headers=ada.account.headers,
        )
        add_booking(
            session_factory,
            ada.account.user,
            ada.t30,
            paris(monday + timedelta(days=1 + i // 16), 9) + timedelta(minutes=30 * (i % 16)),
            30,
        )
    for i in range(10):
        ada.client.post(
            "/api/v1/meeting-types", json={"title": f"Type {i}"}, headers=ada.account.headers
        )
    # A first question: the address's owner and availability version (on the event loop,
    # which finds nothing in memory), then in a thread the version again, what the address
    # leads to and the organizer's busy time.
    assert baseline == 4
    loaded = count_queries(engine, lambda: ada.slots(**params))
    # After 90 changes: the kept answer's version (it moved), then the same four, however
    # much there is to read.
    assert loaded == 5
    # Nothing changed since: the kept answer's version alone.
    assert count_queries(engine, lambda: ada.slots(**params)) == 1
    # Another window of the same organizer: owner and version, then all from memory.
    later = {"start": (monday + timedelta(days=7)).isoformat()}
    assert count_queries(engine, lambda: ada.slots(**later)) == 1


def test_busy_time_with_a_fraction_of_a_second_is_never_rounded_away(
    ada: Organizer, session_factory: sessionmaker[Session]
) -> None:
    """Busy time read from the database is rounded outwards to whole seconds, on both
    databases: a block ending half a second into a slot still takes the slot."""
    monday = next_monday()
    half = timedelta(milliseconds=500)
    with session_scope(session_factory) as session:
        session.add_all(
            [
                BusyBlock(
                    user_id=ada.account.user.id,
                    start_at=paris(monday, 9, 15),
                    end_at=paris(monday, 10) + half,
                ),
                BusyBlock(
                    user_id=ada.account.user.id,
                    start_at=paris(monday, 12) - half,
                    end_at=paris(monday, 12, 15),
                ),
            ]
        )
    starts = ada.slots(start=monday.isoformat(), end=monday.isoformat())
    taken = {"09:00", "09:30", "10:00", "11:30", "12:00"}
    offered = {s[11:16] for s in starts}
    assert offered.isdisjoint(taken), offered & taken
    assert {"10:30", "11:00", "12:30"} <= offered
