"""tracer.record: the first and last lines, ordering, and every way a block ends."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

import tracer
from synctrace import schema
from tracer.recording.recorder import Recorder
from tracer.testing import capture


def read(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_trace_starts_and_ends_with_metadata(tmp_path: Path) -> None:
    """trace.start names the schema and process; trace.end counts the lines before it."""
    path = tmp_path / "t.jsonl"
    with tracer.record(path):
        tracer.Event().set()
    lines = read(path)
    start, end = lines[0], lines[-1]
    assert start["event"] == "trace.start" and start["schema"] == schema.SCHEMA
    assert {"run_id", "pid", "host", "python", "argv", "wall_time"} <= start.keys()
    assert end["event"] == "trace.end" and end["reason"] == "completed"
    assert end["events_written"] == len(lines) - 1 and end["events_dropped"] == 0
    for line in lines:
        assert {"event", "ts", "seq", "thread", "thread_id"} <= line.keys()
    assert "time_scale" not in start  # absent when 1


def test_trace_start_records_the_time_scale(tmp_path: Path) -> None:
    """A recorder given a time scale (tracer run --time-scale) writes it in trace.start."""
    path = tmp_path / "t.jsonl"
    recorder = Recorder(path, time_scale=0.01).start()
    recorder.stop()
    assert read(path)[0]["time_scale"] == 0.01


def test_seq_increases_and_ts_never_decreases_across_threads(tmp_path: Path) -> None:
    """Lines from many threads are in seq order, with a clock that never goes back."""
    ev = tracer.Event()
    with capture() as trace:
        threads = [
            threading.Thread(target=lambda: [ev.set() or ev.clear() for _ in range(200)])
            for _ in range(4)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    seqs = [e["seq"] for e in trace.lines]
    assert seqs == list(range(len(seqs)))
    stamps = [e["ts"] for e in trace.lines]
    assert stamps == sorted(stamps)


@pytest.mark.parametrize(
    ("exc", "reason", "detail", "code"),
    [
        (ValueError("boom"), "exception", "ValueError", None),
        (KeyboardInterrupt(), "interrupt", "KeyboardInterrupt", None),
        (SystemExit(3), "exit", None, 3),
    ],
)
def test_block_ending_by_exception_says_why(
    tmp_path: Path, exc: BaseException, reason: str, detail: str | None, code: int | None
) -> None:
    """However the block ends, trace.end records the reason and the exception still propagates."""
    path = tmp_path / "t.jsonl"
    with pytest.raises(type(exc)), tracer.record(path):
        tracer.Event().set()
        raise exc
    end = read(path)[-1]
    assert (end["reason"], end.get("detail"), end.get("exit_code")) == (reason, detail, code)


def test_one_recording_at_a_time(tmp_path: Path) -> None:
    """Starting a second recording inside the first is refused with a clear error."""
    with (
        tracer.record(tmp_path / "a.jsonl"),
        pytest.raises(tracer.RecordingError, match=r"a\.jsonl"),
        tracer.record(tmp_path / "b.jsonl"),
    ):
        pass


def test_unwritable_path_fails_before_anything_runs(tmp_path: Path) -> None:
    """A trace that cannot be created raises TraceFileError naming the path."""
    ran = False
    with (
        pytest.raises(tracer.TraceFileError, match="no-such-dir"),
        tracer.record(tmp_path / "no-such-dir" / "t.jsonl"),
    ):
        ran = True
    assert not ran


def test_disk_full_warns_once_and_the_program_runs_on(capfd: pytest.CaptureFixture[str]) -> None:
    """When writes fail (here /dev/full), one warning goes to stderr and nothing is raised."""
    ev = tracer.Event()
    with tracer.record("/dev/full"):
        for _ in range(1000):
            ev.set()
            ev.clear()
    err = capfd.readouterr().err
    assert err.count("synctrace: cannot write trace /dev/full") == 1
    assert "the program runs on" in err


def test_events_reach_the_disk_while_the_run_goes_on(tmp_path: Path) -> None:
    """The writer flushes periodically: lines are on disk before the recording ends."""
    path = tmp_path / "live.jsonl"
    with tracer.record(path):
        tracer.Event(name="live").set()
        seen = threading.Event()

        def on_disk() -> bool:
            return '"event.set"' in path.read_text()

        for _ in range(200):
            if on_disk():
                seen.set()
                break
            seen.wait(0.01)
        assert seen.is_set()


def test_recording_adds_no_visible_thread_and_keeps_thread_numbering(tmp_path: Path) -> None:
    """The writer thread is invisible to threading, so Thread-N names stay the program's."""
    before = threading.active_count()
    with tracer.record(tmp_path / "t.jsonl"):
        assert threading.active_count() == before
        probe = threading.Thread(target=lambda: None)
    unrecorded = threading.Thread(target=lambda: None)

    def number(t: threading.Thread) -> int:  # "Thread-7 (<lambda>)" -> 7
        return int(t.name.split("-")[1].split()[0])

    assert number(unrecorded) == number(probe) + 1


def test_operations_after_the_recording_are_not_written(tmp_path: Path) -> None:
    """Once the block has ended, traced objects cost nothing and write nothing."""
    path = tmp_path / "t.jsonl"
    ev = tracer.Event()
    with tracer.record(path):
        pass
    ev.set()
    assert [e["event"] for e in read(path)] == ["trace.start", "trace.end"]
