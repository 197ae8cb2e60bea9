"""Serving one protocol 2026-07-28 request: a throwaway session from its envelope, then its result
stamped as that revision wants it.

There is no ``initialize`` and no session: the request's ``_meta`` says what the client speaks and
can do, so any worker can answer it. Every result carries ``resultType`` and the server's identity
(``_meta["io.modelcontextprotocol/serverInfo"]``); discover, list and read results carry caching
hints (``ttlMs``, ``cacheScope``). The methods themselves are the engine's, shared with the older
revisions, so both generations answer alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from nbmcp.errors import ProtocolError
from nbmcp.principal import Principal
from nbmcp.protocol import jsonrpc
from nbmcp.protocol.discovery import server_info_of
from nbmcp.protocol.envelope import SERVER_INFO_KEY, Envelope
from nbmcp.protocol.exchange import Send
from nbmcp.protocol.mrtr import MRTR_METHODS, Round
from nbmcp.protocol.request_state import StateSigner
from nbmcp.protocol.session import Session

if TYPE_CHECKING:
    from nbmcp.protocol.engine import Engine

__all__ = ["CACHEABLE", "ModernDispatch"]

CACHEABLE: Final = frozenset(
    {
        "server/discover",
        "tools/list",
        "prompts/list",
        "resources/list",
        "resources/templates/list",
        "resources/read",
    }
)
"""Results that carry ``ttlMs`` and ``cacheScope`` (when complete)."""


class ModernDispatch:
    """Answers 2026-07-28 requests with the engine's methods.

    ``request_state_secret`` signs the state of input-required rounds: workers that share it
    accept each other's retries (without one, a per-process key: a retry must reach the same
    process within ``request_state_ttl`` seconds). ``list_ttl_ms`` is how long clients may cache
    lists and discovery (0 by default: a notebook's edits show at once).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        request_state_secret: str | bytes | None = None,
        request_state_ttl: float = 600.0,
        list_ttl_ms: int = 0,
    ) -> None:
        self.engine = engine
        self.signer = StateSigner(request_state_secret, request_state_ttl)
        self.list_ttl_ms = list_ttl_ms
        self._server_info: dict[str, dict[str, Any]] = {}

    def knows(self, method: str) -> bool:
        """Whether ``method`` exists under 2026-07-28 (the handshake-only ones do not)."""
        return self.engine.serves(method, modern=True)

    def server_info(self, version: str) -> dict[str, Any]:
        """The serverInfo stamped on results (one shared dict per revision)."""
        cached = self._server_info.get(version)
        if cached is None:
            cached = self._server_info[version] = server_info_of(self.engine.info, version)
        return cached

    async def handle(
        self,
        msg: dict[str, Any],
        envelope: Envelope,
        principal: Principal | None,
        headers: Mapping[str, str],
        send: Send | None,
        *,
        may_ask: bool = True,
    ) -> dict[str, Any]:
        """The answer to one 2026-07-28 request (a JSON-RPC response; errors carry the request id).

        ``may_ask``: whether the handler can ask the client for input (a tool with a ``Context``);
        without it no input-required round is opened, the fast path of a plain tool call.
        """
        session = Session(None, envelope.version, principal=principal)
        session.envelope = envelope
        session.client_capabilities = envelope.capabilities
        session.client_info = envelope.client_info
        method: str = msg["method"]
        round_: Round | None = None
        if may_ask and method in MRTR_METHODS:
            try:
                round_ = Round.open(
                    self.signer,
                    method,
                    msg["params"],
                    principal.key if principal is not None else None,
                )
            except ProtocolError as exc:
                return jsonrpc.error_response(msg["id"], exc)
        answer = await self.engine.handle_request(msg, session, headers, send, round_=round_)
        result = answer.get("result")
        if result is not None:
            answer["result"] = self.stamp(method, result, envelope.version, principal)
        return answer

    def stamp(
        self, method: str, result: dict[str, Any], version: str, principal: Principal | None
    ) -> dict[str, Any]:
        """``result`` with ``resultType``, serverInfo and (when cacheable and complete) cache hints."""
        kind = result.get("resultType")
        if method in CACHEABLE and kind is None:
            # Cached list results are shared: stamp a shallow copy, never the cache itself.
            result = {
                **result,
                "ttlMs": 0 if method == "resources/read" else self.list_ttl_ms,
                "cacheScope": "private" if principal is not None or method == "resources/read" else "public",
            }
        if kind is None:
            result["resultType"] = "complete"
        meta = result.get("_meta")
        info = self.server_info(version)
        result["_meta"] = (
            {**meta, SERVER_INFO_KEY: info} if isinstance(meta, dict) else {SERVER_INFO_KEY: info}
        )
        return result
