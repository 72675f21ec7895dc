"""`bookwithme serve`, as a real process: migrations applied, then served; with
`--workers N`, N server processes that share only the database."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support import crowd

LISTENING, ESTABLISHED = "0A", "01"


def children(pid: int) -> list[str]:
    """The command lines of the processes whose parent is ``pid``."""
    return [command for _, command in child_processes(pid)]


def child_processes(pid: int) -> list[tuple[int, str]]:
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line
            )
            if int(fields.get("PPid", "0")) == pid:
                command = (status.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                found.append((int(status.parent.name), command))
        except (OSError, ValueError):
            continue
    return found


def servers(pid: int) -> list[int]:
    """The server processes of ``bookwithme serve --workers N`` running as ``pid``."""
    return [child for child, command in child_processes(pid) if "spawn_main" in command]


def sockets_on(pid: int, port: int, state: str) -> int:
    """How many TCP sockets process ``pid`` holds on local ``port`` in ``state``."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == state and fields[9] in inodes:
                count += 1
    return count


def wait_until(condition, what: str, seconds: float = 60) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not within {seconds} s: {what}"
        time.sleep(0.1)


def test_serve_with_two_workers_runs_two_server_processes_that_each_answer(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'bookwithme.db'}"
    env = crowd.environment(url, tmp_path, embedded_worker="false")
    port = crowd.free_port()
    server = crowd.start_serve(env, port, tmp_path / "serve.log", "--workers", "2")
    try:
        servers = [c for c in children(server.process.pid) if "spawn_main" in c]
        assert len(servers) == 2, children(server.process.pid)
        with httpx.Client(timeout=5) as client:
            for _ in range(20):  # new connections, spread by the kernel over both
                assert client.get(
                    server.base_url + "/healthz", headers={"connection": "close"}
                ).json() == {"status": "ok"}
        assert "2 processes" in server.log.read_text()
    finally:
        server.stop()


def test_a_burst_of_keep_alive_connections_is_spread_over_the_processes(tmp_path: Path) -> None:
    """Each process listens on a socket of its own (SO_REUSEPORT): 32 connections opened
    at once, as a proxy's pool or a load test opens them, reach both processes in about
    equal shares. With one socket shared by both, the first process to wake took them all
    and the second stayed idle."""
    url = f"sqlite:///{tmp_path / 'bookwithme.db'}"
    env = crowd.environment(url, tmp_path, embedded_worker="false")
    port = crowd.free_port()
    server = crowd.start_serve(env, port, tmp_path / "serve.log", "--workers", "2")
    try:
        pids = servers(server.process.pid)
        assert len(pids) == 2
        wait_until(
            lambda: all(sockets_on(pid, port, LISTENING) == 1 for pid in pids),
            "both processes listen, each on a socket of its own",
        )
        opened = [socket.create_connection(("127.0.0.1", port)) for _ in range(32)]
        try:
            for conn in opened:  # one request each, the connections kept open
                conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            for conn in opened:
                conn.settimeout(10)
                answer = b""
                while not answer.endswith(b'{"status":"ok"}'):
                    received = conn.recv(4096)
                    assert received, answer
                    answer += received
            shares = [sockets_on(pid, port, ESTABLISHED) for pid in pids]
        finally:
            for conn in opened:
                conn.close()
        assert sum(shares) == 32
        # Spread by a hash of each connection: 6 or fewer on one side happens about once
        # in ten thousand runs.
        assert min(shares) > 6, shares
    finally:
        server.stop()


def test_a_server_process_that_dies_is_replaced(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bookwithme.db'}"
    env = crowd.environment(url, tmp_path, embedded_worker="false")
    port = crowd.free_port()
    server = crowd.start_serve(env, port, tmp_path / "serve.log", "--workers", "2")
    try:
        first, second = servers(server.process.pid)
        os.kill(first, signal.SIGKILL)
        wait_until(
            lambda: len(now := servers(server.process.pid)) == 2 and first not in now,
            "a new process in place of the one killed",
        )
        (replacement,) = set(servers(server.process.pid)) - {second}
        wait_until(lambda: sockets_on(replacement, port, LISTENING) == 1, "it listens")
        assert "starting another" in server.log.read_text()
        for _ in range(10):
            assert httpx.get(
                server.base_url + "/healthz", headers={"connection": "close"}
            ).json() == {"status": "ok"}
    finally:
        server.stop()
    assert server.process.returncode == 0
    assert not servers(server.process.pid)


def test_a_second_server_on_the_same_address_is_refused(tmp_path: Path) -> None:
    """Two bookwithme on one port would share its connections without a word (both
    sockets allow it): the second is refused, before serving anything."""
    url = f"sqlite:///{tmp_path / 'bookwithme.db'}"
    env = crowd.environment(url, tmp_path, embedded_worker="false")
    port = crowd.free_port()
    server = crowd.start_serve(env, port, tmp_path / "serve.log", "--workers", "2")
    try:
        second = subprocess.run(
            [sys.executable, "-m", "bookwithme", "serve", "--port", str(port), "--workers", "2"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 1
        assert f"Error: Cannot listen on 127.0.0.1:{port}: Address already in use." in (
            second.stderr
        )
        assert "bookwithme is serving" not in second.stdout
    finally:
        server.stop()
