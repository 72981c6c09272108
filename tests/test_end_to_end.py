"""Real programs recorded by `tracer run`, then reported on by `analyze report`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from analyze.cli import main as analyze_main

ROOT = Path(__file__).parent.parent
PROGRAMS = Path(__file__).parent / "programs"
SEED = ROOT.parent / "shared" / "seed" / "cookbook_event.py"


def record(tmp_path: Path, *args: str, timeout: float = 120) -> tuple[Path, str, int]:
    trace = tmp_path / "trace.jsonl"
    done = subprocess.run(
        [sys.executable, "-m", "tracer", "run", "-o", str(trace), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return trace, done.stdout, done.returncode


def report(trace: Path) -> dict[str, Any]:
    result = CliRunner().invoke(analyze_main, ["report", str(trace), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


def kinds(rep: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [f for f in rep["findings"] if f["kind"] == kind]


def test_pulsed_event_program_gets_its_exact_ground_truth(tmp_path: Path) -> None:
    """set()+clear() pulses: 3 lost signals, 4 cleared waits, 3 taken LIFO, 3 stranded, and the
    daemon consumer left waiting at the program's normal exit (info: Python stops it)."""
    trace, out, status = record(tmp_path, str(PROGRAMS / "pulse.py"), "6", "0.2")
    assert status == 0 and out.count("took") == 3
    rep = report(trace)
    counts = rep["counts"]
    assert (counts["lost-signal"], counts["cleared-wait"], counts["stranded-item"]) == (3, 4, 3)
    assert counts["unwaited-signal"] == 0
    assert kinds(rep, "hang") == []
    (left,) = kinds(rep, "blocked-at-end")
    assert (left["severity"], left["thread"], left["object"]) == (
        "info",
        "Thread-2 (consumer)",
        "event",
    )
    assert "is a daemon thread" in left["message"]
    items = rep["containers"]["items"]
    assert (items["added"], items["taken"], items["stranded"], items["order"]) == (6, 3, 3, "LIFO")
    assert rep["threads"]["Thread-2 (consumer)"]["waits"] == 4


def test_correct_queue_program_has_no_error_or_warning(tmp_path: Path) -> None:
    """Several producers and consumers on queue.Queue: nothing above info, every item taken."""
    trace, out, status = record(tmp_path, str(PROGRAMS / "queue_workers.py"), "3", "2", "40")
    assert status == 0 and out.strip() == "consumed 120"
    rep = report(trace)
    loud = [f for f in rep["findings"] if f["severity"] in ("error", "warning")]
    assert loud == []
    work = rep["containers"]["work"]
    assert (work["added"], work["taken"], work["stranded"], work["order"]) == (122, 122, 0, "FIFO")
    # The queue's internal Conditions are not the program's: only its own objects appear.
    events = [json.loads(line) for line in trace.read_text().splitlines()]
    objects = {e["obj"] for e in events if "obj" in e and not e["event"].startswith("thread.")}
    assert objects == {"work", "done", "done_lock"}


def test_opposite_lock_order_is_reported_as_a_deadlock(tmp_path: Path) -> None:
    """Two threads holding one lock each and waiting for the other's: one deadlock, and
    MainThread's join of one of them hangs behind it."""
    trace, out, status = record(tmp_path, "--timeout", "1", str(PROGRAMS / "two_locks.py"))
    assert status == 124 and out == ""
    rep = report(trace)
    (deadlock,) = kinds(rep, "deadlock")
    assert deadlock["severity"] == "error"
    assert "one holds a and waits for b" in deadlock["message"]
    assert "two holds b and waits for a" in deadlock["message"]
    hangs = {(f["thread"], f["object"]) for f in kinds(rep, "hang")}
    assert hangs == {("MainThread", "one")}


def test_correct_event_and_queue_use_raises_nothing_above_info(tmp_path: Path) -> None:
    """A start signal, get(timeout=) polling and a results list: only info findings."""
    trace, out, status = record(tmp_path, str(PROGRAMS / "start_signal.py"))
    assert status == 0 and out.strip() == "30"
    rep = report(trace)
    assert [f for f in rep["findings"] if f["severity"] in ("error", "warning")] == []
    assert rep["containers"]["results"]["added"] == 30
    assert rep["containers"]["work"]["stranded"] == 0


def test_a_program_in_several_files_has_its_other_modules_traced(tmp_path: Path) -> None:
    """Lists and primitives bound in an imported module of the program are traced and named."""
    program = tmp_path / "split"
    shutil.copytree(PROGRAMS / "split", program)
    trace, out, status = record(tmp_path, str(program / "main.py"))
    assert status == 0 and out == "took 2\n"
    rep = report(trace)
    assert rep["counts"]["lost-signal"] == 1
    items = rep["containers"]["items"]
    assert (items["added"], items["taken"], items["stranded"]) == (2, 1, 1)
    assert {f["object"] for f in kinds(rep, "lost-signal")} == {"ready"}
    # The rewritten code was never cached: the program's bytecode cache, if
    # any, is Python's own.
    cache = program / "__pycache__"
    assert not cache.exists() or all("buffer" not in p.name for p in cache.iterdir())


@pytest.mark.slow
@pytest.mark.skipif(not SEED.exists(), reason="the seed program is not beside this checkout")
def test_seed_program_unchanged(tmp_path: Path) -> None:
    """The seed's 25 s story, unmodified, replayed at --time-scale 0.02: the full-speed findings."""
    # Its timeline is 2 s and 3 s sleeps: at 0.02 the story takes about
    # 0.5 s of wall time, and --timeout (wall-clock) cuts the hang after 5 s.
    # 0.01 gives the same findings on a quiet machine; on a loaded one its
    # 20 ms gaps between the threads' steps can close up, so the test keeps
    # twice the margin at the same wall time.
    trace, out, status = record(
        tmp_path, "--time-scale", "0.02", "--timeout", "5", str(SEED), timeout=60
    )
    assert status == 124
    assert json.loads(trace.read_text().splitlines()[0])["time_scale"] == 0.02
    assert out.count("Producer notify : event set by Thread-1") == 10
    assert out.count("popped from list by Thread-2") == 5
    rep = report(trace)
    counts = rep["counts"]
    assert (counts["lost-signal"], counts["cleared-wait"], counts["stranded-item"]) == (5, 6, 5)
    hangs = {(f["thread"], f["object"]) for f in kinds(rep, "hang")}
    assert ("Thread-2", "event") in hangs
    items = rep["containers"]["items"]
    assert (items["added"], items["taken"], items["stranded"], items["order"]) == (10, 5, 5, "LIFO")
