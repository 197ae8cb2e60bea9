"""Sends the fuzz run's requests (``tests/fuzz_auth_kit.Req``) to a live server and judges each answer.

:class:`Sender` fills in what only the live server knows (keys, tokens, live session ids,
the registered client), sends each request with one keep-alive client and a timeout, counts
what it sent and the status codes it got per door, and checks every answer: below 500; on
``/mcp`` every JSON-RPC answer (JSON or SSE) passes :func:`tests.peers.oracle.validate_answer`
for the method it answers, and a server message on a stream passes
``validate_server_message``; a 401 from ``/mcp`` or the REST facade carries the Bearer
challenge naming the resource metadata; a 200 from ``/openapi.json`` is the schema.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from mcp_types.version import KNOWN_PROTOCOL_VERSIONS

from nbmcp import MCPServer
from tests.fuzz_auth_consent import consent_flow
from tests.fuzz_auth_kit import LATEST, Req, readable_id
from tests.peers import oracle
from tests.peers.peerkit import read_messages, rpc

KEY = "fuzz-owner-key-Zt8"
TIMEOUT = httpx.Timeout(20.0)


def credentials(
    server: MCPServer, base: str, grants: dict[str, str], ci_key: str
) -> dict[str, dict[str, str]]:
    """The headers each credential name of ``fuzz_auth_kit.CREDENTIALS`` stands for."""
    token = grants["token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    header = jwt.get_unverified_header(token)
    key = server.oauth.authority(base).grants.key
    now = int(time.time())
    stranger = ec.generate_private_key(ec.SECP256R1())
    nothing: Any = None
    bare = {k: v for k, v in header.items() if k != "alg"}

    def bearer(value: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {value}"}

    return {
        "none": {},
        "wrong-key": {"X-API-Key": "not-the-key"},
        "owner-key": {"X-API-Key": KEY},
        "owner-bearer": bearer(KEY),
        "ci-key": {"X-API-Key": ci_key},
        "garbage-bearer": bearer("garbage.to.ken"),
        "empty-bearer": {"Authorization": "Bearer"},  # h11 sends no trailing space
        "basic": {"Authorization": "Basic Zm9vOmJhcg=="},
        "expired-jwt": bearer(key.sign({**claims, "iat": now - 7200, "exp": now - 3600})),
        "forged-jwt": bearer(jwt.encode(claims, stranger, algorithm="ES256", headers=header)),
        "wrong-audience-jwt": bearer(key.sign({**claims, "aud": "http://127.0.0.1:1/mcp"})),
        "unsigned-jwt": bearer(jwt.encode(claims, nothing, algorithm="none", headers=bare)),
        "token": bearer(token),
        "write-token": bearer(grants["write-token"]),
        "wrong-key-and-token": {"X-API-Key": "not-the-key", **bearer(token)},
        "non-ascii-key": {"X-API-Key": "cl\u00e9-\u043a\u043b\u044e\u0447"},
        "long-bearer": bearer("a." * 3000),
        "non-ascii-bearer": bearer("\u00e9.\u00e9.\u00e9"),
        "lower-case-scheme": {"Authorization": f"bearer {token}"},
    }


class Sender:
    """One keep-alive client from 127.0.0.1; ``sent`` and ``statuses`` count per door."""

    def __init__(
        self, server: MCPServer, base: str, creds: dict[str, dict[str, str]], fills: dict[str, str]
    ) -> None:
        self.server, self.base, self.creds = server, base, creds
        self.fills = fills
        """The value of each placeholder of ``fuzz_auth_kit`` (``CLIENT``, ``OWNER``, ``REFRESH``)."""
        self.http = httpx.Client(timeout=TIMEOUT, trust_env=False, follow_redirects=False)
        for name in list(self.http.headers.keys()):  # only the headers a request names
            del self.http.headers[name]
        self.sent: Counter[str] = Counter()
        self.statuses: defaultdict[str, Counter[int]] = defaultdict(Counter)
        self.judged: Counter[str] = Counter()
        """JSON-RPC messages on ``/mcp`` the oracle passed: results, errors, server messages."""
        self.sessions = {"garbage": "nope", "long": "s" * 300, "non-ascii": "\u00e9t\u00e9"}
        self.sessions["owner"] = self.open_session("owner-key")
        self.sessions["token"] = self.open_session("token")

    def __enter__(self) -> Sender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def open_session(self, credential: str) -> str:
        """An initialized session at the latest revision, owned by ``credential``'s principal."""
        headers = {**self.creds[credential], "Accept": "application/json, text/event-stream"}
        params = {
            "protocolVersion": LATEST,
            "capabilities": {},
            "clientInfo": {"name": "fuzz", "version": "0"},
        }
        answer = self.http.post(f"{self.base}/mcp", json=rpc("initialize", params, msg_id=0), headers=headers)
        assert answer.status_code == 200, answer.text
        oracle.validate_answer("initialize", answer.json(), LATEST, request_id=0, expect="result")
        headers.update({"Mcp-Session-Id": answer.headers["mcp-session-id"], "MCP-Protocol-Version": LATEST})
        note = self.http.post(f"{self.base}/mcp", json=rpc("notifications/initialized"), headers=headers)
        assert note.status_code == 202, note.text
        return answer.headers["mcp-session-id"]

    def fill(self, data: bytes) -> bytes:
        for mark, value in self.fills.items():
            quoted = mark.replace("<", "%3C").replace(">", "%3E")
            data = data.replace(mark.encode(), value.encode()).replace(quoted.encode(), value.encode())
        return data

    def exchange(
        self,
        door: str,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes | None,
        chunked: bool = False,
    ) -> tuple[httpx.Response, bytes]:
        """Send one request, count it and its status, refuse a 5xx; returns the answer and its body."""
        raw = {name.encode(): value.encode("utf-8") for name, value in headers.items()}  # non-ASCII too
        content: Any = iter([body]) if chunked and body is not None else body
        with self.http.stream(method, url, content=content, headers=raw) as response:
            ctype = response.headers.get("content-type", "")
            streaming = method == "GET" and ctype.startswith("text/event-stream")
            data = b"" if streaming else response.read()  # a standalone stream stays open: headers will do
        self.sent[door] += 1
        self.statuses[door][response.status_code] += 1
        where = (method, url[:200], (body or b"")[:300], response.status_code, data[:400])
        assert response.status_code < 500, where
        return response, data

    def send(self, req: Req) -> None:
        if req.method == "FLOW":
            consent_flow(self, req)
            return
        headers = {**self.creds[req.credential], **req.headers}
        if req.session is not None:
            headers["Mcp-Session-Id"] = self.sessions[req.session]
        body = None if req.body is None else self.fill(req.body)
        url = self.base + self.fill(req.path.encode()).decode()
        response, data = self.exchange(req.door, req.method, url, headers, body, req.chunked)
        try:
            self.judged.update(judge(req, response, data))
        except AssertionError as exc:
            where = (
                req.method,
                url[:200],
                req.credential,
                (body or b"")[:300],
                response.status_code,
                data[:400],
            )
            raise AssertionError(f"{exc}\nrequest/answer: {where!r}") from None
        if req.method == "DELETE" and req.session in ("owner", "token") and response.status_code < 300:
            self.sessions[req.session] = self.open_session("owner-key" if req.session == "owner" else "token")


def judge(req: Req, response: httpx.Response, data: bytes) -> list[str]:
    """Check one answer; returns what the oracle judged on ``/mcp`` (``result``, ``error``, ``message``)."""
    judged: list[str] = []
    status, ctype = response.status_code, response.headers.get("content-type", "")
    if status == 401 and req.door in ("mcp", "rest"):
        challenge = response.headers.get("www-authenticate", "")
        assert challenge.startswith("Bearer ") and "resource_metadata=" in challenge, challenge
    if req.door == "mcp":
        if status == 202:
            assert data == b"", data[:200]
        if ctype.startswith("application/json") and req.method != "HEAD":
            judged += judge_rpc(req, json.loads(data), status)
        elif ctype.startswith("text/event-stream") and data:
            stream = httpx.Response(status, headers={"content-type": ctype}, content=data)
            for message in read_messages(stream):
                if isinstance(message, dict) and "method" in message:
                    oracle.validate_server_message(message, version_of(req, message))
                    judged.append("message")
                else:
                    judged += judge_rpc(req, message, status)
    elif ctype.startswith("application/json") and req.method != "HEAD":
        document = json.loads(data)
        if status == 200 and req.door == "schema" and req.path.startswith("/openapi.json"):
            assert isinstance(document, dict) and "openapi" in document and "paths" in document
    return judged


def version_of(req: Req, payload: Any) -> str:
    """The revision the answer was given under, to judge it by."""
    if req.rpc.get("method") == "initialize" and isinstance(payload, dict):
        result = payload.get("result")
        if isinstance(result, dict) and result.get("protocolVersion") in KNOWN_PROTOCOL_VERSIONS:
            return str(result["protocolVersion"])
    if req.session in ("owner", "token"):  # a live session's revision wins over the header's
        return LATEST
    header = req.headers.get("MCP-Protocol-Version")
    if header in KNOWN_PROTOCOL_VERSIONS:
        return str(header)
    return "2025-03-26" if isinstance(payload, list) else oracle.HANDSHAKE_VERSIONS[-1]


def method_of(req: Req, answer: Any) -> str | None:
    ident = answer.get("id") if isinstance(answer, dict) else None
    if "batch" in req.rpc:
        return req.rpc["batch"].get(ident) if readable_id(ident) else None
    return req.rpc.get("method")


def kind(answer: Any) -> str:
    return "error" if isinstance(answer, dict) and "error" in answer else "result"


def judge_rpc(req: Req, payload: Any, status: int) -> list[str]:
    """Judge one JSON-RPC answer, or a batch of them (as one JSON array, or one by one on a stream)."""
    version = version_of(req, payload)
    if not isinstance(payload, list):
        extra: dict[str, Any] = {}
        if status == 200 and "id" in req.rpc:
            extra["request_id"] = req.rpc["id"]
        judge_item(req, payload, version, **extra)
        return [kind(payload)]
    for item in payload:
        judge_item(req, item, version)
    problems = oracle.schema_problems(payload, version)
    assert not problems, problems
    return [kind(item) for item in payload]


def judge_item(req: Req, item: Any, version: str, **extra: Any) -> None:
    ident = item.get("id") if isinstance(item, dict) else None
    ids = req.rpc.get("batch", {})
    if kind(item) == "result" and readable_id(ident) and ident in ids and ids[ident] is None:
        problems = oracle.schema_problems(item, version)  # an id the batch repeated: which request's?
        assert not problems, problems
    else:
        oracle.validate_answer(method_of(req, item), item, version, expect=None, **extra)
