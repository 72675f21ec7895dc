"""Admission: which requests may use the database now, and in what order.

A crowd (a link shared with a class, 150 people booking one organizer in the same minute)
must cost the server bounded work. Requests that touch the database wait their turn here,
on the event loop, where waiting costs nothing: never in a worker thread and never
holding a pool connection or a lock. Three kinds of gate, entered in this order:

1. **the organizer's lane** (booking, reschedule, cancel): one change per organizer at a
   time in this process, so a crowd at one organizer takes one place in the queues below
   and other organizers' invitees are not held up behind it;
2. **the writer gate** (SQLite only): one writing request at a time in this process,
   matching SQLite's single writer, so no thread ever blocks on the database's write lock;
3. **the database gate**: at most as many requests at once as the connection pool and the
   thread pool can serve, so a request that holds a connection always finds a thread to
   finish on.

Reading an organizer's remote calendar while a request waits (connecting one, "read now")
takes up to ``calendars.sync.READ_DEADLINE`` seconds of waiting on someone else's server.
Those reads hold no database place and run in threads of their own (``remote_read``):
one at a time per organizer, ``REMOTE_READS`` at once in the process, so slow feeds can
never take the threads other people's requests need.

Every wait is bounded: a request that cannot be admitted within ``MAX_WAIT`` seconds
(counted from its first gate), or that joins a queue whose expected wait is already longer
than that, is answered 503 with ``Retry-After`` at once. Correctness never depends on
these gates: the database decides (SQLite's write lock, PostgreSQL's row locks and
exclusion constraint); the gates only keep the server responsive.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
import uuid
import weakref
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from typing import Any, TypeVar

import psycopg
from anyio import CapacityLimiter, to_thread
from psycopg import pq
from psycopg.adapt import Transformer
from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from bookwithme.errors import Busy
from bookwithme.key_reads import MEMORY_ONLY, PREFETCHED, KeyRead, WouldRead

log = logging.getLogger("bookwithme")

MAX_WAIT = 8.0  # seconds a request may wait for admission, all gates together
LANE_MAX_WAITING = 500  # per organizer and process; beyond it the answer is 503 at once
KNOWN_ORGANIZERS = 10_000  # keys (page keys, link and manage tokens) remembered per process
REMOTE_READS = 8  # remote calendars read at once for requests, per process


class _Waiter:
    __slots__ = ("future", "granted", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.future: asyncio.Future[None] = loop.create_future()
        self.granted = False


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class Gate:
    """A first-come, first-served semaphore for coroutines with a bounded wait.

    It also keeps a moving average of how long a holder keeps its place, so a newcomer who
    would certainly wait past the deadline is told so at once instead of after waiting.
    A server has one event loop, but the state is guarded by a lock and waiters are woken
    on their own loop, so several loops (test clients) may share one gate."""

    def __init__(self, capacity: int, max_waiting: int = 10_000) -> None:
        self.capacity = capacity
        self.max_waiting = max_waiting
        self._free = capacity
        self._waiters: deque[_Waiter] = deque()
        self._hold = 0.0  # seconds, exponentially weighted
        self._lock = threading.Lock()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    @property
    def idle(self) -> bool:
        return self._free == self.capacity and not self._waiters

    def _expected_wait(self) -> float:
        return (len(self._waiters) + 1) * self._hold / self.capacity

    async def acquire(self, deadline: float) -> None:
        loop = asyncio.get_running_loop()
        remaining = deadline - loop.time()
        with self._lock:
            if self._free > 0 and not self._waiters:
                self._free -= 1
                return
            if (
                len(self._waiters) >= self.max_waiting
                or remaining <= 0
                or self._expected_wait() > remaining
            ):
                raise Busy()
            waiter = _Waiter(loop)
            self._waiters.append(waiter)
        try:
            await asyncio.wait_for(asyncio.shield(waiter.future), remaining)
        except BaseException as exc:  # timed out, or the request itself was cancelled
            with self._lock:
                granted = waiter.granted
                if not granted:
                    self._waiters.remove(waiter)
            if granted:
                self.release(0.0)  # handed over just as we gave up: pass it on
            if isinstance(exc, TimeoutError):
                raise Busy() from None
            raise

    def release(self, held: float) -> None:
        with self._lock:
            if held:
                self._hold = held if not self._hold else 0.8 * self._hold + 0.2 * held
            if not self._waiters:
                self._free += 1
                return
            waiter = self._waiters.popleft()  # the place passes straight to the next in line
            waiter.granted = True
        waiter.loop.call_soon_threadsafe(_wake, waiter.future)

    @asynccontextmanager
    async def held(self, deadline: float) -> AsyncIterator[None]:
        await self.acquire(deadline)
        began = time.monotonic()
        try:
            yield
        finally:
            self.release(time.monotonic() - began)


Resolver = Callable[[Session, str], uuid.UUID | None]
T = TypeVar("T")


NOT_READ = object()  # what ``AsyncKeyReads.first`` answers when it could not ask


class _LoopReads:
    """The key reads of one event loop: its connections (``None``, a place for one not made
    yet), whether a batch is on its way, and the visitors who came after it was sent, each
    waiting for the row of their key."""

    __slots__ = ("idle", "sending", "tasks", "waiting")

    def __init__(self, size: int) -> None:
        self.idle: asyncio.LifoQueue[_LoopConnection | None] = asyncio.LifoQueue()
        for _ in range(size):
            self.idle.put_nowait(None)
        self.sending = False
        self.waiting: dict[tuple[KeyRead, str], asyncio.Future[Any]] = {}
        self.tasks: set[asyncio.Future[None]] = set()


class AsyncKeyReads:
    """PostgreSQL: key reads awaited on connections of the event loop's own, ``SIZE`` per
    loop, made when first needed, in autocommit. Each statement is prepared once per
    connection and then sent as libpq's prepared-statement call, its rows converted by
    psycopg's own loaders: psycopg's cursor machinery costs more processor time per read
    than the rest of an invitee's slot list. A read that fails (a lost connection, a
    server restarting) drops its connection and answers ``NOT_READ``: the request then
    reads synchronously, the way that reports errors.

    Visitors share reads, and stay exact: a visitor may only take the answer of a read
    *sent after they arrived*, since a read sent earlier can miss a change committed in
    between. So while a read is on its way, newcomers wait together, and the moment it
    lands one batch is sent for all of them: a statement per kind of key, each key once
    (``unnest`` of the keys joined to the read). A crowd, at one organizer's page or
    spread over many, then costs the database one statement per round trip instead of
    one per visitor, and no visitor waits more than two round trips."""

    SIZE = 4

    def __init__(self, engine: Engine) -> None:
        self.dialect = engine.dialect
        self.conninfo = engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        self._loops: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopReads] = (
            weakref.WeakKeyDictionary()
        )
        self._lock = threading.Lock()
        self._statements: dict[tuple[KeyRead, bool], tuple[bytes, bytes]] = {}

    def _statement(self, read: KeyRead, batched: bool) -> tuple[bytes, bytes]:
        """The statement's name and text: the read with its one parameter as ``$1``, or,
        ``batched``, the same for every key of the text array ``$1``, each row led by
        its key's place in the array."""
        known = self._statements.get((read, batched))
        if known is None:
            sql = read.compiled(self.dialect)[0]
            if len(set(re.findall(r"%\((\w+)\)s", sql))) != 1:
                raise ValueError("a key read sent ahead takes exactly one parameter")
            one = re.sub(r"%\((\w+)\)s", "$1", sql).replace("%%", "%")
            # Built from the read's own compiled statement; the keys go as the parameter.
            text = (
                "SELECT keys.place, found.* FROM unnest($1::text[]) WITH ORDINALITY"  # noqa: S608
                f" AS keys(key, place) CROSS JOIN LATERAL ({one.replace('$1', 'keys.key')})"
                " AS found"
                if batched
                else one
            )
            name = f"bookwithme_key_read_{len(self._statements)}".encode()
            known = self._statements[(read, batched)] = (name, text.encode())
        return known

    def _reads(self) -> _LoopReads:
        loop = asyncio.get_running_loop()
        reads = self._loops.get(loop)
        if reads is None:
            with self._lock:
                reads = self._loops.setdefault(loop, _LoopReads(self.SIZE))
        return reads

    async def first(self, read: KeyRead, params: dict[str, Any]) -> Any:
        """The row, converted, or None when there is none, or ``NOT_READ``."""
        values = list(params.values())
        if len(values) != 1 or not isinstance(values[0], str) or "\x00" in values[0]:
            return NOT_READ  # one text key is sent this way; anything else reads as usual
        key = (read, values[0])
        reads = self._reads()
        if not reads.sending:
            # Nothing on its way: read now; whoever comes meanwhile waits for the next.
            reads.sending = True
            try:
                return (await self._read_batch(reads, [key]))[key]
            finally:
                self._send_next(reads)
        waiting = reads.waiting.get(key)
        if waiting is None:
            waiting = reads.waiting[key] = asyncio.get_running_loop().create_future()
        # shield: one visitor who leaves does not cancel the answer the others wait for.
        return await asyncio.shield(waiting)

    def _send_next(self, reads: _LoopReads) -> None:
        """A batch has landed: send the one its newcomers wait for, if any."""
        batch, reads.waiting = reads.waiting, {}
        if not batch:
            reads.sending = False
            return

        async def send() -> None:
            found: dict[tuple[KeyRead, str], Any] = {}
            try:
                found = await self._read_batch(reads, list(batch))
            except asyncio.CancelledError:  # the loop is closing: nobody waits any more
                for waiting in (*batch.values(), *reads.waiting.values()):
                    if not waiting.done():
                        waiting.set_result(NOT_READ)
                reads.waiting, reads.sending = {}, False
                raise
            except Exception:
                # Never leave visitors waiting: they read the usual way, which reports it.
                log.exception("the shared key reads failed")
            for key, waiting in batch.items():
                if not waiting.done():
                    waiting.set_result(found.get(key, NOT_READ))
            self._send_next(reads)

        # Kept until done: the loop holds only a weak reference to its tasks.
        task = asyncio.ensure_future(send())
        reads.tasks.add(task)
        task.add_done_callback(reads.tasks.discard)

    async def _read_batch(
        self, reads: _LoopReads, keys: list[tuple[KeyRead, str]]
    ) -> dict[tuple[KeyRead, str], Any]:
        """Every key's row (converted, None when there is none, ``NOT_READ`` when its
        statement failed): one statement per kind of read, at once on separate
        connections."""
        by_read: dict[KeyRead, list[str]] = {}
        for read, value in keys:
            by_read.setdefault(read, []).append(value)
        answers = await asyncio.gather(
            *(self._read_values(reads, read, values) for read, values in by_read.items())
        )
        found: dict[tuple[KeyRead, str], Any] = {}
        for (read, values), rows in zip(by_read.items(), answers, strict=True):
            for value, row in zip(values, rows, strict=True):
                found[(read, value)] = row
        return found

    async def _read_values(self, reads: _LoopReads, read: KeyRead, values: list[str]) -> list[Any]:
        """The rows of ``values`` (distinct keys of one read), in their order."""
        batched = len(values) > 1
        name, text = self._statement(read, batched)
        if batched:
            array = (
                "{"
                + ",".join(
                    '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"' for value in values
                )
                + "}"
            )
            arguments = [array.encode()]
        else:
            arguments = [values[0].encode()]
        idle = reads.idle
        connection = await idle.get()
        kept = None  # what goes back: the connection once it answered, else a free place
        try:
            if connection is None:
                connection = _LoopConnection(
                    await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
                )
            rows = await connection.run(name, text, arguments)
            kept = connection
        except (psycopg.Error, OSError, ReadFailed):
            return [NOT_READ] * len(values)
        finally:
            if kept is None and connection is not None:
                connection.close()  # failed or cancelled midway: never reused
            idle.put_nowait(kept)
        if not batched:
            return [read.converted(self.dialect, rows[0] if rows else None)]
        found: list[Any] = [None] * len(values)
        for place, *row in reversed(rows):  # the first row of a key wins
            found[place - 1] = read.converted(self.dialect, tuple(row))
        return found


class ReadFailed(Exception):
    pass


class _LoopConnection:
    """One asynchronous connection driven at the libpq level: send, wait until its socket
    is readable, read the result."""

    def __init__(self, connection: psycopg.AsyncConnection[Any]) -> None:
        self.connection = connection
        self.pgconn = connection.pgconn
        self.loader = Transformer(connection)
        self.prepared: set[bytes] = set()

    async def run(self, name: bytes, text: bytes, values: list[bytes]) -> list[tuple[Any, ...]]:
        pgconn = self.pgconn
        if name not in self.prepared:
            pgconn.send_prepare(name, text)
            self._check(await self._result(), pq.ExecStatus.COMMAND_OK)
            self.prepared.add(name)
        pgconn.send_query_prepared(name, values)
        result = await self._result()
        self._check(result, pq.ExecStatus.TUPLES_OK)
        if result.ntuples == 0:
            return []
        self.loader.set_pgresult(result)
        return self.loader.load_rows(0, result.ntuples, tuple)

    async def _result(self) -> pq.abc.PGresult:
        pgconn = self.pgconn
        while pgconn.flush():
            await self._ready(writable=True)
        pgconn.consume_input()
        while pgconn.is_busy():
            await self._ready()
            pgconn.consume_input()
        result = pgconn.get_result()
        while pgconn.get_result() is not None:  # the end of this query's results
            pass
        if result is None:
            raise ReadFailed("no result")
        return result

    async def _ready(self, writable: bool = False) -> None:
        loop = asyncio.get_running_loop()
        ready = loop.create_future()
        fd = self.pgconn.socket
        if writable:
            loop.add_writer(fd, _wake, ready)
        else:
            loop.add_reader(fd, _wake, ready)
        try:
            await ready
        finally:
            if writable:
                loop.remove_writer(fd)
            else:
                loop.remove_reader(fd)

    @staticmethod
    def _check(result: pq.abc.PGresult | None, expected: pq.ExecStatus) -> None:
        if result is None or result.status != expected:
            message = result.error_message.decode(errors="replace") if result else "no result"
            raise ReadFailed(message)

    def close(self) -> None:
        self.pgconn.finish()


class Admission:
    """The gates of one server process (see the module's description)."""

    def __init__(
        self,
        engine: Engine,
        factory: sessionmaker[Session],
        request_connections: int,
    ) -> None:
        self.factory = factory
        self.engine = engine
        self._loop_local = threading.local()
        self._loop_connections: list[Connection] = []
        self._lock = threading.Lock()
        self.database = Gate(request_connections)
        self.writer = Gate(1) if engine.dialect.name == "sqlite" else None
        self._lanes: dict[tuple[str, uuid.UUID], Gate] = {}
        self.remote = Gate(REMOTE_READS)
        # Threads for remote reads, apart from the ones requests use for the database.
        self.remote_threads = CapacityLimiter(REMOTE_READS)
        self._organizers: OrderedDict[tuple[str, str], uuid.UUID] = OrderedDict()
        self.key_reads = AsyncKeyReads(engine) if engine.dialect.name == "postgresql" else None

    @staticmethod
    def deadline() -> float:
        return asyncio.get_running_loop().time() + MAX_WAIT

    @asynccontextmanager
    async def transaction(self, deadline: float, *, write: bool) -> AsyncIterator[None]:
        """A place to run one unit of work: the writer gate first when it writes (SQLite),
        so a request waiting to write holds no database place meanwhile."""
        if write and self.writer is not None:
            async with self.writer.held(deadline), self.database.held(deadline):
                yield
        else:
            async with self.database.held(deadline):
                yield

    @asynccontextmanager
    async def lane(
        self, organizer_id: uuid.UUID, deadline: float, kind: str = "bookings"
    ) -> AsyncIterator[None]:
        """One booking change (or, with ``kind``, one other thing) per organizer at a time
        in this process."""
        key = (kind, organizer_id)
        gate = self._lanes.get(key)
        if gate is None:
            gate = self._lanes[key] = Gate(1, LANE_MAX_WAITING)
        try:
            async with gate.held(deadline):
                yield
        finally:
            if gate.idle:
                self._lanes.pop(key, None)

    @asynccontextmanager
    async def remote_read(self, organizer_id: uuid.UUID) -> AsyncIterator[None]:
        """A turn to read one of the organizer's remote calendars: one per organizer, and
        ``REMOTE_READS`` in all; run the read with ``limiter=self.remote_threads``."""
        deadline = self.deadline()
        async with AsyncExitStack() as turns:
            try:
                await turns.enter_async_context(
                    self.lane(organizer_id, deadline, kind="calendar reads")
                )
                await turns.enter_async_context(self.remote.held(deadline))
            except Busy:
                raise Busy(
                    "Calendars are being read at this moment. Nothing was changed; please "
                    "try again in a few seconds.",
                    retry_after=5,
                ) from None
            yield

    async def read(self, work: Callable[[Session], T], deadline: float) -> T:
        """``work`` on a session of its own, in a thread, admitted at the database gate: a
        short read a request makes before (or besides) its own unit of work."""

        def run() -> T:
            with self.factory() as session:
                return work(session)

        async with self.database.held(deadline):
            return await to_thread.run_sync(run)

    async def quick_read(
        self,
        work: Callable[[Session], T],
        deadline: float,
        first: tuple[KeyRead, dict[str, Any]] | None = None,
    ) -> T:
        """``read``, but first on the event loop itself, with a session that may read only
        single rows by key (``MEMORY_ONLY``): what the invitee's pages need when their
        organizer's data is in memory, an indexed row that neither database makes a reader
        wait for. No thread, so no waiting for the interpreter lock behind other threads;
        no pool, so no checkout and no ping. When ``work`` would read more (``WouldRead``),
        or the loop's connection was lost, it starts over in a thread, admitted like
        ``read``.

        ``first`` is the key read ``work`` starts with. On PostgreSQL it is sent ahead and
        awaited (``AsyncKeyReads``): the round trip to the server is then time the loop
        spends on other requests, not time the whole process waits."""
        prefetched = None
        if first is not None and self.key_reads is not None:
            read, params = first
            found = await self.key_reads.first(read, params)
            if found is not NOT_READ:
                prefetched = (read, params, found)
        try:
            connection = self._loop_connection()
            with Session(bind=connection, autoflush=False) as session:
                session.info[MEMORY_ONLY] = connection
                if prefetched is not None:
                    session.info[PREFETCHED] = prefetched
                return work(session)
        except WouldRead:
            pass
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            self._drop_loop_connection()
        return await self.read(work, deadline)

    def _loop_connection(self) -> Connection:
        """The connection this thread's event loop reads single rows on: its own, out of
        the pool, in autocommit (one statement is its own snapshot; nothing to begin or
        roll back)."""
        conn: Connection | None = getattr(self._loop_local, "connection", None)
        if conn is None or conn.invalidated or conn.closed:
            conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            self._loop_local.connection = conn
            with self._lock:
                self._loop_connections.append(conn)
        return conn

    def _drop_loop_connection(self) -> None:
        conn: Connection | None = getattr(self._loop_local, "connection", None)
        self._loop_local.connection = None
        if conn is not None:
            with suppress(Exception):
                conn.close()

    def close(self) -> None:
        """Close the event loops' connections (the pool's are the engine's to close); the
        asynchronous ones close with their loop."""
        with self._lock:
            connections, self._loop_connections = self._loop_connections, []
        for conn in connections:
            with suppress(Exception):
                conn.close()

    async def organizer_of(
        self, kind: str, key: str, resolve: Resolver, deadline: float
    ) -> uuid.UUID | None:
        """Whose lane a request joins, from the key in its address (a page key, a private
        link or manage token, a booking id): remembered, since none of them changes owner."""
        known = self._organizers.get((kind, key))
        if known is not None:
            self._organizers.move_to_end((kind, key))
            return known

        found = await self.read(lambda session: resolve(session, key), deadline)
        if found is not None:
            self._organizers[(kind, key)] = found
            if len(self._organizers) > KNOWN_ORGANIZERS:
                self._organizers.popitem(last=False)
        return found
