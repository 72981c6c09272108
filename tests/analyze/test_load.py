"""Reading traces: metadata, warnings, and one clear message for each kind of bad input."""

from __future__ import annotations

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
    assert report_error(tmp_path / "nope.jsonl") == f"{tmp_path / 'nope.jsonl'}: no such file"


def test_empty_file(tmp_path: Path) -> None:
    """An empty file is refused with the hint on how to record a trace."""
    path = tmp_path / "empty.jsonl"
    path.write_text("")
    assert report_error(path) == f"{path}: empty file {HINT}"


def test_not_json_names_the_line(recorder: Recorder, write_trace: WriteTrace) -> None:
    """A line in the middle that is not JSON is named by file:line."""
    recorder.set()
    path = write_trace(recorder)
    lines = path.read_text().splitlines(keepends=True)
    lines.insert(2, "this is not json\n")
    path.write_text("".join(lines))
    assert report_error(path) == f"{path}:3: not a JSON object {HINT}"


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


def test_missing_required_field(recorder: Recorder, write_trace: WriteTrace) -> None:
    """A line without seq is named with the field and the rule."""
    recorder.set()
    del recorder.lines[1]["seq"]
    path = write_trace(recorder)
    assert report_error(path) == (
        f"{path}:2: required field 'seq' is missing (every line needs event, ts, seq, thread,"
        " thread_id); was the file edited?"
    )


def test_wrong_type(recorder: Recorder, write_trace: WriteTrace) -> None:
    """A field of the wrong JSON type is named with its line."""
    recorder.set()
    recorder.set()
    recorder.lines[2]["waiters"] = "none"
    path = write_trace(recorder)
    assert report_error(path) == (
        f"{path}:3: field 'waiters' should be an integer, not \"none\"; was the file edited?"
    )


def test_operation_without_obj(recorder: Recorder, write_trace: WriteTrace) -> None:
    """An operation line without the object it acted on is refused."""
    recorder.set()
    del recorder.lines[1]["obj"]
    path = write_trace(recorder)
    assert report_error(path) == f"{path}:2: event.set has no 'obj' field; was the file edited?"


def test_concatenated_traces(recorder: Recorder, write_trace: WriteTrace) -> None:
    """Two traces glued into one file break the seq rule; the message says to split them."""
    recorder.set()
    path = write_trace(recorder)
    path.write_text(path.read_text() * 2)
    assert report_error(path) == (
        f"{path}:4: seq 0 does not follow 2: lines were reordered or traces concatenated;"
        " give each run as its own file"
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
