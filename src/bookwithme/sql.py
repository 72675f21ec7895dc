"""SQL functions SQLAlchemy does not spell the same way on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class epoch_seconds(FunctionElement[int]):
    """Whole seconds since the epoch of a timestamp column, rounded down (for the start of
    an interval: the whole seconds cover at least the interval)."""

    type = BigInteger()
    inherit_cache = True


class epoch_seconds_up(FunctionElement[int]):
    """Whole seconds since the epoch of a timestamp column, rounded up (for the end of an
    interval)."""

    type = BigInteger()
    inherit_cache = True


@compiles(epoch_seconds, "sqlite")
def _down_sqlite(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    # Stored as naive UTC text: strftime reads it as UTC; '%s' drops the fraction.
    return f"CAST(strftime('%s', {compiler.process(element.clauses, **kw)}) AS INTEGER)"


@compiles(epoch_seconds_up, "sqlite")
def _up_sqlite(element: epoch_seconds_up, compiler: Any, **kw: Any) -> str:
    # The stored text is 'YYYY-MM-DD HH:MM:SS.ffffff': one more second when the digits
    # after the point are not all zero.
    value = compiler.process(element.clauses, **kw)
    return f"(CAST(strftime('%s', {value}) AS INTEGER) + (rtrim(substr({value}, 21), '0') <> ''))"


@compiles(epoch_seconds, "postgresql")
def _down_postgresql(element: epoch_seconds, compiler: Any, **kw: Any) -> str:
    return f"CAST(FLOOR(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})) AS BIGINT)"


@compiles(epoch_seconds_up, "postgresql")
def _up_postgresql(element: epoch_seconds_up, compiler: Any, **kw: Any) -> str:
    return f"CAST(CEIL(EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})) AS BIGINT)"
