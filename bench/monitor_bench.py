#!/usr/bin/env python3
"""The cost of keeping every call: ``tools/call`` at c=32 with ``--journal`` (and ``--log-calls``) vs off.

    python bench/monitor_bench.py             # 3 rounds (A B C, C B A, A B C), 5 s a point (half --duration): ~1.5 min
    python bench/monitor_bench.py --quick     # 3 rounds, 1 s warm-up, 2 s a point
    python bench/monitor_bench.py --no-write  # print only

Three ``nbmcp serve bench/servers/nbmcp_server.py --stateless`` processes, pinned to CPU 0 by
``bench/run.py``'s machinery (its ``Server``, ``wrk`` with ``bench/wrk/mcp.lua`` on CPU 1, the
quiet-CPU wait and the re-measuring of noisy points): *off* (no flag), *journal*
(``--journal calls.db``) and *journal + log* (``--journal both.db --log-calls both.jsonl``), in
a temporary directory. All are started first, then measured in turn, three rounds in alternating order (A B C, C B A, A B C), so
drift on the machine hits each alike; figures are the means of the rounds. Every answer is
checked by wrk's script (a wrong answer, a non-200 or a lost response makes the run INVALID,
exit 1).

After the load the servers are stopped with SIGTERM and their files are checked: every line of
the log parses, the log holds at least as many calls as wrk counted answers, and the journal
beside it holds exactly the log's calls (same ids, same order); the journal alone holds at least
as many calls as wrk counted. Floors: the *journal* req/s at least 0.90 of *off* (the issue's
floor), and the same for *journal + log* (judged on server CPU per request when other processes
loaded the CPUs during the run). Results: a table on stdout, ``bench/MONITOR_RESULTS.md`` and
``bench/results/monitor.json``.
"""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import json
import os
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import run  # noqa: E402  (bench/run.py: the servers, wrk and the report helpers)

ROUNDS = 3
FLOOR = 0.90
RESULTS = BENCH / "MONITOR_RESULTS.md"


def _ids(journal: Path) -> list[str]:
    db = sqlite3.connect(f"file:{journal}?mode=ro", uri=True)
    try:
        return [row[0] for row in db.execute("SELECT id FROM calls ORDER BY seq")]
    finally:
        db.close()


def _files_check(work: Path, answered: dict[str, int]) -> tuple[dict[str, Any], list[str]]:
    """What the servers left behind, after a clean stop; problems found."""
    problems: list[str] = []
    ids: list[str] = []
    with (work / "both.jsonl").open("rb") as f:
        for number, line in enumerate(f, 1):
            try:
                ids.append(json.loads(line)["id"])
            except (ValueError, KeyError) as exc:
                problems.append(f"call log line {number} does not parse: {exc}")
                break
    beside, alone = _ids(work / "both.db"), _ids(work / "calls.db")
    if len(ids) < answered["both"]:
        problems.append(f"the call log holds {len(ids)} calls, wrk counted {answered['both']} answers")
    if beside != ids:
        problems.append(
            f"the journal beside the log holds {len(beside)} calls, the log {len(ids)} (or in another order)"
        )
    if len(alone) < answered["journal"]:
        problems.append(
            f"the journal alone holds {len(alone)} calls, wrk counted {answered['journal']} answers"
        )
    files = {
        "log_calls": len(ids),
        "log_bytes": (work / "both.jsonl").stat().st_size,
        "journal_calls": len(alone),
        "journal_bytes": (work / "calls.db").stat().st_size + (work / "calls.db-wal").stat().st_size,
        "answered_measured": answered,
    }
    return files, problems


MODES = ("off", "journal", "both")


def measure(b: run.Bench, work: Path) -> dict[str, Any]:
    """Start the servers, measure them in turn for ``ROUNDS`` rounds (run.Bench.alternate), stop them, check the files."""
    cmd = b.nbmcp_cmd("nbmcp_server.py", True)
    modes = [
        ("off", "monitoring off", cmd),
        ("journal", "--journal", [*cmd, "--journal", str(work / "calls.db")]),
        ("both", "--journal + --log-calls",
         [*cmd, "--journal", str(work / "both.db"), "--log-calls", str(work / "both.jsonl")]),
    ]  # fmt: skip
    servers: dict[str, run.Server] = {}
    try:
        for name, _, mode_cmd in modes:
            servers[name] = b.start(f"monitor-{name}", mode_cmd)
        points = [(name, label, servers[name], {}) for name, label, _ in modes]
        out = b.alternate(points, ROUNDS, max(1, b.args.duration // 2))
        for server in servers.values():  # a clean stop: the journals write what they queued
            server.proc.send_signal(signal.SIGTERM)
        for server in servers.values():
            server.proc.wait(30)
    finally:
        for server in servers.values():
            server.stop()

    off = out["modes"]["off"]
    for name in ("journal", "both"):
        m = out["modes"][name]
        m["extra_cpu_us_per_req"] = m["cpu_us_per_req"] - off["cpu_us_per_req"]
    answered = {name: out["modes"][name]["requests"] for name in ("journal", "both")}
    out["files"], problems = _files_check(work, answered)
    b.problems.extend(problems)
    return out


def floors(result: dict[str, Any]) -> list[tuple[str, bool, str]]:
    off = result["modes"]["off"]
    found = []
    for name, what in (("journal", "--journal"), ("both", "--journal and --log-calls")):
        m = result["modes"][name]
        value = (f"ratio {m['ratio']:.3f} ({m['rps']:.0f} vs {off['rps']:.0f} req/s); CPU/request ratio "
                 f"{m['cpu_ratio']:.3f} ({m['cpu_us_per_req']:.0f} vs {off['cpu_us_per_req']:.0f} us)")  # fmt: skip
        ok = m["ratio"] >= FLOOR
        if result.get("noisy"):  # rates from a busy machine are not comparable; CPU per request is
            ok = m["cpu_ratio"] >= FLOOR
            value += " - machine busy during the runs: judged on CPU/request"
        found.append((f"tools/call c=32 with {what} within 10% of monitoring off", ok, value))
    return found


def report(b: run.Bench, result: dict[str, Any], started: dt.datetime, elapsed: float) -> str:
    mach = run.machine()
    valid = not b.problems
    files = result["files"]
    L = ["# nbmcp benchmark results: the call journal and the call log on the call path\n"]
    L.append(f"Generated by `python bench/monitor_bench.py` on {started:%Y-%m-%d %H:%M} UTC ({elapsed:.0f} s run; "
             f"warm-up {b.args.warmup} s, {max(1, b.args.duration // 2)} s per point, {ROUNDS} rounds, A B C then C B A ...).\n")  # fmt: skip
    L.append(f"**Run validity: {'VALID' if valid else 'INVALID'}** (every response checked: status 200, JSON, "
             "same id, correct result; the files checked after the load)." + ("" if valid else "\n\n- " + "\n- ".join(b.problems)) + "\n")  # fmt: skip
    L.append("## Machine\n")
    L.append(f"- nproc: {mach['nproc']}; CPU: {mach['cpu']}; kernel {mach['kernel']}; {mach['python']}")
    L.append(f"- nbmcp source: {run.source_state()}; SQLite {sqlite3.sqlite_version}")
    L.append(f"- servers pinned to CPU {run.SERVER_CPU}, wrk to CPU {run.LOAD_CPU}\n")
    L.append("## Floors\n")
    L.append("| floor | result | value |\n|---|---|---|")
    for name, ok, value in floors(result):
        L.append(f"| {name} | {'PASS' if ok else '**FAIL**'} | {value} |")
    L.append("\n## tools/call `add` (nbmcp stateless, c=32)\n")
    L.append(
        "| mode | req/s | p50 ms | p99 ms | server CPU us/req | extra CPU us/req | vs off (req/s) | vs off (CPU/req) | runs req/s | other load CPU0 % |"
    )
    L.append("|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
    for name in MODES:
        m = result["modes"][name]
        runs = ", ".join(f"{x:.0f}" for x in m["runs"] if x)
        load = ", ".join(f"{x:.0f}" for x in m["other_load"])
        L.append(f"| {m['label']} | {m['rps']:.0f} | {run.ms(m['p50_us'])} | {run.ms(m['p99_us'])} | {m['cpu_us_per_req']:.0f} | "
                 f"{m.get('extra_cpu_us_per_req', 0):.0f} | {m.get('ratio', 1.0):.3f} | {m.get('cpu_ratio', 1.0):.3f} | {runs} | {load} |")  # fmt: skip
    per_call = files["log_bytes"] / files["log_calls"] if files["log_calls"] else 0
    L.append(
        f"\nAfter the load: the call log held {files['log_calls']} calls ({files['log_bytes'] / 1e6:.1f} MB, "
        f"{per_call:.0f} bytes a call) for {files['answered_measured']['both']} answers wrk counted in the measured "
        f"points (the rest: warm-ups, re-measured points, the readiness call), and the journal beside it the "
        f"same ids in the same order; the journal alone {files['journal_calls']} calls "
        f"({files['journal_bytes'] / 1e6:.1f} MB with its WAL).\n"
    )
    L.append(
        "How: `nbmcp serve bench/servers/nbmcp_server.py --stateless`, without a flag, with `--journal calls.db`, "
        "and with `--journal both.db --log-calls both.jsonl`; all started first, then measured in turn. "
        "With the log, each finished call is encoded once on its path as its JSON line (secrets redacted) and "
        "written with one `write(2)` before the answer leaves, and the journal gets the same bytes queued. With "
        "the journal alone, the call's path only queues the record; a thread encodes the queued records and "
        "inserts them every 50 ms, one row per batch in one transaction.\n"
    )
    return "\n".join(L)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="1 s warm-up, 2 s per point")
    parser.add_argument(
        "--duration", type=int, default=None, help="seconds per A+B pair (default 10, quick 4)"
    )
    parser.add_argument(
        "--warmup", type=int, default=None, help="warm-up seconds before each point (default 2)"
    )
    parser.add_argument(
        "--retries", type=int, default=6, help="re-measurements allowed when CPU 0 is busy elsewhere"
    )
    parser.add_argument(
        "--quiet-wait", type=float, default=None, help="seconds per run to wait for quiet CPUs (default 60)"
    )
    parser.add_argument("--no-write", action="store_true", help="do not write MONITOR_RESULTS.md")
    args = parser.parse_args()
    args.duration = args.duration or (4 if args.quick else 10)
    args.warmup = args.warmup if args.warmup is not None else (1 if args.quick else 2)
    args.quiet_wait = args.quiet_wait if args.quiet_wait is not None else (15.0 if args.quick else 60.0)
    args.only = "monitor"
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            print(f"bench: {tool} not found (apt-get install wrk util-linux)", file=sys.stderr)
            return 2
    if len(os.sched_getaffinity(0)) < 2:
        print("bench: needs 2 CPUs (server on 0, load on 1)", file=sys.stderr)
        return 2
    atexit.register(run._stop_all)
    signal.signal(signal.SIGTERM, run._on_signal)
    started = dt.datetime.now(dt.timezone.utc)
    t0 = time.monotonic()
    logdir = Path(tempfile.mkdtemp(prefix="nbmcp-bench-monitor-"))
    workdir = Path(tempfile.mkdtemp(prefix="nbmcp-bench-calls-"))
    b = run.Bench(args, logdir)
    print(
        f"bench: logs in {logdir}; warm-up {args.warmup} s, {max(1, args.duration // 2)} s per point",
        flush=True,
    )
    result: dict[str, Any] = {}
    try:
        b.log(
            "\n[monitor] tools/call add at c=32: off vs --journal vs --journal + --log-calls (A B C / C B A, 3 rounds)"
        )
        result = measure(b, workdir)
    except Exception as exc:  # a server that will not start ...: report, never leave servers behind
        b.problems.append(f"aborted: {type(exc).__name__}: {exc}")
        print(f"bench: aborted: {exc}", file=sys.stderr)
    finally:
        run._stop_all()
        shutil.rmtree(workdir, ignore_errors=True)
    elapsed = time.monotonic() - t0
    if not result:
        print("INVALID RUN:\n  " + "\n  ".join(b.problems))
        return 1
    found = floors(result)
    for m in result["modes"].values():
        print(f"{m['label']:<26} c=32 {m['rps']:>8.0f} req/s  p50 {run.ms(m['p50_us'])} ms  p99 {run.ms(m['p99_us'])} ms  "
              f"cpu {m['cpu_us_per_req']:.0f} us/req")  # fmt: skip
    for name, ok, value in found:
        print(f"{'PASS' if ok else 'FAIL'}  {name}: {value}")
    if b.problems:
        print("INVALID RUN:\n  " + "\n  ".join(b.problems))
    if not args.no_write:
        run.write_keeping_notes(RESULTS, report(b, result, started, elapsed))
        (BENCH / "results").mkdir(exist_ok=True)
        data = {"started": started.isoformat(), "elapsed_s": elapsed, "machine": run.machine(),
                "source": run.source_state(), "valid": not b.problems, "problems": b.problems, "monitor": result}  # fmt: skip
        (BENCH / "results" / "monitor.json").write_text(json.dumps(data, indent=1, default=str))
        print(f"wrote bench/MONITOR_RESULTS.md and bench/results/monitor.json ({elapsed:.0f} s)")
    if b.problems:
        return 1
    return 0 if all(ok for _, ok, _ in found) else 3


if __name__ == "__main__":
    sys.exit(main())
