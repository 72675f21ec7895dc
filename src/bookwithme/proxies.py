"""Who is asking: the client address behind the reverse proxies this server trusts.

``X-Forwarded-For`` is written by whoever sends the request, so it only says something when
the peer that sent it is one of the proxies named in ``BOOKWITHME_TRUSTED_PROXIES``. Each
trusted proxy appends the address it received the request from, so the list is read from the
right, past every trusted proxy, to the first address that is not one: the client. Whatever is
further left was written by the client itself and is never read.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network
UNKNOWN = "unknown"


def parse_networks(value: str | Iterable[str]) -> tuple[IPNetwork, ...]:
    """``"10.0.0.1, 192.168.0.0/16, ::1"`` (or the same as a list) as networks; a bare address
    is a network of one. Raises ``ValueError`` naming the entry that is neither."""
    entries = value.split(",") if isinstance(value, str) else value
    networks: list[IPNetwork] = []
    for entry in entries:
        entry = entry.strip()
        if not entry:
            continue
        try:
            network = ip_network(entry, strict=False)
        except ValueError:
            raise ValueError(
                f"{entry!r} is not an IP address or network (such as 10.0.0.1 or 10.0.0.0/8)"
            ) from None
        networks.append(network)
    return tuple(networks)


def parse_address(text: str) -> IPAddress | None:
    """An address as proxies write it (``203.0.113.7``, ``203.0.113.7:5123``,
    ``2001:db8::7``, ``[2001:db8::7]:443``), IPv4-mapped IPv6 read as IPv4; None when the
    text is anything else (``unknown``, an obfuscated name, garbage)."""
    text = text.strip().strip('"')
    if text.startswith("["):
        text, bracket, _ = text[1:].partition("]")
        if not bracket:
            return None
    elif text.count(":") == 1:  # IPv4 with a port
        text = text.partition(":")[0]
    try:
        address = ip_address(text)
    except ValueError:
        return None
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def is_trusted(address: IPAddress, trusted: Sequence[IPNetwork]) -> bool:
    return any(address in network for network in trusted)


def client_address(
    peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[IPNetwork]
) -> str:
    """The client's address. ``peer`` is the address the connection comes from,
    ``forwarded_for`` the values of every ``X-Forwarded-For`` header, in order.

    An entry that is not an address, met while walking from the right, means a trusted proxy
    wrote something we cannot read: the walk stops there and the nearest trusted proxy stands
    for the client, so no client ever chooses its own address by sending garbage."""
    if peer is None:
        return UNKNOWN
    nearest = parse_address(peer)
    if nearest is None:  # not an IP (a test client, a Unix socket): taken as it is
        return peer
    if not is_trusted(nearest, trusted):
        return str(nearest)
    hops = [hop for value in forwarded_for for hop in value.split(",")]
    for hop in reversed(hops):
        address = parse_address(hop)
        if address is None:
            break
        nearest = address
        if not is_trusted(address, trusted):
            break
    return str(nearest)
