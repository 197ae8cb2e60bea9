"""The ``nbmcp`` command: ``nbmcp serve TARGET``, ``nbmcp schema TARGET`` and ``nbmcp --version``.

TARGET is ``notebook.ipynb`` (its cells run, then its tools are served), ``file.py`` (its one
module-level :class:`MCPServer`) or ``file.py:attr``.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

from nbmcp._version import __version__
from nbmcp.config import (
    CORS_PRESETS,
    DEFAULT_RATE_LIMIT,
    expand_origins,
    is_loopback,
    parse_api_key,
    read_api_key_file,
)
from nbmcp.errors import NbmcpError, TargetError

__all__ = ["load_target", "main"]


def load_target(target: str) -> Any:
    """Import ``file.py[:attr]`` and return its :class:`MCPServer`.

    A ``notebook.ipynb`` has its code cells run in this process's IPython shell (magics
    included); its server is the one its ``%%mcp_tool`` cells registered on.

    Raises:
        TargetError: no such file, no server in it, or more than one without ``:attr``.
    """
    from nbmcp.server import MCPServer

    path_text, _, attr = target.partition(":") if not os.path.exists(target) else (target, "", "")
    path = Path(path_text)
    if not path.is_file():
        raise TargetError(f"no such file: {path_text}")
    if path.suffix == ".ipynb":
        return _notebook_module().load_notebook(path)
    module_name = f"nbmcp_target_{path.stem}".replace("-", "_")
    spec = importlib.util.spec_from_file_location(module_name, path.resolve())
    if spec is None or spec.loader is None:
        raise TargetError(f"cannot import {path_text}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    sys.path.insert(0, str(path.resolve().parent))
    try:
        spec.loader.exec_module(module)
    except NbmcpError:
        raise
    except Exception as exc:
        raise TargetError(f"importing {path_text} failed: {type(exc).__name__}: {exc}") from exc
    if attr:
        server = getattr(module, attr, None)
        if not isinstance(server, MCPServer):
            raise TargetError(f"{path_text} has no MCPServer named {attr!r}")
        return server
    found = {name: value for name, value in vars(module).items() if isinstance(value, MCPServer)}
    if not found:
        raise TargetError(f"{path_text} defines no module-level MCPServer (e.g. server = MCPServer('name'))")
    if len(found) > 1:
        names = ", ".join(sorted(found))
        raise TargetError(f"{path_text} defines several servers ({names}); pick one: {path_text}:NAME")
    return next(iter(found.values()))


def _notebook_module() -> Any:
    try:
        from nbmcp.notebook import serve
    except ImportError as exc:  # IPython missing
        raise TargetError(f"serving a notebook needs IPython ({exc}): pip install 'nbmcp[notebook]'") from exc
    return serve


def _configure(server: Any, args: argparse.Namespace) -> None:
    server.config.stateless = server.config.stateless or args.stateless
    owner, labelled = _api_keys(args)
    if owner:
        server.config.api_key = owner
    server.config.api_keys.update(labelled)
    _use_builtin_oauth(server, args)
    _use_issuer(server, args)
    if not is_loopback(args.host) and server.config.allowed_hosts:
        # Bound to a public interface: accept the names clients use to reach it.
        server.config.allowed_hosts = [*server.config.allowed_hosts, args.host]
    if args.allow_host:
        server.config.allowed_hosts = [*server.config.allowed_hosts, *args.allow_host]
    if args.cors:
        server.config.cors = _cors(server.config.cors, args.cors)
    _limits(server, args)


def _limits(server: Any, args: argparse.Namespace) -> None:
    """``--rate-limit 100/15min|auto|off`` and ``--trust-proxy``."""
    if args.trust_proxy:
        server.config.trust_proxy = True
    if getattr(args, "debug", False):
        server.config.debug = True
    if args.rate_limit is not None:
        from nbmcp.http.limits import LimitError, active_rate

        server.config.rate_limit = args.rate_limit
        try:
            active_rate(server.config)
        except LimitError as exc:
            raise TargetError(f"--rate-limit: {exc}") from None


def _cors(current: list[str], given: list[str]) -> list[str]:
    """``--cors chatgpt,claude`` / ``--cors https://a.example`` (repeatable) added to ``current``."""
    values = [part for value in given for part in value.split(",") if part.strip()]
    try:
        return expand_origins([*current, *values])
    except ValueError as exc:
        raise TargetError(f"--cors: {exc}") from None


def _use_issuer(server: Any, args: argparse.Namespace) -> None:
    """``--oauth-issuer URL --oauth-audience AUD [--oauth-scope S]``: accept that issuer's tokens."""
    issuer_url, audience = args.oauth_issuer, args.oauth_audience
    if not issuer_url and not audience:
        return
    if not issuer_url or not audience:
        raise TargetError(
            "--oauth-issuer and --oauth-audience go together: the issuer's URL and the API "
            "identifier its tokens carry in 'aud'"
        )
    from nbmcp.auth.issuer import IssuerError, OAuthIssuer

    try:
        issuer = OAuthIssuer(issuer_url, audience, scopes=args.oauth_scope)
    except IssuerError as exc:
        raise TargetError(f"--oauth-issuer: {exc}") from None
    try:  # a wrong URL is worth saying at once; a briefly unreachable issuer is not fatal
        issuer.check()
    except IssuerError as exc:
        print(f"nbmcp: warning: {exc} (its tokens are refused until it answers)", file=sys.stderr, flush=True)
    server.token_verifier = issuer


def _use_builtin_oauth(server: Any, args: argparse.Namespace) -> None:
    """``--oauth [--oauth-store memory|DIR]``: the built-in authorization server (ChatGPT, Claude)."""
    if not getattr(args, "oauth", False):
        if getattr(args, "oauth_store", None):
            raise TargetError("--oauth-store goes with --oauth")
        return
    if args.oauth_issuer:
        raise TargetError("--oauth and --oauth-issuer exclude each other: nbmcp issues the tokens, or it")
    if server.oauth is None:
        from nbmcp.http.oauth import install_builtin_oauth

        server.oauth = install_builtin_oauth(server)
    if args.oauth_store:
        server.oauth.configure(store=args.oauth_store)
    key = str(server.access_key)
    shown = key if sys.stdout.isatty() else f"\u2022\u2022\u2022\u2022{key[-4:]}"
    where = "generated for this run" if server.oauth.generated_key == key else "--api-key / NBMCP_API_KEY"
    print(f"nbmcp: OAuth on; the owner key approves clients on their consent page: {shown} ({where})")


def _api_keys(args: argparse.Namespace) -> tuple[str | None, dict[str, str]]:
    """``--api-key K`` / ``--api-key LABEL=K`` (repeatable) and ``--api-key-file FILE``."""
    owner: str | None = None
    labelled: dict[str, str] = {}
    for path in args.api_key_file:
        try:
            found = read_api_key_file(path)
        except (OSError, ValueError) as exc:
            raise TargetError(f"--api-key-file: {exc}") from None
        twice = sorted(found.keys() & labelled.keys())
        if twice:
            raise TargetError(f"--api-key-file: the label {twice[0]!r} is given twice")
        labelled.update(found)
    for value in args.api_key:
        try:
            label, key = parse_api_key(value)
        except ValueError as exc:
            raise TargetError(f"--api-key: {exc}") from None
        if label is None:
            if owner is not None:
                raise TargetError("--api-key: give one unlabelled key at most; label the others: LABEL=KEY")
            owner = key
        elif label in labelled:
            raise TargetError(f"--api-key: the label {label!r} is given twice")
        else:
            labelled[label] = key
    return owner, labelled


def _announce(server: Any, url: str) -> None:
    _tune_gc()  # serving, with the target loaded: what is alive now stays alive
    tools = len(server.tools)
    auth = " (needs X-API-Key)" if server.config.requires_key else ""
    print(f"nbmcp: serving {server.name!r} with {tools} tool{'s' * (tools != 1)} at {url}{auth}", flush=True)
    print(
        f"  connect: claude mcp add --transport http {server.name} {url}   |   "
        f"npx @modelcontextprotocol/inspector --cli {url} --method tools/list   |   Ctrl-C stops",
        flush=True,
    )
    base = url.removesuffix("/mcp")
    print(f"  ChatGPT Actions: POST {base}/tools/NAME, schema at {base}/openapi.json", flush=True)
    _announce_oauth(server, base)


def _announce_oauth(server: Any, local: str) -> None:
    """Where OAuth clients discover the authorization server, and the proxy rule a path prefix needs."""
    verifier = getattr(server, "token_verifier", None)
    if verifier is None:
        return
    from urllib.parse import urlsplit

    from nbmcp.http.resource_metadata import WELL_KNOWN, metadata_url

    base = (server.config.public_url or local).rstrip("/")
    issuer = verifier.authorization_server(base)
    print(f"  OAuth: tokens from {issuer}; clients discover it at {metadata_url(base)}", flush=True)
    prefix = urlsplit(base).path.rstrip("/")
    if prefix:
        print(
            f"  behind a proxy at {prefix}: forward {WELL_KNOWN}{prefix}/mcp (at the host's root) "
            f"to this server's {WELL_KNOWN}/mcp",
            flush=True,
        )


def _tune_gc() -> None:
    """Keep garbage-collection pauses out of request latency (this process only serves).

    Objects alive after loading (modules, tools, compiled validators) are moved out of the
    collector's reach, and young collections run less often: full collections then scan
    what requests allocate, not the whole heap, so the p99 stays in single milliseconds.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 20, 20)


def _serve(args: argparse.Namespace) -> int:
    if Path(args.target).suffix == ".ipynb":
        # The cells run first (``%mcp start`` in them serves on --host/--port at once).
        if not Path(args.target).is_file():
            raise TargetError(f"no such file: {args.target}")
        _notebook_module().serve_notebook(
            args.target, args.host, args.port, configure=lambda s: _configure(s, args), announce=_announce
        )
    else:
        server = load_target(args.target)
        _configure(server, args)
        server.run(args.host, args.port, announce=lambda url: _announce(server, url))
    print("nbmcp: stopped", flush=True)
    return 0


def _check_file(path: str) -> int:
    """``nbmcp schema openapi.json``: check a schema written elsewhere (by hand, say)."""
    from nbmcp.openapi import check_schema
    from nbmcp.openapi.output import load_document

    findings = check_schema(load_document(path))
    for finding in findings:
        print(finding)
    errors = sum(f.severity == "error" for f in findings)
    warnings = sum(f.severity == "warning" for f in findings)
    verdict = "ChatGPT will not accept it as it is" if errors else "ChatGPT accepts it"
    print(f"nbmcp schema: {path}: {errors} error(s), {warnings} warning(s): {verdict}")
    return 1 if errors else 0


def _schema(args: argparse.Namespace) -> int:
    if Path(args.target).suffix.lower() in (".json", ".yaml", ".yml"):
        return _check_file(args.target)
    server = load_target(args.target)
    report = server.action_schema(args.url, openapi=args.openapi, envelope=args.envelope, auth=args.auth)
    text = report.text(args.format)
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    for finding in report.findings:
        print(f"nbmcp schema: {finding}", file=sys.stderr)
    errors, warnings = len(report.errors), len(report.warnings)
    where = f" (written to {args.output})" if args.output else ""
    if errors:
        print(
            f"nbmcp schema: {errors} error(s), {warnings} warning(s): ChatGPT will not accept this schema "
            f"as it is{where}",
            file=sys.stderr,
        )
        return 1
    print(
        f"nbmcp schema: {report.operations} operation(s), {warnings} warning(s){where}; paste it into "
        "ChatGPT (Configure > Actions > Create new action > Schema)",
        file=sys.stderr,
    )
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="nbmcp", description="Serve Python functions as MCP tools.")
    parser.add_argument("--version", action="version", version=f"nbmcp {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    serve = sub.add_parser(
        "serve", help="serve a notebook's tools, or the MCPServer in a Python file, over Streamable HTTP"
    )
    serve.add_argument(
        "target",
        metavar="TARGET",
        help="notebook.ipynb (its cells run first, then its tools are served), "
        "file.py (its module-level MCPServer) or file.py:attr",
    )
    serve.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free one)")
    serve.add_argument("--stateless", action="store_true", help="issue no sessions (for many workers)")
    serve.add_argument(
        "--api-key",
        action="append",
        default=[],
        metavar="[LABEL=]KEY",
        help="require a key (X-API-Key or Bearer); repeatable: LABEL=KEY names the caller in call records "
        "(split at the first '=', so a key containing '=' needs a label); default $NBMCP_API_KEY",
    )
    serve.add_argument(
        "--api-key-file",
        action="append",
        default=[],
        metavar="FILE",
        help="more keys, one 'LABEL KEY' a line ('#' comments); repeatable",
    )
    serve.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="HOST",
        help="also accept this Host header (repeatable; '*' accepts any)",
    )
    serve.add_argument(
        "--cors",
        action="append",
        default=[],
        metavar="ORIGINS",
        help="let these browser origins call the server (CORS): origins like https://a.example or the "
        f"presets {', '.join(CORS_PRESETS)}; comma list, repeatable; '*' any origin (no credentials)",
    )
    serve.add_argument(
        "--oauth",
        action="store_true",
        help="the built-in OAuth server, for ChatGPT and Claude connectors: the owner key (--api-key, "
        "NBMCP_API_KEY, or one generated) approves each client on its consent page",
    )
    serve.add_argument(
        "--oauth-store",
        metavar="memory|DIR",
        default=None,
        help="where --oauth keeps its signing key, clients and refresh tokens (default: a 0600 file "
        "under ~/.config/nbmcp, so they survive a restart; 'memory' keeps nothing)",
    )
    serve.add_argument(
        "--oauth-issuer",
        metavar="URL",
        default=None,
        help="accept OAuth access tokens (JWTs) from this outside issuer, e.g. https://TENANT.auth0.com/ "
        "(its metadata and keys are discovered); needs --oauth-audience",
    )
    serve.add_argument(
        "--oauth-audience",
        metavar="AUD",
        default=None,
        help="the 'aud' the issuer's tokens carry for this server",
    )
    serve.add_argument(
        "--oauth-scope",
        action="append",
        default=[],
        metavar="SCOPE",
        help="a scope every token must carry (repeatable; 403 without it)",
    )
    serve.add_argument(
        "--rate-limit",
        metavar="RATE",
        default=None,
        help="requests per window for each caller, e.g. 100/15min (windows: s, min, h, d); 'auto' "
        f"(default: off on loopback, {DEFAULT_RATE_LIMIT} once published or bound elsewhere) or 'off'",
    )
    serve.add_argument(
        "--trust-proxy",
        action="store_true",
        help="behind your own proxy: take the client address from X-Forwarded-For (its right-most "
        "untrusted entry) for the per-address limits",
    )
    serve.add_argument(
        "--debug",
        action="store_true",
        help="add tracebacks to the errors clients get (for development on your own machine only)",
    )
    serve.set_defaults(func=_serve)
    schema = sub.add_parser(
        "schema",
        help="print the ChatGPT Action schema (OpenAPI) of the server in a Python file, checked",
        description="Print the ChatGPT Action schema (OpenAPI) of a server to stdout and the checker's "
        "findings to stderr, or check an existing schema file; exit 1 if it breaks a ChatGPT limit.",
    )
    schema.add_argument(
        "target",
        metavar="TARGET",
        help="file.py[:attr] or notebook.ipynb to generate from, or an existing openapi.json/.yaml to check",
    )
    schema.add_argument(
        "--url",
        default=None,
        help="the server's public https URL for `servers` (default: its public URL, else the local one)",
    )
    schema.add_argument(
        "--format", choices=("json", "yaml"), default="json", help="output format (default json)"
    )
    schema.add_argument(
        "--envelope",
        action="store_true",
        help="one callMCPTool operation posting JSON-RPC to /mcp (for more than 30 tools)",
    )
    schema.add_argument(
        "--openapi", default="3.1.0", metavar="VERSION", help="OpenAPI version: 3.1 (default) or 3.0"
    )
    schema.add_argument(
        "--auth",
        choices=("none", "header", "bearer", "oauth"),
        default=None,
        help="security scheme to describe (default: X-API-Key header if the server needs a key)",
    )
    schema.add_argument("-o", "--output", metavar="FILE", default=None, help="write the schema to FILE")
    schema.set_defaults(func=_schema)
    return parser


def _not_yet(command: str) -> int:
    print(f"nbmcp {command}: not there yet (coming in a later release)", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``nbmcp`` console script."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except NbmcpError as exc:
        print(f"nbmcp: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
