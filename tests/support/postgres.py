"""A throwaway PostgreSQL server for the test session (Debian's PostgreSQL 15).

Set BOOKWITHME_TEST_POSTGRES_URL to use a server you already run instead (its user must be
allowed to create databases).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    pass


@dataclass
class PostgresServer:
    admin_url: str  # a URL whose database is "postgres", for CREATE DATABASE
    data_dir: Path | None = None
    bin_dir: Path | None = None
    run_as: str | None = None

    def url_for(self, database: str) -> str:
        base, _, _ = self.admin_url.rpartition("/")
        return f"{base}/{database}"

    def stop(self) -> None:
        if self.data_dir is None or self.bin_dir is None:
            return
        _run(
            self.run_as,
            [
                str(self.bin_dir / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
            check=False,
        )
        shutil.rmtree(self.data_dir, ignore_errors=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(user: str | None, args: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
    if user:
        args = ["runuser", "-u", user, "--", *args]
    return subprocess.run(args, check=check, capture_output=True, text=True, timeout=120)


def find_bin_dir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    found = shutil.which("initdb")
    if found:
        candidates.append(found)
    if not candidates:
        raise PostgresUnavailable(
            "PostgreSQL is not installed (no initdb under /usr/lib/postgresql/*/bin); "
            "install Debian's postgresql package or set BOOKWITHME_TEST_POSTGRES_URL"
        )
    return Path(candidates[0]).parent


def start() -> PostgresServer:
    external = os.environ.get("BOOKWITHME_TEST_POSTGRES_URL")
    if external:
        return PostgresServer(admin_url=external)
    bin_dir = find_bin_dir()
    run_as = None
    if os.geteuid() == 0:
        # initdb refuses to run as root.
        try:
            pwd.getpwnam("postgres")
        except KeyError as exc:
            raise PostgresUnavailable("running as root and there is no 'postgres' user") from exc
        run_as = "postgres"
    data_dir = Path(tempfile.mkdtemp(prefix="bookwithme-pg-"))
    if run_as:
        shutil.chown(data_dir, user=run_as)
    port = _free_port()
    try:
        _run(
            run_as,
            [
                str(bin_dir / "initdb"),
                "-D",
                str(data_dir),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ],
        )
        # Durability is not what these tests are about: skip fsync for speed.
        options = (
            f"-h 127.0.0.1 -p {port} -k {tempfile.gettempdir()} -F -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        _run(
            run_as,
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data_dir),
                "-l",
                str(data_dir / "log"),
                "-w",
                "-o",
                options,
                "start",
            ],
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        shutil.rmtree(data_dir, ignore_errors=True)
        raise PostgresUnavailable(f"could not start PostgreSQL: {detail.strip()}") from exc
    return PostgresServer(
        admin_url=f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres",
        data_dir=data_dir,
        bin_dir=bin_dir,
        run_as=run_as,
    )
