"""The invitee's most opened addresses answered past FastAPI's routing (``web/hot_paths.py``)
give exactly the app's answers: each request below is asked of the app as shipped and of
the same app without ``HotPaths``, and status, headers and body must be the same. Which of
them the hot path answered itself is checked too, so the comparison is not of the app with
itself."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.app import create_app
from bookwithme.config import Settings
from bookwithme.web import hot_paths
from bookwithme.web.hot_paths import HotPaths
from tests.factories import Account, create_account

HTML = {"accept": "text/html"}
# A form's CSRF token is random per answer: compared as a placeholder.
_TOKEN = re.compile(r'(name="csrftoken" value=")[^"]+(")|(csrftoken=)[^;]+')


def _normal(text: str) -> str:
    return _TOKEN.sub(lambda m: (m.group(1) or m.group(3)) + "…" + (m.group(2) or ""), text)


@pytest.fixture
def ada(session_factory: sessionmaker[Session]) -> Account:
    return create_account(session_factory, "ada@example.com", name="Ada Lovelace")


@pytest.fixture
def plain(settings: Settings) -> Iterator[TestClient]:
    """The same app with every request routed by FastAPI."""
    app = create_app(settings)
    app.user_middleware = [m for m in app.user_middleware if m.cls is not HotPaths]
    with TestClient(app) as client:
        yield client


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths the hot path answered itself."""
    answered: list[str] = []
    find = HotPaths._find

    def spy(scope):  # type: ignore[no-untyped-def]
        found = find(scope)
        if found is not None:
            answered.append(scope["path"] + "?" + scope["query_string"].decode())
        return found

    monkeypatch.setattr(hot_paths.HotPaths, "_find", staticmethod(spy))
    return answered


def _same(client: TestClient, plain: TestClient, path: str, headers: dict[str, str]) -> int:
    fast = client.get(path, headers=headers)
    slow = plain.get(path, headers=headers)
    assert fast.status_code == slow.status_code, path
    assert _normal(fast.text) == _normal(slow.text), path
    fast_headers = {k: _normal(v) for k, v in fast.headers.items()}
    slow_headers = {k: _normal(v) for k, v in slow.headers.items()}
    assert fast_headers == slow_headers, path
    return fast.status_code


def test_hot_paths_answer_exactly_as_the_app(
    client: TestClient, plain: TestClient, ada: Account, taken: list[str]
) -> None:
    key = client.post("/api/v1/page/publish", headers=ada.headers).json()["key"]
    types = client.get("/api/v1/meeting-types", headers=ada.headers).json()["items"]
    type_id = types[0]["id"]
    made = client.post(f"/api/v1/meeting-types/{type_id}/private-links", headers=ada.headers)
    link = made.json()["token"]
    client.patch(
        "/api/v1/page", json={"embed_origins": ["https://www.ada.example"]}, headers=ada.headers
    )
    slots = f"/api/v1/public/pages/{key}/meeting-types/{type_id}/slots"
    first = client.get(slots).json()["slots"][0]["start"]
    monday = date.today() + timedelta(days=7 - date.today().weekday())
    week = f"start={monday}&end={monday + timedelta(days=6)}"
    page = f"/p/{key}/{type_id}"

    answered = [
        f"{slots}?{week}&tz=Asia/Kathmandu",
        f"{slots}?tz=America%2FNew_York&{week}",
        f"{slots}?{week}&utm_source=newsletter",
        f"/api/v1/public/links/{link}/slots?tz=UTC",
        f"{page}?tz=Asia/Tokyo",
        f"{page}?tz=Europe/Paris&month={monday:%Y-%m}&day={monday}&clock=12",
        f"{page}?tz=Europe/Paris&from={monday}",
        f"{page}?start={first.replace('+', '%2B')}&tz=Europe/Paris",  # the details form
        f"{page}?start=yesterday",
        f"{page}?tz=Mars/Olympus",
        f"/l/{link}?tz=Europe/London",
        f"/p/{key}/{'0' * 8}-0000-0000-0000-{'0' * 12}",
        f"/api/v1/public/pages/nosuchkey/meeting-types/{type_id}/slots",
        "/api/v1/public/links/nosuchtoken/slots",
        f"{slots}?tz=Mars/Olympus",
    ]
    left_to_the_app = [
        f"{slots}?start=2026-13-01",
        f"{slots}?start=20261201",
        f"{slots}?tz=UTC&tz=Europe/Paris",
        f"{slots}?tz=",
        f"{page}?clock=13",
        f"{page}?month=2026-1-1",
        f"{page}/",
    ]
    for path in answered + left_to_the_app:
        for headers in ({}, HTML, {"accept": "application/json"}, {"accept-language": "fr"}):
            _same(client, plain, path, headers)
    assert {p.split("?")[0] for p in taken} == {p.split("?")[0] for p in answered}
    assert not set(taken) & {p if "?" in p else p + "?" for p in left_to_the_app}
    # The pages really are pages, the lists really are lists.
    assert "Asia/Tokyo" in client.get(f"{page}?tz=Asia/Tokyo", headers=HTML).text
    assert client.get(f"{slots}?{week}&tz=UTC").json()["time_zone"] == "UTC"

    revoked = client.delete(f"/api/v1/private-links/{made.json()['id']}", headers=ada.headers)
    assert revoked.status_code == 204
    for path in (f"/l/{link}", f"/api/v1/public/links/{link}/slots"):
        assert _same(client, plain, path, HTML) == 410


def test_head_is_a_get_without_its_body(client: TestClient, ada: Account, taken: list[str]) -> None:
    key = client.post("/api/v1/page/publish", headers=ada.headers).json()["key"]
    type_id = client.get("/api/v1/meeting-types", headers=ada.headers).json()["items"][0]["id"]
    path = f"/p/{key}/{type_id}"
    got, head = client.get(path), client.head(path)
    assert head.status_code == got.status_code == 200
    assert head.content == b"" and got.content
    assert head.headers["content-length"] == got.headers["content-length"]
    assert len(taken) == 2
