"""Which client a limit applies to: an IPv4 address, or an IPv6 /64 (one subscriber gets
a whole /64, so per-address limits keyed on the full IPv6 address would be free to dodge)."""

from __future__ import annotations

import ipaddress


def client_key(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]  # "unknown", or whatever a test names: bounded all the same
    if isinstance(ip, ipaddress.IPv4Address):
        return str(ip)
    if ip.ipv4_mapped is not None:  # ::ffff:192.0.2.1 is 192.0.2.1
        return str(ip.ipv4_mapped)
    return str(ipaddress.IPv6Network((ip, 64), strict=False))
