"""The REST facade: ``POST /tools/{name}`` and the Action schema at ``GET /openapi.json``.

ChatGPT Actions (and curl) call plain HTTPS+JSON: the body is the tool's arguments object,
the answer the tool's result. A call goes through ``Registry.call_local`` (transport
``rest``), the same call path as an MCP ``tools/call``, so the monitor records it and
timeouts, worker threads and error masking are the same. Auth, the Host and Origin guard and
the body limit are the guard chain's, as for ``/mcp``.

Status codes, chosen for what ChatGPT passes on to the model:

* ``200``: the result as plain JSON: the structured result when the tool declares a return
  type (``{"result": v}`` for non-object types, as in MCP), else ``{"text": ..., "data": ...,
  "images": [{"mimeType", "data" (base64)}], ...}``.
* ``400``: the tool ran and failed (it raised, or ran past ``tool_timeout``):
  ``{"error": message, "type": "tool_error", "tool": name}``. Not 5xx: OpenAI's production
  notes say ChatGPT backs off from an Action after a few 5xx (and 429) answers, and a 5xx
  reads as "the server is broken" rather than "this call failed, here is why"; ChatGPT hands
  4xx bodies to the model, which can then change its arguments or explain. Not 422 either, so
  that "your arguments do not fit the schema" stays distinct.
* ``422``: the arguments do not fit the input schema (or the body is not a JSON object):
  ``{"error", "type": "invalid_arguments", "detail": [{"loc", "msg", "type"}]}``.
* ``404`` unknown tool (the message lists some that exist), ``405`` not POST, ``413`` body
  too large, ``415`` not JSON; ``401``/``403``/``421`` from the guard chain; ``403``
  ``insufficient_scope`` when an OAuth token lacks the tool's scopes.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import parse_qs

import orjson
import pydantic

from nbmcp.config import ServerConfig
from nbmcp.errors import SchemaError, UnknownToolError, traceback_text
from nbmcp.http.asgi import BodyTooLarge, Receive, Scope, Send, read_body, send_json
from nbmcp.http.auth import missing_scopes, scope_refusal
from nbmcp.http.chain import headers_of, principal_of, render_refusal, route_path
from nbmcp.http.concurrency import CALLS_FULL, CallSlots
from nbmcp.http.limits import caller_key
from nbmcp.openapi import ActionSchemas
from nbmcp.openapi.limits import MAX_PAYLOAD_CHARS
from nbmcp.tools import Registry, Tool

__all__ = ["TOOL_ERROR_STATUS", "RestFacade", "mount_rest", "rest_answer"]

logger = logging.getLogger("nbmcp")

TOOL_ERROR_STATUS = 400
"""The status of a tool that raised (see the module docstring for why)."""

_NO_CACHE = [(b"cache-control", b"no-store")]


def _error(kind: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": message, "type": kind, **extra}


def _issues(tool: Tool, arguments: dict[str, Any]) -> list[dict[str, Any]] | None:
    """pydantic's errors for ``arguments``, or ``None`` if they are valid."""
    try:
        tool.args.check(arguments)
    except pydantic.ValidationError as exc:
        return [
            {"loc": list(err["loc"]), "msg": err["msg"], "type": err["type"]}
            for err in exc.errors(include_url=False)
        ]
    return None


def _content_body(result: dict[str, Any]) -> dict[str, Any]:
    """The body of a tool without a declared return type: its text, data and media."""
    out: dict[str, Any] = {}
    texts: list[str] = []
    for block in result.get("content") or []:
        kind = block.get("type")
        if kind == "text":
            texts.append(str(block.get("text", "")))
        elif kind in ("image", "audio"):
            key = "images" if kind == "image" else "audio"
            out.setdefault(key, []).append({"mimeType": block.get("mimeType"), "data": block.get("data")})
        elif kind == "resource":
            out.setdefault("resources", []).append(dict(block.get("resource") or {}))
        elif kind == "resource_link":
            link = {
                k: v for k, v in block.items() if k in ("uri", "name", "title", "description", "mimeType")
            }
            out.setdefault("links", []).append(link)
    data = result.get("structuredContent")
    if isinstance(data, dict):
        out["data"] = data
        # The JSON text block repeats the data: send it once (ChatGPT counts characters).
        inner = data.get("result", data) if len(data) == 1 else data
        dumped = {orjson.dumps(data).decode(), orjson.dumps(inner).decode()}
        texts = [t for t in texts if t not in dumped]
    if texts:
        out["text"] = "\n".join(texts)
    return {k: out[k] for k in ("text", "data", "images", "audio", "resources", "links") if k in out}


def rest_answer(tool: Tool, arguments: dict[str, Any], result: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    """``(status, body)`` for a ``tools/call`` result of ``tool``."""
    if result.get("isError"):
        blocks = result.get("content") or []
        message = "\n".join(str(b.get("text", "")) for b in blocks if b.get("type") == "text")
        message = message or f"tool {tool.name!r} failed"
        if message.startswith("Invalid arguments"):
            issues = _issues(tool, arguments)
            if issues is not None:
                return 422, _error("invalid_arguments", message, tool=tool.name, detail=issues)
        return TOOL_ERROR_STATUS, _error("tool_error", message, tool=tool.name)
    structured = result.get("structuredContent")
    if tool.output.schema is not None and isinstance(structured, dict):
        return 200, structured
    return 200, _content_body(result)


def _flag(values: list[str] | None) -> bool:
    if not values:
        return False
    return values[-1].lower() not in ("", "0", "false", "no", "off")


class RestFacade:
    """The ASGI app behind ``/tools/{name}``, ``/openapi.json`` and ``/openapi.yaml``."""

    def __init__(
        self,
        registry: Registry,
        config: ServerConfig,
        schemas: ActionSchemas,
        calls: CallSlots | None = None,
    ) -> None:
        self.registry = registry
        self.config = config
        self.schemas = schemas
        self.calls = calls if calls is not None else CallSlots(config)
        """Tool calls in progress per caller, shared with ``/mcp`` so the cap spans both doors."""
        self._warned: set[str] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        headers = headers_of(scope)
        path = route_path(scope)
        name = (scope.get("path_params") or {}).get("name")
        if name is None and path.startswith("/tools/"):
            name = path[len("/tools/") :].rstrip("/")
        if name is not None:
            await self._call(scope, receive, send, headers, str(name))
        elif path in ("/openapi.json", "/openapi.yaml"):
            await self._schema(scope, send, headers, "yaml" if path.endswith(".yaml") else "json")
        else:
            await send_json(send, 404, _error("unknown_tool", f"Not found: {path}"))

    # -- POST /tools/{name} -----------------------------------------------------------------

    async def _call(
        self, scope: Scope, receive: Receive, send: Send, headers: dict[str, str], name: str
    ) -> None:
        if scope["method"] != "POST":
            allow = [(b"allow", b"POST")]
            await send_json(send, 405, _error("method_not_allowed", "use POST with a JSON body"), allow)
            return
        tool = self.registry.tools.get(name)
        if tool is None:
            await send_json(send, 404, self._unknown(name))
            return
        if missing_scopes(principal_of(scope), tool.scopes):  # API keys are not subject to scopes
            refusal = scope_refusal(scope, tool.scopes)
            await send_json(send, 403, render_refusal("rest", refusal), refusal.headers)
            return
        ctype = headers.get("content-type", "application/json")
        if "json" not in ctype and ctype.strip():
            await send_json(
                send, 415, _error("unsupported_media_type", "Content-Type must be application/json")
            )
            return
        try:
            body = await read_body(receive, self.config.max_body_bytes)
        except BodyTooLarge:
            await send_json(send, 413, _error("payload_too_large", "Request body too large"))
            return
        if body.strip():
            try:
                arguments = orjson.loads(body)
            except orjson.JSONDecodeError as exc:
                await send_json(
                    send, 422, _error("invalid_arguments", f"the body is not valid JSON: {exc}", tool=name)
                )
                return
            if not isinstance(arguments, dict):
                message = 'the body must be a JSON object of the tool\'s arguments, e.g. {"city": "Paris"}'
                await send_json(send, 422, _error("invalid_arguments", message, tool=name))
                return
        else:
            arguments = {}
        principal = principal_of(scope)
        who = caller_key(scope, self.config, principal)
        if not self.calls.acquire(who):
            message = CALLS_FULL.format(cap=self.calls.cap())
            await send_json(send, 429, _error("too_many_calls", message, tool=name), [(b"retry-after", b"1")])
            return
        try:
            result, _ = await self.registry.call_local(
                name, arguments, transport="rest", headers=headers, principal=principal
            )
        except UnknownToolError:  # removed between the lookup and the call
            await send_json(send, 404, self._unknown(name))
            return
        except Exception as exc:
            logger.exception("nbmcp: internal error while calling %r over REST", name)
            extra = {"traceback": traceback_text(exc)} if self.config.debug else {}
            await send_json(send, 500, _error("internal_error", "Internal error", tool=name, **extra))
            return
        finally:
            self.calls.release(who)
        status, payload = rest_answer(tool, arguments, result)
        out = orjson.dumps(payload)
        if len(out) > MAX_PAYLOAD_CHARS and name not in self._warned:
            self._warned.add(name)
            logger.warning(
                "nbmcp: POST /tools/%s answered %d bytes; ChatGPT Actions accept at most %d characters",
                name,
                len(out),
                MAX_PAYLOAD_CHARS,
            )
        await send_json(send, status, out)

    def _unknown(self, name: str) -> dict[str, Any]:
        known = sorted(self.registry.tools)
        listed = ", ".join(known[:20]) + (", ..." if len(known) > 20 else "")
        message = f"Unknown tool: {name!r}" + (
            f"; tools: {listed}" if known else "; this server has no tools"
        )
        return _error("unknown_tool", message, tool=name)

    # -- GET /openapi.json ------------------------------------------------------------------

    async def _schema(self, scope: Scope, send: Send, headers: dict[str, str], fmt: str) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            await send_json(send, 405, _error("method_not_allowed", "use GET"), [(b"allow", b"GET, HEAD")])
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        fmt = (query.get("format") or [fmt])[-1]
        try:  # building it can take a while for many tools: not on the loop
            body = await asyncio.to_thread(
                self.schemas.encoded,
                "yaml" if fmt == "yaml" else "json",
                local_url=self._local_url(scope, headers),
                openapi=(query.get("openapi") or ["3.1.0"])[-1],
                envelope=_flag(query.get("envelope")),
                auth=(query.get("auth") or [None])[-1],
            )
        except SchemaError as exc:
            await send_json(send, 400, {"error": str(exc)})
            return
        mime = b"application/yaml" if fmt == "yaml" else b"application/json"
        out = [(b"content-type", mime), (b"content-length", str(len(body)).encode()), *_NO_CACHE]
        await send({"type": "http.response.start", "status": 200, "headers": out})
        await send({"type": "http.response.body", "body": body if scope["method"] == "GET" else b""})

    @staticmethod
    def _local_url(scope: Scope, headers: dict[str, str]) -> str:
        """The base URL this request reached us on (scheme and Host, plus any mount prefix)."""
        scheme = scope.get("scheme", "http")
        host = headers.get("host")
        if not host:
            server = scope.get("server") or ("127.0.0.1", 80)
            host = f"{server[0]}:{server[1]}"
        return f"{scheme}://{host}{scope.get('root_path', '')}"


def mount_rest(app: Any, endpoint: Any, config: ServerConfig, info: dict[str, Any]) -> RestFacade | None:
    """Add ``/tools/{name}``, ``/openapi.json``, ``/openapi.yaml`` and ``/docs`` to a FastAPI app.

    The facade is kept as ``app.state.rest`` so :class:`~nbmcp.http.app.FastLane` can send
    ``/tools/`` straight to it. ``info["schemas"]`` is the server's :class:`ActionSchemas`
    (one is made if absent). Returns ``None`` when the endpoint's provider is not a registry.
    """
    from starlette.requests import Request
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    registry = endpoint.engine.provider
    if not isinstance(registry, Registry):
        return None
    schemas = info.get("schemas")
    if not isinstance(schemas, ActionSchemas):
        schemas = ActionSchemas(registry, endpoint.engine.info, config)
    facade = RestFacade(registry, config, schemas, getattr(endpoint, "calls", None))
    title = f"{info.get('name', 'nbmcp')} tools"

    async def docs(request: Request) -> HTMLResponse:
        from fastapi.openapi.docs import get_swagger_ui_html

        return get_swagger_ui_html(
            openapi_url=request.scope.get("root_path", "") + "/openapi.json", title=title
        )

    routes = app.router.routes
    routes.append(Route("/tools/{name}", facade, include_in_schema=False))
    routes.append(Route("/openapi.json", facade, include_in_schema=False))
    routes.append(Route("/openapi.yaml", facade, include_in_schema=False))
    routes.append(Route("/docs", docs, include_in_schema=False))
    app.state.rest = facade
    return facade
