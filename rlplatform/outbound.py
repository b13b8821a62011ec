"""Calls the platform makes to addresses its users name: chat-policy model servers (rollouts,
evaluations) and webhooks.

Whoever names the URL (a manager, an agent key) must not make the platform's workers reach
what only the platform can reach: its own loopback, the private network it runs in, link-local
addresses (the cloud metadata service among them). So a URL is checked twice:

- when it is given, `check_url` refuses it with a ServiceError naming the field;
- when a connection is made, `transport()` (or `client()`) resolves the host, checks every
  address it resolves to, and connects to the address it checked. A name that resolved to a
  public address when the URL was given and to a private one later (DNS rebinding) is refused
  then, as `OutboundRefused`.

Allowed anyway: any address when `OUTBOUND_ALLOW_PRIVATE` is on (development, tests with a
local fake server), and the hosts an admin names in `OUTBOUND_ALLOWED_PRIVATE_HOSTS` or
configured as the platform's own model server (`CHAT_POLICY_BASE_URL`). What a remote server
answers is not to be shown beyond its status line (`status_line`): it may be anyone's server.
"""

from __future__ import annotations

import ipaddress
import socket
import typing
from urllib.parse import urlsplit

import httpcore
import httpx
from django.conf import settings

from rlplatform.services import ServiceError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# NAT64 carries an IPv4 address in its last 32 bits.
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class OutboundRefused(Exception):
    """A connection the guard refused: the host resolves to an address the platform may not
    call. The message names the host and the kind of address, and is safe to show."""


class Unresolvable(OutboundRefused):
    """The host does not resolve (now)."""


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def address_kind(address: IPAddress) -> str | None:
    """What makes `address` one the platform may not call (loopback, private, ...), or None
    for a public address."""
    inner = _embedded_ipv4(address)
    if inner is not None:
        return address_kind(inner)
    for kind in ("loopback", "link_local", "private", "multicast", "unspecified", "reserved"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    if not address.is_global:
        return "non-public"
    return None


def private_allowed(host: str) -> bool:
    """Whether `host` may resolve to a non-public address: in development, or when an admin
    named it (OUTBOUND_ALLOWED_PRIVATE_HOSTS, or the platform's own model server)."""
    if settings.OUTBOUND_ALLOW_PRIVATE:
        return True
    allowed = {name.lower() for name in settings.OUTBOUND_ALLOWED_PRIVATE_HOSTS}
    own = urlsplit(settings.CHAT_POLICY_BASE_URL).hostname
    if own:
        allowed.add(own.lower())
    return host.lower().rstrip(".") in allowed


def resolve(host: str, port: int) -> list[str]:
    """The addresses `host` resolves to, refusing with OutboundRefused a host with any address
    the platform may not call. One address that is refused refuses them all: the caller does
    not choose which one a later connection uses."""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:
        raise Unresolvable(f"{host} does not resolve ({error})") from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    if private_allowed(host):
        return addresses
    for address in addresses:
        kind = address_kind(ipaddress.ip_address(address.split("%", 1)[0]))
        if kind is not None:
            named = f"{host} is" if host == address else f"{host} resolves to"
            raise OutboundRefused(
                f"{named} a {kind} address ({address}); the platform calls public addresses "
                "only, and the internal hosts an admin lists in OUTBOUND_ALLOWED_PRIVATE_HOSTS"
            )
    return addresses


def check_url(url: str, *, field: str) -> None:
    """Refuse, with a ServiceError naming `field`, a URL the platform may not call: not
    http(s), no host, or a host that resolves to an address it may not call. A host that does
    not resolve yet is accepted here and checked again at every connection."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ServiceError("not a URL the platform can call", field=field) from None
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        raise ServiceError(
            "must be an http(s) URL, e.g. https://models.example.com/v1", field=field
        )
    try:
        resolve(host, port or (443 if parts.scheme == "https" else 80))
    except Unresolvable:
        pass  # perhaps not yet; every connection is checked
    except OutboundRefused as refused:
        raise ServiceError(str(refused), field=field) from None


def status_line(response: httpx.Response) -> str:
    """What may be shown of a remote server's answer: its status, never its body."""
    return f"HTTP {response.status_code} {response.reason_phrase}".rstrip()


class _GuardedBackend(httpcore.SyncBackend):
    """httpcore's network backend, connecting only to addresses `resolve` accepts: the one
    place a connection's address is chosen, so none is made to an address unchecked."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[typing.Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = resolve(host, port)
        last_error: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                last_error = error
        assert last_error is not None  # getaddrinfo answers at least one address or raises
        raise last_error


class GuardedTransport(httpx.HTTPTransport):
    """An httpx transport whose every connection goes through the guard (TLS still verifies
    the certificate against the host name). No proxy from the environment is used: a proxy
    would make the connections the guard is there to check."""

    def __init__(self, *, limits: httpx.Limits | None = None, **kwargs: typing.Any) -> None:
        limits = limits or httpx.Limits()
        super().__init__(limits=limits, trust_env=False, **kwargs)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_GuardedBackend(),
        )


def transport(**kwargs: typing.Any) -> GuardedTransport:
    """The transport for an httpx.Client that calls an address a user named."""
    return GuardedTransport(**kwargs)


def client(**kwargs: typing.Any) -> httpx.Client:
    """An httpx.Client for addresses users name: every connection checked, no redirects
    followed, no proxy or credentials taken from the environment."""
    return httpx.Client(transport=transport(), trust_env=False, follow_redirects=False, **kwargs)
