"""The client address that sign-in limits count: X-Forwarded-For is believed only from the
proxies of BOOKWITHME_TRUSTED_PROXIES, and then only as far as they wrote it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request

from bookwithme import migrate
from bookwithme.accounts import ratelimit
from bookwithme.app import create_app
from bookwithme.config import Settings
from bookwithme.proxies import client_address, parse_networks
from bookwithme.web import deps
from tests.factories import PASSWORD, create_account, csrf_token, run_cli

PROXIES = parse_networks("10.0.0.1, 10.1.0.0/16, fd00::/8")


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        # An untrusted peer's header is ignored, however it is written.
        ("203.0.113.5", ["198.51.100.1"], "203.0.113.5"),
        ("127.0.0.1", ["198.51.100.1"], "127.0.0.1"),
        # From a trusted proxy: the address it appended.
        ("10.0.0.1", ["198.51.100.1"], "198.51.100.1"),
        # ... and not what the client wrote before it.
        ("10.0.0.1", ["6.6.6.6, 198.51.100.1"], "198.51.100.1"),
        # Through a chain of trusted proxies, whatever header lines they used.
        ("10.0.0.1", ["6.6.6.6, 198.51.100.1, 10.1.2.3"], "198.51.100.1"),
        ("10.0.0.1", ["6.6.6.6", "198.51.100.1", "10.1.2.3"], "198.51.100.1"),
        ("10.0.0.1", ["2001:db8::7, fd00::2"], "2001:db8::7"),
        # Ports and brackets as some proxies write them; IPv4 inside IPv6.
        ("10.0.0.1", ["198.51.100.1:5123"], "198.51.100.1"),
        ("10.0.0.1", ["[2001:db8::7]:443"], "2001:db8::7"),
        ("10.0.0.1", ["::ffff:198.51.100.1"], "198.51.100.1"),
        ("::ffff:10.0.0.1", ["198.51.100.1"], "198.51.100.1"),
        # A trusted proxy with no header (its own request): the proxy.
        ("10.0.0.1", [], "10.0.0.1"),
        ("10.0.0.1", [""], "10.0.0.1"),
        # Every hop trusted: the farthest one.
        ("10.0.0.1", ["10.1.0.9, 10.1.0.8"], "10.1.0.9"),
        # Something that is not an address where a trusted proxy should have written one:
        # the nearest trusted proxy stands for the client; nothing further left is read.
        ("10.0.0.1", ["198.51.100.1, unknown"], "10.0.0.1"),
        ("10.0.0.1", ["198.51.100.1, garbage, 10.1.0.8"], "10.1.0.8"),
        ("10.0.0.1", ["198.51.100.1, [2001:db8::7"], "10.0.0.1"),
        ("10.0.0.1", ["198.51.100.1,,"], "10.0.0.1"),
        # Peers that are not IP addresses are taken as they are.
        ("testclient", ["198.51.100.1"], "testclient"),
        (None, ["198.51.100.1"], "unknown"),
    ],
)
def test_the_client_behind_trusted_proxies(
    peer: str | None, forwarded_for: list[str], client: str
) -> None:
    assert client_address(peer, forwarded_for, PROXIES) == client


def test_nobody_is_trusted_by_default() -> None:
    assert Settings().trusted_proxies == ()
    assert client_address("127.0.0.1", ["198.51.100.1"], ()) == "127.0.0.1"


def _request(settings: Settings, peer: tuple[str, int], headers: list[tuple[str, str]]) -> Request:
    app = SimpleNamespace(state=SimpleNamespace(settings=settings))
    scope: dict[str, Any] = {
        "type": "http",
        "method": "POST",
        "path": "/signin",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers],
        "client": peer,
        "app": app,
    }
    return Request(scope)


def test_the_request_dependency_reads_the_setting() -> None:
    headers = [("X-Forwarded-For", "6.6.6.6"), ("X-Forwarded-For", "198.51.100.1")]
    trusting = Settings(trusted_proxies="10.0.0.1")
    assert deps.client_address(_request(trusting, ("10.0.0.1", 123), headers)) == "198.51.100.1"
    assert deps.client_address(_request(trusting, ("10.0.0.2", 123), headers)) == "10.0.0.2"
    assert deps.client_address(_request(Settings(), ("10.0.0.1", 123), headers)) == "10.0.0.1"


def test_the_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOOKWITHME_TRUSTED_PROXIES", " 127.0.0.1, 10.0.0.0/8 ,fd00::/8")
    assert [str(n) for n in Settings().trusted_proxies] == [
        "127.0.0.1/32",
        "10.0.0.0/8",
        "fd00::/8",
    ]
    monkeypatch.setenv("BOOKWITHME_TRUSTED_PROXIES", "")
    assert Settings().trusted_proxies == ()
    for wrong in ("proxy.example", "*", "10.0.0.0/33"):
        monkeypatch.setenv("BOOKWITHME_TRUSTED_PROXIES", f"127.0.0.1,{wrong}")
        with pytest.raises(ValidationError, match="is not an IP address or network"):
            Settings()


def test_serve_leaves_the_client_address_to_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """uvicorn's own proxy_headers would believe X-Forwarded-For from 127.0.0.1 (anyone on
    the host, or every visitor behind a local proxy) before the app sees the request."""
    import uvicorn

    monkeypatch.setenv("BOOKWITHME_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("BOOKWITHME_DATABASE_URL", raising=False)
    # Not migrating here also keeps alembic from setting up this process's logging.
    monkeypatch.setattr(migrate, "upgrade", lambda *args, **kwargs: None)
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: calls.append(kwargs))
    result = run_cli("serve", "--port", "8123")
    assert result.exit_code == 0, result.output
    assert calls and calls[0]["proxy_headers"] is False
    assert "forwarded_allow_ips" not in calls[0]


# Through the app: the limits count the client the proxy names, and only that.


def attempt(client: TestClient, forwarded_for: str | None, password: str = "guess") -> int:
    headers = {"accept": "text/html"}
    if forwarded_for is not None:
        headers["x-forwarded-for"] = forwarded_for
    response = client.post(
        "/signin",
        data={"email": "ada@example.com", "password": password, "csrftoken": csrf_token(client)},
        headers=headers,
        follow_redirects=False,
    )
    return response.status_code


@pytest.fixture
def behind_proxy(settings: Settings) -> Iterator[FastAPI]:
    """The app with trusted proxies, started (its lifespan runs until the test ends)."""
    app = create_app(settings.model_copy(update={"trusted_proxies": PROXIES}))
    with TestClient(app):
        yield app


def test_through_a_trusted_proxy_each_visitor_has_their_own_limit(
    behind_proxy: FastAPI, session_factory: sessionmaker[Session]
) -> None:
    create_account(session_factory, "ada@example.com")
    proxy = ("10.0.0.1", 40000)
    guesser = TestClient(behind_proxy, client=proxy)
    for _ in range(ratelimit.MAX_PER_ACCOUNT_AND_ADDRESS):
        assert attempt(guesser, "198.51.100.66") == 401
    assert attempt(guesser, "198.51.100.66", PASSWORD) == 429
    # Writing another address first does not help: the proxy appends the real one.
    assert attempt(guesser, "198.51.100.7, 198.51.100.66", PASSWORD) == 429
    # Ada, behind the same proxy, is another visitor.
    ada = TestClient(behind_proxy, client=proxy)
    assert attempt(ada, "198.51.100.7", PASSWORD) == 303


@pytest.mark.parametrize("peer", ["203.0.113.5", "127.0.0.1"])
def test_an_untrusted_peer_cannot_pick_its_address(
    behind_proxy: FastAPI, session_factory: sessionmaker[Session], peer: str
) -> None:
    create_account(session_factory, "ada@example.com")
    guesser = TestClient(behind_proxy, client=(peer, 40000))
    for i in range(ratelimit.MAX_PER_ACCOUNT_AND_ADDRESS):
        assert attempt(guesser, f"198.51.100.{i + 1}") == 401
    assert attempt(guesser, "198.51.100.99", PASSWORD) == 429
    # Other visitors are not blocked by what it claimed to be.
    assert attempt(TestClient(behind_proxy, client=("10.0.0.1", 1)), "198.51.100.1", PASSWORD) == (
        303
    )
