"""Webhook URLs must not point the gateway at itself or its private network (SSRF), unless
the operator allows it; checked at registration and again before every delivery, since DNS
answers can change."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from aigw.errors import InvalidRequest


def _blocked(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


async def check_url(url: object, *, allow_private: bool, param: str = "webhook_url") -> str:
    """The URL, or 400 when it is malformed or resolves to a refused address."""
    if not isinstance(url, str) or len(url) > 2048:
        raise InvalidRequest(f"'{param}' must be an http(s) URL.", param=param)
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        raise InvalidRequest(f"'{param}' must be an http(s) URL.", param=param) from None
    if parts.scheme not in ("http", "https") or not host:
        raise InvalidRequest(f"'{param}' must be an http(s) URL.", param=param)
    port = port or (443 if parts.scheme == "https" else 80)
    if allow_private:
        return url
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise InvalidRequest(f"'{param}' host does not resolve.", param=param) from None
    if not infos or any(_blocked(str(info[4][0])) for info in infos):
        raise InvalidRequest(
            f"'{param}' resolves to a loopback, private or link-local address.", param=param
        )
    return url
