"""``analyze validate``: each broken rule named file:line, exit 0, 1 or 2."""

from __future__ import annotations

import gzip
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import zstandard
from click.testing import CliRunner, Result
from tracebuild import Recorder

from analyze.cli import main
from analyze.validate import validate_file

WriteTrace = Callable[..., Path]
TRACES = Path(__file__).resolve().parents[2] / "traces"


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, ["validate", *(str(a) for a in args)])


def test_sample_traces_are_valid() -> None:
    """The sample traces pass, with a summary line each and exit 0."""
    result = run(TRACES / "cookbook.jsonl", TRACES / "fixed.jsonl")
    assert (result.exit_code, result.stdout) == (0, "")
    assert result.stderr.splitlines()[0] == (
        f"{TRACES / 'cookbook.jsonl'}: valid, 51 lines, 1 run, complete"
    )


def test_every_rule_is_named_by_line(recorder: Recorder, write_trace: WriteTrace) -> None:
    """Each kind of broken rule is one line FILE:LINE: what, and the exit status is 1."""
    wait = recorder.wait(thread="Thread-1")  # line 2
    recorder.set(waiters=1)  # 3
    recorder.finish(wait, result=True, timed_out=False)  # 4
    recorder.set()  # 5
    recorder.set()  # 6
    recorder.op("event.frob", "ready")  # 7
    recorder.set()  # 8
    recorder.lines[3]["event"] = "cond.wait.end"
    recorder.lines[4]["waiters"] = "many"
    recorder.lines[5]["ts"] = recorder.lines[4]["ts"] - 2_000_000
    recorder.lines[7]["seq"] = 2
    path = write_trace(recorder)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join([*lines, "not json\n"]))
    result = run(path)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{path}:4: cond.wait.end ends the begin at line 2, which event.wait.end should end",
        f"{path}:5: field 'waiters' should be an integer, not \"many\"",
        # Line 5 is unusable, so line 6 is compared with line 4.
        f"{path}:6: ts goes back 1.000 ms from the line before",
        f"{path}:7: unknown event 'event.frob' (not in synctrace/1 as this version of synctrace"
        " knows it: written by a newer one?)",
        f"{path}:8: seq 2 does not follow 6: the line is out of place (lines reordered,"
        " repeated or pasted in)",
        f"{path}:10: not a JSON object",
    ]
    assert result.stderr == f"{path}: 6 problems in 10 lines\n"


def test_first_line_must_be_trace_start(tmp_path: Path) -> None:
    """A file that starts with an event line is cut at the front."""
    path = tmp_path / "cut.jsonl"
    path.write_text(
        '{"event": "event.set", "ts": 1, "seq": 3, "thread": "T", "thread_id": 1,'
        ' "obj": "e", "site": "a.py:1"}\n'
    )
    assert run(path).stdout == (
        f"{path}:1: the first line is not trace.start: the file is cut at the front, or is not"
        " a synctrace trace\n"
    )


def test_concatenated_runs_are_valid(recorder: Recorder, write_trace: WriteTrace) -> None:
    """Runs joined with cat are valid: each trace.start begins a run with its own seq."""
    recorder.set()
    path = write_trace(recorder)
    path.write_text(path.read_text() * 2)
    result = run(path)
    assert result.exit_code == 0
    assert result.stderr == f"{path}: valid, 6 lines, 2 runs, complete\n"


def test_killed_run_is_named(recorder: Recorder, write_trace: WriteTrace) -> None:
    """A torn last line is a problem; the summary says the trace has no trace.end."""
    recorder.set()
    path = write_trace(recorder, end=False, tail='{"event": "ev')
    result = run(path)
    assert result.stdout == f"{path}:3: cut short (the run was killed while writing it)\n"
    assert result.exit_code == 1


@pytest.mark.parametrize("suffix", ["gz", "zst"])
def test_compressed_traces_are_checked(
    recorder: Recorder, write_trace: WriteTrace, suffix: str
) -> None:
    """gzip and zstd traces are checked line by line like plain ones."""
    recorder.set()
    plain = write_trace(recorder).read_bytes().replace(b'"waiters": 0', b'"waiters": "0"')
    packed = gzip.compress(plain) if suffix == "gz" else zstandard.compress(plain)
    path = write_trace(recorder).with_suffix(f".jsonl.{suffix}")
    path.write_bytes(packed)
    assert run(path).stdout == f"{path}:2: field 'waiters' should be an integer, not \"0\"\n"


def test_problems_are_capped(recorder: Recorder, write_trace: WriteTrace) -> None:
    """Past --max-problems the rest are counted on one line."""
    path = write_trace(recorder)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(lines[0] + "junk\n" * 60 + lines[1])
    out = run(path, "--max-problems", "5").stdout.splitlines()
    assert out[5:] == [f"{path}: ... and 55 more problems"]
    assert len(out) == 6
    assert validate_file(str(path)).count == 60


def test_unreadable_input_exits_2(
    tmp_path: Path, recorder: Recorder, write_trace: WriteTrace
) -> None:
    """A missing file or a folder without traces is one line and exit 2; the others are checked."""
    good = write_trace(recorder)
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run(tmp_path / "nope.jsonl", empty, good)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"Error: {tmp_path / 'nope.jsonl'}: no such file; check the path",
        f"Error: {empty}: a folder with no traces in it (looked for *.jsonl, *.jsonl.gz,"
        " *.jsonl.zst, *.parquet); give trace files, or a folder that holds them",
        f"{good}: valid, 2 lines, 1 run, complete",
    ]


def test_a_huge_line_is_named_by_its_size(tmp_path: Path) -> None:
    """A file of one line of several MB is one problem, read in bounded pieces."""
    path = tmp_path / "blob.jsonl"
    path.write_bytes(b"x" * (5 << 20))
    assert run(path).stdout == (
        f"{path}:1: a line of 5,242,880 bytes, longer than any trace line\n"
    )


def test_validate_does_not_import_polars(tmp_path: Path) -> None:
    """Checking lines needs no polars, so validate starts at once."""
    code = (
        "import sys; from analyze.validate import validate_file;"
        f" validate_file({str(TRACES / 'cookbook.jsonl')!r}); print('polars' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == "False\n"


def test_compressed_data_cut_before_its_first_line_is_not_called_empty(tmp_path: Path) -> None:
    """A gzip trace cut inside its header has bytes: it is named as cut, not as an empty file."""
    path = tmp_path / "t.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"event": "trace.start"}\n')[:8])
    result = run(path)
    assert (result.exit_code, result.stdout) == (
        1,
        f"{path}:1: no line in the gzip data: it ends before its first line (the run was"
        " killed while writing it), or an empty file was compressed\n",
    )
