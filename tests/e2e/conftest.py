"""Browser tests: a real ``bookwithme serve`` process, driven by Playwright in Debian's
Chromium (never a downloaded browser)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from bookwithme.db import make_engine, make_session_factory
from tests.conftest import IN_CI
from tests.factories import create_account

CHROMIUM = os.environ.get("BOOKWITHME_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def browser():  # type: ignore[no-untyped-def]
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        message = f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass(frozen=True)
class LiveServer:
    url: str
    database_url: str


@pytest.fixture(params=["sqlite", "postgresql"])
def live_server(
    request: pytest.FixtureRequest, make_database, tmp_path: Path
) -> Iterator[LiveServer]:  # type: ignore[no-untyped-def]
    """``bookwithme serve`` on a free port against a new, unmigrated database: the server
    applies the migrations itself, as on a fresh install."""
    url = make_database(request.param, migrated=False)
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "BOOKWITHME_DATABASE_URL": url,
        "BOOKWITHME_DATA_DIR": str(tmp_path / "data"),
        "BOOKWITHME_BASE_URL": base_url,
    }
    env.pop("BOOKWITHME_SECRET_KEY", None)
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "bookwithme", "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(base_url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail("the server did not start:\n" + (tmp_path / "server.log").read_text())
            time.sleep(0.1)
        yield LiveServer(url=base_url, database_url=url)
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


@pytest.fixture
def organizer_api(live_server: LiveServer) -> Iterator[httpx.Client]:
    """Ada (Europe/Paris) on the live server, and an API client with her token."""
    engine = make_engine(live_server.database_url)
    try:
        account = create_account(
            make_session_factory(engine), "ada@example.com", time_zone="Europe/Paris"
        )
    finally:
        engine.dispose()
    with httpx.Client(base_url=live_server.url, headers=account.headers) as client:
        yield client


def screenshot_dir() -> Path | None:
    """Set BOOKWITHME_SCREENSHOTS=DIR to keep the screenshots the browser tests take."""
    target = os.environ.get("BOOKWITHME_SCREENSHOTS")
    if not target:
        return None
    path = Path(target)
    path.mkdir(parents=True, exist_ok=True)
    return path
