"""Test fixtures. Every test that touches the database runs twice: on SQLite and on a
throwaway PostgreSQL 15 started for the session. Both schemas are built with
``alembic upgrade head``; tests are isolated by emptying every table after each one."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from bookwithme import migrate
from bookwithme.app import create_app
from bookwithme.config import Settings
from bookwithme.db import make_engine, make_session_factory
from bookwithme.models import Base
from tests.support import postgres

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[postgres.PostgresServer | None]:
    try:
        server = postgres.start()
    except postgres.PostgresUnavailable as exc:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required in CI: {exc}")
        print(f"\nPostgreSQL tests will be skipped: {exc}")
        yield None
        return
    yield server
    server.stop()


def _create_pg_database(server: postgres.PostgresServer, name: str) -> str:
    admin = make_engine(server.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server.url_for(name)


@pytest.fixture(scope="session")
def make_database(
    tmp_path_factory: pytest.TempPathFactory, postgres_server: postgres.PostgresServer | None
):  # type: ignore[no-untyped-def]
    """A factory of new, empty, migrated databases: ``make_database(backend) -> url``."""

    def make(backend: str, migrated: bool = True) -> str:
        if backend == "sqlite":
            path = tmp_path_factory.mktemp("sqlite") / "bookwithme.db"
            url = f"sqlite:///{path}"
        else:
            if postgres_server is None:
                pytest.skip("PostgreSQL is not available on this machine (see the message above)")
            url = _create_pg_database(postgres_server, f"test_{uuid.uuid4().hex[:12]}")
        if migrated:
            migrate.upgrade(url, configure_logging=False)
        return url

    return make


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, make_database) -> str:  # type: ignore[no-untyped-def]
    return str(make_database(request.param))


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def _empty_all_tables(engine: Engine) -> None:
    tables = list(reversed(Base.metadata.sorted_tables))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


@pytest.fixture
def db_engine(engine: Engine) -> Iterator[Engine]:
    """The backend's engine, with every table emptied after the test."""
    yield engine
    _empty_all_tables(engine)


@pytest.fixture
def session_factory(db_engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(db_engine)


@pytest.fixture
def session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        yield session


@pytest.fixture
def settings(
    request: pytest.FixtureRequest, tmp_path: Path, database_url: str, db_engine: Engine
) -> Settings:
    """The app's settings; a test marked ``private_targets`` (its calendar servers run on
    127.0.0.1) may connect to private addresses, which the others may not, as in production."""
    return Settings(
        data_dir=tmp_path,
        database_url=database_url,
        secret_key="test-secret-key-" + "x" * 32,
        base_url="http://testserver",
        embedded_worker=False,
        allow_private_targets=request.node.get_closest_marker("private_targets") is not None,
    )


@pytest.fixture
def app(settings: Settings):  # type: ignore[no-untyped-def]
    return create_app(settings)


@pytest.fixture
def client(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app) as client:
        yield client


@pytest.fixture
def cli_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str, db_engine: Engine
) -> None:
    """The `bookwithme` command pointed at this test's database."""
    monkeypatch.setenv("BOOKWITHME_DATABASE_URL", database_url)
    monkeypatch.setenv("BOOKWITHME_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BOOKWITHME_SECRET_KEY", "test-secret-key-" + "x" * 32)


@pytest.fixture
def smtp():  # type: ignore[no-untyped-def]
    """A real SMTP server (aiosmtpd) on a free port, its inbox, and a sender pointed at it."""
    from aiosmtpd.controller import Controller

    from bookwithme.notifications.delivery import SMTPConfig, SMTPSender
    from tests.notifications.test_delivery import Inbox, free_port

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, SMTPSender(SMTPConfig.from_url(f"smtp://127.0.0.1:{port}"), timeout=5)
    finally:
        controller.stop()
