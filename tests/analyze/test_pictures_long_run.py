"""A long run (200k lines) is drawn and exported in seconds, thinned to what a picture shows."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from tracebuild import Recorder

from analyze.cli import main
from synctrace import schema

ROUNDS = 25_000  # 8 lines a round: 200k lines


def busy_run(path: Path) -> None:
    """Four threads taking turns: append, set, wait (woken), clear, pop, lock, sleep."""
    rec = Recorder()
    for n in range(ROUNDS):
        worker, other = f"Thread-{n % 4 + 1}", f"Thread-{(n + 1) % 4 + 1}"
        rec.append(n + 1, "jobs", depth=1, thread=worker, after=10_000)
        wait = rec.wait("ready", thread=other, after=10_000)
        woke_by = rec.set("ready", waiters=1, thread=worker, after=10_000)
        rec.woke(wait, "ready", woken_by=woke_by, thread=other, after=10_000)
        rec.clear("ready", thread=worker, after=10_000)
        rec.pop(n + 1, "jobs", depth=0, thread=other, after=10_000)
        rec.op(schema.LOCK_ACQUIRE, "guard", thread=worker, result=True, after=10_000)
        rec.op(schema.LOCK_RELEASE, "guard", thread=worker, after=10_000)
    rec.end()
    path.write_text(rec.text())


@pytest.mark.slow
def test_a_200k_line_run_draws_and_exports_in_seconds(tmp_path: Path) -> None:
    """The timeline of 200k lines is written well within a CI minute, and the export keeps every
    wake-up as a flow."""
    from click.testing import CliRunner

    trace = tmp_path / "busy.jsonl"
    busy_run(trace)
    began = time.monotonic()
    result = CliRunner().invoke(main, ["timeline", str(trace), "-o", str(tmp_path / "b.png")])
    drawn = time.monotonic() - began
    assert result.exit_code == 0, result.output
    # About 3 s on a quiet 2-core machine; the bound leaves room for a busy CI runner.
    assert drawn < 30
    result = CliRunner().invoke(main, ["export", str(trace), "-o", str(tmp_path / "b.json")])
    assert result.exit_code == 0, result.output
    events = json.loads((tmp_path / "b.json").read_text())["traceEvents"]
    assert sum(e["ph"] == "f" for e in events) == ROUNDS
