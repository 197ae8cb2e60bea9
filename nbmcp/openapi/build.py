"""The ChatGPT Action schema of a set of tools: one ``POST /tools/{name}`` operation per tool.

operationId is the tool name made safe (``a.b`` -> ``a_b``, unique, at most 64 characters);
summary and description come from the title and docstring, cut to ChatGPT's 300 characters;
the request body is the tool's input schema and the 200 response its output schema, their
``$defs`` moved to ``components/schemas``. ``read_only`` tools get
``x-openai-isConsequential: false`` (ChatGPT then offers "Always allow"). With ``fit=False``
nothing is renamed or cut, so the checker can show what the raw tools break.

Every adjustment comes back as a :class:`Finding` the caller shows next to the checker's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from nbmcp.errors import SchemaError
from nbmcp.openapi.document import SchemaBuild
from nbmcp.openapi.envelope import envelope_paths
from nbmcp.openapi.findings import Finding
from nbmcp.openapi.limits import MAX_OPERATION_ID, OPERATION_ID
from nbmcp.openapi.security import OAuth2, security_schemes
from nbmcp.tools import Tool

__all__ = [
    "build_schema",
    "normalize_server_url",
    "normalize_version",
    "safe_operation_ids",
]

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


def normalize_version(openapi: str) -> str:
    """``"3.1"``/``"3.1.0"`` -> ``"3.1.0"``; ``"3.0"``/``"3.0.x"`` -> ``"3.0.3"``.

    Raises:
        SchemaError: any other version.
    """
    text = str(openapi).strip().lower()
    if text in ("3.1", "3.1.0", "3.1.x", "31"):
        return "3.1.0"
    if text in ("3.0", "3.0.x", "30") or re.fullmatch(r"3\.0\.[0-4]", text):
        return "3.0.3"
    raise SchemaError(f"OpenAPI version {openapi!r} is not offered: use 3.1 (the default) or 3.0")


def normalize_server_url(url: str) -> str:
    """The base URL for ``servers``: no trailing ``/``, and no ``/mcp`` (the paths add their own).

    Raises:
        SchemaError: not an absolute http(s) URL.
    """
    text = url.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise SchemaError(f"server URL {url!r} must be an absolute http(s) URL, e.g. https://example.com")
    text = text.rstrip("/")
    if text.endswith("/mcp"):
        text = text[: -len("/mcp")]
    return text


def safe_operation_ids(names: Iterable[str]) -> dict[str, str]:
    """Tool name -> a unique operationId ChatGPT accepts (``^[A-Za-z0-9_-]{1,64}$``)."""
    out: dict[str, str] = {}
    taken: set[str] = set()
    names = list(names)
    for name in names:  # names that are fine keep themselves, whatever their order
        if OPERATION_ID.match(name):
            out[name] = name
            taken.add(name)
    for name in names:
        if name in out:
            continue
        base = (_UNSAFE.sub("_", name) or "tool")[:MAX_OPERATION_ID]
        candidate, n = base, 1
        while candidate in taken:
            n += 1
            suffix = f"_{n}"
            candidate = base[: MAX_OPERATION_ID - len(suffix)] + suffix
        out[name] = candidate
        taken.add(candidate)
    return out


def _operation(build: SchemaBuild, tool: Tool, operation_id: str, auth: bool) -> dict[str, Any]:
    where = f"POST /tools/{tool.name}"
    summary, description = build.texts(tool, where)
    op: dict[str, Any] = {"operationId": operation_id, "summary": summary}
    if description:
        op["description"] = description
    if tool.annotations.get("readOnlyHint") is True:
        op["x-openai-isConsequential"] = False
    inputs = tool.args.schema
    no_body = (
        not inputs.get("properties")
        and not inputs.get("required")
        and inputs.get("additionalProperties") is False
    )
    if not no_body:
        op["requestBody"] = {
            "required": bool(inputs.get("required")),
            "content": {"application/json": {"schema": build.schema(inputs, where, "argument")}},
        }
    if tool.output.schema is not None:
        result = build.schema(tool.output.schema, where, "result")
        text = "The tool's result."
    else:
        result = {"$ref": build.output_ref}
        text = "The tool's result: its text, data, images or audio."
    ok = {"description": text, "content": {"application/json": {"schema": result}}}
    op["responses"] = build.responses(ok, auth)
    return op


def build_schema(
    tools: Iterable[Tool],
    *,
    title: str,
    version: str = "0.1.0",
    description: str | None = None,
    server_url: str | None = None,
    openapi: str = "3.1.0",
    envelope: bool = False,
    auth: str = "none",
    oauth: OAuth2 | None = None,
    fit: bool = True,
) -> tuple[dict[str, Any], list[Finding]]:
    """The Action schema for ``tools``, and notes on what was adjusted to fit ChatGPT.

    Args:
        title: ``info.title`` (the server's name).
        server_url: The public base URL (``https://...``); ``None`` leaves ``servers`` out.
        openapi: ``"3.1.0"`` (default) or ``"3.0"`` (written as 3.0.3).
        envelope: One ``callMCPTool`` operation posting JSON-RPC to ``/mcp`` instead of one
            operation per tool (for more tools than an Action allows).
        auth: ``"none"``, ``"header"`` (``X-API-Key``), ``"bearer"`` or ``"oauth"``.
        fit: Rename operationIds and cut descriptions to ChatGPT's limits (with a note each).

    Raises:
        SchemaError: an unknown OpenAPI version or auth style, or a bad server URL.
    """
    version_text = normalize_version(openapi)
    schemes, security = security_schemes(auth, oauth)
    build = SchemaBuild(version_text.startswith("3.0"), fit)
    tools = list(tools)
    if envelope:
        paths = envelope_paths(tools, build, bool(security))
    else:
        ids = safe_operation_ids(t.name for t in tools) if fit else {t.name: t.name for t in tools}
        paths = {}
        for tool in tools:
            if ids[tool.name] != tool.name:
                build.notes.append(
                    Finding(
                        "info",
                        "operation-id-renamed",
                        f"POST /tools/{tool.name}",
                        f"tool name {tool.name!r} is not a valid ChatGPT operationId "
                        f"(1-64 of A-Z a-z 0-9 _ -), so the operation is called {ids[tool.name]!r}",
                    )
                )
            paths[f"/tools/{tool.name}"] = {"post": _operation(build, tool, ids[tool.name], bool(security))}
    info: dict[str, Any] = {"title": title, "version": version}
    info["description"] = description or f"Tools of the {title} server (nbmcp)."
    doc: dict[str, Any] = {"openapi": version_text, "info": info}
    if server_url is not None:
        doc["servers"] = [{"url": normalize_server_url(server_url)}]
    doc["paths"] = paths
    build.components.map(build.convert)
    components: dict[str, Any] = {"schemas": build.components.schemas}
    if not envelope:
        components["responses"] = build.shared_responses(bool(security))
    if schemes:
        components["securitySchemes"] = schemes
        doc["security"] = security
    doc["components"] = components
    return doc, build.notes
