"""Every error has the JSON shape of SPEC 3 (or a page for a browser), and a failed request
writes nothing."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.models import BusyBlock, utcnow
from bookwithme.web.deps import CurrentUser, SessionDep
from tests.factories import create_account


def error_of(response) -> dict:  # type: ignore[no-untyped-def]
    body = response.json()
    assert set(body) == {"error"}
    assert {"code", "message"} <= set(body["error"])
    assert body["error"]["message"]
    return body["error"]


def test_error_shapes(client: TestClient, session_factory: sessionmaker[Session]) -> None:
    account = create_account(session_factory)
    assert client.get("/api/v1/nothing-here").status_code == 404
    assert error_of(client.get("/api/v1/nothing-here"))["code"] == "not_found"
    assert (
        error_of(client.delete("/api/v1/me", headers=account.headers))["code"]
        == "method_not_allowed"
    )
    assert client.delete("/api/v1/me", headers=account.headers).status_code == 405
    assert error_of(client.get("/api/v1/me"))["code"] == "unauthorized"
    error = error_of(client.put("/api/v1/me/availability", json={}, headers=account.headers))
    assert error["code"] == "validation_error"
    assert error["details"][0] == {"field": "time_zone", "message": "Field required"}


def test_a_browser_gets_a_page_not_json(client: TestClient) -> None:
    response = client.get("/no/such/page", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "Nothing is here" in response.text


def test_a_crash_is_a_500_in_the_same_shape_and_writes_nothing(
    app: FastAPI, session_factory: sessionmaker[Session], session: Session
) -> None:
    account = create_account(session_factory)

    @app.post("/api/v1/test-crash")
    def crash(user: CurrentUser, db: SessionDep) -> None:
        db.add(BusyBlock(user_id=user.id, start_at=utcnow(), end_at=utcnow().replace(year=2100)))
        db.flush()
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.post("/api/v1/test-crash", headers=account.headers)
    assert response.status_code == 500
    assert error_of(response)["code"] == "internal_error"
    assert "boom" not in response.text
    assert session.scalar(select(func.count()).select_from(BusyBlock)) == 0


def test_oversized_bodies_are_refused(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    account = create_account(session_factory)
    body = b'{"name": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    response = client.patch(
        "/api/v1/me", content=body, headers={**account.headers, "content-type": "application/json"}
    )
    assert response.status_code == 413
    assert error_of(response)["code"] == "payload_too_large"
    assert client.get("/api/v1/me", headers=account.headers).json()["name"] == "Ada Lovelace"


def test_health_and_docs(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    spec = client.get("/openapi.json").json()
    assert "/api/v1/me" in spec["paths"] and "/api/v1/me/availability" in spec["paths"]
    assert "/setup" not in spec["paths"]
    assert "swagger" in client.get("/docs").text.lower()


def test_pages_send_no_referrer(client: TestClient) -> None:
    headers = client.get("/healthz").headers
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-frame-options"] == "DENY"
