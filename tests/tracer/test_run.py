"""tracer run: real programs in a child process, ended every way a run can end."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

PROGRAMS = Path(__file__).parent.parent / "programs"
EXITS = str(PROGRAMS / "exits.py")


def tracer_run(*args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tracer", "run", *args],
        capture_output=True,
        text=True,
        timeout=60,
        **kwargs,
    )


def plain_run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=60)


def read(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def spawn(trace: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tracer", "run", "-o", str(trace), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_trace(trace: Path, *needles: str, timeout: float = 30) -> None:
    """Handshake with the child through its trace: wait until lines with all needles are on disk."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = trace.read_text() if trace.exists() else ""
        if all(n in text for n in needles):
            return
        time.sleep(0.02)
    raise AssertionError(f"the trace never showed {needles}")


BLOCKED = ('"obj":"also_never"', '"obj":"never"')


def wait_for_line(proc: subprocess.Popen[str], text: str) -> None:
    """Handshake with the child: read its stdout until it announces ``text``."""
    assert proc.stdout is not None
    for line in proc.stdout:
        if text in line:
            return
    raise AssertionError(f"the program ended without printing {text!r}")


@pytest.mark.parametrize(
    ("args", "status", "reason"),
    [
        (["ok"], 0, "completed"),
        (["exit", "3"], 3, "exit"),
        (["raise"], 1, "exception"),
        (["thread-raise"], 0, "completed"),
    ],
)
def test_program_runs_as_under_python_and_the_trace_says_how_it_ended(
    tmp_path: Path, args: list[str], status: int, reason: str
) -> None:
    """Same stdout and exit status as a plain run; trace.end gives the reason and status."""
    trace = tmp_path / "t.jsonl"
    traced = tracer_run("-o", str(trace), EXITS, *args)
    plain = plain_run(EXITS, *args)
    assert traced.stdout == plain.stdout
    assert traced.returncode == plain.returncode == status
    end = read(trace)[-1]
    assert (end["event"], end["reason"], end["exit_code"]) == ("trace.end", reason, status)


def test_uncaught_exception_traceback_shows_only_the_program(tmp_path: Path) -> None:
    """The traceback printed for an uncaught exception starts in the program, as Python's does."""
    traced = tracer_run("-o", str(tmp_path / "t.jsonl"), EXITS, "raise")
    assert "RuntimeError: the program failed" in traced.stderr
    assert "tracer" not in traced.stderr.replace(str(PROGRAMS), "")


def test_exception_in_a_thread_is_recorded(tmp_path: Path) -> None:
    """A thread killed by an exception leaves a thread.exception line with its type."""
    trace = tmp_path / "t.jsonl"
    tracer_run("-o", str(trace), EXITS, "thread-raise")
    (exc,) = [e for e in read(trace) if e["event"] == "thread.exception"]
    assert (exc["thread"], exc["exc_type"]) == ("failing", "KeyError")
    assert exc["site"].startswith("exits.py:")


def test_a_forked_child_records_nothing_and_exits_at_once(tmp_path: Path) -> None:
    """os.fork() in the program: the child neither writes to nor ends the parent's trace."""
    trace = tmp_path / "t.jsonl"
    started = time.monotonic()
    traced = tracer_run("-o", str(trace), EXITS, "fork")
    assert traced.returncode == 0 and time.monotonic() - started < 8
    lines = read(trace)
    assert [e["event"] for e in lines].count("trace.end") == 1
    assert lines[-1]["event"] == "trace.end" and lines[-1]["reason"] == "completed"
    assert not [e for e in lines if e["event"] == "event.clear"]


def test_standard_library_internals_are_not_recorded(tmp_path: Path) -> None:
    """Thread's own started-Event and join locks never appear as the program's signals."""
    trace = tmp_path / "t.jsonl"
    tracer_run("-o", str(trace), EXITS, "ok")
    objects = {e.get("obj") for e in read(trace) if e["event"].startswith("event.")}
    assert objects == {"ready"}


def test_unwritable_trace_fails_before_the_program_runs(tmp_path: Path) -> None:
    """An unwritable -o path exits 2 with one line, and the program never starts."""
    traced = tracer_run("-o", str(tmp_path / "missing" / "t.jsonl"), EXITS, "ok")
    assert traced.returncode == 2
    assert traced.stdout == ""
    assert len(traced.stderr.strip().splitlines()) == 1
    assert "missing" in traced.stderr and "-o" in traced.stderr


def test_missing_program_is_a_one_line_error(tmp_path: Path) -> None:
    """A script that does not exist exits 2 with a one-line reason, writing no trace."""
    trace = tmp_path / "t.jsonl"
    traced = tracer_run("-o", str(trace), str(tmp_path / "nope.py"))
    assert traced.returncode == 2 and "nope.py" in traced.stderr
    assert len(traced.stderr.strip().splitlines()) == 1
    assert not trace.exists()


def test_disk_full_warns_once_and_the_program_keeps_its_status(tmp_path: Path) -> None:
    """With a trace that cannot be written mid-run, the program's output and status are intact."""
    traced = tracer_run("-o", "/dev/full", EXITS, "exit", "5")
    assert traced.returncode == 5
    assert traced.stdout == plain_run(EXITS, "exit", "5").stdout
    assert traced.stderr.count("synctrace: cannot write trace") == 1


def test_a_script_named_relatively_sees_the_file_and_argv_python_gives_it(tmp_path: Path) -> None:
    """Run as a relative path, __file__ and tracebacks are absolute and argv[0] stays as typed."""
    script = tmp_path / "where.py"
    script.write_text(
        "import os, sys\n"
        "os.chdir(os.path.dirname(__file__))\n"
        "print(__file__, sys.argv[0], os.getcwd())\n"
        "raise SystemError('late')\n"
    )
    trace = tmp_path / "t.jsonl"
    traced = tracer_run("-o", str(trace), "where.py", cwd=tmp_path)
    plain = subprocess.run(
        [sys.executable, "where.py"], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert traced.stdout == plain.stdout == f"{script} where.py {tmp_path}\n"
    assert traced.returncode == plain.returncode == 1
    assert f'File "{script}", line 4' in traced.stderr
    assert traced.stderr == plain.stderr


def test_module_mode_runs_a_module_as_main(tmp_path: Path) -> None:
    """tracer run -m runs a module as python -m would, with its arguments."""
    trace = tmp_path / "t.jsonl"
    traced = tracer_run("-o", str(trace), "-m", "exits", "exit", "4", cwd=PROGRAMS)
    assert traced.returncode == 4
    assert "name __main__" in traced.stdout and "argv ['exit', '4']" in traced.stdout


@pytest.mark.slow
def test_timeout_stops_the_program_with_124_and_lists_blocked_threads(tmp_path: Path) -> None:
    """--timeout ends a hung run with status 124; trace.end says timeout and who was blocked."""
    trace = tmp_path / "t.jsonl"
    traced = tracer_run("--timeout", "1", "-o", str(trace), EXITS, "block")
    assert traced.returncode == 124
    assert "blocking" in traced.stdout
    end = read(trace)[-1]
    assert end["reason"] == "timeout"
    assert [(b["thread"], b["obj"]) for b in end["blocked"]] == [
        ("waiter", "also_never"),
        ("MainThread", "never"),
    ]


@pytest.mark.slow
def test_sigint_writes_the_end_at_once(tmp_path: Path) -> None:
    """A real SIGINT to a blocked program: trace.end says interrupt, and it dies of SIGINT."""
    trace = tmp_path / "t.jsonl"
    proc = spawn(trace, EXITS, "block")
    wait_for_trace(trace, *BLOCKED)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode in (-signal.SIGINT, 130)
    assert "KeyboardInterrupt" in err
    lines = read(trace)
    end = lines[-1]
    assert end["reason"] == "interrupt"
    # The interrupted wait ended (with the error); the daemon's is still blocked.
    (main_wait,) = [e for e in lines if e["event"] == "event.wait.end" and e["obj"] == "never"]
    assert main_wait["error"] == "KeyboardInterrupt"
    assert [(b["thread"], b["obj"]) for b in end["blocked"]] == [("waiter", "also_never")]


@pytest.mark.slow
def test_sigterm_writes_the_end_and_dies_of_the_signal(tmp_path: Path) -> None:
    """A real SIGTERM: trace.end says sigterm, and the exit status is death by SIGTERM."""
    trace = tmp_path / "t.jsonl"
    proc = spawn(trace, EXITS, "block")
    wait_for_trace(trace, *BLOCKED)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGTERM
    assert read(trace)[-1]["reason"] == "sigterm"


@pytest.mark.slow
def test_sigterm_while_busy_recording_ends_the_trace_at_once(tmp_path: Path) -> None:
    """SIGTERM arriving amid a stream of events still ends the trace promptly and whole."""
    trace = tmp_path / "t.jsonl"
    proc = spawn(trace, EXITS, "busy")
    wait_for_line(proc, "busy")
    wait_for_trace(trace, '"event":"lock.release"')
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGTERM
    assert time.monotonic() - started < 5
    lines = read(trace)
    assert lines[-1]["event"] == "trace.end" and lines[-1]["reason"] == "sigterm"
    seqs = [e["seq"] for e in lines]
    assert seqs == sorted(seqs)


@pytest.mark.slow
def test_sigkill_leaves_whole_lines_and_recent_events_on_disk(tmp_path: Path) -> None:
    """After SIGKILL every line but possibly the last is whole JSON, and older events are there."""
    trace = tmp_path / "t.jsonl"
    proc = spawn(trace, EXITS, "block")
    wait_for_line(proc, "blocking")
    # The first wait.begin line was queued before "blocking" was printed.
    # Wait a quarter second (2.5 of the writer's flush intervals) and kill
    # without warning: the line must be on disk by then.
    time.sleep(0.25)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    text = trace.read_text()
    lines = text.splitlines()
    for line in lines[:-1] if not text.endswith("\n") else lines:
        json.loads(line)
    events = [json.loads(line)["event"] for line in lines if line.endswith("}")]
    assert "event.wait.begin" in events and "trace.end" not in events
    assert '"obj":"also_never"' in text


@pytest.mark.slow
def test_thread_names_are_the_programs_own(tmp_path: Path) -> None:
    """The tracer adds no thread of its own that would shift Thread-N numbering."""
    traced = tracer_run("-o", str(tmp_path / "t.jsonl"), EXITS, "ok")
    assert "thread Thread-1 (set)" in traced.stdout
    assert traced.stdout == plain_run(EXITS, "ok").stdout
    assert os.path.exists(tmp_path / "t.jsonl")


OWN_CLOCK = str(PROGRAMS / "own_clock.py")


def test_time_scale_runs_the_programs_sleeps_clocks_and_loops_consistently(
    tmp_path: Path,
) -> None:
    """Under --time-scale 0.01 the clocks see a 20 s sleep, and a 20 s deadline loop ends."""
    trace = tmp_path / "t.jsonl"
    traced = tracer_run("--time-scale", "0.01", "-o", str(trace), OWN_CLOCK, "20")
    assert traced.returncode == 0, traced.stderr
    saw, rounds = traced.stdout.splitlines()
    assert saw == "clocks saw the sleep: True"
    assert 1 <= int(rounds.split(": ")[1]) <= 20
    lines = read(trace)
    assert lines[0]["time_scale"] == 0.01
    first = next(e for e in lines if e["event"] == "sleep.begin")
    assert first["seconds"] == 20.0 and first["site"] == "own_clock.py:15" and "obj" not in first
    ends = {e["begin_seq"] for e in lines if e["event"] == "sleep.end"}
    assert first["seq"] in ends


def test_without_a_time_scale_sleeps_are_traced_and_start_has_no_scale(tmp_path: Path) -> None:
    """Plain tracer run traces the program's sleeps too; trace.start has no time_scale."""
    trace = tmp_path / "t.jsonl"
    traced = tracer_run("-o", str(trace), OWN_CLOCK, "0.01")
    assert traced.returncode == 0, traced.stderr
    lines = read(trace)
    assert "time_scale" not in lines[0]
    assert next(e["seconds"] for e in lines if e["event"] == "sleep.begin") == 0.01


def test_timeout_stays_in_wall_clock_seconds_under_a_time_scale(tmp_path: Path) -> None:
    """--timeout 0.5 with --time-scale 100 ends the run after half a real second, asleep."""
    trace = tmp_path / "t.jsonl"
    traced = tracer_run("--time-scale", "100", "--timeout", "0.5", "-o", str(trace), OWN_CLOCK, "1")
    assert traced.returncode == 124
    end = read(trace)[-1]
    assert end["reason"] == "timeout"
    assert [(b["thread"], b["event"]) for b in end["blocked"]] == [("MainThread", "sleep.begin")]
