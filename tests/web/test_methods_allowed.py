"""A 405 names, in ``Allow``, every method the address accepts (Starlette names only those
of the first route it matched), in the JSON error shape; HEAD works wherever GET does."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from tests.factories import Account, create_account


@pytest.fixture
def ada(session_factory: sessionmaker[Session]) -> Account:
    return create_account(session_factory, "ada@example.com", is_admin=True)


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/api/v1/me", "GET, HEAD, PATCH"),
        ("POST", "/api/v1/me", "GET, HEAD, PATCH"),
        ("OPTIONS", "/api/v1/me", "GET, HEAD, PATCH"),
        ("TRACE", "/api/v1/me", "GET, HEAD, PATCH"),
        ("DELETE", "/api/v1/me/availability", "GET, HEAD, PUT"),
        ("PUT", "/api/v1/meeting-types/x", "DELETE, GET, HEAD, PATCH"),
        ("PUT", "/api/v1/meeting-types", "GET, HEAD, POST"),
        ("GET", "/api/v1/page/publish", "POST"),
        ("PATCH", "/api/v1/admin/users", "GET, HEAD, POST"),
        ("PUT", "/api/v1/public/pages/x", "GET, HEAD"),
        ("POST", "/healthz", "GET, HEAD"),
        ("DELETE", "/signin", "GET, HEAD, POST"),
        ("GET", "/signout", "POST"),
        ("PUT", "/meeting-types/x", "GET, HEAD, POST"),
    ],
)
def test_a_405_lists_every_method_of_the_address(
    client: TestClient, ada: Account, method: str, path: str, allow: str
) -> None:
    response = client.request(method, path, headers=ada.headers)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.json() == {
        "error": {"code": "method_not_allowed", "message": "This method is not allowed here."}
    }


def test_a_mounted_app_keeps_its_own_allow(client: TestClient) -> None:
    response = client.put("/static/css/app.css")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


def test_head_answers_like_get_without_the_body(client: TestClient, ada: Account) -> None:
    get = client.get("/api/v1/me", headers=ada.headers)
    head = client.head("/api/v1/me", headers=ada.headers)
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-length"] == get.headers["content-length"]
    assert client.head("/healthz").status_code == 200
    assert client.head("/api/v1/me").status_code == 401  # still signed out
