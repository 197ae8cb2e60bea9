"""The checker: every ChatGPT Action limit an OpenAPI document breaks, in words a user can act on.

It reads any document (generated or hand-written) and reports :class:`Finding` s: at most 30
operations; operationIds ``^[A-Za-z0-9_-]{1,64}$`` and unique; summary and description at most
300 characters; parameter descriptions at most 700; the document's size; one server, on
``https``; one authentication scheme of a kind ChatGPT offers; ``$ref`` s that resolve; no
schema constructs ChatGPT ignores or rejects in request bodies (arrays without ``items``,
objects without ``properties``, tuples, ``not``, ``if``...); and, for a 3.0 document, nothing
that only 3.1 allows.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from nbmcp.openapi.check_reach import security, servers
from nbmcp.openapi.check_schemas import dialect, refs, request_schema
from nbmcp.openapi.findings import Finding, Severity, sort_findings
from nbmcp.openapi.limits import (
    MAX_DOCUMENT_CHARS,
    MAX_OPERATIONS,
    MAX_PARAMETER_DESCRIPTION,
    MAX_SUMMARY,
    OPERATION_ID,
)

__all__ = ["check_schema"]

_METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")
_CALLED = frozenset({"get", "put", "post", "delete", "patch"})
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


class _Checker:
    def __init__(self, doc: dict[str, Any], max_document_chars: int) -> None:
        self.doc = doc
        self.max_chars = max_document_chars
        self.findings: list[Finding] = []
        self.v30 = str(doc.get("openapi", "")).startswith("3.0")
        self.walked: set[str] = set()

    def add(self, severity: Severity, code: str, where: str, message: str) -> None:
        self.findings.append(Finding(severity, code, where, message))

    def run(self) -> None:
        self.version()
        self.info()
        servers(self)
        self.paths()
        self.components()
        security(self)
        refs(self, self.doc, "")
        dialect(self)
        self.size()

    # -- document -----------------------------------------------------------------------

    def version(self) -> None:
        version = self.doc.get("openapi")
        if not isinstance(version, str) or not re.fullmatch(r"3\.[01]\.\d+", version):
            self.add(
                "error",
                "openapi-version",
                "openapi",
                f"openapi is {version!r}: ChatGPT reads OpenAPI 3.1.x or 3.0.x documents; "
                "write 'openapi: 3.1.0' (Swagger 2.0 must be converted first)",
            )

    def info(self) -> None:
        info = self.doc.get("info")
        if not isinstance(info, dict):
            self.add(
                "error", "info", "info", "the document has no info object: add info.title and info.version"
            )
            return
        for key in ("title", "version"):
            if not isinstance(info.get(key), str) or not info.get(key):
                self.add("error", "info", f"info.{key}", f"info.{key} is missing: ChatGPT requires it")

    def paths(self) -> None:
        paths = self.doc.get("paths")
        if not isinstance(paths, dict) or not paths:
            self.add(
                "error",
                "no-operations",
                "paths",
                "the document has no operations: register at least one tool",
            )
            return
        ids: dict[str, list[str]] = {}
        count = 0
        for path, item in paths.items():
            if not isinstance(item, dict):
                continue
            for key, op in item.items():
                if key.startswith("x-") or key in ("$ref", "summary", "description", "servers"):
                    continue
                if key not in _METHODS:
                    self.add(
                        "warning",
                        "path-item",
                        f"{path}",
                        f"ChatGPT reads only operations here and skips {key!r}: move it into each operation",
                    )
                    continue
                where = f"{key.upper()} {path}"
                if key not in _CALLED:
                    self.add("warning", "method", where, f"ChatGPT does not call {key.upper()} operations")
                if not isinstance(op, dict):
                    continue
                count += 1
                self.operation(op, where, ids)
        for op_id, wheres in ids.items():
            if len(wheres) > 1:
                self.add(
                    "error",
                    "operation-id-duplicate",
                    ", ".join(wheres),
                    f"operationId {op_id!r} is used by {len(wheres)} operations; each needs its own "
                    "(ChatGPT turns them into function names)",
                )
        if count > MAX_OPERATIONS:
            extra = count - MAX_OPERATIONS
            self.add(
                "error",
                "too-many-operations",
                "paths",
                f"{count} operations; a ChatGPT Action takes at most {MAX_OPERATIONS}. Remove {extra} "
                f"tool{'s' * (extra != 1)}, split the tools across two Actions, or use the envelope form "
                "(nbmcp schema --envelope, or /openapi.json?envelope=1): one operation for every tool",
            )

    def operation(self, op: dict[str, Any], where: str, ids: dict[str, list[str]]) -> None:
        op_id = op.get("operationId")
        if not isinstance(op_id, str) or not op_id:
            self.add("error", "operation-id", where, "no operationId: ChatGPT needs one per operation")
        else:
            ids.setdefault(op_id, []).append(where)
            if not OPERATION_ID.match(op_id):
                suggestion = (_UNSAFE.sub("_", op_id) or "operation")[:64]
                self.add(
                    "error",
                    "operation-id",
                    where,
                    f"operationId {op_id!r} is not allowed: ChatGPT needs 1 to 64 letters, digits, '_' or "
                    f"'-' (it becomes the model's function name); rename it, e.g. {suggestion!r}",
                )
        for key in ("summary", "description"):
            text = op.get(key)
            if isinstance(text, str) and len(text) > MAX_SUMMARY:
                self.add(
                    "error",
                    f"{key}-length",
                    where,
                    f"{key} is {len(text)} characters; ChatGPT allows at most {MAX_SUMMARY}: shorten it "
                    "(for a tool, its docstring's first paragraph)",
                )
        if not op.get("summary") and not op.get("description"):
            self.add(
                "warning",
                "no-description",
                where,
                "no summary or description: ChatGPT picks operations by them",
            )
        flag = op.get("x-openai-isConsequential")
        if flag is not None and not isinstance(flag, bool):
            self.add("error", "is-consequential", where, "x-openai-isConsequential must be true or false")
        for i, param in enumerate(op.get("parameters") or []):
            param = self.resolve(param) if isinstance(param, dict) and "$ref" in param else param
            if not isinstance(param, dict):
                continue
            name = param.get("name", i)
            text = param.get("description")
            if isinstance(text, str) and len(text) > MAX_PARAMETER_DESCRIPTION:
                self.add(
                    "error",
                    "parameter-description-length",
                    where,
                    f"the description of parameter {name!r} is {len(text)} characters; ChatGPT allows "
                    f"at most {MAX_PARAMETER_DESCRIPTION}: shorten it",
                )
            request_schema(self, param.get("schema"), where, f"parameters.{name}")
        body = op.get("requestBody")
        if isinstance(body, dict) and "$ref" in body:
            body = self.resolve(body)
        if isinstance(body, dict):
            content = body.get("content")
            media = content.get("application/json") if isinstance(content, dict) else None
            if not isinstance(media, dict):
                self.add(
                    "warning",
                    "request-media-type",
                    where,
                    "the request body is not application/json: ChatGPT sends JSON",
                )
                return
            schema = media.get("schema")
            target = self.resolve(schema) if isinstance(schema, dict) and "$ref" in schema else schema
            if isinstance(target, dict) and target.get("type") not in ("object", None):
                self.add(
                    "error",
                    "request-not-object",
                    where,
                    "the request body schema is not an object schema, so ChatGPT skips this operation: "
                    "take the input as an object of named arguments",
                )
            request_schema(self, schema, where, "requestBody")

    # -- schemas --------------------------------------------------------------------------

    def resolve(self, node: dict[str, Any]) -> Any:
        ref = node.get("$ref")
        if not isinstance(ref, str) or not ref.startswith("#/"):
            return None
        target: Any = self.doc
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, dict) or part not in target:
                return None
            target = target[part]
        return target

    def components(self) -> None:
        components = self.doc.get("components")
        if components is None:
            return
        if not isinstance(components, dict):
            self.add("error", "components", "components", "components is not an object")
            return
        for key in ("schemas", "responses", "securitySchemes", "requestBodies", "parameters"):
            if key in components and not isinstance(components[key], dict):
                self.add(
                    "error",
                    "components",
                    f"components.{key}",
                    f"components.{key} is not an object (ChatGPT: 'In components section, {key} subsection "
                    "is not an object'): remove the empty key or give it entries",
                )

    def size(self) -> None:
        chars = len(orjson.dumps(self.doc).decode())
        if chars > self.max_chars:
            self.add(
                "warning",
                "document-size",
                "(document)",
                f"the schema is {chars:,} characters; keep it under {self.max_chars:,} (ChatGPT puts it "
                "all in the model's context): remove tools, shorten docstrings, or use the envelope form",
            )


def check_schema(doc: Any, *, max_document_chars: int = MAX_DOCUMENT_CHARS) -> list[Finding]:
    """Every ChatGPT Action limit ``doc`` breaks: errors first, then warnings."""
    if not isinstance(doc, dict):
        return [Finding("error", "document", "(document)", "the schema is not a JSON object")]
    checker = _Checker(doc, max_document_chars)
    checker.run()
    return sort_findings(checker.findings)
