"""Reading a generated OpenAPI document the way a client does: operations, refs, response checks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from openapi_schema_validator import OAS30Validator, OAS31Validator


def resolve(doc: dict[str, Any], node: Any) -> Any:
    """Follow ``$ref`` s (``#/...``) until a non-reference node."""
    while isinstance(node, dict) and isinstance(node.get("$ref"), str):
        target: Any = doc
        for part in node["$ref"][2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """``(method, path, operation)`` for every operation."""
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in ("get", "put", "post", "delete", "patch"):
                yield method, path, op


def response_schema(doc: dict[str, Any], op: dict[str, Any], status: int) -> dict[str, Any]:
    """The JSON schema documented for ``status`` (or ``default``)."""
    responses = op["responses"]
    response = resolve(doc, responses.get(str(status), responses.get("default")))
    assert response is not None, f"status {status} is not documented"
    return response["content"]["application/json"]["schema"]  # type: ignore[no-any-return]


def check_body(doc: dict[str, Any], schema: dict[str, Any], body: Any) -> None:
    """Validate ``body`` against ``schema`` with the document's components (3.0 or 3.1 rules)."""
    wrapper = {"components": doc.get("components", {}), "allOf": [schema]}
    cls = OAS30Validator if str(doc["openapi"]).startswith("3.0") else OAS31Validator
    errors = sorted(cls(wrapper).iter_errors(body), key=str)
    assert not errors, f"body {body!r} does not match its schema: {errors[0].message}"


def all_refs(node: Any) -> Iterator[str]:
    """Every ``$ref`` value in ``node``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from all_refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from all_refs(item)
