"""The pure sink's encoding process: the same trace, and nothing lost silently when it fails."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

import tracer
from tests.tracer.handshake import wait_until
from tracer.recording import offload, pysink, recorder

RUN_FIELDS = ("ts", "thread_id")


def lines_of(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def record(path: Path, rounds: int) -> list[dict[str, Any]]:
    """A small program's trace on the pure sink: appends, pops, sets, waits and clears."""
    with recorder.Recorder(path, flush_interval=0.01):
        items: tracer.List[Any] = tracer.List(name="items")
        ev = tracer.Event(name="ev")
        for i in range(rounds):
            items.append(i)
            items.append(f"v{i}")
            ev.set()
            ev.wait()
            ev.clear()
            items.pop()
            items.pop(0)
    return lines_of(path)


def test_the_encoding_process_writes_the_lines_the_writer_thread_would(
    pure: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With and without the encoding process, a trace holds the same lines."""
    started: list[Any] = []
    real_start = offload.start
    monkeypatch.setattr(offload, "start", lambda fd: started.append(real_start(fd)) or started[-1])
    offloaded = record(tmp_path / "a.jsonl", 300)
    assert started and started[0] is not None
    monkeypatch.setattr(pysink, "OFFLOAD", False)
    threaded = record(tmp_path / "b.jsonl", 300)

    def comparable(lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
        body = [line for line in lines if line["event"] not in ("trace.start", "trace.end")]
        return [{k: v for k, v in line.items() if k not in RUN_FIELDS} for line in body]

    assert comparable(offloaded) == comparable(threaded)
    assert [list(line) for line in offloaded] == [list(line) for line in threaded]
    end = offloaded[-1]
    assert end["events_written"] == len(offloaded) - 1 and end["events_dropped"] == 0


def test_no_process_means_the_writer_thread_encodes(
    pure: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the process cannot start (no interpreter to run), the trace is whole all the same."""
    monkeypatch.setattr(sys, "executable", "")
    lines = record(tmp_path / "t.jsonl", 50)
    assert lines[-1]["events_written"] == len(lines) - 1 == 1 + 50 * 8
    assert lines[-1]["events_dropped"] == 0


@pytest.mark.parametrize(
    ("executable", "frozen"),
    [("/opt/app/bin/myapp", False), (sys.executable, True)],
    ids=["embedded", "frozen"],
)
def test_an_application_that_is_not_python_is_never_started_as_the_encoder(
    pure: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    executable: str,
    frozen: bool,
) -> None:
    """An embedding or frozen application's sys.executable is its own program: the writer
    thread encodes instead of starting it."""
    monkeypatch.setattr(sys, "executable", executable)
    if frozen:
        monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert offload.start(os.open(tmp_path / "x", os.O_WRONLY | os.O_CREAT)) is None
    lines = record(tmp_path / "t.jsonl", 20)
    assert lines[-1]["events_written"] == len(lines) - 1 == 1 + 20 * 8
    assert lines[-1]["events_dropped"] == 0


def test_a_killed_process_loses_only_what_it_held_and_says_so(pure: None, tmp_path: Path) -> None:
    """Killing the encoding process mid-recording leaves whole lines, counts what it held
    unwritten as dropped, and the program writes the events after it."""
    path = tmp_path / "t.jsonl"
    items: tracer.List[int] = tracer.List(name="items")

    def lines_on_disk() -> int:
        return path.read_bytes().count(b"\n")

    with recorder.Recorder(path, flush_interval=0.01) as rec:
        sink = rec._sink
        for i in range(200):
            items.append(i)
        wait_until(lambda: lines_on_disk() == 201)  # trace.start, then the process's lines
        process = sink._process
        assert process is not None
        # Written is not yet answered for: stopped between the two, its last
        # lines would be cut back and counted as dropped with the rest.
        # (The writer reads the answers at every pump, ten times a tenth here.)
        wait_until(lambda: process.sent == 200 and process._answer[0] == 200)
        os.kill(process._proc.pid, signal.SIGSTOP)
        for i in range(300):  # sent, and held in the pipe: never written
            items.append(-i)
        wait_until(lambda: process.sent == 500)
        os.kill(process._proc.pid, signal.SIGKILL)
        process._proc.wait()
        for i in range(100):
            items.append(10_000 + i)
        wait_until(lambda: sink._process is None)  # the next pump found it gone
    lines = lines_of(path)  # every line whole: json.loads would raise on a torn one
    end = lines[-1]
    seqs = [line["seq"] for line in lines]
    assert seqs == sorted(set(seqs))
    assert end["events_dropped"] == 300
    assert end["events_written"] == len(lines) - 1 == 1 + 200 + 100
    assert end["events_written"] + end["events_dropped"] == end["seq"]
    values = [line.get("value") for line in lines[1:-1]]
    assert values == [str(i) for i in range(200)] + [str(10_000 + i) for i in range(100)]


def test_a_forked_child_lets_go_of_the_pipe(pure: None, tmp_path: Path) -> None:
    """After os.fork(), the child holds no end of the parent's pipe to the process."""
    items: tracer.List[int] = tracer.List()
    with recorder.Recorder(tmp_path / "t.jsonl", flush_interval=0.01) as rec:
        items.append(1)
        wait_until(lambda: rec._sink._process is not None)
        process = rec._sink._process
        pid = os.fork()
        if pid == 0:  # the child
            os._exit(0 if process._frames is None else 1)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert process._frames is not None  # the parent's is untouched


def test_a_ctrl_c_leaves_the_process_writing(pure: None, tmp_path: Path) -> None:
    """SIGINT, as a terminal's Ctrl-C sends it, does not stop the encoding process."""
    path = tmp_path / "t.jsonl"
    items: tracer.List[int] = tracer.List(name="items")
    with recorder.Recorder(path, flush_interval=0.01) as rec:
        items.append(1)
        wait_until(lambda: rec._sink._process is not None and rec._sink._process.sent == 1)
        process = rec._sink._process
        wait_until(lambda: process.unanswered() == 0)  # it has answered: it runs, SIGINT ignored
        # A terminal's Ctrl-C goes to the program's process group, which the
        # process has left (a session of its own); sent to it directly:
        os.kill(process._proc.pid, signal.SIGINT)
        items.append(2)
        wait_until(lambda: process.sent == 2)
        assert process._proc.poll() is None
    lines = lines_of(path)
    assert [line.get("value") for line in lines[1:-1]] == ["1", "2"]
    assert lines[-1]["events_dropped"] == 0
