"""What bookwithme may connect to (SPEC 2.9): with ALLOW_PRIVATE_TARGETS off, no spelling of a
loopback, private or link-local address is fetched, by httpx (feeds, webhooks) or by niquests
(CalDAV), not after a redirect, not when a name changes its answer between the look-up and
the connection; an answer is read to 10 MB at most; with the setting on, a local server
answers."""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import niquests
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from bookwithme import targets
from bookwithme.calendars.base import SourceError
from bookwithme.calendars.feeds import download
from bookwithme.config import Settings
from bookwithme.errors import InvalidInput, TargetNotAllowed
from tests.support.local_http import LocalServer

# Every way of writing this machine's own address that the system's resolver understands.
LOOPBACK_SPELLINGS = [
    "127.0.0.1",
    "localhost",
    "2130706433",  # decimal
    "0x7f000001",  # hexadecimal
    "0177.0.0.1",  # octal
    "127.1",  # short
    "[::1]",
    "[::ffff:127.0.0.1]",  # IPv4-mapped
    "0.0.0.0",  # "this host": reaches the loopback on Linux
]
# Other networks no one should reach through a calendar address (nothing listens there).
OTHER_PRIVATE = [
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",
    "169.254.169.254",  # cloud metadata
    "[fe80::1]",
    "[fd00::1]",
]


@pytest.fixture
def server() -> Iterator[LocalServer]:
    local = LocalServer(also_ipv6=True)
    yield local
    local.stop()


def fetch_with_httpx(url: str, allow_private: bool = False) -> httpx.Response:
    with targets.public_client(allow_private, 5) as client:
        return client.get(url)


def fetch_with_niquests(url: str, allow_private: bool = False) -> niquests.Response:
    with targets.caldav_session(allow_private) as session:
        return session.get(url, timeout=5)


def dns(*answers: str) -> Callable[..., list[targets.AddressInfo]]:
    """A resolver that gives each look-up the next of ``answers``, whatever the name."""
    pending = list(answers)

    def getaddrinfo(
        host: str, port: Any, family: int = 0, kind: int = socket.SOCK_STREAM
    ) -> list[targets.AddressInfo]:
        ip = pending.pop(0)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, int(port)))]

    return getaddrinfo


@pytest.mark.parametrize(
    "ip",
    [
        "127.0.0.1",
        "127.255.0.9",
        "10.0.0.1",
        "172.31.255.255",
        "192.168.0.1",
        "100.64.0.1",  # shared address space (carrier-grade NAT)
        "169.254.169.254",
        "0.0.0.0",
        "255.255.255.255",
        "224.0.0.1",  # multicast
        "240.0.0.1",  # reserved
        "192.0.2.1",  # documentation
        "198.51.100.7",
        "203.0.113.9",
        "198.18.0.1",  # benchmarking
        "::",
        "::1",
        "fe80::1",
        "fe80::1%lo",
        "fc00::1",
        "fd12:3456::1",
        "fec0::1",  # site-local
        "ff02::1",
        "ff0e::1",  # global-scope multicast is still multicast
        "2001:db8::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::127.0.0.1",  # IPv4-compatible
        "2002:7f00:1::",  # 6to4 around 127.0.0.1
        "2002:a00:1::1",  # 6to4 around 10.0.0.1
        "64:ff9b::7f00:1",  # NAT64 around 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 around 169.254.169.254
        "64:ff9b:1::1",  # local-use NAT64
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
        "not an address",
    ],
)
def test_non_public_addresses(ip: str) -> None:
    assert not targets.is_public_address(ip)


@pytest.mark.parametrize(
    "ip",
    [
        "8.8.8.8",
        "93.184.216.34",
        "1.1.1.1",
        "2606:4700:4700::1111",
        "2a00:1450:4007:80c::200e",
        "::ffff:8.8.8.8",  # mapped: the IPv4 address decides
        "64:ff9b::808:808",  # NAT64 (an IPv6-only server reaching 8.8.8.8)
        "2002:808:808::1",  # 6to4 around 8.8.8.8
    ],
)
def test_public_addresses(ip: str) -> None:
    assert targets.is_public_address(ip)
    assert targets.is_public_address(ipaddress.ip_address(ip))


@pytest.mark.parametrize("host", LOOPBACK_SPELLINGS)
def test_every_spelling_of_the_loopback_is_refused_and_nothing_is_fetched(
    server: LocalServer, host: str
) -> None:
    url = f"http://{host}:{server.port}/calendar.ics"
    with pytest.raises(TargetNotAllowed) as early:
        targets.check_url(url, allow_private=False)
    assert "BOOKWITHME_ALLOW_PRIVATE_TARGETS=true" in early.value.message
    assert "non-public network" in early.value.message
    # httpx does not take an octal address at all: not fetched either.
    with pytest.raises(httpx.InvalidURL if host == "0177.0.0.1" else TargetNotAllowed):
        fetch_with_httpx(url)
    with pytest.raises(TargetNotAllowed):
        fetch_with_niquests(url)
    assert server.requests == []


def test_the_loopback_spellings_do_reach_the_local_server(server: LocalServer) -> None:
    """The spellings above are refused, not merely broken: allowed, each one is fetched."""
    for host in LOOPBACK_SPELLINGS:
        url = f"http://{host}:{server.port}/{host}"
        targets.check_url(url, allow_private=True)
        assert fetch_with_niquests(url, allow_private=True).content == server.body
        if host != "0177.0.0.1":
            assert fetch_with_httpx(url, allow_private=True).content == server.body
    assert len(server.requests) == 2 * len(LOOPBACK_SPELLINGS) - 1


@pytest.mark.parametrize("host", OTHER_PRIVATE)
def test_private_and_link_local_networks_are_refused_before_connecting(host: str) -> None:
    url = f"http://{host}/latest/meta-data/"
    with pytest.raises(TargetNotAllowed):
        targets.check_url(url, allow_private=False)
    started = time.monotonic()
    # Refused, not tried: a connection attempt would fail otherwise, or wait.
    with pytest.raises(TargetNotAllowed):
        fetch_with_httpx(url)
    with pytest.raises(TargetNotAllowed):
        fetch_with_niquests(url)
    assert time.monotonic() - started < 2


def test_with_the_setting_on_a_local_server_answers(server: LocalServer) -> None:
    targets.check_url(server.url, allow_private=True)
    assert fetch_with_httpx(server.url, allow_private=True).content == server.body
    assert fetch_with_niquests(server.url, allow_private=True).content == server.body
    assert server.requests == ["/", "/"]


def test_a_name_that_answers_loopback_when_connecting_is_refused(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the name looks public when the address is given, and answers the
    loopback a moment later, when the connection is made. The connection is refused."""
    url = f"http://calendar.example.com:{server.port}/calendar.ics"
    monkeypatch.setattr(targets, "getaddrinfo", dns("93.184.216.34", "127.0.0.1"))
    targets.check_url(url, allow_private=False)  # first answer: public
    with pytest.raises(TargetNotAllowed):
        fetch_with_httpx(url)

    monkeypatch.setattr(targets, "getaddrinfo", dns("93.184.216.34", "127.0.0.1"))
    targets.check_url(url, allow_private=False)
    with pytest.raises(TargetNotAllowed):
        fetch_with_niquests(url)
    assert server.requests == []


def test_a_name_with_one_private_address_among_public_ones_is_refused(
    server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    def both(host: str, port: Any, *args: Any) -> list[targets.AddressInfo]:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", int(port))),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", int(port))),
        ]

    monkeypatch.setattr(targets, "getaddrinfo", both)
    url = f"http://calendar.example.com:{server.port}/"
    with pytest.raises(TargetNotAllowed):
        targets.check_url(url, allow_private=False)
    with pytest.raises(TargetNotAllowed):
        fetch_with_httpx(url)
    with pytest.raises(TargetNotAllowed):
        fetch_with_niquests(url)
    assert server.requests == []


@pytest.fixture
def public_looking() -> Iterator[LocalServer]:
    """A server on 127.0.0.2 that the tests treat as if it were on the Internet."""
    try:
        local = LocalServer("127.0.0.2")
    except OSError:
        pytest.skip("127.0.0.2 cannot be listened on here")
    yield local
    local.stop()


@pytest.mark.parametrize("spelling", ["127.0.0.1", "2130706433", "localhost"])
def test_a_redirect_to_the_loopback_is_refused(
    public_looking: LocalServer,
    server: LocalServer,
    monkeypatch: pytest.MonkeyPatch,
    spelling: str,
) -> None:
    real = targets.is_public_address
    monkeypatch.setattr(targets, "is_public_address", lambda ip: str(ip) == "127.0.0.2" or real(ip))
    public_looking.redirect = f"http://{spelling}:{server.port}/internal"
    targets.check_url(public_looking.url, allow_private=False)  # as if it were public
    with pytest.raises(TargetNotAllowed):
        fetch_with_httpx(public_looking.url)
    with pytest.raises(TargetNotAllowed):
        fetch_with_niquests(public_looking.url)
    assert public_looking.requests == ["/", "/"]  # each asked once, and redirected
    assert server.requests == []  # never reached

    # Allowed, the same redirect is followed: it was the check that stopped it.
    assert fetch_with_httpx(public_looking.url, allow_private=True).content == server.body
    assert server.requests == ["/internal"]


def self_signed(folder: Path, name: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


def test_tls_still_checks_the_name_in_the_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The connection goes to the checked address, and the certificate is still checked
    against the name that was typed."""
    cert_file, key_file = self_signed(tmp_path, "calendar.example.com")

    class Hello(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "5")
            self.end_headers()
            self.wfile.write(b"hello")

    try:
        https = ThreadingHTTPServer(("127.0.0.2", 0), Hello)
    except OSError:
        pytest.skip("127.0.0.2 cannot be listened on here")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    https.socket = context.wrap_socket(https.socket, server_side=True)
    threading.Thread(target=https.serve_forever, args=(0.05,), daemon=True).start()
    port = https.server_address[1]
    real = targets.is_public_address
    monkeypatch.setattr(targets, "is_public_address", lambda ip: str(ip) == "127.0.0.2" or real(ip))
    monkeypatch.setattr(
        targets, "getaddrinfo", lambda host, port, *args: dns("127.0.0.2")(host, port)
    )
    monkeypatch.setenv("SSL_CERT_FILE", str(cert_file))  # trust the test's certificate
    try:
        assert fetch_with_httpx(f"https://calendar.example.com:{port}/").text == "hello"
        with pytest.raises(httpx.ConnectError, match="Hostname mismatch"):
            fetch_with_httpx(f"https://another.example.com:{port}/")
    finally:
        https.shutdown()
        https.server_close()


def test_redirects_are_followed_five_times_at_most(server: LocalServer) -> None:
    server.redirect = server.url + "again"
    with pytest.raises(httpx.TooManyRedirects):
        fetch_with_httpx(server.url, allow_private=True)
    assert len(server.requests) == 1 + targets.MAX_REDIRECTS
    server.requests.clear()
    with pytest.raises(niquests.TooManyRedirects):
        fetch_with_niquests(server.url, allow_private=True)
    assert len(server.requests) <= 1 + targets.MAX_REDIRECTS


@pytest.mark.parametrize("declared", [True, False])
def test_an_answer_over_10_mb_is_refused(server: LocalServer, declared: bool) -> None:
    server.size, server.declare_size = 12 * 1024 * 1024, declared
    with (
        targets.public_client(True, 10) as client,
        client.stream("GET", server.url) as response,
        pytest.raises(targets.ResponseTooLarge, match="larger than 10 MB"),
    ):
        targets.read_capped(response, time.monotonic() + 10)
    with pytest.raises(SourceError, match=r"^The feed is larger than 10 MB\.$"):
        download(server.url, None, None, time.monotonic() + 10, allow_private=True)


def test_an_answer_within_the_cap_is_read_whole(server: LocalServer) -> None:
    server.size = 3 * 1024 * 1024
    with (
        targets.public_client(True, 10) as client,
        client.stream("GET", server.url) as response,
    ):
        assert len(targets.read_capped(response, time.monotonic() + 10)) == server.size


def test_a_feed_on_a_private_address_says_why_without_what_it_holds(server: LocalServer) -> None:
    with pytest.raises(SourceError) as refused:
        download(server.url, None, None, time.monotonic() + 10)
    assert str(refused.value) == TargetNotAllowed.default_message
    assert server.requests == []


@pytest.mark.parametrize(
    "url", ["ftp://example.com/calendar.ics", "file:///etc/passwd", "gopher://x/", "http://"]
)
def test_only_web_addresses_are_checked_through(url: str) -> None:
    with pytest.raises(InvalidInput, match="http:// or https://"):
        targets.check_url(url, allow_private=True)


def test_a_name_that_does_not_resolve_is_left_to_the_request() -> None:
    targets.check_url("https://no-such-host.invalid/calendar.ics", allow_private=False)


def test_the_setting_is_off_unless_said(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOOKWITHME_ALLOW_PRIVATE_TARGETS", raising=False)
    assert Settings().allow_private_targets is False
    monkeypatch.setenv("BOOKWITHME_ALLOW_PRIVATE_TARGETS", "true")
    assert Settings().allow_private_targets is True
