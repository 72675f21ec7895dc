"""A small web server on a loopback address that counts what it is asked, for the tests of
what bookwithme may connect to: it answers a body, a redirect, or a big body."""

from __future__ import annotations

import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SECRET_BODY = b"BEGIN:VCALENDAR\r\nX-INTERNAL-SECRET:do-not-show\r\nEND:VCALENDAR\r\n"


class _Server(ThreadingHTTPServer):
    daemon_threads = True


class _Server6(_Server):
    address_family = socket.AF_INET6


class LocalServer:
    """Answers every method on ``host`` (and, with ``also_ipv6``, on [::1] at the same port)
    and keeps the paths asked in ``requests``. ``redirect`` answers 302 to that address;
    ``size`` answers that many bytes (``declare_size``: saying so in Content-Length)."""

    def __init__(self, host: str = "127.0.0.1", *, also_ipv6: bool = False) -> None:
        self.requests: list[str] = []
        self.body = SECRET_BODY
        self.redirect: str | None = None
        self.size = 0
        self.declare_size = True
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def answer(self) -> None:
                server.requests.append(self.path)
                length = int(self.headers.get("content-length") or 0)
                if length:
                    self.rfile.read(length)
                if server.redirect:
                    self.send_response(302)
                    self.send_header("Location", server.redirect)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/calendar")
                if server.size:
                    if server.declare_size:
                        self.send_header("Content-Length", str(server.size))
                    self.end_headers()
                    chunk = b"X" * (1024 * 1024)
                    try:
                        for start in range(0, server.size, len(chunk)):
                            self.wfile.write(chunk[: server.size - start])
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    return
                self.send_header("Content-Length", str(len(server.body)))
                self.end_headers()
                self.wfile.write(server.body)

            do_GET = do_POST = do_PUT = do_PROPFIND = do_REPORT = do_OPTIONS = answer

        self._servers = [_Server((host, 0), Handler)]
        self.port = int(self._servers[0].server_address[1])
        if also_ipv6:
            self._servers.append(_Server6(("::1", self.port), Handler))
        for one in self._servers:
            threading.Thread(target=one.serve_forever, args=(0.05,), daemon=True).start()
        self.url = f"http://{host}:{self.port}/"

    def stop(self) -> None:
        for one in self._servers:
            one.shutdown()
            one.server_close()
