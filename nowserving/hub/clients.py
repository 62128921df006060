"""Who the client is: the one function every per-address limit keys on.

The direct peer of a connection is the client, unless it is one of the office's
trusted proxies (`[hub] trusted_proxies`). Only then is `X-Forwarded-For`
believed, read from the right: each trusted proxy appends the address it saw,
so the right-most entry that is not itself a trusted proxy is the client, and
whatever the client wrote further left is ignored.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

from starlette.types import Scope

Network = IPv4Network | IPv6Network
UNKNOWN = "unknown"
_LONGEST_ADDRESS = 45  # the longest IPv6 address in text form


def is_trusted(address: str, trusted: Sequence[Network]) -> bool:
    """Whether `address` is in one of the `trusted` networks (never for a non-address)."""
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in trusted)


def client_address(peer: str, forwarded_for: str | None, trusted: Sequence[Network]) -> str:
    """The client's address, from the direct `peer` and its `X-Forwarded-For` header."""
    if not forwarded_for or not is_trusted(peer, trusted):
        return peer
    hops = [hop.strip() for hop in forwarded_for.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not is_trusted(hop, trusted):
            return hop[:_LONGEST_ADDRESS]
    return hops[0][:_LONGEST_ADDRESS] if hops else peer  # every hop is a proxy of ours


def limit_key(address: str) -> str:
    """What per-address limits count `address` as: an IPv6 address by its /64, the
    network a phone or a home line is given (it may use any address in it, so one each
    would slip every cap); an IPv4 address (also one written as IPv6) as it is."""
    try:
        parsed = ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ip_network(f"{parsed}/64", strict=False))
    return address


def scope_client(scope: Scope, trusted: Sequence[Network]) -> str:
    """`client_address` for an ASGI request scope, as per-address limits count it."""
    peer = scope["client"][0] if scope.get("client") else UNKNOWN
    forwarded = b",".join(v for k, v in scope.get("headers", ()) if k == b"x-forwarded-for")
    return limit_key(client_address(peer, forwarded.decode("latin-1") or None, trusted))
