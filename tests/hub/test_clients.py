"""The one function that says who the client is."""

from __future__ import annotations

from ipaddress import ip_network

from nowserving.hub.clients import client_address, scope_client

PROXIES = [ip_network("10.0.0.1"), ip_network("192.168.5.0/24")]


def test_the_peer_is_the_client_unless_it_is_a_trusted_proxy() -> None:
    assert client_address("172.16.0.9", "1.2.3.4", PROXIES) == "172.16.0.9"  # forged: ignored
    assert client_address("172.16.0.9", "1.2.3.4", []) == "172.16.0.9"
    assert client_address("10.0.0.1", None, PROXIES) == "10.0.0.1"


def test_through_trusted_proxies_the_right_most_untrusted_entry_is_the_client() -> None:
    assert client_address("10.0.0.1", "1.2.3.4", PROXIES) == "1.2.3.4"
    assert client_address("10.0.0.1", "6.6.6.6, 1.2.3.4", PROXIES) == "1.2.3.4"
    assert client_address("10.0.0.1", "6.6.6.6, 1.2.3.4, 192.168.5.7", PROXIES) == "1.2.3.4"
    assert client_address("10.0.0.1", " 2001:db8::1 ,10.0.0.1", PROXIES) == "2001:db8::1"
    assert client_address("10.0.0.1", "192.168.5.7, 10.0.0.1", PROXIES) == "192.168.5.7"
    assert client_address("10.0.0.1", " , ", PROXIES) == "10.0.0.1"
    assert client_address("10.0.0.1", "x" * 100, PROXIES) == "x" * 45


def test_one_ipv6_network_of_a_home_or_phone_is_one_client_for_the_limits() -> None:
    # A phone or home line holds a whole /64: one address each would slip every cap
    # (bookings per address, rate limits, streams, PIN tries).
    def scope(peer: str) -> dict[str, object]:
        return {"type": "http", "client": (peer, 443), "headers": []}

    near = {scope_client(scope(f"2001:db8:1:2::{n:x}"), []) for n in range(1, 500, 37)}
    assert near == {"2001:db8:1:2::/64"}
    assert scope_client(scope("2001:db8:1:3::1"), []) == "2001:db8:1:3::/64"
    assert scope_client(scope("::ffff:192.0.2.7"), []) == "192.0.2.7"
    assert scope_client(scope("192.0.2.7"), []) == "192.0.2.7"
    assert scope_client(scope("unknown"), []) == "unknown"
