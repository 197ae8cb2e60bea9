"""A test CA (``trustme``) and its certificate for 127.0.0.1 and localhost, written to files.

Clients trust the CA through an :class:`ssl.SSLContext` (httpx's ``verify=``), never by turning
verification off: what passes here passes for a client that checks certificates.
"""

from __future__ import annotations

import contextlib
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import trustme

from tests.peers.peerkit import nbmcp_command, stop_process
from tests.peers.tools import ROOT, free_port


@dataclass(frozen=True)
class Certs:
    """The files a TLS server is given, and the CA that makes clients trust them."""

    ca: Path
    cert: Path
    key: Path
    other_key: Path
    """A key of another certificate: it does not match :attr:`cert`."""

    def context(self) -> ssl.SSLContext:
        """A client context that trusts only the test CA."""
        return ssl.create_default_context(cafile=str(self.ca))


def make_certs(directory: Path) -> Certs:
    """A fresh CA, a certificate for 127.0.0.1/localhost, its key and an unrelated key."""
    ca = trustme.CA()
    issued = ca.issue_cert("127.0.0.1", "localhost")
    other = ca.issue_cert("localhost")
    certs = Certs(
        directory / "ca.pem", directory / "cert.pem", directory / "key.pem", directory / "other.pem"
    )
    ca.cert_pem.write_to_path(str(certs.ca))
    issued.cert_chain_pems[0].write_to_path(str(certs.cert))
    for pem in issued.cert_chain_pems[1:]:
        pem.write_to_path(str(certs.cert), append=True)
    issued.private_key_pem.write_to_path(str(certs.key))
    other.private_key_pem.write_to_path(str(certs.other_key))
    return certs


def wait_https(url: str, context: ssl.SSLContext, proc: subprocess.Popen[str], timeout: float = 30.0) -> None:
    """Poll ``GET url`` (``/health``) over HTTPS until 200; fail early if ``proc`` exits (bounded)."""
    deadline = time.monotonic() + timeout
    last: object = None
    with httpx.Client(verify=context, timeout=2.0, trust_env=False) as http:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                out, err = proc.communicate()
                raise AssertionError(f"nbmcp serve exited ({proc.returncode}):\n{out}\n{err}")
            try:
                if http.get(url).status_code == 200:
                    return
            except httpx.TransportError as exc:
                last = exc
            time.sleep(0.05)
    raise AssertionError(f"{url} did not answer within {timeout} s (last: {last!r})")


@contextlib.contextmanager
def serve_https(target: str, certs: Certs, *extra: str) -> Iterator[tuple[int, subprocess.Popen[str]]]:
    """``nbmcp serve TARGET --ssl-certfile --ssl-keyfile`` on a free port, yielded once it answers.

    The test may stop it (SIGINT) and read its output with ``proc.communicate()``; otherwise it
    is stopped (SIGINT, then kill) on exit.
    """
    port = free_port()
    command = [*nbmcp_command(), "serve", target, "--port", str(port)]
    command += ["--ssl-certfile", str(certs.cert), "--ssl-keyfile", str(certs.key), *extra]
    proc = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True
    )
    try:
        wait_https(f"https://127.0.0.1:{port}/health", certs.context(), proc)
        yield port, proc
    finally:
        stop_process(proc)
        if proc.stdout is not None and not proc.stdout.closed:
            proc.communicate(timeout=15)  # not read by the test: drain and close the pipes
