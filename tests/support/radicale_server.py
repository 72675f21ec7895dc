"""A real CalDAV server (Radicale) for the tests, with one user."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Radicale:
    url: str
    username: str
    password: str
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def start(folder: Path, username: str = "ada", password: str = "radicale-password") -> Radicale:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    (folder / "users").write_text(f"{username}:{password}\n")
    config = folder / "config"
    config.write_text(
        f"""[server]
hosts = 127.0.0.1:{port}
[auth]
type = htpasswd
htpasswd_filename = {folder / "users"}
htpasswd_encryption = plain
delay = 0
[storage]
filesystem_folder = {folder / "collections"}
[rights]
type = owner_only
[logging]
level = warning
"""
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "radicale", "--config", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return Radicale(f"http://127.0.0.1:{port}", username, password, process)
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(
                    "Radicale did not start: "
                    + (process.stderr.read().decode() if process.stderr else "")
                ) from None
            time.sleep(0.05)
    process.kill()
    raise RuntimeError("Radicale did not start in time")
