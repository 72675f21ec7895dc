"""The ``bookwithme`` command: db upgrade, users create and tokens create."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from bookwithme.db import make_engine
from bookwithme.models import Base, User
from tests.factories import run_cli as run
from tests.factories import sign_in


def test_users_create_then_tokens_create_gives_a_working_token(
    cli_env: None, client: TestClient, session: Session
) -> None:
    created = run(
        "users",
        "create",
        "Grace@Example.com",
        "--name",
        "Grace Hopper",
        "--time-zone",
        "America/New_York",
    )
    assert created.exit_code == 0, created.output
    assert "Created user grace@example.com (administrator, as the first user)" in created.output

    issued = run("tokens", "create", "grace@example.com", "--label", "laptop")
    assert issued.exit_code == 0, issued.output
    token = issued.output.strip().splitlines()[-1]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["email"] == "grace@example.com"
    assert me.json()["time_zone"] == "America/New_York"
    assert me.json()["is_admin"] is True


def test_users_create_with_a_password_from_stdin(
    cli_env: None, client: TestClient, session: Session
) -> None:
    run("users", "create", "root@example.com", "--name", "Root", "--admin")
    result = run(
        "users",
        "create",
        "kay@example.com",
        "--name",
        "Kay",
        "--plan",
        "E3",
        "--password-stdin",
        input="long enough password\n",
    )
    assert result.exit_code == 0, result.output
    user = session.scalars(select(User).where(User.email == "kay@example.com")).one()
    assert (user.is_admin, user.plan) == (False, "E3")
    sign_in(client, "kay@example.com", "long enough password")
    assert client.get("/api/v1/me").json()["name"] == "Kay"


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["users", "create", "not-an-email", "--name", "X"], None, "email:"),
        (["users", "create", "x@example.com", "--name", ""], None, "--name:"),
        (
            ["users", "create", "x@example.com", "--name", "X", "--time-zone", "Moon/Base"],
            None,
            "not a known IANA time zone",
        ),
        (
            ["users", "create", "x@example.com", "--name", "X", "--password-stdin"],
            "short\n",
            "password:",
        ),
        (["users", "create", "x@example.com", "--name", "X", "--locale", "de"], None, "--locale:"),
        (["tokens", "create", "nobody@example.com"], None, "No user with the email address"),
    ],
)
def test_bad_arguments_are_explained_and_create_nothing(
    cli_env: None, session: Session, args: list[str], stdin: str | None, message: str
) -> None:
    result = run(*args, input=stdin)
    assert result.exit_code != 0
    assert message in result.output
    assert session.scalar(select(func.count()).select_from(User)) == 0


def test_the_same_email_twice_is_refused(cli_env: None, session: Session) -> None:
    assert run("users", "create", "a@example.com", "--name", "A").exit_code == 0
    again = run("users", "create", "A@example.com", "--name", "A again")
    assert again.exit_code == 1
    assert "already exists" in again.output
    assert session.scalar(select(func.count()).select_from(User)) == 1


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_db_upgrade_builds_an_empty_database(
    make_database, backend: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    url = make_database(backend, migrated=False)
    monkeypatch.setenv("BOOKWITHME_DATABASE_URL", url)
    monkeypatch.setenv("BOOKWITHME_DATA_DIR", str(tmp_path))
    result = run("db", "upgrade")
    assert result.exit_code == 0, result.output
    engine = make_engine(url)
    try:
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_demo_fills_an_empty_database_once(
    cli_env: None, client: TestClient, session: Session
) -> None:
    result = run("demo")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    password = next(line.split(":", 1)[1].strip() for line in lines if "password:" in line)
    page_url = next(
        line.split(": ", 1)[1].strip() for line in lines if line.startswith("Public page:")
    )
    link_url = next(
        line.split(": ", 1)[1].strip() for line in lines if line.startswith("Private link:")
    )
    assert "3 bookings were made" in result.output

    sign_in(client, "demo@example.com", password)
    me = client.get("/api/v1/me").json()
    assert me["is_admin"] is True and me["name"] == "Camille Martin"
    page = client.get("/api/v1/public/pages/" + page_url.rsplit("/", 1)[1]).json()
    assert [t["title"] for t in page["meeting_types"]] == [
        "15 minute meeting",
        "30 minute meeting",
        "Coffee chat",
    ]
    link = client.get("/api/v1/public/links/" + link_url.rsplit("/", 1)[1]).json()
    assert link["meeting_type"]["title"] == "Project kickoff"
    bookings = client.get("/api/v1/bookings").json()["items"]
    assert len(bookings) == 3 and {b["invitee"]["locale"] for b in bookings} == {"en", "fr"}
    assert len(client.get("/api/v1/me/busy").json()["items"]) >= 10
    assert len(client.get("/api/v1/admin/outbox").json()["items"]) == 6

    again = run("demo")
    assert again.exit_code == 1 and "only an empty one" in again.output


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_users_create_on_a_fresh_install_prepares_the_database_itself(
    make_database, backend: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The CLI can do what the setup page does, before `serve` or `db upgrade` ever ran."""
    url = make_database(backend, migrated=False)
    monkeypatch.setenv("BOOKWITHME_DATABASE_URL", url)
    monkeypatch.setenv("BOOKWITHME_DATA_DIR", str(tmp_path))
    created = run("users", "create", "ada@example.com", "--name", "Ada", "--admin")
    assert created.exit_code == 0, created.output
    token = run("tokens", "create", "ada@example.com")
    assert token.exit_code == 0, token.output
    assert token.stdout.strip().splitlines()[-1].startswith("bwm_")
    shown = run("admin", "get-user", "ada@example.com")
    assert shown.exit_code == 0, shown.output
    assert "ada@example.com" in shown.output
