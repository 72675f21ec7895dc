"""Text PostgreSQL cannot store (a NUL character, bytes that are not UTF-8, a lone UTF-16
surrogate) is refused at the edge with a 4xx that names it, on every path, query string,
form and JSON body, and nothing is written. Before this guard these were 500s on
PostgreSQL (``psycopg.DataError: PostgreSQL text fields cannot contain NUL``)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.web import storable
from tests.factories import PASSWORD, Account, create_account, csrf_token

NUL = "contains a NUL character (U+0000), which cannot be stored: remove it"
SURROGATE = storable.SURROGATE
JSON = {"content-type": "application/json"}
HTML = {"accept": "text/html"}


@pytest.fixture
def admin(session_factory: sessionmaker[Session]) -> Account:
    return create_account(session_factory, "root@example.com", is_admin=True)


def _error(response, status: int, code: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    return error  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    "path",
    [
        "/p/a%00b",
        "/l/a%00b",
        "/b/a%00b",
        "/api/v1/public/pages/a%00b",
        "/api/v1/public/links/a%00b/slots",
        "/api/v1/public/bookings/a%00b",
        "/api/v1/admin/users/a%00b@example.com",
        "/api/v1/meeting-types/a%00b",
    ],
)
def test_a_nul_in_the_path_is_a_400(client: TestClient, admin: Account, path: str) -> None:
    error = _error(client.get(path, headers=admin.headers), 400, "bad_request")
    assert error["message"] == f"The address {NUL}."


def test_a_browser_gets_the_error_page(client: TestClient) -> None:
    response = client.get("/p/a%00b", headers=HTML)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/html")
    assert "Bad address" in response.text
    assert "contains a NUL character" in response.text


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("cursor=a%00b", "cursor"),
        ("tz=Europe/Paris%00", "tz"),
        ("status=confirmed&start=2026-01-01%00", "start"),
        ("a%00b=1", "ab"),
    ],
)
def test_a_nul_in_the_query_is_a_400(
    client: TestClient, admin: Account, query: str, field: str
) -> None:
    response = client.get(f"/api/v1/bookings?{query}", headers=admin.headers)
    error = _error(response, 400, "bad_request")
    assert error["message"] == f"The query parameter '{field}' {NUL}."


def test_invalid_utf8_in_the_address_is_a_400(client: TestClient, admin: Account) -> None:
    for path in (
        "/api/v1/public/pages/a%ffb",
        "/api/v1/admin/users/a%C3@example.com",
        "/api/v1/public/pages/%ED%A0%80",  # a surrogate, encoded as if it were a character
    ):
        error = _error(client.get(path, headers=admin.headers), 400, "bad_request")
        assert "is not valid UTF-8 text" in str(error["message"]), path
    error = _error(client.get("/api/v1/bookings?tz=%ff", headers=admin.headers), 400, "bad_request")
    assert error["message"] == (
        "The query parameter 'tz' is not valid UTF-8 text: send it encoded as UTF-8."
    )


def _sign_in_form(client: TestClient, email: bytes) -> bytes:
    return b"email=" + email + b"&password=x&csrftoken=" + csrf_token(client).encode()


@pytest.mark.parametrize("email", [b"a%00b@example.com", b"a\x00b@example.com"])
def test_a_nul_in_a_form_field_is_a_422_naming_the_field(
    client: TestClient, admin: Account, email: bytes
) -> None:
    response = client.post(
        "/signin",
        content=_sign_in_form(client, email),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    error = _error(response, 422, "validation_error")
    assert error["message"] == f"email: {NUL}."
    assert error["details"] == [{"field": "email", "message": NUL}]


def test_a_browser_form_gets_the_error_page(client: TestClient, admin: Account) -> None:
    response = client.post(
        "/signin",
        content=_sign_in_form(client, b"a%00b@example.com"),
        headers={**HTML, "content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 422
    assert "email: contains a NUL character" in response.text
    assert "bookwithme_session" not in response.headers.get("set-cookie", "")


def test_a_form_that_is_not_utf8_is_a_422(client: TestClient, admin: Account) -> None:
    response = client.post(
        "/signin",
        content=_sign_in_form(client, b"%ff@example.com"),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    error = _error(response, 422, "validation_error")
    assert error["details"] == [
        {"field": "email", "message": "is not valid UTF-8 text: send it encoded as UTF-8"}
    ]


def _patch_me(client: TestClient, account: Account, body: bytes | Iterator[bytes]):  # type: ignore[no-untyped-def]
    return client.patch("/api/v1/me", content=body, headers={**account.headers, **JSON})


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (rb'{"name": "a\u0000b"}', NUL),
        (rb'{"name": "a\\\u0000b"}', NUL),  # an escaped backslash, then a NUL
        (rb'{"name": "a\ud800b"}', SURROGATE),
        (rb'{"name": "a\uDC00b"}', SURROGATE),  # a low half with no high one
        (rb'{"name": "a\ud83d\u0041"}', SURROGATE),  # a high half with no low one
        (rb'{"name": "\ud83d"}', SURROGATE),
    ],
)
def test_a_json_field_that_cannot_be_stored_is_a_422(
    client: TestClient, admin: Account, body: bytes, message: str
) -> None:
    error = _error(_patch_me(client, admin, body), 422, "validation_error")
    assert error["details"] == [{"field": "name", "message": message}]
    assert error["message"] == f"name: {message}."
    assert client.get("/api/v1/me", headers=admin.headers).json()["name"] == "Ada Lovelace"


@pytest.mark.parametrize(
    ("body", "stored"),
    [
        (rb'{"name": "a\\u0000b"}', "a\\u0000b"),  # an escaped backslash: no NUL at all
        (rb'{"name": "a\\\\u0000b"}', "a\\\\u0000b"),
        (rb'{"name": "smile \ud83d\ude00"}', "smile \U0001f600"),  # a surrogate pair
    ],
)
def test_text_that_only_looks_like_it_is_stored(
    client: TestClient, admin: Account, body: bytes, stored: str
) -> None:
    response = _patch_me(client, admin, body)
    assert response.status_code == 200, response.text
    assert client.get("/api/v1/me", headers=admin.headers).json()["name"] == stored


def test_a_nul_in_a_nested_key_is_found(client: TestClient, admin: Account) -> None:
    body = b'{"time_zone": "UTC", "weekly": {"mon\\u0000": []}}'
    response = client.put(
        "/api/v1/me/availability", content=body, headers={**admin.headers, **JSON}
    )
    error = _error(response, 422, "validation_error")
    assert error["details"] == [{"field": "weekly.mon", "message": NUL}]


@pytest.mark.parametrize("split", range(1, len(rb'{"name": "a\u0000b"}')))
def test_an_escape_split_across_chunks_is_seen(
    client: TestClient, admin: Account, split: int
) -> None:
    body = rb'{"name": "a\u0000b"}'

    def chunks() -> Iterator[bytes]:
        yield body[:split]
        yield body[split:]

    error = _error(_patch_me(client, admin, chunks()), 422, "validation_error")
    assert error["details"] == [{"field": "name", "message": NUL}]


def test_a_json_body_that_is_not_utf8_is_a_422(client: TestClient, admin: Account) -> None:
    error = _error(_patch_me(client, admin, b'{"name": "a\xffb"}'), 422, "validation_error")
    assert error["message"] == (
        "The request body is not valid UTF-8 text (at byte 11): send it encoded as UTF-8."
    )


def test_a_body_without_a_type_is_read_as_json(client: TestClient, admin: Account) -> None:
    response = client.patch("/api/v1/me", content=rb'{"name": "a\u0000"}', headers=admin.headers)
    _error(response, 422, "validation_error")


def test_an_invitee_booking_with_a_nul_is_refused(client: TestClient, admin: Account) -> None:
    body = json.dumps(
        {"start": "2026-12-01T09:00:00Z", "name": "Grace\u0000", "email": "g@example.com"}
    ).encode()
    response = client.post(
        "/api/v1/public/pages/k/meeting-types/t/bookings", content=body, headers=JSON
    )
    error = _error(response, 422, "validation_error")
    assert error["details"] == [{"field": "name", "message": NUL}]


def test_the_password_still_works_after_a_refusal(client: TestClient, admin: Account) -> None:
    _patch_me(client, admin, rb'{"name": "\u0000"}')
    response = client.post(
        "/signin",
        data={"email": "root@example.com", "password": PASSWORD, "csrftoken": csrf_token(client)},
        follow_redirects=False,
    )
    assert response.status_code == 303


# --- The scanner itself ------------------------------------------------------------


def test_raw_bytes_no_client_would_send_are_seen_too() -> None:
    # httpx refuses to send these; a hand-written request can.
    assert storable.urlencoded_problem(b"cursor=a\x00b") == storable.Problem("cursor", NUL)
    assert storable.urlencoded_problem(b"x=1;cursor=\xff") == storable.Problem(
        "cursor", "is not valid UTF-8 text: send it encoded as UTF-8"
    )
    assert storable.path_problem("/p/a\x00", None) == storable.Problem("", NUL)
    assert storable.path_problem("/p/\udc80", None) is not None
    assert storable.urlencoded_problem(b"a=%C3%A9&b=+%2B") is None


def _has_unstorable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return "\x00" in text


@settings(max_examples=300, database=None, deadline=None)
@given(st.text(st.characters(codec=None, exclude_categories=()), max_size=12))
def test_the_scanner_agrees_with_python_on_any_string(text: str) -> None:
    body = json.dumps({"k": text}).encode()  # escapes NULs, backslashes and surrogates
    assert (storable.json_problem(body) is not None) == _has_unstorable(text)


@settings(max_examples=200, database=None, deadline=None)
@given(st.lists(st.sampled_from(["\\", "u", "0", "d800", "dc00", "a", '"']), max_size=12))
def test_the_scanner_never_flags_escaped_backslashes(parts: list[str]) -> None:
    # Whatever the text, as a JSON string value it is storable: every backslash in it is
    # escaped, so none may start a \u escape.
    text = "".join(parts)
    assert storable.json_problem(json.dumps({"k": text}).encode()) is None
