#!/usr/bin/env python3
"""nbmcp vs FastMCP vs a bare ASGI ceiling, side by side, in one run.

    python bench/run.py              # full run (~4 min): 2 s warm-up + 10 s per measurement
    python bench/run.py --quick      # smoke run (~1 min)
    python bench/run.py --profile    # also: py-spy profile of nbmcp under c=32 load

Every server runs as its own process pinned to CPU 0 (``taskset -c 0``); wrk runs pinned to
CPU 1 with ``bench/wrk/mcp.lua``, which sends a unique JSON-RPC id per request and checks
every answer. Any wrong answer, non-200, socket error or lost response marks the run
INVALID (exit 1). Floors are reported PASS/FAIL (exit 3 when a floor fails on a valid run).
Results: a table on stdout, ``bench/RESULTS.md`` and ``bench/results/latest.json``.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import datetime as dt
import importlib.metadata
import json
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SERVERS = BENCH / "servers"
LUA = BENCH / "wrk" / "mcp.lua"
SERVER_CPU = "0"
LOAD_CPU = "1"
READY_TIMEOUT = 60.0
NOISY_PCT = 10.0  # other processes' share of the server CPU above which a point is re-measured
NOISY_LOAD_PCT = 20.0  # ... and of the load generator's CPU
MAX_RETRIES_PER_POINT = 2
AUTH_ROUNDS = (
    5  # scenario g: A B C / C B A rounds (this machine's points vary by +-5%: five of them per mode)
)
MODERN_ROUNDS = 5  # scenario h: A B / B A rounds
QUIET_PCT = 15.0  # before a point: wait until each CPU is at most this busy (the idle server counts)


def noise(r: dict[str, Any]) -> float:
    """How far a point's foreign CPU load exceeds the thresholds (0: a quiet point)."""
    return max(0.0, r.get("foreign_server_cpu_pct", 0) - NOISY_PCT) + max(
        0.0, r.get("foreign_load_cpu_pct", 0) - NOISY_LOAD_PCT
    )


NOTES_MARKER = "<!-- notes below this line are kept when run.py rewrites this file -->"

ADD_CALL = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "tools/call",
    "params": {"name": "add", "arguments": {"a": 1, "b": 2}},
}
HEADERS = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
# ADD_CALL as a 2026-07-28 client sends it (what bench/wrk/mcp.lua sends with BENCH_MODERN=1)
MODERN_META = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientCapabilities": {},
    "io.modelcontextprotocol/clientInfo": {"name": "wrk", "version": "1"},
}
MODERN_ADD_CALL = {**ADD_CALL, "params": {**ADD_CALL["params"], "_meta": MODERN_META}}
MODERN_HEADERS = {"MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/call", "Mcp-Name": "add"}

# -- processes -----------------------------------------------------------------------------


class Server:
    """One server process we started (pinned to SERVER_CPU); only ever killed by its own pid."""

    def __init__(self, name: str, cmd: list[str], port: int, logdir: Path, env: dict[str, str] | None = None):
        self.name = name
        self.port = port
        self.url = f"http://127.0.0.1:{port}/mcp"
        self.log_path = logdir / f"{name}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115
        full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.proc = subprocess.Popen(
            ["taskset", "-c", SERVER_CPU, *cmd],
            cwd=ROOT,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=full_env,
            start_new_session=True,
        )
        self.pid = self.proc.pid  # taskset execs the server: same pid
        _STARTED.append(self)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_ready(self, timeout: float = READY_TIMEOUT, headers: dict[str, str] | None = None) -> float:
        """Poll with a real tools/call until the right answer comes back; returns seconds waited.

        ``headers``: sent with the call (a credential, for a server that asks for one).
        """
        started = time.monotonic()
        deadline = started + timeout
        last = ""
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                status, _, body = post(self.url, ADD_CALL, headers, timeout=2.0)
                if status == 200 and '"text":"3"' in body.replace(" ", ""):
                    return time.monotonic() - started
                last = f"{status} {body[:200]}"
            except (OSError, urllib.error.URLError) as exc:
                last = repr(exc)
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready after {timeout:.0f} s (last: {last})\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(8)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                self.proc.wait(5)
        self._log.close()
        if self in _STARTED:
            _STARTED.remove(self)


_STARTED: list[Server] = []


def _stop_all() -> None:
    for server in list(_STARTED):
        with contextlib.suppress(Exception):
            server.stop()


def _on_signal(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def post(url: str, payload: Any, headers: dict[str, str] | None = None, timeout: float = 5.0):
    data = json.dumps(payload).encode()
    req = urllib.request.Request(url, data=data, method="POST", headers={**HEADERS, **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read().decode(errors="replace")


def proc_stats(pid: int) -> dict[str, int]:
    """RSS (kB), CPU ticks and context switches (all threads) of a process."""
    out: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    out["cpu_ticks"] = int(fields[11]) + int(fields[12])  # utime + stime
    switches = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{task}/status") as f:
            for line in f:
                if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                    switches += int(line.split()[1])
    out["ctx_switches"] = switches
    out["threads"] = len(os.listdir(f"/proc/{pid}/task"))
    return out


TICK = os.sysconf("SC_CLK_TCK")


def cpu_busy() -> dict[str, tuple[int, int]]:
    """Per-CPU (busy, steal) jiffies from /proc/stat (busy excludes idle and iowait)."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith("cpu") and line[3].isdigit():
                name, *vals = line.split()
                v = [int(x) for x in vals[:8]]
                out[name] = (sum(v) - v[3] - v[4] - v[7], v[7])
    return out


def children_ticks() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (ru.ru_utime + ru.ru_stime) * TICK


# -- load ----------------------------------------------------------------------------------


def wrk(
    server: Server,
    conns: int,
    seconds: int,
    *,
    method: str = "call",
    list_expect: str = "add",
    session: str = "",
    version: str = "",
    header: str = "",
    modern: bool = False,
) -> dict[str, Any]:
    """One wrk run against ``server``; returns parsed numbers plus validity.

    ``header``: one more request header, ``"Name: value"`` (a credential), sent with every request.
    ``modern``: speak protocol 2026-07-28 (per-request ``_meta`` and its headers, ``BENCH_MODERN=1``).
    """
    threads = 1 if conns == 1 else 2
    env = {
        **os.environ,
        "BENCH_METHOD": method,
        "BENCH_LIST_EXPECT": list_expect,
        "BENCH_SESSION": session,
        "BENCH_PROTOCOL_VERSION": version,
        "BENCH_HEADER": header,
        "BENCH_MODERN": "1" if modern else "",
    }
    cmd = [
        "taskset", "-c", LOAD_CPU, "wrk",
        f"-t{threads}", f"-c{conns}", f"-d{max(1, int(seconds))}s", "--timeout", "5s",
        "-s", str(LUA), server.url,
    ]  # fmt: skip
    before, busy0, kids0 = proc_stats(server.pid), cpu_busy(), children_ticks()
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=seconds + 60)
    after, busy1, kids1 = proc_stats(server.pid), cpu_busy(), children_ticks()
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCHJSON ")), None)
    if done.returncode != 0 or line is None:
        return {
            "valid": False,
            "problems": [
                f"wrk failed (rc {done.returncode}): {done.stderr.strip()[:300]} {done.stdout[-300:]}"
            ],
        }
    r: dict[str, Any] = json.loads(line[len("BENCHJSON ") :])
    r["conns"] = conns
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6) if r["duration_us"] else 0.0
    n = max(r["requests"], 1)
    r["cpu_us_per_req"] = (after["cpu_ticks"] - before["cpu_ticks"]) / TICK * 1e6 / n
    r["cpu_util"] = (after["cpu_ticks"] - before["cpu_ticks"]) / TICK / (r["duration_us"] / 1e6 or 1)
    r["ctx_per_req"] = (after["ctx_switches"] - before["ctx_switches"]) / n
    # What else ran on the two CPUs meanwhile (other processes on a shared machine, VM steal):
    # busy time of each CPU minus what the server (CPU 0) and wrk (CPU 1) used themselves.
    secs = r["duration_us"] / 1e6 or 1.0
    s_cpu = f"cpu{SERVER_CPU}"
    l_cpu = f"cpu{LOAD_CPU}"
    own = {s_cpu: after["cpu_ticks"] - before["cpu_ticks"], l_cpu: kids1 - kids0}
    for cpu, key in ((s_cpu, "foreign_server_cpu_pct"), (l_cpu, "foreign_load_cpu_pct")):
        if cpu in busy0 and cpu in busy1:
            busy = busy1[cpu][0] - busy0[cpu][0]
            r[key] = max(0.0, (busy - own[cpu]) / TICK / secs * 100)
            r[key.replace("foreign", "steal")] = (busy1[cpu][1] - busy0[cpu][1]) / TICK / secs * 100
    problems = []
    if r["mismatches"]:
        problems.append(f"{r['mismatches']} wrong answers (first: {r['first_mismatch']})")
    errs = {k: v for k, v in r["errors"].items() if v}
    if errs:
        problems.append(f"socket/status errors {errs}")
    if r["checked"] != r["requests"]:
        problems.append(f"checked {r['checked']} of {r['requests']} responses")
    if r["unanswered"] > conns + threads:
        problems.append(f"{r['unanswered']} requests never answered (more than the {conns} in flight)")
    if r["requests"] == 0:
        problems.append("no requests completed")
    r["valid"] = not problems
    r["problems"] = problems
    return r


# -- report helpers ------------------------------------------------------------------------


def ms(us: float) -> str:
    return f"{us / 1000:.2f}"


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}x" if a and b else "-"


def versions() -> dict[str, str]:
    out = {}
    for pkg in ("nbmcp", "fastmcp", "mcp", "uvicorn", "starlette", "fastapi", "uvloop", "httptools", "orjson",
                "pydantic", "pydantic-core", "anyio", "py-spy"):  # fmt: skip
        try:
            out[pkg] = importlib.metadata.version(pkg)
        except importlib.metadata.PackageNotFoundError:
            out[pkg] = "-"
    try:
        out["wrk"] = (
            subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("[")[0].strip()
        )
    except OSError:
        out["wrk"] = "-"
    return out


def source_state() -> str:
    """The commit nbmcp was measured at, and whether nbmcp/ had uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "nbmcp"], cwd=ROOT, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    changed = len([ln for ln in dirty.stdout.splitlines() if ln.strip()])
    return f"git {head.stdout.strip() or '?'}" + (
        f" + {changed} uncommitted file(s) in nbmcp/" if changed else " (clean)"
    )


def machine() -> dict[str, str]:
    model = "?"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with contextlib.suppress(OSError), open("/proc/meminfo") as f:
        mem = f"{int(f.readline().split()[1]) // 1024} MiB"
    return {
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "memory": mem,
        "kernel": platform.release(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "os": platform.platform(),
    }


# -- scenarios -----------------------------------------------------------------------------


class Bench:
    def __init__(self, args: argparse.Namespace, logdir: Path) -> None:
        self.args = args
        self.logdir = logdir
        self.loads: list[dict[str, Any]] = []  # scenario a rows
        self.lists: list[dict[str, Any]] = []  # scenario b rows
        self.scale: dict[str, Any] = {}  # scenario c
        self.auth: dict[str, Any] = {}  # scenario g
        self.modern: dict[str, Any] = {}  # scenario h
        self.register: dict[str, Any] = {}  # scenario d
        self.rss: list[dict[str, Any]] = []  # scenario e
        self.profile: dict[str, Any] | None = None
        self.problems: list[str] = []
        self.retries_left = args.retries
        self.quiet_budget = float(args.quiet_wait)

    def log(self, msg: str) -> None:
        print(msg, flush=True)

    def start(
        self,
        name: str,
        cmd: list[str],
        env: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Server:
        port = free_port()
        cmd = [c.replace("{port}", str(port)) for c in cmd]
        server = Server(name, cmd, port, self.logdir, env)
        waited = server.wait_ready(headers=headers)
        stats = proc_stats(server.pid)
        self.rss.append(
            {"server": name, "rss_kb": stats["VmRSS"], "threads": stats["threads"], "ready_s": waited}
        )
        self.log(
            f"  started {name} pid {server.pid} on :{port} in {waited:.1f} s, idle RSS {stats['VmRSS'] / 1024:.1f} MiB"
        )
        return server

    def wait_quiet(self) -> None:
        """Before a point, wait (bounded) until other processes leave both CPUs mostly idle."""
        waited = 0.0
        while self.quiet_budget > 0:
            before = cpu_busy()
            time.sleep(0.5)
            after = cpu_busy()
            busy = {c: (after[c][0] - before[c][0]) / TICK / 0.5 * 100 for c in after if c in before}
            if busy.get(f"cpu{SERVER_CPU}", 0) < QUIET_PCT and busy.get(f"cpu{LOAD_CPU}", 0) < QUIET_PCT:
                break
            self.quiet_budget -= 0.5
            waited += 0.5
        if waited:
            self.log(f"    (waited {waited:.1f} s for other processes to leave the CPUs)")

    def measure(self, server: Server, label: str, conns: int, seconds: int, **kw: Any) -> dict[str, Any]:
        self.wait_quiet()
        warm = wrk(server, conns, self.args.warmup, **kw) if self.args.warmup > 0 else {"valid": True}
        r = wrk(server, conns, seconds, **kw)
        # A shared machine: when something else took CPU 0 during the point, measure it again
        # (a bounded number of times per run) and keep the quieter of the two.
        for _ in range(MAX_RETRIES_PER_POINT):
            if not (r.get("valid") and noise(r) > 0 and self.retries_left > 0):
                break
            self.retries_left -= 1
            self.log(
                f"    ({label} c={conns}: other processes used {r.get('foreign_server_cpu_pct', 0):.0f}% of "
                f"CPU {SERVER_CPU} and {r.get('foreign_load_cpu_pct', 0):.0f}% of CPU {LOAD_CPU}; measuring again)"
            )
            self.wait_quiet()
            again = wrk(server, conns, seconds, **kw)
            if again.get("valid") and noise(again) < noise(r):
                r = again
        r["noisy"] = noise(r) > 0
        if not warm["valid"]:
            r.setdefault("problems", []).extend(f"warm-up: {p}" for p in warm["problems"])
            r["valid"] = False
        r["label"] = label
        if not r["valid"]:
            self.problems.extend(f"{label} c={conns}: {p}" for p in r["problems"])
        status = "ok" if r["valid"] else "INVALID: " + "; ".join(r["problems"])
        if "rps" in r:
            self.log(
                f"    {label:<34} c={conns:<3} {r['rps']:>9.0f} req/s  p50 {ms(r['p50_us'])} ms  "
                f"p99 {ms(r['p99_us'])} ms  cpu {r['cpu_us_per_req']:.0f} us/req  "
                f"ctx {r['ctx_per_req']:.1f}/req  other load {r.get('foreign_server_cpu_pct', 0):.0f}%  [{status}]"
            )
        else:
            self.log(f"    {label} c={conns}: {status}")
        return r

    def alternate(
        self,
        points: list[tuple[str, str, Server, dict[str, Any]]],
        rounds: int,
        seconds: int,
        conns: int = 32,
    ) -> dict[str, Any]:
        """Measure ``points`` (mode, label, server, wrk options) in turn, ``rounds`` times, the order
        reversed every other round (A B C, C B A, A B C ...).

        Drift on a shared machine then hits every mode alike, and no mode is always first. Returns the mean figures per mode
        (``"modes"``), each later mode's ratios to the first one (``ratio``: req/s, ``cpu_ratio``:
        first / this CPU per request), and whether any point stayed busy (``"noisy"``).
        """
        runs: dict[str, list[dict[str, Any]]] = {name: [] for name, *_ in points}
        for round_no in range(rounds):
            for name, label, server, options in points if round_no % 2 == 0 else points[::-1]:
                runs[name].append(self.measure(server, label, conns, seconds, **options))
        out: dict[str, Any] = {"modes": {}, "noisy": any(x.get("noisy") for v in runs.values() for x in v)}
        for name, label, *_ in points:
            done = [x for x in runs[name] if "rps" in x]

            def mean(field: str, done: list[dict[str, Any]] = done) -> float:
                return sum(x.get(field, 0.0) for x in done) / len(done) if done else 0.0

            out["modes"][name] = {
                "label": label,
                "rps": mean("rps"),
                "p50_us": mean("p50_us"),
                "p99_us": mean("p99_us"),
                "cpu_us_per_req": mean("cpu_us_per_req"),
                "runs": [x.get("rps") for x in runs[name]],
                "requests": sum(int(x.get("requests", 0)) for x in runs[name]),
                "other_load": [round(x.get("foreign_server_cpu_pct", 0), 1) for x in runs[name]],
            }
        base = out["modes"][points[0][0]]
        for name, *_ in points[1:]:
            m = out["modes"][name]
            m["ratio"] = m["rps"] / base["rps"] if base["rps"] else 0.0
            m["cpu_ratio"] = base["cpu_us_per_req"] / m["cpu_us_per_req"] if m["cpu_us_per_req"] else 0.0
        return out

    def nbmcp_cmd(self, file: str, stateless: bool) -> list[str]:
        script = Path(sys.executable).parent / "nbmcp"  # the console script, as a user runs it
        launcher = [str(script)] if script.exists() else [sys.executable, "-m", "nbmcp.cli"]
        cmd = [*launcher, "serve", str(SERVERS / file), "--port", "{port}"]
        return [*cmd, "--stateless"] if stateless else cmd

    def fastmcp_cmd(self, tools: int) -> list[str]:
        return [sys.executable, str(SERVERS / "fastmcp_server.py"), "--port", "{port}", "--tools", str(tools)]

    @property
    def fastmcp_env(self) -> dict[str, str]:
        # Its fastest setting: no OpenTelemetry span work (a no-op API by default anyway).
        return {"FASTMCP_TELEMETRY_MODE": "off", "FASTMCP_CHECK_FOR_UPDATES": "off"}

    # a + e
    def scenario_calls(self) -> None:
        d = self.args.duration
        self.log("\n[a] tools/call add, 1 tool registered")
        specs = [
            ("nbmcp", "nbmcp (stateless)", self.nbmcp_cmd("nbmcp_server.py", True), None),
            (
                "nbmcp-stateful",
                "nbmcp (stateful, plain POST)",
                self.nbmcp_cmd("nbmcp_server.py", False),
                None,
            ),
            ("fastmcp", "FastMCP (stateless+JSON)", self.fastmcp_cmd(1), self.fastmcp_env),
            (
                "bare",
                "bare ASGI (ceiling)",
                [sys.executable, str(SERVERS / "bare_asgi.py"), "--port", "{port}"],
                None,
            ),
        ]
        for key, label, cmd, env in specs:
            server = self.start(key, cmd, env)
            try:
                # Every c=1 point runs before any c=32 point on the same process: after a burst,
                # nbmcp keeps 32 idle worker threads, which makes single calls measurably dearer.
                session = version = ""
                if key == "nbmcp-stateful":
                    session, version = open_session(server.url)
                for conns in (1, 32):
                    r = self.measure(server, label, conns, d)
                    self.loads.append({**r, "server": key})
                    if key == "nbmcp":  # the same tool over the 2026-07-28 wire, same process
                        r = self.measure(server, "nbmcp (2026-07-28)", conns, d, modern=True)
                        self.loads.append({**r, "server": "nbmcp-modern"})
                    if session:
                        r = self.measure(server, "nbmcp (stateful, with session)", conns, d,
                                         session=session, version=version)  # fmt: skip
                        self.loads.append({**r, "server": "nbmcp-session"})
                after = proc_stats(server.pid)
                for row in self.rss:
                    if row["server"] == key:
                        row["rss_after_load_kb"] = after["VmRSS"]
                        row["hwm_kb"] = after["VmHWM"]
            finally:
                server.stop()
        if self.args.no_diag:
            return
        # Diagnostics (not product configurations): what nbmcp would gain from running a quick
        # sync tool without the worker-thread hop, and what its GC tuning in ``nbmcp serve``
        # (freeze + higher thresholds) buys compared with CPython's defaults.
        diag = [
            ("diag-async", "diag: nbmcp, add as async def", {"BENCH_ASYNC_ADD": "1"}),
            ("diag-gc-default", "diag: nbmcp, CPython default GC", {"BENCH_GC_DEFAULT": "1"}),
        ]
        for key, label, env in diag:
            server = self.start(key, self.nbmcp_cmd("nbmcp_diag.py", True), env)
            try:
                r = self.measure(server, label, 32, max(2, d // 2))
                self.loads.append({**r, "server": key})
            finally:
                server.stop()

    # b + c
    def scenario_many_tools(self) -> None:
        d = self.args.duration
        list_secs = max(1, d // 2)
        self.log("\n[b] tools/list with 1,000 tools (c=1)   [c] tools/call add with 1,000 tools vs 1 (c=32)")
        big = self.start("nbmcp-1000", self.nbmcp_cmd("nbmcp_server_1000.py", True))
        try:
            r = self.measure(
                big, "nbmcp tools/list x1000", 1, list_secs, method="list", list_expect="tool_0999"
            )
            self.lists.append({**r, "server": "nbmcp"})
            small = self.start("nbmcp-1", self.nbmcp_cmd("nbmcp_server.py", True))
            try:
                # A B A B at c=32 so that drift on a shared machine hits both sides alike.
                half = max(1, d // 2)
                rounds: dict[str, list[dict[str, Any]]] = {"1": [], "1000": []}
                for _ in range(2):
                    rounds["1"].append(self.measure(small, "nbmcp call, 1 tool", 32, half))
                    rounds["1000"].append(self.measure(big, "nbmcp call, 1000 tools", 32, half))
            finally:
                small.stop()
        finally:
            big.stop()
        one = sum(x.get("rps", 0) for x in rounds["1"]) / 2
        many = sum(x.get("rps", 0) for x in rounds["1000"]) / 2
        cpu_one = sum(x.get("cpu_us_per_req", 0) for x in rounds["1"]) / 2
        cpu_many = sum(x.get("cpu_us_per_req", 0) for x in rounds["1000"]) / 2
        self.scale = {
            "rps_1": one,
            "rps_1000": many,
            "ratio": many / one if one else 0.0,
            "cpu_us_1": cpu_one,
            "cpu_us_1000": cpu_many,
            "cpu_ratio": cpu_one / cpu_many if cpu_many else 0.0,
            "noisy": any(x.get("noisy") for v in rounds.values() for x in v),
            "runs": {k: [x.get("rps") for x in v] for k, v in rounds.items()},
            "p99_1000_us": max(x.get("p99_us", 0) for x in rounds["1000"]),
        }
        fast = self.start("fastmcp-1000", self.fastmcp_cmd(1000), self.fastmcp_env)
        try:
            r = self.measure(
                fast, "FastMCP tools/list x1000", 1, list_secs, method="list", list_expect="tool_0999"
            )
            self.lists.append({**r, "server": "fastmcp"})
        finally:
            fast.stop()

    # g
    def scenario_auth(self) -> None:
        """tools/call at c=32 with no auth, an API key and a built-in OAuth JWT, A B C rounds."""
        from oauth_token import obtain_token

        d = self.args.duration
        self.log(
            f"\n[g] tools/call add at c=32: no auth vs API key vs OAuth access token (A B C / C B A, {AUTH_ROUNDS} rounds)"
        )
        key = secrets.token_urlsafe(24)  # the API key, and the owner key that approves the client
        store = tempfile.mkdtemp(prefix="nbmcp-bench-oauth-")
        cmd = self.nbmcp_cmd("nbmcp_server.py", True)
        modes = [
            ("none", "no auth", cmd, "", None),
            ("key", "API key (X-API-Key)", [*cmd, "--api-key", key], f"X-API-Key: {key}", None),
            ("jwt", "OAuth JWT (built-in server)",
             [*cmd, "--oauth", "--oauth-store", "memory", "--api-key", key], "", {"XDG_CONFIG_HOME": store}),
        ]  # fmt: skip
        servers: dict[str, Server] = {}
        headers: dict[str, str] = {}
        try:
            for name, _, mode_cmd, header, env in modes:
                ready = {"X-API-Key": key} if name != "none" else None
                servers[name] = self.start(f"auth-{name}", mode_cmd, env, ready)
                headers[name] = header
            base = servers["jwt"].url.removesuffix("/mcp")
            token = obtain_token(base, key)
            headers["jwt"] = f"Authorization: Bearer {token}"
            self._check_auth(servers, headers, key)
            points = [(name, label, servers[name], {"header": headers[name]}) for name, label, *_ in modes]
            self.auth = self.alternate(points, AUTH_ROUNDS, max(1, d // 2))
        finally:
            for server in servers.values():
                server.stop()
            shutil.rmtree(store, ignore_errors=True)

    # h
    def scenario_modern(self) -> None:
        """tools/call at c=32 on one stateless nbmcp: the plain-POST fast path vs 2026-07-28, A B rounds."""
        self.log(
            f"\n[h] tools/call add at c=32: plain POST (older revisions' fast path) vs 2026-07-28 (A B / B A, {MODERN_ROUNDS} rounds)"
        )
        server = self.start("nbmcp-modern", self.nbmcp_cmd("nbmcp_server.py", True))
        try:
            self._check_modern(server)
            points = [
                ("plain", "plain POST (2025-11-25)", server, {}),
                ("modern", "2026-07-28 (_meta + headers)", server, {"modern": True}),
            ]
            self.modern = self.alternate(points, MODERN_ROUNDS, max(1, self.args.duration // 2))
        finally:
            server.stop()

    def _check_modern(self, server: Server) -> None:
        """Before the load: the modern call is answered on the 2026-07-28 wire, the plain one is not."""
        status, _, body = post(server.url, MODERN_ADD_CALL, MODERN_HEADERS)
        flat = body.replace(" ", "")
        if status != 200 or '"resultType":"complete"' not in flat or '"text":"3"' not in flat:
            raise RuntimeError(f"nbmcp-modern: a 2026-07-28 tools/call answered {status}: {body[:200]}")
        status, _, body = post(server.url, ADD_CALL)
        if status != 200 or '"resultType"' in body:
            raise RuntimeError(f"nbmcp-modern: the plain POST did not take the older path: {body[:200]}")
        self.log("    checked: the 2026-07-28 call is answered with resultType, the plain POST without")

    def _check_auth(self, servers: dict[str, Server], headers: dict[str, str], key: str) -> None:
        """Before the load: each mode really asks for its credential, and the one wrk sends is right."""
        for name in ("key", "jwt"):
            url = servers[name].url
            status, got, _ = post(url, ADD_CALL)
            challenge = {k.lower(): v for k, v in got.items()}.get("www-authenticate", "")
            if status != 401 or not challenge.startswith("Bearer"):
                raise RuntimeError(f"auth-{name}: a call without credentials answered {status}, not 401")
            if name == "jwt" and "resource_metadata=" not in challenge:
                raise RuntimeError("auth-jwt: its 401 names no resource_metadata (is OAuth on?)")
            wrong = {"X-API-Key": key + "x"} if name == "key" else {"Authorization": "Bearer not-a-token"}
            status, _, _ = post(url, ADD_CALL, wrong)
            if status != 401:
                raise RuntimeError(f"auth-{name}: a wrong credential answered {status}, not 401")
        for name, header in headers.items():
            field, _, value = header.partition(": ")
            status, _, body = post(servers[name].url, ADD_CALL, {field: value} if header else None)
            if status != 200 or '"text":"3"' not in body.replace(" ", ""):
                raise RuntimeError(f"auth-{name}: the credential wrk sends answered {status}")
        self.log("    checked: key and JWT servers refuse no and wrong credentials (401), accept wrk's (200)")

    # d
    def scenario_register(self) -> None:
        self.log("\n[d] registering 1,000 distinct tools in process")
        for fw in ("nbmcp", "fastmcp"):
            env = {**os.environ, **(self.fastmcp_env if fw == "fastmcp" else {})}
            done = subprocess.run(
                ["taskset", "-c", SERVER_CPU, sys.executable, str(BENCH / "register_time.py"), fw, "1000"],
                capture_output=True, text=True, timeout=300, cwd=ROOT, env=env,
            )  # fmt: skip
            line = next((ln for ln in done.stdout.splitlines() if ln.startswith("{")), None)
            if done.returncode != 0 or line is None:
                self.problems.append(f"register_time {fw} failed: {done.stderr[-500:]}")
                continue
            self.register[fw] = json.loads(line)
            r = self.register[fw]
            self.log(
                f"    {fw:<8} {r['mean_ms']:.3f} ms/tool mean, p50 {r['p50_ms']:.3f} ms, total {r['total_s']:.2f} s"
            )

    # profile
    def scenario_profile(self) -> None:
        pyspy = shutil.which("py-spy")
        if pyspy is None:
            self.log("\n[profile] py-spy not installed (pip install py-spy): skipped")
            return
        secs = max(4, self.args.profile_seconds)
        self.log(f"\n[profile] py-spy on nbmcp (stateless) under c=32 load for {secs} s")
        raw = self.logdir / "profile.txt"
        svg = self.logdir / "profile.svg"
        gclog = self.logdir / "profile-gc.json"
        # The diag server with only BENCH_GC_LOG set is nbmcp_server.py plus a gc.callbacks hook
        # that times collections (py-spy cannot see the collector: its time lands in whatever
        # frame allocated).
        server = self.start(
            "nbmcp-profile", self.nbmcp_cmd("nbmcp_diag.py", True), {"BENCH_GC_LOG": str(gclog)}
        )
        env = {**os.environ, "BENCH_METHOD": "call"}

        def load(seconds: int) -> subprocess.Popen[str]:
            return subprocess.Popen(
                ["taskset", "-c", LOAD_CPU, "wrk", "-t2", "-c32", f"-d{seconds}s", "--timeout", "5s",
                 "-s", str(LUA), server.url],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
            )  # fmt: skip

        def finish(proc: subprocess.Popen[str], timeout: float) -> dict[str, Any]:
            try:
                out, _ = proc.communicate(timeout=timeout)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait(5)
            line = next((ln for ln in out.splitlines() if ln.startswith("BENCHJSON ")), None)
            info: dict[str, Any] = json.loads(line[len("BENCHJSON ") :]) if line else {}
            if not info or info.get("mismatches") or any(info.get("errors", {}).values()):
                self.problems.append(f"profile load: wrong answers or errors: {info or out[-300:]}")
            return info

        try:
            wrk(server, 32, 2)  # warm
            # Garbage collection over a load window without the profiler attached (py-spy
            # reading the process's memory roughly doubles the collector's time).
            os.kill(server.pid, signal.SIGUSR2)
            time.sleep(0.7)  # the handlers run on the main thread, which wakes twice a second
            cpu0 = proc_stats(server.pid)["cpu_ticks"]
            gc_load = wrk(server, 32, secs)
            requests = gc_load.get("requests", 0)
            cpu_ms = (proc_stats(server.pid)["cpu_ticks"] - cpu0) / TICK * 1000
            os.kill(server.pid, signal.SIGUSR1)
            time.sleep(0.7)
            gc_text = gclog.read_text() if gclog.exists() else ""
            main = load(secs + 4)
            time.sleep(1)
            spy = ["taskset", "-c", LOAD_CPU, pyspy, "record", "--pid", str(server.pid), "--duration", str(secs), "--rate", "250",
                   "--threads", "--nonblocking"]  # fmt: skip
            subprocess.run([*spy, "--format", "raw", "-o", str(raw)], capture_output=True, timeout=secs + 60)
            load_info = finish(main, secs + 60)
            # A flame graph for humans, from a second, shorter recording.
            second = load(6)
            time.sleep(1)
            subprocess.run(["taskset", "-c", LOAD_CPU, pyspy, "record", "--pid", str(server.pid), "--duration", "4", "--rate", "250",
                            "--nonblocking", "-o", str(svg)], capture_output=True, timeout=60)  # fmt: skip
            finish(second, 60)
        finally:
            server.stop()
        if not raw.exists():
            self.log("    py-spy produced no output (ptrace not permitted?)")
            return
        results = BENCH / "results"
        results.mkdir(exist_ok=True)
        shutil.copy(raw, results / "profile-nbmcp-c32.collapsed.txt")
        if svg.exists():
            shutil.copy(svg, results / "profile-nbmcp-c32.svg")
        self.profile = analyse_profile(raw.read_text())
        self.profile["load"] = {
            "rps_under_profiler": load_info.get("requests", 0)
            / max(load_info.get("duration_us", 1) / 1e6, 1e-9),
            "mismatches": load_info.get("mismatches"),
        }
        with contextlib.suppress(OSError, ValueError):
            gc_stats = json.loads(gc_text)["gc"]
            self.profile["gc"] = {
                "requests": requests,
                "cpu_ms": cpu_ms,
                "generations": gc_stats,
                "share_of_cpu_pct": 100 * sum(g["total_ms"] for g in gc_stats.values()) / max(cpu_ms, 1),
                "us_per_request": 1000 * sum(g["total_ms"] for g in gc_stats.values()) / max(requests, 1),
            }
            g = self.profile["gc"]
            self.log(f"    garbage collector: {g['share_of_cpu_pct']:.1f}% of server CPU ({g['us_per_request']:.1f} us/request); "
                     f"gen2 runs {gc_stats['2']['count']}, longest {gc_stats['2']['max_ms']:.1f} ms")  # fmt: skip
        for name, pct in self.profile["self"][:15]:
            self.log(f"    {pct:5.1f}%  {name}")


def open_session(url: str) -> tuple[str, str]:
    init = {"jsonrpc": "2.0", "id": 0, "method": "initialize",
            "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "1"}}}  # fmt: skip
    status, headers, body = post(url, init)
    sid = {k.lower(): v for k, v in headers.items()}.get("mcp-session-id")
    if status != 200 or not sid:
        raise RuntimeError(f"initialize failed: {status} {body[:300]}")
    version = json.loads(body)["result"]["protocolVersion"]
    status, _, body = post(url, {"jsonrpc": "2.0", "method": "notifications/initialized"},
                           {"Mcp-Session-Id": sid, "MCP-Protocol-Version": version})  # fmt: skip
    if status != 202:
        raise RuntimeError(f"notifications/initialized answered {status} {body[:200]}")
    return sid, version


_FRAME = re.compile(r"^(?P<fn>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")


def _short(frame: str) -> str:
    m = _FRAME.match(frame.strip())
    if not m:
        return frame.strip()
    path = m["file"]
    for marker in ("site-packages/", "lib/python3.11/", "/work/main/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    return f"{m['fn']} ({path})"


_BUCKETS = [
    ("sync-tool thread hop (executor submit/worker, future chaining, locks)",
     ("concurrent/futures/", "threading.py", "asyncio/futures.py", "inspect.py", "functools.py")),
    ("uvloop + httptools + socket I/O (native; leaf is the loop's root frame)", ("runner.py", "thread (")),
    ("uvicorn HTTP protocol (Python part)", ("uvicorn/",)),
    ("asyncio tasks, timeouts (Python part)", ("asyncio/",)),
    ("nbmcp code (incl. orjson / pydantic-core C calls it makes)", ("nbmcp/",)),
    ("pydantic / other libraries", ("pydantic", "site-packages")),
]  # fmt: skip


def _bucket(leaf: str) -> str:
    if leaf.startswith(("BackgroundServer._run", "(native code only")):
        return _BUCKETS[1][0]
    for name, needles in _BUCKETS:
        if any(n in leaf for n in needles):
            return name
    return "other"


def analyse_profile(text: str) -> dict[str, Any]:
    """Self time per function, time per thread and inclusive time of nbmcp functions."""
    self_time: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    per_thread: Counter[str] = Counter()
    buckets: Counter[str] = Counter()
    total = 0
    for line in text.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = stack.split(";")
        thread = frames[0]
        if thread.startswith("process ") and len(frames) > 1:
            frames = frames[1:]
            thread = frames[0]
        tname = re.sub(r"^thread \(\d+\):\s*", "", thread).strip() or thread
        tname = re.sub(r"\d+$", "N", tname)
        per_thread[tname] += count
        calls = [_short(f) for f in frames[1:]] or [
            f"(native code only: uvloop / httptools / syscalls) [{tname}]"
        ]
        self_time[calls[-1]] += count
        buckets[_bucket(calls[-1])] += count
        for name in set(calls):
            inclusive[name] += count
        total += count
    total = max(total, 1)
    return {
        "samples": total,
        "self": [(k, 100.0 * v / total) for k, v in self_time.most_common(25)],
        "threads": [(k, 100.0 * v / total) for k, v in per_thread.most_common(8)],
        "buckets": [(k, 100.0 * v / total) for k, v in buckets.most_common()],
        "inclusive_nbmcp": [(k, 100.0 * v / total) for k, v in inclusive.most_common(400) if "nbmcp/" in k][
            :20
        ],
        "inclusive_all": [(k, 100.0 * v / total) for k, v in inclusive.most_common(40)],
    }


# -- report --------------------------------------------------------------------------------


_ORDER = ["nbmcp", "nbmcp-modern", "nbmcp-stateful", "nbmcp-session", "fastmcp", "bare"]


def _sorted_loads(loads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def key(r: dict[str, Any]) -> tuple[int, int]:
        server = r.get("server", "")
        return (_ORDER.index(server) if server in _ORDER else len(_ORDER), r.get("conns", 0))

    return sorted(loads, key=key)


def build_report(
    b: Bench, started: dt.datetime, elapsed: float
) -> tuple[str, list[tuple[str, bool, str]], dict]:
    rows = {(r["server"], r["conns"]): r for r in b.loads if "rps" in r}

    def get(server: str, conns: int) -> dict[str, Any]:
        return rows.get((server, conns), {})

    floors: list[tuple[str, bool, str]] = []
    n32, f32 = get("nbmcp", 32), get("fastmcp", 32)
    if n32 and f32:
        x = n32["rps"] / f32["rps"]
        floors.append(
            (
                "tools/call c=32 >= 5x FastMCP (same run)",
                x >= 5.0,
                f"{x:.2f}x ({n32['rps']:.0f} vs {f32['rps']:.0f} req/s)",
            )
        )
    if n32:
        floors.append(("tools/call p99 at c=32 < 10 ms", n32["p99_us"] < 10_000, f"{ms(n32['p99_us'])} ms"))
    nl = next((r for r in b.lists if r["server"] == "nbmcp" and "rps" in r), None)
    if nl:
        floors.append(("tools/list of 1,000 tools < 10 ms (p99, c=1)", nl["p99_us"] < 10_000,
                       f"p99 {ms(nl['p99_us'])} ms, p50 {ms(nl['p50_us'])} ms"))  # fmt: skip
    reg = b.register.get("nbmcp")
    if reg:
        floors.append(
            ("registering a tool < 0.2 ms (mean of 1,000)", reg["mean_ms"] < 0.2, f"{reg['mean_ms']:.3f} ms")
        )
    if b.scale:
        sc = b.scale
        value = (f"ratio {sc['ratio']:.3f} ({sc['rps_1000']:.0f} vs {sc['rps_1']:.0f} req/s); "
                 f"CPU/request ratio {sc['cpu_ratio']:.3f} ({sc['cpu_us_1000']:.0f} vs {sc['cpu_us_1']:.0f} us)")  # fmt: skip
        ok = sc["ratio"] >= 0.9
        if sc.get("noisy"):
            # Rates from a busy machine are not comparable; server CPU per request still is.
            ok = sc["cpu_ratio"] >= 0.9
            value += " - machine busy during the runs: judged on CPU/request"
        floors.append(("tools/call with 1,000 tools within 10% of 1 tool", ok, value))
    floors.extend(auth_floors(b))
    floors.extend(modern_floors(b))

    L: list[str] = []
    L.append("# nbmcp benchmark results\n")
    L.append(f"Generated by `python bench/run.py{' --quick' if b.args.quick else ''}{' --profile' if b.args.profile else ''}` "
             f"on {started:%Y-%m-%d %H:%M} UTC ({elapsed:.0f} s run; warm-up {b.args.warmup} s, "
             f"measure {b.args.duration} s per point).\n")  # fmt: skip
    valid = not b.problems
    L.append(f"**Run validity: {'VALID' if valid else 'INVALID'}** (every response checked: status 200, JSON, "
             "same id, correct result)." + ("" if valid else "\n\n- " + "\n- ".join(b.problems)) + "\n")  # fmt: skip
    mach = machine()
    L.append("## Machine\n")
    L.append(
        f"- nproc: {mach['nproc']}; CPU: {mach['cpu']}; memory {mach['memory']}; kernel {mach['kernel']}"
    )
    L.append(f"- {mach['python']} ({mach['os']})")
    L.append("- " + ", ".join(f"{k} {v}" for k, v in versions().items()))
    L.append(f"- nbmcp source: {source_state()}")
    L.append(f"- servers pinned to CPU {SERVER_CPU} (`taskset -c {SERVER_CPU}`), wrk pinned to CPU {LOAD_CPU}; "
             "one server process at a time except in scenario c (two idle-or-loaded nbmcp processes).\n")  # fmt: skip

    L.append("## Floors\n")
    L.append("| floor | result | value |\n|---|---|---|")
    for name, ok, value in floors:
        L.append(f"| {name} | {'PASS' if ok else '**FAIL**'} | {value} |")
    L.append("")

    L.append("## a. tools/call `add` (1 tool registered)\n")
    L.append(
        "| server | conc | req/s | p50 ms | p99 ms | max ms | server CPU us/req | ctx sw/req | vs FastMCP | vs bare ASGI | other load CPU0/CPU1 % |"
    )
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in _sorted_loads(b.loads):
        if "rps" not in r:
            L.append(f"| {r.get('label')} | {r.get('conns')} | INVALID | | | | | | | | |")
            continue
        f, bare = get("fastmcp", r["conns"]), get("bare", r["conns"])
        L.append(
            f"| {r['label']} | {r['conns']} | {r['rps']:.0f} | {ms(r['p50_us'])} | {ms(r['p99_us'])} | {ms(r['max_us'])} | "
            f"{r['cpu_us_per_req']:.0f} | {r['ctx_per_req']:.2f} | "
            f"{ratio(r['rps'], f.get('rps')) if r['server'] != 'fastmcp' else '1.00x'} | {ratio(r['rps'], bare.get('rps'))} | "
            f"{r.get('foreign_server_cpu_pct', 0):.0f}/{r.get('foreign_load_cpu_pct', 0):.0f}"
            f"{' (noisy)' if r.get('noisy') else ''} |"
        )
    L.append("\n`vs` columns are req/s ratios (this row / FastMCP or bare ASGI at the same concurrency). "
             "\"stateful, with session\" sends `Mcp-Session-Id` and `MCP-Protocol-Version` from a real "
             "`initialize`; \"2026-07-28\" sends per-request `_meta` and `MCP-Protocol-Version`, `Mcp-Method` "
             "and `Mcp-Name` (scenario h); the other rows send only Content-Type and Accept. \"other load\" is CPU 0 time used by "
             "processes other than the server, and CPU 1 time used by processes other than wrk, during the point "
             f"(this machine is shared); points above {NOISY_PCT:.0f}% / {NOISY_LOAD_PCT:.0f}% are measured again "
             f"(up to {MAX_RETRIES_PER_POINT} times) and the quietest is kept; \"noisy\" marks one that stayed busy.\n")  # fmt: skip

    L.append("## b. tools/list with 1,000 tools (c=1, time per request)\n")
    L.append("| server | req/s | p50 ms | p90 ms | p99 ms | response bytes | vs FastMCP (p50) |")
    L.append("|---|---:|---:|---:|---:|---:|---:|")
    fl = next((r for r in b.lists if r["server"] == "fastmcp" and "rps" in r), {})
    for r in b.lists:
        if "rps" not in r:
            continue
        size = r["bytes"] / max(r["requests"], 1)
        speed = f"{fl['p50_us'] / r['p50_us']:.1f}x faster" if fl and r["server"] == "nbmcp" else "-"
        L.append(f"| {r['label']} | {r['rps']:.0f} | {ms(r['p50_us'])} | {ms(r['p90_us'])} | {ms(r['p99_us'])} | "
                 f"{size:,.0f} | {speed} |")  # fmt: skip
    L.append("")

    L.append("## c. tools/call `add` with 1,000 tools vs 1 tool (nbmcp stateless, c=32, A B A B)\n")
    if b.scale:
        s = b.scale
        L.append(
            f"- 1 tool: {s['rps_1']:.0f} req/s (runs {', '.join(f'{x:.0f}' for x in s['runs']['1'] if x)})"
        )
        L.append(f"- 1,000 tools: {s['rps_1000']:.0f} req/s (runs {', '.join(f'{x:.0f}' for x in s['runs']['1000'] if x)}); "
                 f"p99 {ms(s['p99_1000_us'])} ms")  # fmt: skip
        L.append(
            f"- ratio 1,000/1: **{s['ratio']:.3f}** (req/s); server CPU per request {s['cpu_us_1']:.0f} us "
            f"(1 tool) vs {s['cpu_us_1000']:.0f} us (1,000 tools): capacity ratio **{s['cpu_ratio']:.3f}**"
            f"{' (some rounds ran on a busy machine)' if s.get('noisy') else ''}\n"
        )

    L.append("## d. registering 1,000 distinct tools (in process, `server.tool(fn)`)\n")
    L.append("| framework | mean ms/tool | p50 ms | p99 ms | max ms | total s |")
    L.append("|---|---:|---:|---:|---:|---:|")
    for fw, r in b.register.items():
        L.append(
            f"| {fw} | {r['mean_ms']:.3f} | {r['p50_ms']:.3f} | {r['p99_ms']:.3f} | {r['max_ms']:.2f} | {r['total_s']:.2f} |"
        )
    L.append("")

    L.append("## e. memory (VmRSS from /proc/PID/status)\n")
    L.append(
        "| server process | idle RSS after start MiB | RSS after load MiB | peak (VmHWM) MiB | threads idle | start-up s |"
    )
    L.append("|---|---:|---:|---:|---:|---:|")
    for r in b.rss:
        if r["server"] == "nbmcp-profile":
            continue
        after = f"{r['rss_after_load_kb'] / 1024:.1f}" if "rss_after_load_kb" in r else "-"
        hwm = f"{r['hwm_kb'] / 1024:.1f}" if "hwm_kb" in r else "-"
        L.append(
            f"| {r['server']} | {r['rss_kb'] / 1024:.1f} | {after} | {hwm} | {r['threads']} | {r['ready_s']:.1f} |"
        )
    L.append("")

    L.append("## f. REST path\n")
    L.append(
        "The REST facade (`POST /tools/{name}`) is measured against the `/mcp` plain POST in the same "
        "run by `python bench/rest_vs_mcp.py` (floor: within 10%).\n"
    )
    L.extend(auth_section(b))
    L.extend(modern_section(b))

    if b.profile:
        p = b.profile
        L.append("## Profile: nbmcp (stateless) under tools/call c=32\n")
        L.append(f"py-spy 250 Hz, `--threads --nonblocking`, {p['samples']} non-idle samples; load under the "
                 f"profiler {p['load'].get('rps_under_profiler', 0):.0f} req/s (mismatches: {p['load'].get('mismatches')}). "
                 "Raw stacks: `bench/results/profile-nbmcp-c32.collapsed.txt`; flame graph: `bench/results/profile-nbmcp-c32.svg`.\n")  # fmt: skip
        L.append(
            "Shares are of *runnable* samples: with the process pinned to one core, a worker thread woken "
            "for a sync tool counts while it waits for the CPU and the GIL, so the thread-hop bucket "
            "measures hand-off time rather than pure CPU. The diagnostic rows in section a (async `add`) "
            "give the direct measure of that hop.\n"
        )
        L.append("Share of samples per thread:\n")
        L.append("| thread | % |\n|---|---:|")
        for k, v in p["threads"]:
            L.append(f"| {k} | {v:.1f} |")
        if p.get("gc"):
            g = p["gc"]
            L.append("\nGarbage collection (timed with `gc.callbacks` in the same process over "
                     f"{g['requests']:,} requests at c=32 just before py-spy attached; py-spy cannot see it): **{g['share_of_cpu_pct']:.1f}% of the "
                     f"server's CPU time, {g['us_per_request']:.1f} us per request**.\n")  # fmt: skip
            L.append(
                "| generation | collections | CPU ms | longest (CPU ms) | wall ms | objects collected |\n|---|---:|---:|---:|---:|---:|"
            )
            for gen, st in sorted(g["generations"].items()):
                L.append(
                    f"| {gen} | {st['count']} | {st['total_ms']:.0f} | {st['max_ms']:.1f} | {st.get('wall_ms', 0):.0f} | {st['collected']} |"
                )
        L.append("\nWhere the samples go (by the leaf frame's file):\n")
        L.append("| % samples | bucket |\n|---:|---|")
        for k, v in p["buckets"]:
            L.append(f"| {v:.1f} | {k} |")
        L.append("\nTop self time (leaf Python frame; time in C extensions such as uvloop, httptools and orjson is "
                 "charged to the Python frame that called them):\n")  # fmt: skip
        L.append("| % samples | function (file) |\n|---:|---|")
        for k, v in p["self"][:20]:
            L.append(f"| {v:.1f} | `{k}` |")
        L.append("\nInclusive time of nbmcp functions:\n")
        L.append("| % samples | function (file) |\n|---:|---|")
        for k, v in p["inclusive_nbmcp"][:15]:
            L.append(f"| {v:.1f} | `{k}` |")
        L.append("")
    data = {
        "started": started.isoformat(),
        "elapsed_s": elapsed,
        "args": vars(b.args),
        "machine": mach,
        "source": source_state(),
        "versions": versions(),
        "valid": valid,
        "problems": b.problems,
        "floors": [{"floor": n, "pass": ok, "value": v} for n, ok, v in floors],
        "loads": b.loads,
        "lists": b.lists,
        "scale": b.scale,
        "register": b.register,
        "rss": b.rss,
        "profile": b.profile,
        "auth": b.auth,
        "modern": b.modern,
    }
    return "\n".join(L), floors, data


def ratio_floor(name: str, out: dict[str, Any], mode: str, base: str) -> tuple[str, bool, str]:
    """A floor "``mode`` >= 0.9 x ``base``" on :meth:`Bench.alternate` figures (req/s; CPU/request when noisy)."""
    m, b = out["modes"][mode], out["modes"][base]
    value = (f"ratio {m['ratio']:.3f} ({m['rps']:.0f} vs {b['rps']:.0f} req/s); CPU/request ratio "
             f"{m['cpu_ratio']:.3f} ({m['cpu_us_per_req']:.0f} vs {b['cpu_us_per_req']:.0f} us)")  # fmt: skip
    ok = m["ratio"] >= 0.9
    if out.get("noisy"):  # rates from a busy machine are not comparable; CPU per request is
        ok = m["cpu_ratio"] >= 0.9
        value += " - machine busy during the runs: judged on CPU/request"
    return name, ok, value


def auth_floors(b: Bench) -> list[tuple[str, bool, str]]:
    """Scenario g: tools/call with an API key and with a JWT, each within 10% of no auth."""
    if not b.auth:
        return []
    return [
        ratio_floor(f"tools/call c=32 with {what} within 10% of no auth", b.auth, name, "none")
        for name, what in (("key", "an API key"), ("jwt", "an OAuth JWT"))
    ]


def modern_floors(b: Bench) -> list[tuple[str, bool, str]]:
    """Scenario h: the 2026-07-28 tools/call within 10% of the older revisions' plain-POST fast path."""
    if not b.modern:
        return []
    name = "2026-07-28 tools/call c=32 >= 0.9x older-revision fast path (same run)"
    return [ratio_floor(name, b.modern, "modern", "plain")]


def modes_table(out: dict[str, Any], names: tuple[str, ...], versus: str) -> list[str]:
    """The rows of :meth:`Bench.alternate` figures, the first mode being what ``versus`` names."""
    L = [f"| mode | req/s | p50 ms | p99 ms | server CPU us/req | vs {versus} (req/s) | vs {versus} (CPU/req) "
         "| runs req/s | other load CPU0 % |"]  # fmt: skip
    L.append("|---|---:|---:|---:|---:|---:|---:|---|---|")  # fmt: skip
    for name in names:
        m = out["modes"][name]
        vs = f"{m['ratio']:.3f}" if "ratio" in m else "1.000"
        cpu = f"{m['cpu_ratio']:.3f}" if "cpu_ratio" in m else "1.000"
        runs = ", ".join(f"{x:.0f}" for x in m["runs"] if x)
        load = ", ".join(f"{x:.0f}" for x in m["other_load"])
        L.append(f"| {m['label']} | {m['rps']:.0f} | {ms(m['p50_us'])} | {ms(m['p99_us'])} | "
                 f"{m['cpu_us_per_req']:.0f} | {vs} | {cpu} | {runs} | {load} |")  # fmt: skip
    return L


def modern_section(b: Bench) -> list[str]:
    """The scenario h table and how it was measured."""
    if not b.modern:
        return []
    L = [
        "## h. tools/call `add`: the older revisions' plain POST vs 2026-07-28 (nbmcp stateless, c=32, A B)\n"
    ]
    L.extend(modes_table(b.modern, ("plain", "modern"), "plain POST"))
    L.append(
        "\nOne `nbmcp serve bench/servers/nbmcp_server.py --stateless` process, measured in turn "
        f"(each point a warm-up, then half the measure time), {MODERN_ROUNDS} rounds; figures are the "
        "means. *plain POST*: the fast path of the handshake-era revisions (Content-Type and Accept "
        "only, no `_meta`), answered as 2025-11-25. *2026-07-28*: wrk also sends `params._meta` with "
        "`protocolVersion`, `clientCapabilities` and `clientInfo` and the headers "
        "`MCP-Protocol-Version: 2026-07-28`, `Mcp-Method: tools/call`, `Mcp-Name: add`, and checks "
        '`"resultType":"complete"` in every answer (`BENCH_MODERN=1`). Before the load one call of '
        "each kind is checked to take its own path.\n"
    )
    return L


def auth_section(b: Bench) -> list[str]:
    """The scenario g table and how it was measured (in RESULTS.md and AUTH_RESULTS.md)."""
    if not b.auth:
        return []
    L = ["## g. tools/call `add` with authentication (nbmcp stateless, c=32, A B C rounds)\n"]
    L.extend(modes_table(b.auth, ("none", "key", "jwt"), "no auth"))
    L.append(
        "\nThree `nbmcp serve bench/servers/nbmcp_server.py --stateless` processes, one per mode, all "
        "started before the first point and measured in turn (each point a warm-up, then half the "
        f"measure time), {AUTH_ROUNDS} rounds, so drift on the machine hits every mode alike; figures are "
        "the means of the rounds. *no auth*: no flag. *API key*: `--api-key K`, wrk sends `X-API-Key: K`. "
        "*OAuth JWT*: `--oauth --oauth-store memory --api-key K` (the owner key, which OAuth mode "
        "always has, so a bearer token is first compared with the keys, then verified as a token); "
        "the token is obtained before the load through the real flow (`bench/oauth_token.py`: "
        "dynamic registration, the consent form posted with the owner key, the code traded with "
        "PKCE at `/token`) and wrk sends `Authorization: Bearer <JWT>`. Before the load each "
        "protected server is checked to answer 401 without and with a wrong credential and 200 "
        "with wrk's. The built-in verifier checks a token's signature once and keeps the verified "
        "principal until the token expires (a bounded cache, dropped on any revocation). `ratio` "
        "columns: this mode / no auth (req/s), and no auth / this mode (CPU per request).\n"
    )
    return L


def build_auth_report(b: Bench, started: dt.datetime, elapsed: float) -> str:
    """``AUTH_RESULTS.md``: scenario g on its own (written whenever it ran)."""
    mach = machine()
    valid = not b.problems
    L = ["# nbmcp benchmark results: authentication on the call path\n"]
    L.append(f"Generated by `python bench/run.py --only {b.args.only}` on {started:%Y-%m-%d %H:%M} UTC "
             f"({elapsed:.0f} s run; warm-up {b.args.warmup} s, measure {b.args.duration} s per point, "
             "half of it per point here).\n")  # fmt: skip
    L.append(f"**Run validity: {'VALID' if valid else 'INVALID'}** (every response checked: status 200, JSON, "
             "same id, correct result)." + ("" if valid else "\n\n- " + "\n- ".join(b.problems)) + "\n")  # fmt: skip
    L.append("## Machine\n")
    L.append(f"- nproc: {mach['nproc']}; CPU: {mach['cpu']}; kernel {mach['kernel']}; {mach['python']}")
    L.append(
        f"- nbmcp source: {source_state()}; PyJWT {_version_of('pyjwt')}, cryptography {_version_of('cryptography')}"
    )
    L.append(f"- servers pinned to CPU {SERVER_CPU}, wrk to CPU {LOAD_CPU}\n")
    L.append("## Floors\n")
    L.append("| floor | result | value |\n|---|---|---|")
    for name, ok, value in auth_floors(b):
        L.append(f"| {name} | {'PASS' if ok else '**FAIL**'} | {value} |")
    L.append("")
    L.extend(auth_section(b))
    return "\n".join(L)


def _version_of(pkg: str) -> str:
    try:
        return importlib.metadata.version(pkg)
    except importlib.metadata.PackageNotFoundError:
        return "-"


def print_table(b: Bench, floors: list[tuple[str, bool, str]]) -> None:
    rows = {(r["server"], r["conns"]): r for r in b.loads if "rps" in r}
    print("\n" + "=" * 112)
    print(f"{'tools/call add':<34}{'conc':>5}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'cpu us/req':>12}"
          f"{'vs FastMCP':>12}{'vs bare':>10}  valid")  # fmt: skip
    for r in _sorted_loads(b.loads):
        if "rps" not in r:
            print(f"{r.get('label', '?'):<34}{r.get('conns', 0):>5}   INVALID")
            continue
        f, bare = rows.get(("fastmcp", r["conns"]), {}), rows.get(("bare", r["conns"]), {})
        print(f"{r['label']:<34}{r['conns']:>5}{r['rps']:>10.0f}{ms(r['p50_us']):>9}{ms(r['p99_us']):>9}"
              f"{r['cpu_us_per_req']:>12.0f}{ratio(r['rps'], f.get('rps')):>12}{ratio(r['rps'], bare.get('rps')):>10}"
              f"  {'yes' if r['valid'] else 'NO'}")  # fmt: skip
    for r in b.lists:
        if "rps" in r:
            print(f"{r['label']:<34}{1:>5}{r['rps']:>10.0f}{ms(r['p50_us']):>9}{ms(r['p99_us']):>9}"
                  f"{r['cpu_us_per_req']:>12.0f}{'':>22}  {'yes' if r['valid'] else 'NO'}")  # fmt: skip
    if b.scale:
        print(
            f"1,000 tools vs 1 (c=32): {b.scale['rps_1000']:.0f} / {b.scale['rps_1']:.0f} req/s = {b.scale['ratio']:.3f}"
        )
    for fw, r in b.register.items():
        print(f"register ({fw}): {r['mean_ms']:.3f} ms/tool mean")
    for what, out, base in (("auth", b.auth, "no auth"), ("wire", b.modern, "plain POST")):
        for m in (out.get("modes") or {}).values():
            vs = f"  {m['ratio']:.3f} of {base} (CPU/request {m['cpu_ratio']:.3f})" if "ratio" in m else ""
            print(f"{what} {m['label']:<28} c=32 {m['rps']:>8.0f} req/s  p50 {ms(m['p50_us'])} ms  "
                  f"p99 {ms(m['p99_us'])} ms  cpu {m['cpu_us_per_req']:.0f} us/req{vs}")  # fmt: skip
    for r in b.rss:
        print(f"idle RSS {r['server']}: {r['rss_kb'] / 1024:.1f} MiB")
    print("REST path: see `python bench/rest_vs_mcp.py` (POST /tools/add vs the /mcp plain POST)")
    print("-" * 112)
    for name, ok, value in floors:
        print(f"{'PASS' if ok else 'FAIL'}  {name}: {value}")
    print("=" * 112)


def write_keeping_notes(path: Path, text: str) -> None:
    """Write a results file, keeping whatever follows its notes marker."""
    notes = ""
    if path.exists():
        old = path.read_text()
        if NOTES_MARKER in old:
            notes = old.split(NOTES_MARKER, 1)[1]
    path.write_text(text + "\n" + NOTES_MARKER + (notes if notes else "\n"))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 s warm-up, 3 s per point (~1 min)")
    parser.add_argument(
        "--duration", type=int, default=None, help="seconds per measurement (default 10, quick 3)"
    )
    parser.add_argument(
        "--warmup", type=int, default=None, help="warm-up seconds before each point (default 2, quick 1)"
    )
    parser.add_argument("--profile", action="store_true", help="also profile nbmcp with py-spy under c=32")
    parser.add_argument("--profile-seconds", type=int, default=10)
    parser.add_argument(
        "--only",
        default="calls,many,register,auth,modern",
        help="comma list of: calls,many,register,auth,modern",
    )
    parser.add_argument(
        "--retries", type=int, default=8, help="re-measurements allowed when CPU 0 is busy elsewhere"
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=None,
        help="seconds per run allowed for waiting until other processes leave the CPUs (default 90, quick 20)",
    )
    parser.add_argument("--no-diag", action="store_true", help="skip the diagnostic nbmcp variants")
    parser.add_argument("--no-write", action="store_true", help="do not rewrite bench/RESULTS.md")
    args = parser.parse_args()
    if args.duration is None:
        args.duration = 3 if args.quick else 10
    if args.warmup is None:
        args.warmup = 1 if args.quick else 2
    if args.quiet_wait is None:
        args.quiet_wait = 20.0 if args.quick else 90.0
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            print(f"bench: {tool} not found (apt-get install wrk util-linux)", file=sys.stderr)
            return 2
    if len(os.sched_getaffinity(0)) < 2:
        print("bench: needs 2 CPUs (server on 0, load on 1)", file=sys.stderr)
        return 2

    atexit.register(_stop_all)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGHUP, _on_signal)
    started = dt.datetime.now(dt.timezone.utc)
    t0 = time.monotonic()
    logdir = Path(tempfile.mkdtemp(prefix="nbmcp-bench-"))
    b = Bench(args, logdir)
    only = set(args.only.split(","))
    print(f"bench: logs in {logdir}; warm-up {args.warmup} s, {args.duration} s per point", flush=True)
    try:
        if "register" in only:
            b.scenario_register()
        if "calls" in only:
            b.scenario_calls()
        if "many" in only:
            b.scenario_many_tools()
        if "auth" in only:
            b.scenario_auth()
        if "modern" in only:
            b.scenario_modern()
        if args.profile:
            b.scenario_profile()
    except (
        Exception
    ) as exc:  # a server that will not start, wrk missing ...: report, never leave servers behind
        b.problems.append(f"aborted: {type(exc).__name__}: {exc}")
        print(f"bench: aborted: {exc}", file=sys.stderr)
    finally:
        _stop_all()
    elapsed = time.monotonic() - t0
    text, floors, data = build_report(b, started, elapsed)
    print_table(b, floors)
    if b.problems:
        print("INVALID RUN:\n  " + "\n  ".join(b.problems))
    if not args.no_write:
        (BENCH / "results").mkdir(exist_ok=True)
        if only - {"auth", "modern"}:  # `--only auth` / `--only modern` leave the other figures alone
            write_keeping_notes(BENCH / "RESULTS.md", text)
            (BENCH / "results" / "latest.json").write_text(json.dumps(data, indent=1, default=str))
            print(f"wrote bench/RESULTS.md and bench/results/latest.json ({elapsed:.0f} s)")
        if b.auth:
            write_keeping_notes(BENCH / "AUTH_RESULTS.md", build_auth_report(b, started, elapsed))
            auth_data = {
                k: data[k] for k in ("started", "elapsed_s", "machine", "source", "valid", "problems", "auth")
            }
            (BENCH / "results" / "auth.json").write_text(json.dumps(auth_data, indent=1, default=str))
            print("wrote bench/AUTH_RESULTS.md and bench/results/auth.json")
        if b.modern:
            modern_data = {
                k: data[k]
                for k in ("started", "elapsed_s", "machine", "source", "valid", "problems", "modern")
            }
            (BENCH / "results" / "modern.json").write_text(json.dumps(modern_data, indent=1, default=str))
            print("wrote bench/results/modern.json")
    if b.problems:
        return 1
    return 0 if all(ok for _, ok, _ in floors) else 3


if __name__ == "__main__":
    sys.exit(main())
