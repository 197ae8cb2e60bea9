"""The ChatGPT Action schema: OpenAPI generated from the registry, checked against ChatGPT's limits.

:func:`build_schema` turns tools into an OpenAPI 3.1.0 (or 3.0.3) document, one
``POST /tools/{name}`` operation per tool (or the single-operation JSON-RPC envelope form);
:func:`check_schema` reports every ChatGPT Action limit a document breaks; :class:`ActionSchemas`
keeps a server's schema current as tools change; :class:`SchemaReport` and
:func:`render_report` show a schema with its findings in a terminal or a notebook.
Above the tools layer, below HTTP.
"""

from nbmcp.openapi.build import build_schema, normalize_version, safe_operation_ids
from nbmcp.openapi.check import check_schema
from nbmcp.openapi.findings import Finding
from nbmcp.openapi.output import dumps
from nbmcp.openapi.report import SchemaReport, render_report
from nbmcp.openapi.security import OAuth2
from nbmcp.openapi.source import ActionSchemas

__all__ = [
    "ActionSchemas",
    "Finding",
    "OAuth2",
    "SchemaReport",
    "build_schema",
    "check_schema",
    "dumps",
    "normalize_version",
    "render_report",
    "safe_operation_ids",
]
