"""An exact cache of rendered answers (the public slot endpoints use it).

An answer depends on the database and on the clock. It is kept until either changes it:

* the database: on SQLite, ``PRAGMA data_version`` on a connection of our own that never
  writes changes whenever any other connection, in any process, commits anything; one
  check costs a few microseconds. Any commit at all empties the cache's validity, which is
  coarse but never wrong. PostgreSQL has no such cheap signal here, so there the cache is
  off and every request computes its answer;
* the clock: each answer carries the instant until which time alone cannot change it (for
  slots, ``valid_until`` in ``scheduling.service``).

``ResponseCache`` in ``web/middleware.py`` serves hits before routing, so a repeated question
costs a dictionary lookup and one ``PRAGMA``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

MAX_ENTRIES = 2048


class SQLiteChangeWatcher:
    """A connection of its own that only ever asks ``PRAGMA data_version``; opened on first
    use (and again after ``close``, for an app whose lifespan runs more than once)."""

    def __init__(self, database: str) -> None:
        self._database = database
        self._conn: sqlite3.Connection | None = None
        self._opened = 0
        self._lock = threading.Lock()

    def version(self) -> tuple[int, int]:
        """Changes whenever another connection commits. Values of different connections are
        not comparable, so the number of the connection comes first."""
        with self._lock:
            if self._conn is None:
                self._conn = sqlite3.connect(
                    self._database, check_same_thread=False, isolation_level=None
                )
                self._opened += 1
            row = self._conn.execute("PRAGMA data_version").fetchone()
        return self._opened, int(row[0])

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


@dataclass(frozen=True)
class CachedAnswer:
    version: tuple[int, int]
    valid_until: datetime
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


class AnswerCache:
    def __init__(self, watcher: SQLiteChangeWatcher, max_entries: int = MAX_ENTRIES) -> None:
        self.watcher = watcher
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, CachedAnswer] = OrderedDict()
        self._lock = threading.Lock()

    def version(self) -> tuple[int, int]:
        """Read before computing an answer, and stored with it."""
        return self.watcher.version()

    def get(self, key: Hashable, version: tuple[int, int], now: datetime) -> CachedAnswer | None:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry.version != version or now >= entry.valid_until:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, key: Hashable, answer: CachedAnswer) -> None:
        with self._lock:
            self._entries[key] = answer
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def close(self) -> None:
        self.watcher.close()


def answer_cache_for(engine: Engine) -> AnswerCache | None:
    """A cache for a file-backed SQLite database; None where changes cannot be seen cheaply."""
    if engine.dialect.name != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return AnswerCache(SQLiteChangeWatcher(database))
