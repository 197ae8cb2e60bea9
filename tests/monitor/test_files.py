"""The call log and the SQLite journal as files: modes, appends, reading while written, reopening."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
import threading
from pathlib import Path

import orjson
import pytest

from nbmcp import MCPServer
from nbmcp.errors import NbmcpError
from nbmcp.monitor.journal import BATCH_MAX, Journal, read_journal
from nbmcp.monitor.jsonlines import CallLog
from tests.monitor.records import finished


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> object:
    """A umask that would leave new files world-readable: the files must be 0600 anyway."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


def test_the_call_log_is_created_0600_and_appends_one_line_per_call(
    tmp_path: Path, open_umask: object
) -> None:
    path = tmp_path / "calls.jsonl"
    log = CallLog(path)
    records = [finished("add", {"a": i}) for i in range(3)]
    for record in records:
        log.write(record, record.to_json())
    log.close()
    log.close()  # idempotent
    log.write(records[0], records[0].to_json())  # closed: ignored, not raised
    assert mode(path) == 0o600
    lines = path.read_bytes().splitlines()
    assert [orjson.loads(line)["id"] for line in lines] == [r.id for r in records]


def test_an_existing_log_is_narrowed_to_0600_and_appended_to(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    path.write_bytes(b'{"id":"before"}\n')
    path.chmod(0o644)
    record = finished()
    log = CallLog(path)
    log.write(record, record.to_json())
    log.close()
    assert mode(path) == 0o600
    assert [orjson.loads(line)["id"] for line in path.read_bytes().splitlines()] == ["before", record.id]


def test_lines_from_many_threads_never_interleave(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    log = CallLog(path)
    big = "x" * 20_000  # lines longer than a pipe buffer, to catch torn writes
    start = threading.Barrier(8)

    def writer(n: int) -> None:
        start.wait(10)
        for i in range(50):
            record = finished("w", {"n": n, "i": i, "pad": big})
            log.write(record, record.to_json())

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    log.close()
    seen = {
        (d["arguments"]["n"], d["arguments"]["i"]) for d in map(orjson.loads, path.read_bytes().splitlines())
    }
    assert seen == {(n, i) for n in range(8) for i in range(50)}


def test_the_journal_is_0600_with_its_wal_and_readable_while_open(tmp_path: Path, open_umask: object) -> None:
    path = tmp_path / "calls.db"
    journal = Journal(path)
    try:
        records = [finished("add" if i % 3 else "fail", {"a": i}, ok=bool(i % 3)) for i in range(10)]
        for record in records:
            journal.add(record, record.to_json())
        assert journal.flush()
        assert journal.written == 10
        for name in ("calls.db", "calls.db-wal", "calls.db-shm"):
            assert mode(tmp_path / name) == 0o600, name
        # another process (here: another connection, read-only) reads it while it is open
        reader = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            rows = reader.execute("SELECT id, tool, ok, arguments FROM calls ORDER BY seq").fetchall()
        finally:
            reader.close()
        assert rows == [(r.id, r.tool, int(bool(r.ok)), orjson.dumps(r.arguments).decode()) for r in records]
        newest = read_journal(path, limit=3)
        assert [d["id"] for d in newest] == [r.id for r in reversed(records[-3:])]
        assert [d["id"] for d in read_journal(path, errors_only=True)] == [
            r.id for r in reversed(records[::3])
        ]
        assert [d["id"] for d in read_journal(path, tool="add", limit=2)] == [records[8].id, records[7].id]
        assert newest[0] == orjson.loads(records[-1].to_json())  # the call log's dict, field for field
    finally:
        journal.close()
    journal.close()  # idempotent


def test_a_journal_reopened_keeps_its_rows_and_close_writes_what_is_queued(tmp_path: Path) -> None:
    path = tmp_path / "calls.db"
    first = Journal(path, interval=60)  # the writer would wait a minute: close() must not
    record = finished()
    first.add(record, record.to_json())
    first.close()
    assert [d["id"] for d in read_journal(path)] == [record.id]
    second = Journal(path)
    later = finished()
    second.add(later, later.to_json())
    second.close()
    assert [d["id"] for d in read_journal(path)] == [later.id, record.id]


def test_a_server_keeps_every_call_in_both_files(tmp_path: Path) -> None:
    journal, log = tmp_path / "calls.db", tmp_path / "calls.jsonl"
    server = MCPServer("files", journal=journal, log_calls=log)

    @server.tool
    def add(a: int, b: int) -> int:
        """Add."""
        return a + b

    for a in range(5):
        server.call_tool_sync("add", {"a": a, "b": 1}, timeout=10)
    assert server.journal is not None and server.journal.flush()
    lines = [orjson.loads(line) for line in log.read_bytes().splitlines()]
    assert lines == server.calls()[::-1]  # the log, the journal and calls() agree field for field
    assert read_journal(journal) == server.calls()
    assert repr(server.call_log).startswith("<CallLog ")


def test_unopenable_files_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(NbmcpError, match=r"^journal '.*/missing/calls\.db': No such file or directory$"):
        MCPServer("bad", journal=tmp_path / "missing" / "calls.db")
    with pytest.raises(NbmcpError, match=r"^call log '.*/missing/calls\.jsonl': No such file or directory$"):
        MCPServer("bad", log_calls=tmp_path / "missing" / "calls.jsonl")
    not_a_db = tmp_path / "notes.txt"
    not_a_db.write_text("these are notes, not a database\n" * 100)
    with pytest.raises(NbmcpError, match=r"^journal '.*notes\.txt': file is not a database$"):
        MCPServer("bad", journal=not_a_db)


def test_an_existing_journal_is_narrowed_to_0600_but_other_files_are_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "calls.db"
    Journal(path).close()
    for name in ("calls.db", "calls.db-wal", "calls.db-shm"):
        if (tmp_path / name).exists():
            (tmp_path / name).chmod(0o644)
    journal = Journal(path)
    try:
        for name in ("calls.db", "calls.db-wal", "calls.db-shm"):
            assert mode(tmp_path / name) == 0o600, name
    finally:
        journal.close()
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database\n" * 100)
    notes.chmod(0o644)
    with pytest.raises(sqlite3.DatabaseError):
        Journal(notes)
    assert mode(notes) == 0o644 and notes.read_text() == "not a database\n" * 100


def test_a_big_batch_takes_several_rows_and_the_view_keeps_the_order(tmp_path: Path) -> None:
    path = tmp_path / "calls.db"
    journal = Journal(path, interval=60)  # one batch, written by close()
    records = [finished("add", {"a": i}) for i in range(BATCH_MAX * 2 + 5)]
    for record in records:
        journal.add(record, record.to_json())
    journal.close()
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        (batches,) = db.execute("SELECT count(*) FROM call_batches").fetchone()
        rows = db.execute("SELECT seq, id, record FROM calls ORDER BY seq").fetchall()
    finally:
        db.close()
    assert batches == 3
    assert [row[1] for row in rows] == [r.id for r in records]
    assert [orjson.loads(rows[-1][2])] == [orjson.loads(records[-1].to_json())]
    assert [d["arguments"]["a"] for d in read_journal(path, limit=3)] == [
        BATCH_MAX * 2 + 4,
        BATCH_MAX * 2 + 3,
        BATCH_MAX * 2 + 2,
    ]


def test_a_journal_alone_encodes_off_the_call_path_with_the_same_redaction(tmp_path: Path) -> None:
    key = "journal-only-key-0123456789"
    server = MCPServer("alone", journal=tmp_path / "calls.db", api_key=key)

    @server.tool
    def echo(text: str, token: str = "") -> str:
        """Echo."""
        return text

    server.call_tool_sync("echo", {"text": key, "token": "t0k3n"}, timeout=10)
    server.call_tool_sync("echo", {"text": "plain"}, timeout=10)
    assert server.journal is not None and server.journal.flush()
    kept = read_journal(tmp_path / "calls.db")
    assert kept == server.calls()
    assert kept[1]["arguments"] == {"text": "***", "token": "***"} and kept[1]["summary"] == "***"
    assert key.encode() not in (tmp_path / "calls.db").read_bytes() + (tmp_path / "calls.db-wal").read_bytes()


def test_sqlite_is_imported_only_when_a_journal_is_asked_for() -> None:
    probe = (
        "import sys, nbmcp, nbmcp.notebook.magics\n"
        "s = nbmcp.MCPServer('x')\n"
        "s.stats(); s.calls()\n"
        "print('sqlite3' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
