"""The ``analyze`` command through CliRunner: formats, exit codes and input errors."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result
from tracebuild import Recorder

from analyze.cli import main

WriteTrace = Callable[..., Path]


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def lost_and_stranded() -> Recorder:
    """One lost signal (error), one stranded item (warning) and one unwaited set (info)."""
    rec = Recorder()
    rec.set(thread="Thread-1", site="cook.py:40")
    rec.clear(thread="Thread-2", site="cook.py:52")
    rec.put(1, "jobs", thread="Thread-1", site="cook.py:60")
    rec.set("done", thread="Thread-1", site="cook.py:70")
    return rec


def only_warnings() -> Recorder:
    rec = Recorder()
    rec.put(1, "jobs")
    return rec


@pytest.fixture
def trace(write_trace: WriteTrace) -> Path:
    return write_trace(lost_and_stranded(), name="cook.jsonl")


def test_every_command_has_help() -> None:
    """The group and every command print --help and exit 0."""
    assert run("--help").exit_code == 0
    assert isinstance(main, click.Group)
    for name in main.commands:
        result = run(name, "--help")
        assert result.exit_code == 0, name
        assert "Usage:" in result.output


def test_json_contract(trace: Path) -> None:
    """The JSON report keeps the keys CI scripts rely on."""
    result = run("report", trace, "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["report"] == "synctrace/1"
    assert {"files", "events", "duration_s", "complete", "warnings"} <= set(data["trace"])
    assert data["trace"]["files"] == [str(trace)]
    assert data["counts"] == {
        "lost-signal": 1,
        "unwaited-signal": 1,
        "cleared-wait": 0,
        "stranded-item": 1,
        "hang": 0,
        "deadlock": 0,
        "failed-take": 0,
        "thread-exception": 0,
        "unheard-notify": 0,
        "blocked-at-end": 0,
        "coalesced-signal": 0,
        "stolen-wakeup": 0,
        "lock-contention": 0,
        "lock-held-while-blocked": 0,
        "racy-check": 0,
    }
    assert data["findings"][0] == {
        "kind": "lost-signal",
        "severity": "error",
        "ts_s": 0.001,
        "thread": "Thread-1",
        "object": "ready",
        "site": "cook.py:40",
        "message": "set() reached no waiter; Thread-2 cleared the flag 1 ms later"
        " (cook.py:52) before any wait() saw it",
        "file": str(trace),
        "run": 0,
        "seq": 1,
        "cause": 0,
    }
    assert (data["trace"]["runs"], data["trace"]["redacted"]) == (1, False)
    assert data["runs"] == [
        {
            "run": 0,
            "file": str(trace),
            "first_line": 1,
            "label": str(trace),
            "events": 6,
            "complete": True,
            "reason": "completed",
            "redacted": False,
            "counts": {"lost-signal": 1, "unwaited-signal": 1, "stranded-item": 1},
        }
    ]
    assert [(c["kind"], c["severity"], c["count"]) for c in data["causes"]] == [
        ("lost-signal", "error", 1),
        ("stranded-item", "warning", 1),
        ("unwaited-signal", "info", 1),
    ]
    assert set(data["causes"][0]) == {
        "kind",
        "severity",
        "object",
        "site",
        "count",
        "first_ts_s",
        "last_ts_s",
        "threads",
        "explanation",
        "fix",
    }
    assert data["containers"]["jobs"] == {
        "added": 1,
        "taken": 0,
        "discarded": 0,
        "stranded": 1,
        "left": 0,
        "failed_takes": 0,
        "order": None,
        "residency_ms": {"min": None, "p50": None, "p95": None, "max": None},
    }
    assert data["threads"]["Thread-2"] == {"waits": 0, "blocked_s": 0.0}


def test_text_report(trace: Path) -> None:
    """The text report, exactly: header, summary, causes worst first, their findings, tables."""
    result = run("report", trace)
    assert result.exit_code == 0
    assert (
        result.stdout
        == f"""\
synctrace report: {trace}
started 2026-11-26 03:40:00 UTC · 0.005 s recorded · 6 events · complete

3 findings: 1 error, 1 warning, 1 info
lost-signal 1, unwaited-signal 1, cleared-wait 0, stranded-item 1, hang 0,
  deadlock 0, failed-take 0, thread-exception 0, unheard-notify 0,
  blocked-at-end 0, coalesced-signal 0, stolen-wakeup 0, lock-contention 0,
  lock-held-while-blocked 0, racy-check 0

3 causes, worst first

1. error  lost-signal (1) · ready · cook.py:40  at 0.001 s
   set() on ready at cook.py:40 (Thread-1) reached no waiter and the flag was
   cleared before any wait() or is_set() looked, once: set() followed by clear()
   wakes only threads already inside wait(), so a thread that arrives a moment
   later sleeps through the signal.
   Fix: Let the consumer clear the flag after it wakes, or hand items over with
   queue.Queue, or use a Condition with a while-loop predicate.

2. warning  stranded-item (1) · jobs · cook.py:60  at 0.003 s
   Items added to jobs at cook.py:60 (Thread-1) were never taken (1 of them),
   and no thread that takes from jobs could still run: the work they carried is
   lost.
   Fix: Keep consumers running until the producers are done: send one sentinel
   (None) per consumer, or use queue.join(), and wake consumers with a signal
   that cannot be lost.

3. info  unwaited-signal (1) · done · cook.py:70  at 0.004 s
   set() on done at cook.py:70 (Thread-1) found no thread waiting, once, but the
   flag stayed up until a wait() or is_set() saw it (or the trace ended):
   nothing was lost.
   Fix: Nothing to fix: an Event keeps its flag up for whoever looks next.

Findings by cause (3 of each, the most severe first; --all lists all)

1. lost-signal (1) · ready · cook.py:40
  0.001 s  error   lost-signal  Thread-1 · ready · cook.py:40
    set() reached no waiter; Thread-2 cleared the flag 1 ms later (cook.py:52)
    before any wait() saw it

2. stranded-item (1) · jobs · cook.py:60
  0.003 s  warning stranded-item  Thread-1 · jobs · cook.py:60
    item 1 ('x') was added and never taken: it had been there 2 ms when the
    trace ended

3. unwaited-signal (1) · done · cook.py:70
  0.004 s  info    unwaited-signal  Thread-1 · done · cook.py:70
    set() reached no waiter; the flag was still set when the trace ended and no
    wait() or is_set() had looked at it

Containers (residency of taken items in ms: min, p50, p95, max)
  container  added  taken  stranded  left  failed  order  min  p50  p95  max
  jobs           1      0         1     0       0      -    -    -    -    -

Threads
  thread    waits  blocked s
  Thread-1      0      0.000
  Thread-2      0      0.000
"""
    )


def test_text_fits_80_columns_and_lists_a_few_findings_per_cause(
    write_trace: WriteTrace,
) -> None:
    """Text lines stay within 80 columns; a cause lists its first 3 findings, --all every one."""
    rec = Recorder()
    for item in range(1, 26):
        rec.put(item, "jobs", value="'" + "x" * 70 + "'")
    path = write_trace(rec)
    lines = run("report", path).stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert sum("stranded-item  MainThread" in line for line in lines) == 3
    assert "    ... and 22 more (--all lists them)" in lines
    every = run("report", path, "--all").stdout.splitlines()
    assert max(len(line) for line in every) <= 80
    assert sum("stranded-item  MainThread" in line for line in every) == 25
    assert not any("more (--all" in line for line in every)


def test_markdown_report(trace: Path) -> None:
    """Markdown has a heading, the summary, the causes, a findings table and the tables."""
    out = run("report", trace, "--format", "markdown").stdout
    assert out.startswith("## synctrace report\n")
    assert "**3 findings:** 1 error, 1 warning, 1 info" in out
    assert "### Causes\n\n1. **error · lost-signal (1) · ready · cook.py:40** (at 0.001 s):" in out
    assert (
        "| 1 | 0.001 | error | lost-signal | Thread-1 | ready | cook.py:40 | set() reached no"
        " waiter; Thread-2 cleared the flag 1 ms later (cook.py:52) before any wait() saw it |"
    ) in out
    assert "### Containers" in out
    assert "### Threads" in out


def test_markdown_lists_trace_warnings(write_trace: WriteTrace) -> None:
    """An incomplete trace's warning is in the Markdown report."""
    path = write_trace(only_warnings(), end=False)
    out = run("report", path, "--format", "markdown").stdout
    assert f"### Trace warnings\n\n- trace {path} has no trace.end" in out


@pytest.mark.parametrize(
    ("make", "fail_on", "code"),
    [
        (lost_and_stranded, "never", 0),
        (lost_and_stranded, "error", 1),
        (lost_and_stranded, "warning", 1),
        (only_warnings, "error", 0),
        (only_warnings, "warning", 1),
        (Recorder, "warning", 0),
    ],
)
def test_fail_on(
    write_trace: WriteTrace, make: Callable[[], Recorder], fail_on: str, code: int
) -> None:
    """Exit 1 only when a finding is at or above --fail-on; the report is printed either way."""
    result = run("report", write_trace(make()), "--fail-on", fail_on)
    assert result.exit_code == code
    assert result.stdout.startswith("synctrace report:")


def test_default_is_never_fail(trace: Path) -> None:
    """Without --fail-on, a report with an error still exits 0."""
    assert run("report", trace).exit_code == 0


def test_several_files_are_several_runs(write_trace: WriteTrace) -> None:
    """Findings name the file they came from, and ts_s counts from that file's start."""
    first = write_trace(lost_and_stranded(), name="a.jsonl")
    second = write_trace(only_warnings(), name="b.jsonl")
    data = json.loads(run("report", first, second, "--format", "json").stdout)
    assert data["trace"]["files"] == [str(first), str(second)]
    assert [(f["file"], f["kind"], f["ts_s"]) for f in data["findings"]] == [
        (str(first), "lost-signal", 0.001),
        (str(first), "stranded-item", 0.003),
        (str(first), "unwaited-signal", 0.004),
        (str(second), "stranded-item", 0.001),
    ]
    assert data["containers"]["jobs"]["stranded"] == 2


def test_runs_table_across_files_and_concatenated_runs(
    write_trace: WriteTrace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Several runs (a file, and two runs cat'ed into one) get a table of findings by kind."""
    monkeypatch.chdir(tmp_path)
    first = write_trace(lost_and_stranded(), name="a.jsonl").relative_to(tmp_path)
    second = write_trace(only_warnings(), name="b.jsonl").relative_to(tmp_path)
    second.write_text(second.read_text() * 2)
    text = run("report", first, second).stdout
    table = text[text.index("Runs (findings by kind)") :].split("\n\n")[0].splitlines()
    assert [line.split() for line in table[1:]] == [
        ["run", "ended", "lost-signal", "unwaited-signal", "stranded-item"],
        [str(first), "completed", "1", "1", "1"],
        [f"{second}:1", "completed", "0", "0", "1"],
        [f"{second}:4", "completed", "0", "0", "1"],
    ]
    assert f"[{second}:4]" in text
    markdown = run("report", first, second, "--format", "markdown").stdout
    assert "| run | ended | lost-signal | unwaited-signal | stranded-item |" in markdown
    assert f"| {second}:4 | completed | 0 | 0 | 1 |" in markdown
    data = json.loads(run("report", first, second, "--format", "json").stdout)
    assert data["trace"]["runs"] == 3
    assert data["trace"]["files"] == [str(first), str(second)]
    assert [(r["label"], r["counts"]) for r in data["runs"]] == [
        (str(first), {"lost-signal": 1, "unwaited-signal": 1, "stranded-item": 1}),
        (f"{second}:1", {"stranded-item": 1}),
        (f"{second}:4", {"stranded-item": 1}),
    ]
    assert [f["run"] for f in data["findings"]] == [0, 0, 0, 1, 2]


def test_one_run_has_no_runs_table(trace: Path) -> None:
    """A single run's report has no table across runs."""
    assert "Runs (" not in run("report", trace).stdout
    assert "### Runs" not in run("report", trace, "--format", "markdown").stdout


def _not_start(path: Path) -> str:
    path.write_text("".join(path.read_text().splitlines(keepends=True)[1:]))
    return f"{path}:1: the first line is 'event.set', not trace.start"


def _version(path: Path) -> str:
    path.write_text(path.read_text().replace("synctrace/1", "synctrace/2", 1))
    return f"{path}: was written by synctrace/2; this analyzer reads synctrace/1"


def _empty(path: Path) -> str:
    path.write_text("")
    return f"{path}: empty file"


def _missing(path: Path) -> str:
    path.unlink()
    return f"{path}: no such file; check the path"


@pytest.mark.parametrize("spoil", [_not_start, _version, _empty, _missing])
def test_bad_input_is_one_line_and_exit_2(trace: Path, spoil: Callable[[Path], str]) -> None:
    """Unusable input exits 2 with one line on stderr naming the file (and line), no traceback."""
    expected = spoil(trace)
    result = run("report", trace)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"Error: {expected}")


def test_directory_without_traces_is_bad_input(tmp_path: Path) -> None:
    """A folder with no trace in it is one line and exit 2 too."""
    result = run("report", tmp_path)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {tmp_path}: a folder with no traces in it")
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("fields", "header"),
    [
        ({}, ["started 2026-11-26 03:40:00 UTC · 0.002 s recorded · 3 events · complete"]),
        (
            {"reason": "stopped", "detail": "the consumers were idle after the producers finished"},
            [
                "started 2026-11-26 03:40:00 UTC · 0.002 s recorded · 3 events · complete,",
                "  ended: stopped (the consumers were idle after the producers finished)",
            ],
        ),
        (
            {"reason": "exit", "exit_code": 3},
            [
                "started 2026-11-26 03:40:00 UTC · 0.002 s recorded · 3 events · complete,",
                "  ended: exit (code 3)",
            ],
        ),
    ],
)
def test_text_header_says_how_the_run_ended(
    write_trace: WriteTrace, fields: dict[str, object], header: list[str]
) -> None:
    """The header gives trace.end's reason with its detail or exit code, wrapped at words."""
    rec = Recorder()
    rec.set()
    rec.end(**fields)
    path = write_trace(rec)
    markdown = run("report", path, "--format", "markdown").stdout
    assert " ".join(line.strip() for line in header).replace(" · ", ", ") + "." in markdown
    lines = run("report", path).stdout.splitlines()
    first = next(n for n, line in enumerate(lines) if line.startswith("started "))
    assert lines[first : first + len(header)] == header
    assert lines[first + len(header)] == ""


def test_finding_times_line_up_past_ten_seconds(write_trace: WriteTrace) -> None:
    """Finding times are right-aligned, so severities line up across 9 s and 11 s."""
    rec = Recorder()
    rec.set("a", after=9_000_000_000)
    rec.set("b", after=2_000_000_000)
    lines = run("report", write_trace(rec)).stdout.splitlines()
    assert "   9.000 s  info    unwaited-signal  MainThread · a · app.py:1" in lines
    assert "  11.000 s  info    unwaited-signal  MainThread · b · app.py:1" in lines


def test_cli_choices_match_the_modules_they_stand_for() -> None:
    """cli spells out severities and formats (to start without polars); they match the source."""
    from analyze import cli
    from analyze.columns import SEVERITIES
    from analyze.render import RENDERERS

    assert cli.SEVERITIES == SEVERITIES
    assert tuple(RENDERERS) == cli.FORMATS


def test_help_does_not_import_polars() -> None:
    """`analyze --help` and the cli module load without polars (start-up stays cheap)."""
    import subprocess
    import sys

    code = "import sys, analyze.cli; print('polars' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == "False\n"


def test_the_command_asks_polars_allocator_to_give_memory_back_unless_told(
    trace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """analyze sets _RJEM_MALLOC_CONF for the polars it loads, and leaves a user's own alone."""
    monkeypatch.delenv("_RJEM_MALLOC_CONF", raising=False)
    assert run("report", trace).exit_code == 0
    assert os.environ["_RJEM_MALLOC_CONF"] == "dirty_decay_ms:100,muzzy_decay_ms:0"
    monkeypatch.setenv("_RJEM_MALLOC_CONF", "background_thread:false")
    run("report", trace)
    assert os.environ["_RJEM_MALLOC_CONF"] == "background_thread:false"
