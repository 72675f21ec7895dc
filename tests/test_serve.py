"""`bookwithme serve`, as a real process: migrations applied, then served; with
`--workers N`, N server processes that share only the database."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.support import crowd


def children(pid: int) -> list[str]:
    """The command lines of the processes whose parent is ``pid``."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(
                line.split(":\t", 1) for line in status.read_text().splitlines() if ":\t" in line
            )
            if int(fields.get("PPid", "0")) == pid:
                found.append((status.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, ValueError):
            continue
    return found


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
