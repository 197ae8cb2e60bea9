"""Client ID metadata documents: fetched narrowly (https, public addresses only, no redirects, bounded).

The refusals run against the real resolver and real sockets: a trap server on loopback
proves nothing connects to a refused address. The fetch itself is checked against a local
TLS server whose certificate the test makes, with the address rule widened to loopback for
that server only (the one thing a test on one machine cannot have is a public address).
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from nbmcp.auth.client_metadata import DocumentCache, check_document_url, is_public_address
from nbmcp.auth.oauth_error import OAuthError
from tests.httpkit import QuietHandler, serve_handler
from tests.oauth.consentkit import base_of, client, fill_consent, oauth_server, pkce

pytestmark = pytest.mark.timeout(60)

HOST = "client.test"
CALLBACK = "http://127.0.0.1:47123/callback"


def run(coro: Any) -> Any:
    return asyncio.run(coro)


@pytest.mark.parametrize(
    "url",
    [
        "http://client.example/meta.json",
        "https://client.example",
        "https://client.example/",
        "https://client.example/a/../meta.json",
        "https://client.example/meta.json#x",
        "https://user@client.example/meta.json",
        "https://client.example:99999/meta.json",
    ],
)
def test_url_rules(url: str) -> None:
    with pytest.raises(OAuthError):
        check_document_url(url)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.9",
        "192.168.1.5",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "224.0.0.1",
        "255.255.255.255",
    ],
)
def test_private_addresses_are_not_public(address: str) -> None:
    assert not is_public_address(ipaddress.ip_address(address))


def test_public_addresses_are() -> None:
    assert is_public_address(ipaddress.ip_address("93.184.216.34"))
    assert is_public_address(ipaddress.ip_address("2606:2800:220:1:248:1893:25c8:1946"))


@pytest.fixture
def trap() -> Iterator[tuple[int, list[object]]]:
    """A loopback listener that records every connection made to it (there must be none)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.settimeout(0.05)
    accepted: list[object] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            accepted.append(conn)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield sock.getsockname()[1], accepted
    stop.set()
    thread.join(5)
    sock.close()


def test_private_hosts_are_refused_before_any_connection(trap: tuple[int, list[object]]) -> None:
    port, accepted = trap
    cache = DocumentCache()

    async def fake_dns(host: str, _port: int) -> list[str]:
        return {"mixed.test": ["93.184.216.34", "127.0.0.1"], "inside.test": ["10.0.0.7"]}[host]

    named = DocumentCache(resolver=fake_dns)
    for docs, url in [
        (cache, f"https://127.0.0.1:{port}/client.json"),
        (cache, f"https://localhost:{port}/client.json"),  # the real resolver: loopback
        (cache, f"https://[::1]:{port}/client.json"),
        (cache, "https://169.254.169.254/latest/meta-data"),
        (named, f"https://mixed.test:{port}/client.json"),  # every address must be public
        (named, f"https://inside.test:{port}/client.json"),
    ]:
        with pytest.raises(OAuthError) as caught:
            run(docs.client(url))
        assert caught.value.error == "invalid_client"
        assert "public" in caught.value.description
    assert accepted == []


def test_authorize_with_a_private_metadata_url_gets_a_page_not_a_redirect(
    trap: tuple[int, list[object]],
) -> None:
    port, accepted = trap
    server = oauth_server("cimd-private")
    server.start()
    try:
        base = base_of(str(server.url))
        _, challenge = pkce()
        params = {
            "response_type": "code",
            "client_id": f"https://127.0.0.1:{port}/client.json",
            "redirect_uri": CALLBACK,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": "s",
        }
        with client() as http:
            answer = http.get(f"{base}/authorize", params=params)
        assert answer.status_code == 400 and "location" not in answer.headers
        assert "public address" in answer.text
    finally:
        server.stop()
    assert accepted == []


# -- a local TLS server standing in for the client's site -------------------------------------


def _certificate(tmp: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


class Site:
    """What the local site serves, by path; and how many requests it got."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.hits: list[str] = []
        self.port = 0

    def url(self, path: str) -> str:
        return f"https://{HOST}:{self.port}{path}"

    def document(self, path: str, **fields: Any) -> str:
        url = self.url(path)
        body = {"client_id": url, "client_name": "Doc Client", "redirect_uris": [CALLBACK], **fields}
        self.routes[path] = (200, {"content-type": "application/json"}, orjson.dumps(body))
        return url


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Site, DocumentCache]]:
    cert, key = _certificate(tmp_path)
    served = Site()

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            served.hits.append(self.path)
            status, headers, body = served.routes.get(self.path, (404, {}, b"{}"))
            self.reply(status, body, headers)

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)

    async def resolve(host: str, _port: int) -> list[str]:
        assert host == HOST
        return ["127.0.0.1"]

    trust = ssl.create_default_context(cafile=str(cert))
    docs = DocumentCache(resolver=resolve, allow=lambda a: a.is_loopback, ssl_context=trust)
    with serve_handler(Handler, tls=context) as base:
        served.port = int(base.rsplit(":", 1)[1])
        yield served, docs


def test_a_good_document_is_read_and_cached(site: tuple[Site, DocumentCache]) -> None:
    served, docs = site
    url = served.document("/oauth/client.json", client_uri="https://client.test/")
    found = run(docs.client(url))
    assert found.client_id == url and found.name == "Doc Client" and found.redirect_uris == (CALLBACK,)
    assert found.auth_method == "none"
    run(docs.client(url))
    assert served.hits == ["/oauth/client.json"]  # the second time came from the cache


@pytest.mark.parametrize(
    ("route", "why"),
    [
        ((302, {"location": "https://client.test/elsewhere"}, b""), "302"),
        (
            (200, {}, orjson.dumps({"client_id": "https://client.test/other", "redirect_uris": [CALLBACK]})),
            "own URL",
        ),
        ((200, {}, b"x" * (70 * 1024)), "too large"),
        ((200, {}, b"not json"), "not JSON"),
        ((200, {}, b"{}"), "own URL"),
    ],
)
def test_bad_documents_are_refused(site: tuple[Site, DocumentCache], route: Any, why: str) -> None:
    served, docs = site
    served.routes["/bad.json"] = route
    with pytest.raises(OAuthError) as caught:
        run(docs.client(served.url("/bad.json")))
    assert why in caught.value.description
    assert served.hits == ["/bad.json"]  # one request: no redirect followed


def test_document_fields_are_checked(site: tuple[Site, DocumentCache]) -> None:
    served, docs = site
    cases: list[tuple[str, dict[str, Any]]] = [
        ("/secret.json", {"token_endpoint_auth_method": "client_secret_post"}),
        ("/evil.json", {"redirect_uris": ["http://evil.example/cb"]}),
    ]
    for path, fields in cases:
        url = served.document(path, **fields)
        with pytest.raises(OAuthError):
            run(docs.client(url))


def test_untrusted_certificate_is_refused(site: tuple[Site, DocumentCache]) -> None:
    served, docs = site
    url = served.document("/client.json")
    strict = DocumentCache(resolver=docs.resolver, allow=docs.allow)  # the system's trust: not our cert
    with pytest.raises(OAuthError):
        run(strict.client(url))


def test_metadata_document_client_through_the_consent_page(site: tuple[Site, DocumentCache]) -> None:
    served, docs = site
    url = served.document("/oauth/client.json")
    server = oauth_server("cimd-ok")
    server.oauth.documents = docs
    server.start()
    try:
        base = base_of(str(server.url))
        verifier, challenge = pkce()
        params = {
            "response_type": "code",
            "client_id": url,
            "redirect_uri": CALLBACK,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "state": "s",
        }
        with client() as http:
            authorize = str(http.build_request("GET", f"{base}/authorize", params=params).url)
            assert "Doc Client" in http.get(authorize).text
            consent = fill_consent(http, authorize, str(server.access_key))
            assert consent.status == 303
            form = {
                "grant_type": "authorization_code",
                "code": consent.params["code"],
                "redirect_uri": CALLBACK,
                "client_id": url,
                "code_verifier": verifier,
            }
            assert http.post(f"{base}/token", data=form).status_code == 200
    finally:
        server.stop()
