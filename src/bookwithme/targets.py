"""Outbound HTTP to addresses people type: calendar feeds, CalDAV servers, webhooks.

Such an address could lead the server to ask something only it can reach (an admin page on
127.0.0.1, a cloud's metadata service on 169.254.169.254, a database on 10.0.0.5) and show
the organizer what it answered. So unless ``ALLOW_PRIVATE_TARGETS`` is on, every connection
goes only to a public address (SPEC 2.9):

- ``check_url`` looks the host up when an address is given (connecting a calendar, adding a
  webhook), to say so at once with 422 ``target_not_allowed``;
- the real check is made when connecting, on the very addresses connected to, for every
  request and every redirect: ``public_client`` (httpx, through ``CheckedBackend``) and
  ``caldav_session`` (niquests, which caldav uses, through ``CheckedResolver``). A name
  that answers a public address at the first look and a private one later (DNS
  rebinding) is refused then, before anything is sent.

A refusal raises ``TargetNotAllowed``, whose message says why in words and names the
setting; it never repeats anything a server sent.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpcore
import httpx
import niquests

if TYPE_CHECKING:  # what niquests.packages.urllib3 is where the legacy urllib3 is installed
    from urllib3_future.contrib.resolver import BaseResolver, ProtocolResolver
else:
    from niquests.packages.urllib3.contrib.resolver import BaseResolver, ProtocolResolver

from bookwithme.errors import InvalidInput, TargetNotAllowed

MAX_REDIRECTS = 5
MAX_BYTES = 10 * 1024 * 1024  # what read_capped keeps at most
NOT_A_WEB_ADDRESS = "must be an http:// or https:// address"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
AddressInfo = tuple[
    socket.AddressFamily,
    socket.SocketKind,
    int,
    str,
    tuple[str, int] | tuple[str, int, int, int],
]

# NAT64's well-known prefix (RFC 6052): the last 32 bits are an IPv4 address, and that one
# decides (an IPv6-only server with DNS64 reaches every IPv4-only site through it).
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


NOT_AN_ADDRESS = "is not a valid web address"


def require_host(url: str) -> str:
    """``url`` if a request can be sent to it (a host, a port that is one: "http://[" and
    "http://host:0" are not); a ``ValueError`` for a form or schema otherwise."""
    try:
        parts = urlsplit(url)
        valid = bool(parts.hostname) and (parts.port is None or parts.port > 0)
    except ValueError:
        valid = False
    if not valid:
        raise ValueError(NOT_AN_ADDRESS)
    return url


def is_public_address(ip: str | IPAddress) -> bool:
    """Whether ``ip`` is an address of the public Internet: not loopback, private (RFC 1918,
    fc00::/7), link-local, multicast, unspecified, reserved, shared (100.64/10), for
    documentation, site-local, nor an IPv6 form that wraps such an IPv4 address
    (::ffff:127.0.0.1, 6to4, NAT64, Teredo)."""
    try:
        address = ip if not isinstance(ip, str) else ipaddress.ip_address(ip)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return is_public_address(address.ipv4_mapped)
        if address in NAT64:
            return is_public_address(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if address.sixtofour is not None and not is_public_address(address.sixtofour):
            return False
        if address.teredo is not None or address.is_site_local:
            return False
    return address.is_global and not (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_unspecified
        or address.is_reserved
    )


def getaddrinfo(
    host: str,
    port: int | str | None,
    family: int = socket.AF_UNSPEC,
    kind: int = socket.SOCK_STREAM,
) -> list[AddressInfo]:
    """The system's answer for ``host`` (which also reads 2130706433, 0x7f000001, 0177.0.0.1
    and 127.1 as 127.0.0.1). Every look-up of this module goes through here, so that tests
    can play the DNS."""
    return socket.getaddrinfo(host, port, family, kind)  # type: ignore[return-value]


def refuse_unless_public(records: Iterable[AddressInfo]) -> None:
    """Raise ``TargetNotAllowed`` if any address of a look-up is not public: a name with one
    private address among public ones is refused too (which one is used is not ours to pick)."""
    for *_, sockaddr in records:
        if not is_public_address(str(sockaddr[0])):
            raise TargetNotAllowed()


def check_url(url: str, allow_private: bool) -> None:
    """Refuse early an address that leads to a non-public network (``TargetNotAllowed``), or
    that is not an http(s) address at all (``InvalidInput``). A host that cannot be looked up
    now passes: a request to it fails anyway, and each connection is checked when made."""
    try:
        parts = urlsplit(url)
        scheme, host, port = parts.scheme, parts.hostname, parts.port
    except ValueError:  # a port that is not a number, a bracket left open
        scheme, host, port = "", None, None
    if scheme not in ("http", "https") or not host:
        raise InvalidInput(
            f"url: {NOT_A_WEB_ADDRESS}", details=[{"field": "url", "message": NOT_A_WEB_ADDRESS}]
        )
    if allow_private:
        return
    try:
        records = getaddrinfo(host, port or (443 if scheme == "https" else 80))
    except (OSError, UnicodeError):
        return
    refuse_unless_public(records)


# -- httpx --------------------------------------------------------------------------------


class CheckedBackend(httpcore.SyncBackend):
    """httpcore's network backend, except that it looks the host up itself, refuses if any
    address is not public, and connects to the address it checked, so that no second
    look-up can answer something else. TLS still verifies the name in the address: httpcore
    hands the server name to ``start_tls`` apart from the address connected to."""

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        if self.allow_private:
            return super().connect_tcp(host, port, timeout, local_address, socket_options)
        try:
            records = getaddrinfo(host, port)
        except (OSError, UnicodeError) as exc:
            raise httpcore.ConnectError(f"The name {host!r} could not be looked up.") from exc
        refuse_unless_public(records)
        failure: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for address in dict.fromkeys(str(record[4][0]) for record in records):
            try:
                stream = super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
                continue
            # What the socket is connected to, checked once more before anything is sent.
            peer = stream.get_extra_info("server_addr")
            if not peer or not is_public_address(str(peer[0])):
                stream.close()
                raise TargetNotAllowed()
            return stream
        raise failure or httpcore.ConnectError(f"The name {host!r} has no address.")


class CheckedTransport(httpx.HTTPTransport):
    """httpx's own transport over a ``CheckedBackend``."""

    def __init__(self, allow_private: bool) -> None:
        ssl_context = httpx.create_ssl_context()
        super().__init__(verify=ssl_context)
        # httpx has no public way to give its transport a network backend: its pool is
        # replaced by the one it would have made (httpx's default limits), with the checked
        # backend.
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context,
            max_connections=100,
            max_keepalive_connections=20,
            keepalive_expiry=5.0,
            network_backend=CheckedBackend(allow_private),
        )


def public_client(
    allow_private: bool,
    timeout: float | httpx.Timeout,
    *,
    follow_redirects: bool = True,
    max_redirects: int = MAX_REDIRECTS,
    headers: Mapping[str, str] | None = None,
) -> httpx.Client:
    """An httpx client whose every connection, redirects included (each one connects anew
    when it goes to another host), is made only to an address checked to be public unless
    ``allow_private``. A refused connection raises ``TargetNotAllowed`` out of the request;
    nothing was sent. Proxy settings of the environment and .netrc are not used: a proxy
    would do the look-up, out of reach of the check."""
    return httpx.Client(
        transport=CheckedTransport(allow_private),
        timeout=timeout,
        follow_redirects=follow_redirects,
        max_redirects=max_redirects,
        headers=headers,
        trust_env=False,
    )


class ResponseTooLarge(Exception):
    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        super().__init__(f"The answer is larger than {max_bytes // (1024 * 1024)} MB.")


class ResponseTooSlow(Exception):
    def __init__(self) -> None:
        super().__init__("The server did not send its whole answer in time.")


def read_capped(response: httpx.Response, deadline: float, max_bytes: int = MAX_BYTES) -> bytes:
    """The body of a streamed ``response``, read by ``deadline`` (``time.monotonic()``) and
    never more than ``max_bytes`` of it: ``ResponseTooLarge`` as soon as it says or proves
    to be larger, ``ResponseTooSlow`` past the deadline (a server that sends a byte now and
    then is caught between chunks; give the client a read timeout no longer than what is
    left, for one that goes silent)."""
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise ResponseTooLarge(max_bytes)
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise ResponseTooLarge(max_bytes)
        if time.monotonic() > deadline:
            raise ResponseTooSlow()
        chunks.append(chunk)
    return b"".join(chunks)


# -- niquests (CalDAV) ------------------------------------------------------------------------


class CheckedResolver(BaseResolver):
    """The DNS resolver of a niquests session (caldav's HTTP library): urllib3-future connects
    to exactly the addresses a resolver gives, one by one, for every connection, redirects
    included, so refusing here refuses before connecting. A refusal is also kept in
    ``refused``, for when the caller's library swallows the exception."""

    protocol = ProtocolResolver.CUSTOM
    implementation = "bookwithme"

    def __init__(self, allow_private: bool) -> None:
        super().__init__(None, None)
        self.allow_private = allow_private
        self.refused: TargetNotAllowed | None = None

    def recycle(self) -> BaseResolver:
        return self

    def close(self) -> None:
        pass  # nothing is held

    def is_available(self) -> bool:
        return True

    def getaddrinfo(  # type: ignore[override]
        self,
        host: bytes | str | None,
        port: str | int | None,
        family: socket.AddressFamily,
        type: socket.SocketKind,
        proto: int = 0,
        flags: int = 0,
        *,
        quic_upgrade_via_dns_rr: bool = False,
    ) -> list[AddressInfo]:
        name = host.decode("ascii") if isinstance(host, bytes) else host or "localhost"
        records = getaddrinfo(name, port, family, type)
        if not self.allow_private:
            try:
                refuse_unless_public(records)
            except TargetNotAllowed as exc:
                self.refused = exc
                raise
        return records


def caldav_session(allow_private: bool, *, multiplexed: bool = False) -> niquests.Session:
    """A niquests session for caldav's ``DAVClient`` (its ``session``) whose connections are
    checked like ``public_client``'s, with at most ``MAX_REDIRECTS`` redirects, and no
    proxy, .netrc or DNS-over-HTTPS from the environment."""
    session = niquests.Session(
        resolver=CheckedResolver(allow_private),
        multiplexed=multiplexed,
        disable_http3=True,  # no QUIC over UDP: one kind of connection to check
    )
    session.max_redirects = MAX_REDIRECTS
    session.trust_env = False
    return session


def refusal_in(exc: BaseException | None, session: Any = None) -> TargetNotAllowed | None:
    """The ``TargetNotAllowed`` behind ``exc`` (however a library wrapped it), or the one
    ``session``'s resolver kept (however a library swallowed it); None if nothing was
    refused."""
    pending = [exc]
    seen: set[int] = set()
    while pending:
        current = pending.pop()
        if not isinstance(current, BaseException) or id(current) in seen:
            continue
        if isinstance(current, TargetNotAllowed):
            return current
        seen.add(id(current))
        pending += [current.__cause__, current.__context__, getattr(current, "reason", None)]
        pending += current.args
    resolver = getattr(session, "resolver", None)
    return resolver.refused if isinstance(resolver, CheckedResolver) else None
