"""``nbmcp serve``'s credentials: API keys, the built-in OAuth server and an outside issuer.

Keys come from ``--api-key [LABEL=]KEY`` (repeatable) and ``--api-key-file``; ``--oauth``
turns on the built-in authorization server; ``--oauth-issuer`` with ``--oauth-audience``
accepts an outside issuer's tokens. A key is printed only masked unless stdout is a terminal.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from nbmcp.config import parse_api_key, read_api_key_file
from nbmcp.errors import TargetError

__all__ = ["api_keys", "show_owner_key", "use_builtin_oauth", "use_issuer"]


def api_keys(args: argparse.Namespace) -> tuple[str | None, dict[str, str]]:
    """``--api-key K`` / ``--api-key LABEL=K`` (repeatable) and ``--api-key-file FILE``.

    Returns:
        The owner key (the one unlabelled key, if any) and the labelled keys.
    """
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


def use_issuer(server: Any, args: argparse.Namespace) -> None:
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


def use_builtin_oauth(server: Any, args: argparse.Namespace) -> None:
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
    show_owner_key(server)


def show_owner_key(server: Any) -> None:
    """Say OAuth is on and which key approves clients: whole on a terminal, else its last 4 characters.

    Piped or logged output keeps only the tail, so the key never lands in a log file.
    """
    key = str(server.access_key)
    shown = key if sys.stdout.isatty() else f"\u2022\u2022\u2022\u2022{key[-4:]}"
    generated = getattr(server.oauth, "generated_key", None) == key
    where = "generated for this run" if generated else "--api-key / NBMCP_API_KEY"
    print(f"nbmcp: OAuth on; the owner key approves clients on their consent page: {shown} ({where})")
