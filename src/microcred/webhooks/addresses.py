"""Where webhooks may go: HTTPS endpoints on public addresses (the SSRF guard).

Checked when a subscription is saved and again before every attempt (a name may resolve
elsewhere by then). ``allow_private`` (setting ``webhooks_allow_private``) lifts both rules, for
endpoints on the operator's own network and for tests.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit, urlunsplit

from microcred.webhooks.errors import WebhookError

MAX_URL = 2000
Resolver = Callable[[str, int], list[str]]


def resolve(host: str, port: int) -> list[str]:
    """Every address the name resolves to (what a connection might use)."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise WebhookError(f"{host} does not resolve ({error}).", field="url") from None
    return sorted({str(info[4][0]) for info in found})


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
    )


@dataclass(frozen=True)
class Destination:
    """Where one attempt connects: the URL with the host replaced by an address that was
    checked, so that the connection cannot resolve the name again to somewhere else (DNS
    rebinding); ``host`` goes in the Host header and ``sni_hostname`` names the server for TLS
    (the certificate is still checked against the name)."""

    url: str
    host: str | None = None
    sni_hostname: str | None = None


def _checked(
    url: str, allow_private: bool, resolver: Resolver
) -> tuple[str, SplitResult, list[str]]:
    """The stripped URL, its parts and the addresses it resolves to (none when not checked)."""
    url = url.strip()
    if len(url) > MAX_URL:
        raise WebhookError(f"The URL is over {MAX_URL} characters.", field="url")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookError("That is not a URL.", field="url") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise WebhookError("Give an https:// URL.", field="url")
    if parts.username or parts.password:
        raise WebhookError("The URL may not carry a user name or password.", field="url")
    if allow_private:
        return url, parts, []
    if parts.scheme != "https":
        raise WebhookError("Webhooks are sent over HTTPS only: give an https:// URL.", field="url")
    addresses = resolver(parts.hostname, port or 443)
    if not addresses or not all(_public(address) for address in addresses):
        raise WebhookError(
            f"{parts.hostname} resolves to a loopback, private, link-local or multicast "
            "address; webhooks go to public addresses only.",
            field="url",
        )
    return url, parts, addresses


def check_url(url: str, *, allow_private: bool, resolver: Resolver = resolve) -> str:
    """The URL, stripped, if webhooks may be sent there; else :class:`WebhookError`."""
    return _checked(url, allow_private, resolver)[0]


def destination(url: str, *, allow_private: bool, resolver: Resolver = resolve) -> Destination:
    """Check the URL again, at delivery, and pin the connection to a checked address."""
    url, parts, addresses = _checked(url, allow_private, resolver)
    if not addresses:
        return Destination(url)
    address = addresses[0]
    literal = f"[{address}]" if ":" in address else address
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    host = parts.hostname or ""
    host_header = host if parts.port is None else f"{host}:{parts.port}"
    return Destination(urlunsplit(parts._replace(netloc=netloc)), host_header, host)
