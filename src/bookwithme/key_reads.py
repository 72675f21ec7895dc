"""Reads of one row by key: the one read of a request answered from memory.

A session on the event loop (``web/admission.py`` ``Admission.quick_read``) is marked
``MEMORY_ONLY``: it may only make such reads; anything longer raises ``WouldRead`` and the
request starts over in a thread.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.orm import Session

# In session.info: (KeyRead, params, row) read ahead of the session (``Admission.quick_read``
# on PostgreSQL, awaited on the event loop), which ``KeyRead.first`` answers with.
PREFETCHED = "bookwithme.prefetched"

# In session.info: the event loop's connection this session runs on; it may only read
# single rows by key (``KeyRead``); anything longer raises WouldRead, and the caller
# starts over in a thread.
MEMORY_ONLY = "bookwithme.memory_only"


class WouldRead(Exception):
    """A session that may only read single rows (``MEMORY_ONLY``) met a longer read."""


# A statement as the driver takes it: its text, the order of its parameters (for drivers
# that take them by position), and the conversions of its columns and parameters.
_Compiled = tuple[str, tuple[str, ...] | None, list[Any], dict[str, Any]]


class KeyRead:
    """A statement that reads one row by key, the one read of a request answered from
    memory. In a ``MEMORY_ONLY`` session it goes straight to the driver on the event
    loop's own connection (in autocommit: nothing to begin), compiled once per dialect,
    with the columns' own conversions: a fifth of the cost of the same statement through
    the session. Elsewhere, or when the driver fails (a lost connection is then noticed
    and reported the usual way), it runs as any statement."""

    def __init__(self, statement: Select[*tuple[Any, ...]]) -> None:
        self.statement = statement
        self._compiled: dict[
            str, tuple[str, tuple[str, ...] | None, list[Any], dict[str, Any]]
        ] = {}

    def first(self, session: Session, params: dict[str, Any]) -> tuple[Any, ...] | None:
        prefetched = session.info.get(PREFETCHED)
        if prefetched is not None and prefetched[0] is self and prefetched[1] == params:
            row: tuple[Any, ...] | None = prefetched[2]
            return row
        connection = session.info.get(MEMORY_ONLY)
        if not isinstance(connection, Connection):
            row = session.connection().execute(self.statement, params).first()
            return None if row is None else tuple(row)
        try:
            found = self._on_driver(connection, params)
        except connection.dialect.loaded_dbapi.Error:
            row = connection.execute(self.statement, params).first()
            return None if row is None else tuple(row)
        return self.converted(connection.dialect, found)

    def converted(self, dialect: Dialect, found: Any) -> tuple[Any, ...] | None:
        """A raw row from the driver, with the columns' conversions."""
        if found is None:
            return None
        results = self.compiled(dialect)[2]
        return tuple(
            convert(value) if convert else value
            for convert, value in zip(results, found, strict=True)
        )

    def driver_arguments(self, dialect: Dialect, params: dict[str, Any]) -> tuple[str, Any]:
        """The statement's text and its parameters as the driver takes them."""
        sql, positional, _, binds = self.compiled(dialect)
        values = {k: binds[k](v) if k in binds else v for k, v in params.items()}
        return sql, tuple(values[name] for name in positional) if positional else values

    def _on_driver(self, connection: Connection, params: dict[str, Any]) -> Any:
        """The statement run by the driver itself: its raw row, or None."""
        sql, arguments = self.driver_arguments(connection.dialect, params)
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(sql, arguments)
            return cursor.fetchone()
        finally:
            cursor.close()

    def compiled(self, dialect: Dialect) -> _Compiled:
        known = self._compiled.get(dialect.name)
        if known is None:
            compiled = self.statement.compile(dialect=dialect)
            positional = tuple(compiled.positiontup or ()) if dialect.positional else None
            results = [
                column.type._cached_result_processor(dialect, None)
                for column in self.statement.selected_columns
            ]
            binds = {
                name: convert
                for name, bind in compiled.binds.items()
                if (convert := bind.type._cached_bind_processor(dialect)) is not None
            }
            known = self._compiled[dialect.name] = (compiled.string, positional, results, binds)
        return known
