"""Safe egress: private targets are refused when saved and again when connecting."""

from __future__ import annotations

import ipaddress
import ssl
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hub.core import egress
from hub.core.egress import EgressPolicy, GuardedTransport, build_client, describe, refused

from .conftest import Receiver

pytestmark = pytest.mark.anyio

REFUSED = [
    "127.0.0.1",
    "127.8.9.10",
    "0.0.0.0",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",
    "100.64.0.1",
    "192.0.0.8",
    "198.18.0.1",
    "224.0.0.1",
    "240.0.0.1",
    "255.255.255.255",
    "::",
    "::1",
    "fc00::1",
    "fd12:3456::1",
    "fe80::1",
    "ff02::1",
    "::ffff:127.0.0.1",
    "::ffff:10.0.0.1",
    "::ffff:169.254.169.254",
    "64:ff9b::a9fe:a9fe",
    "2002:7f00:1::1",
    "2001:db8::1",
]
PUBLIC = ["93.184.215.14", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", REFUSED)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert describe(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    assert describe(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("ftp://example.com/hook", "http"),
        ("file:///etc/passwd", "http"),
        ("javascript:alert(1)", "http"),
        ("https://user:pw@example.com/hook", "credentials"),
        ("http://93.184.215.14/hook", "https"),
        ("https://10.0.0.1/hook", "private"),
        ("https://[::1]/hook", "private"),
        ("https://169.254.169.254/latest/meta-data", "link-local"),
        ("https://localhost/hook", "local name"),
        ("https://printer.local/hook", "local name"),
        ("https:///nohost", "host"),
    ],
)
async def test_check_url_refuses_with_a_reason(url: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        await EgressPolicy().check_url(url)


async def test_check_url_refuses_a_name_resolving_to_a_private_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def resolve(host: str, port: int) -> list[egress.IPAddress]:
        return [ipaddress.ip_address("93.184.215.14"), ipaddress.ip_address("10.0.0.7")]

    monkeypatch.setattr(egress, "resolve", resolve)
    with pytest.raises(ValueError, match=r"hooks\.example resolves to 10\.0\.0\.7"):
        await EgressPolicy().check_url("https://hooks.example/in")


async def test_public_literal_and_allow_list_pass() -> None:
    assert await EgressPolicy().check_url("https://93.184.215.14/hook") == (
        "https://93.184.215.14/hook"
    )
    policy = EgressPolicy.build(["127.0.0.0/8", "hooks.internal"])
    assert await policy.check_url("http://127.0.0.1:9000/x") == "http://127.0.0.1:9000/x"
    assert await policy.check_url("http://hooks.internal/x") == "http://hooks.internal/x"
    dev = EgressPolicy.build([], allow_plain_http=True)
    assert await dev.check_url("http://93.184.215.14/x") == "http://93.184.215.14/x"


async def test_connect_time_check_refuses_loopback(receivers: object) -> None:
    receiver = await Receiver().start()
    try:
        async with build_client(EgressPolicy(), timeout=5, user_agent="test") as client:
            with pytest.raises(httpx.ConnectError) as info:
                await client.post(receiver.url, content=b"{}")
        assert refused(info.value)
        assert "loopback" in str(info.value)
        assert receiver.requests == []
    finally:
        await receiver.close()


async def test_dns_rebinding_is_caught_at_connect_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """The name looked public when saved; at connect time it points at loopback: refused."""
    answers = iter([["93.184.215.14"], ["127.0.0.1"]])

    async def resolve(host: str, port: int) -> list[egress.IPAddress]:
        return [ipaddress.ip_address(a) for a in next(answers)]

    monkeypatch.setattr(egress, "resolve", resolve)
    receiver = await Receiver().start()
    try:
        url = f"http://rebind.example:{receiver.port}/hook"
        policy = EgressPolicy.build([], allow_plain_http=True)
        assert await policy.check_url(url) == url
        async with build_client(policy, timeout=5, user_agent="test") as client:
            with pytest.raises(httpx.ConnectError) as info:
                await client.post(url, content=b"{}")
        assert refused(info.value)
        assert receiver.requests == []
    finally:
        await receiver.close()


async def test_connects_to_the_checked_address_keeping_the_host_header(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []

    async def resolve(host: str, port: int) -> list[egress.IPAddress]:
        calls.append(host)
        return [ipaddress.ip_address("127.0.0.1")]

    monkeypatch.setattr(egress, "resolve", resolve)
    receiver = await Receiver().start()
    try:
        policy = EgressPolicy.build(["127.0.0.0/8"])
        async with build_client(policy, timeout=5, user_agent="test") as client:
            response = await client.post(f"http://hooks.example:{receiver.port}/in", content=b"{}")
        assert response.status_code == 200
        assert calls == ["hooks.example"]
        assert receiver.requests[0].headers["host"] == f"hooks.example:{receiver.port}"
    finally:
        await receiver.close()


def _self_signed(host: str, directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=1))
        .not_valid_after(now + timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def test_tls_keeps_the_server_name_while_connecting_to_the_checked_ip(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SNI and certificate verification use the URL's name, not the address connected to."""
    import asyncio

    async def resolve(host: str, port: int) -> list[egress.IPAddress]:
        return [ipaddress.ip_address("127.0.0.1")]

    monkeypatch.setattr(egress, "resolve", resolve)
    with tempfile.TemporaryDirectory() as tmp:
        cert, key = _self_signed("hooks.test", Path(tmp))
        server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_context.load_cert_chain(cert, key)
        seen: list[str | None] = []
        server_context.sni_callback = lambda _sock, name, _ctx: seen.append(name)  # type: ignore[assignment,misc,return-value]
        receiver = Receiver()
        server = await asyncio.start_server(receiver._handle, "127.0.0.1", 0, ssl=server_context)
        receiver._server = server
        receiver.port = server.sockets[0].getsockname()[1]
        client_context = ssl.create_default_context(cafile=str(cert))
        try:
            transport = GuardedTransport(
                EgressPolicy.build(["127.0.0.0/8"]),
                limits=httpx.Limits(max_connections=1),
                ssl_context=client_context,
            )
            async with httpx.AsyncClient(transport=transport, trust_env=False) as client:
                response = await client.post(
                    f"https://hooks.test:{receiver.port}/in", content=b"{}"
                )
            assert response.status_code == 200
            assert seen == ["hooks.test"]
            assert receiver.requests[0].headers["host"] == f"hooks.test:{receiver.port}"
        finally:
            await receiver.close()


async def test_unix_sockets_are_refused() -> None:
    backend = egress.GuardedBackend(EgressPolicy())
    with pytest.raises(egress.EgressRefused):
        await backend.connect_unix_socket("/var/run/docker.sock")
