"""Any trace a user hands over, through the CLI: unusable, damaged, or several runs.

Unusable input is one line and exit 2; damaged input is analyzed with its
damage named in every format; runs come from files, folders and
concatenations, plain or compressed.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import zstandard
from click.testing import CliRunner, Result
from tracebuild import Recorder

from analyze.cli import main

WriteTrace = Callable[..., Path]
HINT = "(is this a synctrace trace? record one with `tracer run` or `tracer demo`)"
FORMATS = ("text", "markdown", "json")


def run(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def a_run() -> Recorder:
    """An unwaited set, a stranded item, and a wait that the set ended."""
    rec = Recorder()
    wait = rec.wait(thread="Thread-1", timeout=1.0)
    woken_by = rec.set(waiters=1)
    rec.finish(wait, result=True, timed_out=False, woken_by=woken_by)
    rec.put(1, "jobs")
    rec.end()
    return rec


# --- nothing can be analyzed: exit 2, one line, no traceback ----------------------------


def _empty(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "t.jsonl"
    path.write_text("")
    return path, f"{path}: empty file {HINT}"


def _not_json(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "t.jsonl"
    path.write_text("<html>\n<body>\n")
    return path, f"{path}:1: not a JSON object {HINT}"


def _json_not_a_trace(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "t.json"
    path.write_text('{"name": "package", "version": "1.0"}\n')
    return path, (
        f"{path}:1: the first line is a JSON object with no event, not trace.start: the file"
        " is cut at the front or is not a synctrace trace; record a new one"
    )


def _unknown_schema(tmp_path: Path) -> tuple[Path, str]:
    rec = a_run()
    rec.lines[0]["schema"] = "synctrace/2"
    path = tmp_path / "t.jsonl"
    path.write_text(rec.text())
    return (
        path,
        f"{path}: was written by synctrace/2; this analyzer reads synctrace/1: upgrade synctrace",
    )


def _missing(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "t.jsonl"
    return path, f"{path}: no such file; check the path"


def _folder_without_traces(tmp_path: Path) -> tuple[Path, str]:
    (tmp_path / "README.txt").write_text("hello")
    return tmp_path, (
        f"{tmp_path}: a folder with no traces in it (looked for *.jsonl, *.jsonl.gz,"
        " *.jsonl.zst, *.parquet); give trace files, or a folder that holds them"
    )


def _traces_in_a_subfolder_only(tmp_path: Path) -> tuple[Path, str]:
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "a.jsonl").write_text(a_run().text())
    return tmp_path, (
        f"{tmp_path}: a folder with no traces in it (looked for *.jsonl, *.jsonl.gz,"
        f" *.jsonl.zst, *.parquet); subfolders are not searched: name {tmp_path / 'runs'}"
    )


def _one_huge_line(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "t.jsonl"
    path.write_bytes(b'{"event": "trace.start", "argv": ["' + b"a" * (4 << 20) + b'"]}\n')
    return path, (
        f"{path}:1: the first line is longer than 1,048,576 bytes, far longer than any trace"
        f" line {HINT}"
    )


def _damaged_gzip(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "t.jsonl.gz"
    data = bytearray(gzip.compress(a_run().text().encode()))
    data[20] ^= 0xFF
    path.write_bytes(bytes(data))
    return path, f"{path}: the gzip data is damaged"


@pytest.mark.parametrize(
    "spoil",
    [
        _empty,
        _not_json,
        _json_not_a_trace,
        _unknown_schema,
        _missing,
        _folder_without_traces,
        _traces_in_a_subfolder_only,
        _one_huge_line,
        _damaged_gzip,
    ],
)
@pytest.mark.parametrize("command", ["report", "validate"])
def test_unusable_input_is_one_line_and_exit_2(
    tmp_path: Path, spoil: Callable[[Path], tuple[Path, str]], command: str
) -> None:
    """Nothing to analyze: one line naming the file and the fix, exit 2, never a traceback."""
    path, message = spoil(tmp_path)
    result = run(command, path)
    unreadable = (_missing, _folder_without_traces, _traces_in_a_subfolder_only, _damaged_gzip)
    if command == "validate" and spoil not in unreadable:
        # validate reads what report refuses, and lists what is wrong with it.
        assert result.exit_code == 1
        assert result.stdout.startswith(f"{path}:1: ")
        return
    assert result.exit_code == 2, result.output
    assert (result.stdout, "Traceback" in result.stderr) == ("", False)
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"Error: {message}")


# --- part can be analyzed: the damage is named in every format --------------------------


def _torn_last_line(path: Path) -> tuple[str, int]:
    path.write_text(path.read_text() + '{"event": "event.se')
    return f"{path}:7: the last line is cut short (the run was killed while writing it)", 6


def _garbled_middle(path: Path) -> tuple[str, int]:
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join([*lines[:3], "\x00\x00garbage\x00\n", *lines[3:]]))
    return f"{path}:4: not a JSON object; the line was skipped", 6


def _newer_event(path: Path) -> tuple[str, int]:
    lines = path.read_text().splitlines(keepends=True)
    extra = dict(json.loads(lines[4]), event="queue.peek", seq=4)
    shifted = [
        json.dumps(dict(json.loads(x), seq=json.loads(x)["seq"] + 1)) + "\n" for x in lines[4:]
    ]
    path.write_text("".join([*lines[:4], json.dumps(extra) + "\n", *shifted]))
    return (
        f"{path}:5: unknown event 'queue.peek' on 1 line, first here (written by a newer"
        " synctrace/1.x?); the analysis ignores it",
        7,
    )


def _ts_back(path: Path) -> tuple[str, int]:
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    lines[3]["ts"] = lines[2]["ts"] - 500_000
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return f"{path}:4: ts goes back 0.500 ms from the line before; analyzed as it is", 6


def _mismatched_end(path: Path) -> tuple[str, int]:
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    lines[3]["thread"] = "Thread-9"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return (
        f"{path}:4: event.wait.end by Thread-9 on ready ends the begin at line 2, made by"
        " Thread-1 on ready; analyzed as it is",
        6,
    )


@pytest.mark.parametrize(
    "spoil", [_torn_last_line, _garbled_middle, _newer_event, _ts_back, _mismatched_end]
)
@pytest.mark.parametrize("fmt", FORMATS)
def test_damage_is_named_and_the_rest_analyzed(
    write_trace: WriteTrace, spoil: Callable[[Path], tuple[str, int]], fmt: str
) -> None:
    """A trace damaged in part is reported (exit 0), its damage named file:line in every format."""
    path = write_trace(a_run())
    warning, events = spoil(path)
    result = run("report", path, "--format", fmt)
    assert result.exit_code == 0, result.output
    if fmt == "json":
        data = json.loads(result.stdout)
        assert warning in "\n".join(data["trace"]["warnings"])
        assert data["trace"]["events"] == events
        assert data["counts"]["stranded-item"] == 1
    else:
        # Wrapped to 80 columns in text: compare the words.
        assert " ".join(warning.split()) in " ".join(result.stdout.split())


# --- several runs -------------------------------------------------------------------------


COMPRESS = {
    "jsonl": lambda b: b,
    "jsonl.gz": gzip.compress,
    "jsonl.zst": zstandard.compress,
}


@pytest.mark.parametrize("suffix", COMPRESS)
def test_a_folder_of_runs_and_runs_joined_with_cat(tmp_path: Path, suffix: str) -> None:
    """A folder's traces (any extension) and a file of two runs are each reported, in a table."""
    folder = tmp_path / "runs"
    folder.mkdir()
    one = a_run().text().encode()
    (folder / f"a.{suffix}").write_bytes(COMPRESS[suffix](one))
    (folder / f"b.{suffix}").write_bytes(COMPRESS[suffix](one + one))
    data = json.loads(run("report", folder, "--format", "json").stdout)
    a, b = str(folder / f"a.{suffix}"), str(folder / f"b.{suffix}")
    assert data["trace"]["runs"] == 3
    assert [(r["label"], r["counts"]) for r in data["runs"]] == [
        (a, {"cleared-wait": 1, "stranded-item": 1}),
        (f"{b}:1", {"cleared-wait": 1, "stranded-item": 1}),
        (f"{b}:7", {"cleared-wait": 1, "stranded-item": 1}),
    ]
    assert data["trace"]["warnings"] == []
    text = run("report", folder).stdout
    assert "Runs (findings by kind)" in text


def test_runs_too_many_kinds_for_a_table_are_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the runs table would pass 80 columns, each run is a line listing its findings."""
    traces = Path(__file__).resolve().parents[2] / "traces"
    monkeypatch.chdir(tmp_path)
    Path("runs").mkdir()
    Path("runs/a.jsonl").write_bytes((traces / "fixed.jsonl").read_bytes())
    Path("runs/b.jsonl.gz").write_bytes(gzip.compress((traces / "cookbook.jsonl").read_bytes() * 2))
    text = run("report", "runs").stdout
    table = text[text.index("Runs (findings by kind)") :].split("\n\n")[0]
    assert table.splitlines() == [
        "Runs (findings by kind)",
        "  runs/a.jsonl        completed  unheard-notify 1",
        "  runs/b.jsonl.gz:1   stopped    lost-signal 5, cleared-wait 6, stranded-item 5,",
        "                                 hang 1",
        "  runs/b.jsonl.gz:52  stopped    lost-signal 5, cleared-wait 6, stranded-item 5,",
        "                                 hang 1",
    ]
    assert max(len(line) for line in text.splitlines()) <= 80


# --- a file saved by an editor: a byte-order mark, CRLF line ends ----------------------

BOM = b"\xef\xbb\xbf"
EDITOR_SAVES = {
    "bom": lambda b: BOM + b,
    "crlf": lambda b: b.replace(b"\n", b"\r\n"),
    "bom-gzip": lambda b: gzip.compress(BOM + b),
    "bom-torn": lambda b: BOM + b + b'{"event": "event.se',
}


@pytest.mark.parametrize("save", EDITOR_SAVES)
def test_a_trace_saved_by_an_editor_is_read_as_it_was(tmp_path: Path, save: str) -> None:
    """A byte-order mark or CRLF ends change nothing: report, validate and redact read the trace."""
    path = tmp_path / ("t.jsonl.gz" if "gzip" in save else "t.jsonl")
    path.write_bytes(EDITOR_SAVES[save](a_run().text().encode()))
    result = run("report", path, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["trace"]["events"], data["counts"]["stranded-item"]) == (6, 1)
    torn = [f"{path}:7: the last line is cut short"] if "torn" in save else []
    assert [w[: len(torn[0])] for w in data["trace"]["warnings"][:1]] == torn
    validated = run("validate", path)
    assert validated.exit_code == (1 if torn else 0), validated.output
    assert f"{path}:1:" not in validated.stdout
    shared = tmp_path / "shared.jsonl"
    assert run("redact", path, "-o", shared).exit_code == 0
    assert json.loads(run("report", shared, "--format", "json").stdout)["counts"] == data["counts"]


def test_twelve_runs_listed_keep_each_kind_beside_its_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wrapped run line never ends in a kind whose count is on the next line."""
    traces = Path(__file__).resolve().parents[2] / "traces"
    monkeypatch.chdir(tmp_path)
    Path("runs").mkdir()
    for n in range(1, 12):
        # Labels of 21 characters put "stranded-item" at column 80 and its count past it.
        Path(f"runs/cookbook{n:02}.jsonl").write_bytes((traces / "cookbook.jsonl").read_bytes())
    Path("runs/fixed.jsonl").write_bytes((traces / "fixed.jsonl").read_bytes())
    text = run("report", "runs").stdout
    table = text[text.index("Runs (findings by kind)") :].split("\n\n")[0].splitlines()
    assert table[1:4] == [
        "  runs/cookbook01.jsonl  stopped    lost-signal 5, cleared-wait 6,",
        "                                    stranded-item 5, hang 1",
        "  runs/cookbook02.jsonl  stopped    lost-signal 5, cleared-wait 6,",
    ]
    assert table[-1] == "  runs/fixed.jsonl       completed  unheard-notify 1"
    assert len([line for line in table if line.startswith("  runs/")]) == 12
    assert all(line[-1].isdigit() or line[-1] == "," for line in table[1:])


@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_a_fact_of_some_runs_only_says_how_many(tmp_path: Path, fmt: str) -> None:
    """With several runs, the header says of how many a fact holds when not of all."""
    redacted = a_run()
    redacted.lines[0]["redacted"] = True
    (tmp_path / "a.jsonl").write_text(redacted.text())
    killed = a_run().text().splitlines(keepends=True)[:-1]  # no trace.end
    (tmp_path / "b.jsonl").write_text("".join(killed) * 2)
    flowing = " ".join(run("report", tmp_path, "--format", fmt).stdout.split())
    assert "redacted (1 of 3 runs): values, argv and host are salted hashes" in flowing
    assert "INCOMPLETE (no trace.end in 2 of 3 runs)" in flowing


def test_a_file_named_twice_is_one_run(tmp_path: Path) -> None:
    """A folder and a file in it (or one file given twice) count that file's findings once."""
    (tmp_path / "a.jsonl").write_text(a_run().text())
    data = json.loads(run("report", tmp_path, tmp_path / "a.jsonl", "--format", "json").stdout)
    assert (data["trace"]["runs"], data["counts"]["stranded-item"]) == (1, 1)


def test_a_single_event_is_not_plural(tmp_path: Path) -> None:
    """A trace of one line (a run killed at once) says '1 event'."""
    (tmp_path / "a.jsonl").write_text(a_run().text().splitlines(keepends=True)[0])
    assert " · 1 event · " in run("report", tmp_path / "a.jsonl").stdout


def test_the_header_counts_events_with_thousands_separated(tmp_path: Path) -> None:
    """A long trace's event count reads as validate writes it: 1,006 events."""
    rec = a_run()
    last = rec.lines.pop()  # trace.end
    for _ in range(1000):
        rec.lines.append(dict(rec.lines[-1], seq=rec.lines[-1]["seq"] + 1, event="event.is_set"))
    rec.lines.append(dict(last, seq=rec.lines[-1]["seq"] + 1, events_written=len(rec.lines)))
    (tmp_path / "a.jsonl").write_text(rec.text())
    assert " · 1,006 events · " in run("report", tmp_path / "a.jsonl").stdout


def test_a_repeated_line_is_named_once(write_trace: WriteTrace) -> None:
    """A line pasted twice is named as out of place, not blamed again by the line count."""
    path = write_trace(a_run())
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join([*lines[:3], lines[2], *lines[3:]]))
    data = json.loads(run("report", path, "--format", "json").stdout)
    assert data["trace"]["warnings"] == [
        f"{path}:4: seq 2 does not follow 2: the line is out of place (lines reordered,"
        " repeated or pasted in); the line was skipped"
    ]


def test_a_folder_passes_over_files_that_are_no_traces(tmp_path: Path) -> None:
    """A folder's empty or foreign .jsonl is named and passed over; named alone, refused."""
    (tmp_path / "a.jsonl").write_text(a_run().text())
    (tmp_path / "b.jsonl").write_text('{"name": "package"}\n')
    (tmp_path / "c.jsonl").write_text("")
    result = run("report", tmp_path, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert (data["trace"]["runs"], data["counts"]["stranded-item"]) == (1, 1)
    assert data["trace"]["warnings"] == [
        f"{tmp_path / 'b.jsonl'}:1: the first line is a JSON object with no event, not"
        " trace.start: the file is cut at the front or is not a synctrace trace; record a new"
        " one; passed over, the folder's other traces are reported",
        f"{tmp_path / 'c.jsonl'}: empty file {HINT}; passed over, the folder's other traces"
        " are reported",
    ]
    alone = run("report", tmp_path / "a.jsonl", tmp_path / "c.jsonl")
    assert (alone.exit_code, alone.stderr) == (
        2,
        f"Error: {tmp_path / 'c.jsonl'}: empty file {HINT}\n",
    )
    (tmp_path / "a.jsonl").unlink()
    none_left = run("report", tmp_path)
    assert none_left.exit_code == 2
    assert none_left.stderr.startswith(f"Error: {tmp_path / 'b.jsonl'}:1: the first line is")
