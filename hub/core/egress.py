"""Safe egress: webhooks, IM robots and SMTP reach only public addresses, checked on connect.

A URL is checked twice. When an endpoint or channel is saved, :meth:`EgressPolicy.check_url`
refuses what is plainly wrong (scheme, credentials, a private literal address or a name
resolving to one) so the owner gets a 422 with the reason. When a delivery connects,
:class:`GuardedBackend` resolves the host once, refuses unless every address is public, and
connects to the address it checked — so a name that re-binds to ``127.0.0.1`` between the two
checks (DNS rebinding) gets nowhere. The ``Host`` header and the TLS server name still come from
the URL.

Each consumer has its own operator allow-list (``CASEHUB_WEBHOOK_ALLOWED_HOSTS``,
``CASEHUB_NOTIFIER_ALLOWED_HOSTS``: host names, addresses and CIDR networks) that lets chosen
private targets through; those may also use plain ``http``, which is otherwise accepted only in
development. :func:`open_connection` applies the same check to raw TCP (SMTP).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import typing
from collections.abc import Iterable
from dataclasses import dataclass, field

import httpcore
import httpx

from hub.core.settings import Environment, Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

BLOCKED_NETWORKS: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/128",
        "::1/128",
        "64:ff9b:1::/48",
        "100::/64",
        "2001::/23",
        "2001:db8::/32",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
    )
)
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
MAX_URL_LENGTH = 2000
RESOLVE_TIMEOUT_SECONDS = 5.0


class EgressRefused(httpcore.ConnectError):
    """A connection CaseHub will not make (the message says why)."""


def describe(address: IPAddress) -> str | None:
    """Why ``address`` is not a public unicast address, or None when it is one."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded: ipaddress.IPv4Address | None = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            reason = describe(embedded)
            return None if reason is None else f"{address} embeds {embedded}, {reason}"
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
    )
    for name, hit in checks:
        if hit:
            return f"{address} is a {name} address"
    if any(address in network for network in BLOCKED_NETWORKS):
        return f"{address} is not a public address"
    if not address.is_global:
        return f"{address} is not a public address"
    return None


def parse_address(text: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(text.split("%", 1)[0].strip("[]"))
    except ValueError:
        return None


@dataclass(frozen=True)
class EgressPolicy:
    """Which targets outbound requests may reach; built from settings at start-up."""

    allowed_networks: tuple[IPNetwork, ...] = ()
    allowed_hosts: frozenset[str] = field(default_factory=frozenset)
    allow_plain_http: bool = False

    @classmethod
    def from_settings(cls, settings: Settings, allowed_hosts: Iterable[str]) -> EgressPolicy:
        """A policy with the operator's ``allowed_hosts``; plain http only in development."""
        return cls.build(allowed_hosts, allow_plain_http=settings.env == Environment.development)

    @classmethod
    def build(cls, entries: Iterable[str], *, allow_plain_http: bool = False) -> EgressPolicy:
        networks: list[IPNetwork] = []
        hosts: set[str] = set()
        for entry in entries:
            entry = entry.strip()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                hosts.add(entry.lower().rstrip("."))
        return cls(tuple(networks), frozenset(hosts), allow_plain_http)

    def host_allowed(self, host: str) -> bool:
        return host.lower().rstrip(".") in self.allowed_hosts

    def address_allowed(self, address: IPAddress) -> bool:
        return any(
            address.version == network.version and address in network
            for network in self.allowed_networks
        )

    def refusal(self, host: str, address: IPAddress) -> str | None:
        """Why a connection to ``address`` (resolved from ``host``) is refused, or None."""
        if self.host_allowed(host) or self.address_allowed(address):
            return None
        return describe(address)

    def check_syntax(self, url: str) -> httpx.URL:
        """Refuse URLs no outbound request may use; raises ``ValueError`` with the reason."""
        if len(url) > MAX_URL_LENGTH:
            raise ValueError(f"the URL is longer than {MAX_URL_LENGTH} characters")
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, ValueError) as exc:
            raise ValueError(f"not a valid URL: {exc}") from None
        if parsed.scheme not in ("http", "https"):
            raise ValueError("the URL must use https (or http where allowed)")
        if not parsed.host:
            raise ValueError("the URL has no host")
        if parsed.userinfo:
            raise ValueError("the URL must not carry credentials")
        literal = parse_address(parsed.host)
        trusted = self.host_allowed(parsed.host) or (
            literal is not None and self.address_allowed(literal)
        )
        if parsed.scheme == "http" and not (self.allow_plain_http or trusted):
            raise ValueError("the URL must use https")
        if trusted:
            return parsed
        if literal is not None:
            reason = describe(literal)
            if reason:
                raise ValueError(f"private target refused: {reason}")
        elif parsed.host == "localhost" or parsed.host.endswith((".localhost", ".local")):
            raise ValueError(f"private target refused: {parsed.host} is a local name")
        return parsed

    async def check_url(self, url: str) -> str:
        """Check a URL an owner wants to save, resolving its host once.

        Raises ``ValueError`` with the reason: bad scheme or syntax, credentials, plain http where
        https is required, a host that does not resolve, or one that resolves to a private
        address. The delivery connection checks again (see :class:`GuardedBackend`).
        """
        parsed = self.check_syntax(url)
        host = parsed.host
        if self.host_allowed(host) or parse_address(host) is not None:
            return str(parsed)
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            addresses = await resolve(host, port)
        except (OSError, TimeoutError):
            raise ValueError(f"the host {host} does not resolve") from None
        for address in addresses:
            reason = self.refusal(host, address)
            if reason:
                raise ValueError(f"private target refused: {host} resolves to {reason}")
        return str(parsed)


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (each once, in the resolver's order)."""
    loop = asyncio.get_running_loop()
    async with asyncio.timeout(RESOLVE_TIMEOUT_SECONDS):
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = parse_address(str(sockaddr[0]))
        if address is not None and address not in addresses:
            addresses.append(address)
    if not addresses:
        raise OSError(f"{host} has no address")
    return addresses


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """A network backend that resolves once, checks every address, then connects to one of them."""

    def __init__(self, policy: EgressPolicy, inner: httpcore.AsyncNetworkBackend | None = None):
        self.policy = policy
        self.inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await resolve(host, port)
        except (OSError, TimeoutError) as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
        for address in addresses:
            reason = self.policy.refusal(host, address)
            if reason:
                raise EgressRefused(f"refused to connect to {host}: {reason}")
        last: Exception | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise EgressRefused("outbound requests never connect to unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport with the connection pool built on :class:`GuardedBackend`."""

    def __init__(
        self,
        policy: EgressPolicy,
        *,
        limits: httpx.Limits,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        super().__init__(trust_env=False, limits=limits)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context or httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(policy),
        )


def build_client(
    policy: EgressPolicy, *, timeout: float, user_agent: str, max_connections: int = 100
) -> httpx.AsyncClient:
    """The one client a dispatcher shares: guarded, no proxies from the environment, no
    redirects."""
    limits = httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=max_connections,
        keepalive_expiry=30.0,
    )
    return httpx.AsyncClient(
        transport=GuardedTransport(policy, limits=limits),
        trust_env=False,
        follow_redirects=False,
        timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
        headers={"user-agent": user_agent},
    )


def refused(exc: BaseException) -> bool:
    """Whether an httpx error was the egress guard's refusal."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, EgressRefused):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


async def open_connection(
    policy: EgressPolicy, host: str, port: int, *, connect_timeout: float
) -> socket.socket:
    """A TCP socket connected to ``host`` after the same check as :class:`GuardedBackend`.

    For protocols httpx does not speak (SMTP): resolve once, refuse unless every address is
    allowed, connect to a checked address. Raises :class:`EgressRefused` or ``OSError``.
    """
    try:
        addresses = await resolve(host, port)
    except (OSError, TimeoutError) as exc:
        raise OSError(f"cannot resolve {host}: {exc}") from exc
    for address in addresses:
        reason = policy.refusal(host, address)
        if reason:
            raise EgressRefused(f"refused to connect to {host}: {reason}")
    loop = asyncio.get_running_loop()
    last: Exception | None = None
    for address in addresses:
        family = socket.AF_INET6 if address.version == 6 else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setblocking(False)
        try:
            async with asyncio.timeout(connect_timeout):
                await loop.sock_connect(sock, (str(address), port))
        except (OSError, TimeoutError) as exc:
            sock.close()
            last = exc
            continue
        return sock
    assert last is not None
    raise OSError(f"cannot connect to {host}:{port}: {last}") from last
