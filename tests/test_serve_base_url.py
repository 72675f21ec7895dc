"""`bookwithme serve --host H --port P` without BASE_URL writes its links (manage links in
the API answer and the emails, private links, the page address) with http://H:P, not the
default port 8000; a BASE_URL that is set always wins (SPEC section 5, issue 11)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bookwithme import migrate, serving
from bookwithme.app import create_app
from bookwithme.config import Settings, listening_url
from bookwithme.models import OutboxMessage
from bookwithme.notifications.outbox import opened
from tests.bookings.test_booking_api import at
from tests.factories import create_account
from tests.factories import run_cli as run
from tests.scheduling.test_public_slots import next_monday
from tests.support import crowd


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        ("127.0.0.1", 9201, "http://127.0.0.1:9201"),
        ("0.0.0.0", 9201, "http://localhost:9201"),
        ("::", 80, "http://localhost:80"),
        ("", 8000, "http://localhost:8000"),
        ("::1", 9201, "http://[::1]:9201"),
        ("book.internal", 8080, "http://book.internal:8080"),
    ],
)
def test_the_address_of_a_listener(host: str, port: int, url: str) -> None:
    assert listening_url(host, port) == url


def test_settings_without_base_url_take_the_listeners_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("BOOKWITHME_BASE_URL", raising=False)
    plain = Settings()
    assert plain.base_url == "http://127.0.0.1:8000" and not plain.base_url_given
    assert plain.for_listener("127.0.0.1", 9201).base_url == "http://127.0.0.1:9201"
    # Set but empty (BOOKWITHME_BASE_URL= in an env file) is unset, not "" before each path.
    monkeypatch.setenv("BOOKWITHME_BASE_URL", "")
    empty = Settings()
    assert empty.base_url == "http://127.0.0.1:8000" and not empty.base_url_given
    assert empty.for_listener("127.0.0.1", 9201).base_url == "http://127.0.0.1:9201"
    # Set, it wins, whatever the listener.
    monkeypatch.setenv("BOOKWITHME_BASE_URL", "https://book.example.org/")
    given = Settings()
    assert given.base_url_given
    assert given.for_listener("127.0.0.1", 9201).base_url == "https://book.example.org"
    explicit = Settings(base_url="http://127.0.0.1:8000")  # the default, but said
    assert explicit.for_listener("0.0.0.0", 9201).base_url == "http://127.0.0.1:8000"


@pytest.fixture
def served(
    cli_env: None, monkeypatch: pytest.MonkeyPatch
) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
    """`serve` in process, with uvicorn.run (one process) and ``serve_processes`` (several)
    recording what they were given instead of serving;
    no BASE_URL in the environment (put there and taken away, so monkeypatch restores
    whatever `serve` writes)."""
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append((args, kwargs)))

    def processes(options: dict[str, Any], workers: int) -> int:
        calls.append(((serving.APP,), {"factory": True, "workers": workers, **options}))
        return 0

    monkeypatch.setattr(serving, "serve_processes", processes)
    # `serve` sets up the process's logging as it migrates, which in a test process would
    # send every later test's log lines into the output the CLI tests read.
    real_upgrade = migrate.upgrade
    monkeypatch.setattr(
        migrate, "upgrade", lambda url, **_: real_upgrade(url, configure_logging=False)
    )
    monkeypatch.setenv("BOOKWITHME_BASE_URL", "unset")
    monkeypatch.delenv("BOOKWITHME_BASE_URL")
    monkeypatch.setenv("BOOKWITHME_EMBEDDED_WORKER", "false")
    return calls


def _served_app(calls: list[tuple[tuple[Any, ...], dict[str, Any]]]) -> FastAPI:
    ((args, kwargs),) = calls
    if kwargs.get("factory"):
        assert args == ("bookwithme.app:create_app",)
        return create_app()  # what each uvicorn worker process does
    app = args[0]
    assert isinstance(app, FastAPI)
    return app


def test_serve_on_another_port_writes_its_links_with_that_port(
    served: list[tuple[tuple[Any, ...], dict[str, Any]]],
    session_factory: sessionmaker[Session],
    session: Session,
) -> None:
    result = run("serve", "--port", "9201")
    assert result.exit_code == 0, result.output
    assert "bookwithme is serving http://127.0.0.1:9201 (listening on 127.0.0.1:9201" in (
        result.output
    )
    assert served[0][1]["port"] == 9201
    app = _served_app(served)
    assert app.state.settings.base_url == "http://127.0.0.1:9201"

    ada = create_account(session_factory, "ada@example.com", time_zone="Europe/Paris")
    with TestClient(app) as client:
        page = client.post("/api/v1/page/publish", headers=ada.headers).json()
        assert page["url"] == f"http://127.0.0.1:9201/p/{page['key']}"
        t30 = client.get("/api/v1/meeting-types", headers=ada.headers).json()["items"][1]["id"]
        link = client.post(f"/api/v1/meeting-types/{t30}/private-links", headers=ada.headers)
        assert link.json()["url"] == f"http://127.0.0.1:9201/l/{link.json()['token']}"
        booked = client.post(
            f"/api/v1/public/pages/{page['key']}/meeting-types/{t30}/bookings",
            json={
                "start": at(next_monday(), 10),
                "name": "Grace Hopper",
                "email": "grace@example.com",
                "time_zone": "America/New_York",
            },
        )
    assert booked.status_code == 201, booked.text
    manage_url = f"http://127.0.0.1:9201/b/{booked.json()['manage_token']}"
    assert booked.json()["manage_url"] == manage_url
    invitee_mail = session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "booking_created_invitee")
    ).one()
    secret_key = app.state.settings.resolved_secret_key
    text = opened(secret_key, invitee_mail.body_text) or ""
    html = opened(secret_key, invitee_mail.body_html) or ""
    ics = opened(secret_key, invitee_mail.ics) or ""
    assert manage_url in text and manage_url in html
    assert ":8000" not in text + html + ics


def test_serve_on_every_interface_writes_localhost_and_says_so(
    served: list[tuple[tuple[Any, ...], dict[str, Any]]],
) -> None:
    result = run("serve", "--host", "0.0.0.0", "--port", "9202")
    assert result.exit_code == 0, result.output
    assert _served_app(served).state.settings.base_url == "http://localhost:9202"
    assert "set BOOKWITHME_BASE_URL" in result.output


def test_serve_with_several_workers_hands_them_the_same_base_url(
    served: list[tuple[tuple[Any, ...], dict[str, Any]]],
) -> None:
    result = run("serve", "--port", "9203", "--workers", "2")
    assert result.exit_code == 0, result.output
    assert served[0][1]["workers"] == 2
    assert _served_app(served).state.settings.base_url == "http://127.0.0.1:9203"


@pytest.mark.parametrize("workers", ["1", "2"])
def test_an_explicit_base_url_always_wins(
    served: list[tuple[tuple[Any, ...], dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
    workers: str,
) -> None:
    monkeypatch.setenv("BOOKWITHME_BASE_URL", "https://book.example.org/")
    result = run("serve", "--port", "9204", "--workers", workers)
    assert result.exit_code == 0, result.output
    assert "serving https://book.example.org (listening on 127.0.0.1:9204" in result.output
    assert "set BOOKWITHME_BASE_URL" not in result.output
    assert _served_app(served).state.settings.base_url == "https://book.example.org"


def test_a_real_serve_on_another_port_gives_manage_links_with_that_port(tmp_path: Path) -> None:
    """`make run PORT=P` as a person runs it: two processes, no BASE_URL, a booking."""
    url = f"sqlite:///{tmp_path / 'bookwithme.db'}"
    env = crowd.environment(url, tmp_path, embedded_worker="false")
    env.pop("BOOKWITHME_BASE_URL", None)
    port = crowd.free_port()
    server = crowd.start_serve(env, port, tmp_path / "serve.log", "--workers", "2")
    try:
        organizer = crowd.prepare_organizer(url, "ada@example.com")
        start = organizer.starts()[0]
        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            # Several new connections, so that both processes are likely to answer one.
            for k in range(4):
                booked = client.post(
                    organizer.bookings_path(),
                    json={
                        "start": (start + timedelta(minutes=30 * k)).isoformat(),
                        "name": f"Invitee {k}",
                        "email": f"invitee{k}@example.com",
                        "time_zone": "UTC",
                    },
                    headers={"connection": "close"},
                )
                assert booked.status_code == 201, booked.text
                assert booked.json()["manage_url"] == (
                    f"http://127.0.0.1:{port}/b/{booked.json()['manage_token']}"
                )
        assert f"serving http://127.0.0.1:{port} " in server.log.read_text()
    finally:
        server.stop()
