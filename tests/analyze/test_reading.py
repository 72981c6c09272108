"""Reading traces: metadata, warnings, and one clear message for each kind of bad input."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from tracebuild import Recorder

from analyze import TraceError, build_report, load_traces

WriteTrace = Callable[..., Path]
HINT = "(is this a synctrace trace? record one with `tracer run` or `tracer demo`)"


def report_error(*paths: Path) -> str:
    with pytest.raises(TraceError) as caught:
        build_report(load_traces(paths))
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_trace_info(recorder: Recorder, write_trace: WriteTrace) -> None:
    """A complete trace reports its files, line count, duration and no warnings."""
    recorder.set()
    path = write_trace(recorder)
    info = build_report(load_traces([path])).trace
    assert (info.files, info.events, info.complete, info.warnings) == ([str(path)], 3, True, [])
    assert info.duration_s == pytest.approx(0.002)
    assert info.started == "2026-11-26T03:40:00.000000+00:00"
    assert (info.reasons, info.details, info.exit_codes) == (["completed"], [None], [None])


def test_missing_trace_end_is_a_warning(recorder: Recorder, write_trace: WriteTrace) -> None:
    """A trace without trace.end is analysed but marked incomplete, with a warning."""
    recorder.set()
    path = write_trace(recorder, end=False)
    info = build_report(load_traces([path])).trace
    assert not info.complete
    assert info.warnings == [
        f"trace {path} has no trace.end: the run was killed or is still running, so findings"
        " may be incomplete"
    ]


def test_dropped_events_are_a_warning(recorder: Recorder, write_trace: WriteTrace) -> None:
    """trace.end events_dropped > 0 becomes a warning that findings may be incomplete."""
    recorder.end(events_dropped=12)
    path = write_trace(recorder)
    warnings = build_report(load_traces([path])).trace.warnings
    assert len(warnings) == 1
    assert "lost 12 events" in warnings[0]


def test_torn_last_line_is_dropped_with_a_warning(
    recorder: Recorder, write_trace: WriteTrace
) -> None:
    """A last line cut short (what SIGKILL leaves) is skipped and reported, not an error."""
    recorder.set()
    path = write_trace(recorder, end=False, tail='{"event":"event.cle')
    report = build_report(load_traces([path]))
    assert report.trace.events == 2
    assert report.trace.warnings[0] == (
        f"{path}:3: the last line is cut short (the run was killed while writing it);"
        " it was skipped"
    )
    assert report.counts["unwaited-signal"] == 1


def test_missing_file(tmp_path: Path) -> None:
    """A path that does not exist is named."""
    assert (
        report_error(tmp_path / "nope.jsonl")
        == f"{tmp_path / 'nope.jsonl'}: no such file; check the path"
    )


def test_empty_file(tmp_path: Path) -> None:
    """An empty file is refused with the hint on how to record a trace."""
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    assert report_error(path) == f"{path}: empty file {HINT}"


def test_not_json_in_the_middle_is_skipped_and_named(
    recorder: Recorder, write_trace: WriteTrace
) -> None:
    """A line in the middle that is not JSON is left out, named by file:line, and the rest read."""
    recorder.set()
    path = write_trace(recorder)
    lines = path.read_text().splitlines(keepends=True)
    lines.insert(2, "this is not json\n")
    path.write_text("".join(lines))
    report = build_report(load_traces([path]))
    # The line count is not blamed as well: the skipped line accounts for it.
    assert report.trace.warnings == [f"{path}:3: not a JSON object; the line was skipped"]
    assert (report.trace.events, report.counts["unwaited-signal"]) == (3, 1)


def test_a_non_trace_file(tmp_path: Path) -> None:
    """A text file that is not a trace at all fails on line 1."""
    path = tmp_path / "notes.txt"
    path.write_text("hello\nworld\n")
    assert report_error(path) == f"{path}:1: not a JSON object {HINT}"


def test_first_line_must_be_trace_start(tmp_path: Path) -> None:
    """A file whose first line is not trace.start is refused."""
    path = tmp_path / "cut.jsonl"
    path.write_text(json.dumps({"event": "event.set", "ts": 1, "seq": 3}) + "\n")
    assert report_error(path) == (
        f"{path}:1: the first line is 'event.set', not trace.start: the file is cut at the"
        " front or is not a synctrace trace; record a new one"
    )


def test_other_major_version(recorder: Recorder, write_trace: WriteTrace) -> None:
    """A synctrace/2 trace is refused with the fix (upgrade)."""
    recorder.lines[0]["schema"] = "synctrace/2"
    path = write_trace(recorder)
    assert report_error(path) == (
        f"{path}: was written by synctrace/2; this analyzer reads synctrace/1: upgrade synctrace"
    )


def test_minor_version_is_accepted(recorder: Recorder, write_trace: WriteTrace) -> None:
    """synctrace/1.4 is still synctrace/1: it is read."""
    recorder.lines[0]["schema"] = "synctrace/1.4"
    assert build_report(load_traces([write_trace(recorder)])).trace.complete


def damage(path: Path) -> list[str]:
    """The report's warnings about damaged lines (those naming a line of ``path``)."""
    return [w for w in build_report(load_traces([path])).trace.warnings if w.startswith(f"{path}:")]


def test_missing_required_field(recorder: Recorder, write_trace: WriteTrace) -> None:
    """A line without seq is skipped and named with the field and the rule."""
    recorder.set()
    del recorder.lines[1]["seq"]
    path = write_trace(recorder)
    assert damage(path) == [
        f"{path}:2: required field 'seq' is missing (every line needs event, ts, seq, thread,"
        " thread_id); the line was skipped"
    ]


def test_wrong_type(recorder: Recorder, write_trace: WriteTrace) -> None:
    """A field of the wrong JSON type is skipped and named with its line; the rest is found."""
    recorder.set()
    recorder.set()
    recorder.lines[2]["waiters"] = "none"
    path = write_trace(recorder)
    assert damage(path) == [
        f"{path}:3: field 'waiters' should be an integer, not \"none\"; the line was skipped"
    ]
    assert build_report(load_traces([path])).counts["unwaited-signal"] == 1


def test_operation_without_obj(recorder: Recorder, write_trace: WriteTrace) -> None:
    """An operation line without the object it acted on is skipped and named."""
    recorder.set()
    del recorder.lines[1]["obj"]
    path = write_trace(recorder)
    assert damage(path) == [f"{path}:2: event.set has no 'obj' field; the line was skipped"]


def test_ts_going_back_is_kept_and_named(recorder: Recorder, write_trace: WriteTrace) -> None:
    """A line whose ts is earlier than the line before is analysed as it is, with a warning."""
    recorder.set()
    recorder.set()
    recorder.lines[2]["ts"] -= 3_000_000
    path = write_trace(recorder)
    assert damage(path) == [
        f"{path}:3: ts goes back 2.000 ms from the line before; analyzed as it is"
    ]
    assert build_report(load_traces([path])).counts["unwaited-signal"] == 2


def test_mismatched_end_is_kept_and_named(recorder: Recorder, write_trace: WriteTrace) -> None:
    """An end whose begin_seq names a begin of another kind is analysed as it is, and named."""
    wait = recorder.wait(thread="Thread-1")
    recorder.set(waiters=1)
    recorder.finish(wait, result=True, timed_out=False)
    recorder.lines[-1]["event"] = "cond.wait.end"
    path = write_trace(recorder)
    assert damage(path) == [
        f"{path}:4: cond.wait.end ends the begin at line 2, which event.wait.end should end;"
        " analyzed as it is"
    ]


def test_unknown_events_are_named_once_each(recorder: Recorder, write_trace: WriteTrace) -> None:
    """Events from a newer synctrace/1.x are ignored, warned once per name with count and line."""
    recorder.set()
    for _ in range(3):
        recorder.op("event.frob", "ready", knob=1)
    recorder.op("lock.wiggle", "l")
    path = write_trace(recorder)
    report = build_report(load_traces([path]))
    assert damage(path) == [
        f"{path}:3: unknown event 'event.frob' on 3 lines, first here (written by a newer"
        " synctrace/1.x?); the analysis ignores it",
        f"{path}:6: unknown event 'lock.wiggle' on 1 line, first here (written by a newer"
        " synctrace/1.x?); the analysis ignores it",
    ]
    assert report.counts["unwaited-signal"] == 1


def test_many_damaged_lines_are_counted_not_listed(
    recorder: Recorder, write_trace: WriteTrace
) -> None:
    """Past ten damaged lines in a run the report counts the rest and points to validate."""
    for _ in range(15):
        recorder.set()
    path = write_trace(recorder)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:2] + ["junk\n"] * 12 + lines[2:]))
    notes = damage(path)
    assert len(notes) == 11
    assert notes[-1] == (
        f"{path}: 2 more damaged lines in this run (`analyze validate {path}` lists them all)"
    )


def test_a_huge_line_is_skipped_in_bounded_memory(
    recorder: Recorder, write_trace: WriteTrace
) -> None:
    """A line of several MB inside a trace is skipped by its size, not read whole."""
    recorder.set()
    path = write_trace(recorder)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(lines[0] + "x" * (3 << 20) + "\n" + "".join(lines[1:]))
    assert damage(path)[0] == (
        f"{path}:2: a line of 3,145,729 bytes, longer than any trace line; the line was skipped"
    )


def test_a_file_of_one_huge_line_is_refused(tmp_path: Path) -> None:
    """A file whose first line is megabytes long is not a trace: one line, no traceback."""
    path = tmp_path / "blob.jsonl"
    path.write_bytes(b"{" * (3 << 20))
    assert report_error(path) == (
        f"{path}:1: the first line is longer than 1,048,576 bytes, far longer than any trace"
        f" line {HINT}"
    )


def test_concatenated_traces_are_several_runs(recorder: Recorder, write_trace: WriteTrace) -> None:
    """Two traces glued into one file (cat a b) are two runs, each named file:line."""
    recorder.set()
    path = write_trace(recorder)
    path.write_text(path.read_text() * 2)
    report = build_report(load_traces([path]))
    assert [(r.label, r.first_line, r.events, r.counts) for r in report.trace.runs] == [
        (f"{path}:1", 1, 3, {"unwaited-signal": 1}),
        (f"{path}:4", 4, 3, {"unwaited-signal": 1}),
    ]
    assert (report.trace.files, report.trace.warnings) == ([str(path)], [])
    assert report.findings["run"].to_list() == [0, 1]


def test_a_folder_is_its_traces_in_name_order(
    recorder: Recorder, write_trace: WriteTrace, tmp_path: Path
) -> None:
    """A folder stands for every trace in it, any supported extension, sorted by name."""
    recorder.set()
    write_trace(recorder, name="b.jsonl")
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress((tmp_path / "b.jsonl").read_bytes()))
    (tmp_path / "notes.txt").write_text("not a trace")
    report = build_report(load_traces([tmp_path]))
    assert report.trace.files == [str(tmp_path / "a.jsonl.gz"), str(tmp_path / "b.jsonl")]


def test_a_folder_without_traces_is_refused(tmp_path: Path) -> None:
    """A folder holding no trace is one line saying what was looked for."""
    (tmp_path / "notes.txt").write_text("not a trace")
    assert report_error(tmp_path) == (
        f"{tmp_path}: a folder with no traces in it (looked for *.jsonl, *.jsonl.gz,"
        " *.jsonl.zst, *.parquet); give trace files, or a folder that holds them"
    )


def test_line_count_mismatch_is_a_warning(recorder: Recorder, write_trace: WriteTrace) -> None:
    """When trace.end's events_written disagrees with the lines read, the report warns."""
    recorder.set()
    recorder.set()
    recorder.end()
    del recorder.lines[1]
    path = write_trace(recorder)
    assert build_report(load_traces([path])).trace.warnings == [
        f"trace {path}: trace.end counts 3 lines before it but 2 were read: the file was cut"
        " or edited, so findings may be incomplete"
    ]


def test_only_damaged_files_are_walked_line_by_line(
    recorder: Recorder, write_trace: WriteTrace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sound file stays on polars' fast path; only the file with damage is walked again."""
    from analyze import reading

    walked: list[str] = []
    walk = reading._walk

    def spy(path: str, kind: reading.Kind) -> list[tuple[reading.TraceFile, object]]:
        walked.append(path)
        return walk(path, kind)  # type: ignore[return-value]

    monkeypatch.setattr(reading, "_walk", spy)
    recorder.set()
    sound = write_trace(recorder)
    damaged = write_trace(recorder)
    damaged.write_text(damaged.read_text().replace('"waiters": 0', '"waiters": "0"'))
    build_report(load_traces([sound]))
    assert walked == []
    report = build_report(load_traces([sound, damaged]))
    assert walked == [str(damaged)]
    assert report.counts["unwaited-signal"] == 1
