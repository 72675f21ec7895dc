"""The unit of work: a transaction that reads and then writes waits for another process's
writer instead of failing (the CLI, the worker and the server share one database)."""

from __future__ import annotations

import threading

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.accounts import service as accounts
from bookwithme.db import make_engine, make_session_factory, session_scope
from bookwithme.models import Organization


def test_a_writer_that_reads_first_waits_for_another_process_instead_of_failing(
    db_engine: Engine, session_factory: sessionmaker[Session], database_url: str
) -> None:
    # A second engine stands for a second process (say `bookwithme worker` beside `serve`).
    other_process = make_engine(database_url)
    try:
        other_factory = make_session_factory(other_process)
        other_wrote = threading.Event()
        errors: list[BaseException] = []

        def other_writer() -> None:
            try:
                with session_scope(other_factory, write=True) as other:
                    accounts.create_organization(other, "Written by the other process")
                other_wrote.set()
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

        with session_scope(session_factory, write=True) as session:
            assert accounts.the_organization(session) is None  # read first ...
            thread = threading.Thread(target=other_writer)
            thread.start()
            # ... the other process writes meanwhile (on SQLite it waits for us) ...
            if db_engine.dialect.name == "sqlite":
                assert not other_wrote.wait(0.3)
            else:
                assert other_wrote.wait(30)  # PostgreSQL: other rows, no waiting
            accounts.create_organization(session, "Acme")  # ... then write.
        thread.join(30)
        assert errors == []
        assert other_wrote.is_set()
        with session_factory() as check:
            names = check.scalars(select(Organization.name).order_by(Organization.name))
            assert list(names) == ["Acme", "Written by the other process"]
    finally:
        other_process.dispose()
