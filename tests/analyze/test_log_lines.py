"""The program's own log lines sit among the operations without changing any finding."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from tracebuild import Recorder, found

from analyze import build_report, load_traces
from synctrace import schema


def _say(rec: Recorder, message: str, thread: str = "MainThread", **fields: object) -> int:
    line = {"level": "info", "logger": "app", "message": message, "site": "demo.py:1"}
    if fields:
        line["fields"] = fields
    return rec.line(schema.LOG, thread=thread, **line)


def _troubled_run_that_logs() -> Recorder:
    """A lost signal, a timed-out wait, a stranded item and a hang, with log lines between."""
    rec = Recorder()
    _say(rec, "starting", workers=2)
    rec.set()
    _say(rec, "signalled", thread="Thread-1", nested={"a": [1, "b"]})
    rec.clear()
    waited = rec.wait(thread="Thread-1", timeout=0.5)
    _say(rec, "waiting")
    rec.woke(waited, thread="Thread-1", result=False, timed_out=True)
    rec.append(1)
    rec.append(2, depth=2)
    _say(rec, "appended", thread="Thread-2")
    rec.pop(2, depth=1)
    rec.wait(thread="Thread-3")
    _say(rec, "last words")
    rec.end()
    return rec


def test_log_lines_change_no_finding_and_no_table(tmp_path: Path) -> None:
    """The same run with its log lines and with them cut out gives the same findings (same
    seqs), container table and counts; a thread seen only logging is listed, with no waits."""
    text = _troubled_run_that_logs().text()
    with_logs, without = tmp_path / "logs.jsonl", tmp_path / "quiet.jsonl"
    with_logs.write_text(text)
    kept = [line for line in text.splitlines() if json.loads(line)["event"] != schema.LOG]
    without.write_text("\n".join(kept) + "\n")
    logged, quiet = (build_report(load_traces([p])) for p in (with_logs, without))
    assert [kind for kind, *_ in found(logged)] == [
        "lost-signal",
        "cleared-wait",
        "stranded-item",
        "cleared-wait",
        "hang",
    ]
    assert found(logged) == found(quiet)
    assert logged.containers.equals(quiet.containers)
    assert logged.threads.filter(pl.col("thread") != "Thread-2").equals(quiet.threads)
    assert logged.threads.filter(pl.col("thread") == "Thread-2").rows() == [("Thread-2", 0, 0.0)]
    assert logged.counts == quiet.counts
