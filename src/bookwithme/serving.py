"""`bookwithme serve --workers N`: N server processes, each listening on a socket of its own.

uvicorn's own way of running several processes gives them all one listening socket.
Whichever process wakes first accepts every connection waiting, so a burst of new
keep-alive connections (a reverse proxy's pool, a class opening a shared link at once)
can all land on one process while the others stay idle, and the extra processes add
nothing. Here each process binds its own socket to the same address with
``SO_REUSEPORT``, and the kernel spreads new connections evenly over them.

The parent process serves nothing: it checks that the address is free, starts the
processes, starts one again when it dies, and stops them all on SIGINT or SIGTERM (each
finishes the requests it has, as uvicorn does on its own).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import sys
import threading
from multiprocessing.context import SpawnProcess
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE

log = logging.getLogger("uvicorn.error")
_spawn = multiprocessing.get_context("spawn")
APP = "bookwithme.app:create_app"
BACKLOG = 2048  # uvicorn's default
STOP_GRACE = 30.0  # seconds a process may take to finish its requests once told to stop
# Where the kernel spreads connections over sockets sharing a port. Elsewhere (macOS gives
# them all to the last socket bound, Windows has no such option) the processes share
# uvicorn's one socket.
SPREAD_BY_KERNEL = sys.platform.startswith("linux")


class AddressInUse(Exception):
    pass


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def check_free(host: str, port: int) -> None:
    """Refuse an address another program (or another bookwithme) listens on. The check
    binds without ``SO_REUSEPORT``, which fails when anyone listens there, even a server
    that would have let ours share its port."""
    probe = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind((host, port))
    except OSError as exc:
        raise AddressInUse(f"Cannot listen on {host}:{port}: {exc.strerror}.") from None
    finally:
        probe.close()


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket of one process, bound to the address all processes share."""
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    return sock


def _process_main(options: dict[str, Any]) -> None:
    """One server process (spawned: a fresh interpreter that builds its own app)."""
    config = uvicorn.Config(APP, factory=True, **options)
    try:
        sock = listening_socket(options["host"], options["port"])
    except OSError as exc:
        log.error("Cannot listen on %s:%s: %s", options["host"], options["port"], exc.strerror)
        raise SystemExit(STARTUP_FAILURE) from None
    # Ctrl-C reaches the whole process group: the parent stops everything anyway.
    with contextlib.suppress(KeyboardInterrupt):
        uvicorn.Server(config).run(sockets=[sock])


class Processes:
    """The parent: ``workers`` server processes kept running until told to stop."""

    def __init__(self, options: dict[str, Any], workers: int) -> None:
        self.options = options
        self.workers = workers
        self.processes: list[SpawnProcess] = []
        self.stopping = threading.Event()

    def _start_one(self) -> SpawnProcess:
        process = _spawn.Process(target=_process_main, args=(self.options,), daemon=False)
        process.start()
        return process

    def _stop(self, signum: int, _frame: object) -> None:
        log.info("Received %s, stopping.", signal.Signals(signum).name)
        self.stopping.set()

    def run(self) -> int:
        """Serve until SIGINT or SIGTERM; the exit status: 0, or ``STARTUP_FAILURE`` when a
        process could not start (the next would fail the same way)."""
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        log.info("Started parent process [%d]", os.getpid())
        status = 0
        try:
            self.processes = [self._start_one() for _ in range(self.workers)]
            while not self.stopping.wait(0.5):
                for index, process in enumerate(self.processes):
                    if process.is_alive():
                        continue
                    if process.exitcode == STARTUP_FAILURE:
                        log.error("Server process [%d] could not start; stopping.", process.pid)
                        status = STARTUP_FAILURE
                        self.stopping.set()
                        break
                    log.warning(
                        "Server process [%d] ended (exit status %s); starting another.",
                        process.pid,
                        process.exitcode,
                    )
                    self.processes[index] = self._start_one()
        finally:
            for process in self.processes:
                if process.is_alive():
                    process.terminate()  # SIGTERM: uvicorn finishes what it has
            for process in self.processes:
                process.join(STOP_GRACE)
                if process.is_alive():
                    process.kill()
                    process.join()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            log.info("Stopping parent process [%d]", os.getpid())
        return status


def serve_processes(options: dict[str, Any], workers: int) -> int:
    """Serve ``bookwithme.app:create_app`` in ``workers`` processes; see the module. The
    caller checks first that the address is free (``check_free``)."""
    if not SPREAD_BY_KERNEL:
        uvicorn.run(APP, factory=True, workers=workers, **options)
        return 0
    uvicorn.Config(APP, factory=True, **options)  # sets up uvicorn's logging here too
    return Processes(options, workers).run()
