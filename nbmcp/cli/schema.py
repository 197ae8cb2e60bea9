"""``nbmcp schema TARGET``: print a server's ChatGPT Action schema, or check a schema file.

The schema goes to stdout (or ``-o FILE``), the checker's findings to stderr; the exit status
is 1 when the schema breaks a limit ChatGPT enforces.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from nbmcp.cli.target import load_target

__all__ = ["check_file", "run_schema"]


def check_file(path: str) -> int:
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


def run_schema(args: argparse.Namespace) -> int:
    """Generate (from ``file.py`` / ``notebook.ipynb``) or check (``.json`` / ``.yaml``) a schema."""
    if Path(args.target).suffix.lower() in (".json", ".yaml", ".yml"):
        return check_file(args.target)
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
