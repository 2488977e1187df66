"""IpAddress / NotIpAddress over IPv4 and IPv6 CIDRs; a bare address is a single-host network."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from typing import Any

from rolegate.policy.conditions.base import Operator

Network = tuple[int, int, int]  # (version, network address as int, mask as int)


def parse_network(value: str) -> Network | None:
    try:
        network = ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return None
    return network.version, int(network.network_address), int(network.netmask)


@lru_cache(maxsize=4096)
def parse_address(value: str) -> tuple[int, int] | None:
    try:
        address = ipaddress.ip_address(value.strip())
    except ValueError:
        return None
    return address.version, int(address)


def _in_network(context_value: str, policy_value: Any) -> bool:
    address = parse_address(context_value)
    if address is None:
        return False
    version, network, mask = policy_value
    return bool(address[0] == version and address[1] & mask == network)


OPERATORS: tuple[Operator, ...] = (
    Operator("IpAddress", parse_network, _in_network),
    Operator("NotIpAddress", parse_network, _in_network, negated=True),
)
