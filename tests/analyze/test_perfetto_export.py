"""The Perfetto export: Chrome Trace Event JSON that Perfetto and chrome://tracing open."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pictures import story

from analyze.cli import main
from analyze.export.perfetto import nesting_layers, perfetto_trace, runs_of
from synctrace import schema

WriteTrace = Callable[..., Path]
SAMPLE = Path(__file__).parent.parent.parent / "traces" / "cookbook.jsonl"
Event = dict[str, Any]


@pytest.fixture
def events(write_trace: WriteTrace) -> list[Event]:
    rec, _ = story()
    document = perfetto_trace(runs_of([str(write_trace(rec))]))
    # Through JSON and back, as a viewer reads it.
    parsed: list[Event] = json.loads(json.dumps(document))["traceEvents"]
    return parsed


def of(events: list[Event], ph: str, **match: Any) -> list[Event]:
    return [e for e in events if e["ph"] == ph and all(e.get(k) == v for k, v in match.items())]


def thread_names(events: list[Event]) -> dict[int, str]:
    return {e["tid"]: e["args"]["name"] for e in of(events, "M", name="thread_name")}


def test_threads_are_small_tids_named_by_metadata(events: list[Event]) -> None:
    """tids are 1, 2, 3 in order of appearance, each named, and every event uses a named tid."""
    assert thread_names(events) == {1: "MainThread", 2: "Thread-1", 3: "Thread-2"}
    used = {e["tid"] for e in events if e["ph"] in "Xsf" or (e["ph"] == "i" and e["s"] == "t")}
    assert used <= set(thread_names(events))
    assert {e["pid"] for e in events} == {1}


def test_waits_holds_and_sleeps_are_complete_slices_in_microseconds(events: list[Event]) -> None:
    """Each span is an X slice on its thread, ts and dur in µs since the run started."""
    slices = [
        (e["name"], e["tid"], e["ts"], e["dur"]) for e in of(events, "X") if e["cat"] != "signal"
    ]
    assert slices == [
        ("event.wait ready", 3, 3000.0, 2000.0),
        ("lock.hold guard", 2, 8000.0, 3000.0),
        ("sleep", 2, 9000.0, 1000.0),
        ("event.wait ready", 3, 17000.0, 1000.0),
    ]
    hung = of(events, "X", ts=17000.0)[0]
    assert hung["args"]["finding"] == "hang"
    assert hung["args"]["ended"] == "not by the end of the trace"


def test_signals_findings_and_log_records_are_instants(events: list[Event]) -> None:
    """Set and clear, each finding and the log record are thread-scoped instant events."""
    names = [(e["name"], e["cat"], e["tid"], e["ts"]) for e in of(events, "i")]
    assert ("set ready", "signal", 2, 4000.0) in names
    assert ("clear ready", "signal", 2, 15000.0) in names
    assert ("lost-signal", "finding", 2, 14000.0) in names
    assert ("hang", "finding", 3, 17000.0) in names
    log = of(events, "i", cat="log")
    assert log[0]["name"] == "queue is slow"
    assert log[0]["args"] == {
        "level": "warning",
        "logger": "app",
        "message": "queue is slow",
        "site": "app.py:13",
        "seq": 12,
    }


def test_each_flow_binds_to_a_slice_of_its_thread_in_time_order(events: list[Event]) -> None:
    """The flow starts inside the set's slice on the setter's thread and ends inside the woken
    wait's slice on the waiter's, after it starts: both ends bind, so Perfetto draws it."""
    starts, finishes = of(events, "s"), of(events, "f")
    assert len(starts) == len(finishes) == 1
    start, finish = starts[0], finishes[0]
    assert start["id"] == finish["id"] and finish["bp"] == "e"
    assert start["ts"] < finish["ts"]

    def enclosing(flow: Event) -> Event:
        inside = [
            x for x in of(events, "X", tid=flow["tid"]) if x["ts"] < flow["ts"] < x["ts"] + x["dur"]
        ]
        assert inside, f"flow end at {flow['ts']} binds to no slice"
        return min(inside, key=lambda x: x["dur"])

    assert enclosing(start)["name"] == "set ready"
    assert thread_names(events)[start["tid"]] == "Thread-1"
    assert enclosing(finish)["name"] == "event.wait ready"
    assert thread_names(events)[finish["tid"]] == "Thread-2"


def test_each_container_is_a_counter_of_its_depth(events: list[Event]) -> None:
    """A C event per item move, named after the container, carrying its depth."""
    counters = [(e["name"], e["ts"], e["args"]) for e in of(events, "C")]
    assert counters == [
        ("jobs", 6000.0, {"depth": 1}),
        ("jobs", 7000.0, {"depth": 0}),
        ("jobs", 13000.0, {"depth": 1}),
    ]


def test_slices_that_do_not_nest_go_to_another_layer() -> None:
    """Nested slices share a track; one that overlaps without nesting moves to layer 1, and
    other threads are placed on their own."""
    slices = [
        ("a", 0.0, 10.0),  # hold x
        ("a", 2.0, 4.0),  # nested in it
        ("a", 5.0, 15.0),  # hold y: overlaps x's end
        ("a", 12.0, 13.0),  # after x ended, layer 0 is free again
        ("b", 5.0, 15.0),
    ]
    assert nesting_layers(slices) == [0, 0, 1, 0, 0]


def test_the_cli_exports_the_sample_trace(tmp_path: Path) -> None:
    """`analyze export --format perfetto` writes JSON with threads, slices, flows and a counter."""
    out = tmp_path / "trace.json"
    result = CliRunner().invoke(
        main, ["export", "--format", "perfetto", str(SAMPLE), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    events = json.loads(out.read_text())["traceEvents"]
    assert set(thread_names(events).values()) == {"MainThread", "producer-1", "consumer-1"}
    assert max(thread_names(events)) == 3
    assert len(of(events, "s")) == len(of(events, "f")) == 5
    assert {e["name"] for e in of(events, "C")} == {"items"}
    assert len(of(events, "i", name="lost-signal")) == 5


def test_several_runs_are_several_processes(write_trace: WriteTrace, tmp_path: Path) -> None:
    """Each file is its own pid, named after the file, with its own small tids."""
    first, second = story()[0], story()[0]
    out = tmp_path / "both.json"
    paths = [str(write_trace(first, name="a.jsonl")), str(write_trace(second, name="b.jsonl"))]
    result = CliRunner().invoke(main, ["export", *paths, "-o", str(out)])
    assert result.exit_code == 0, result.output
    events = json.loads(out.read_text())["traceEvents"]
    processes = {e["pid"]: e["args"]["name"] for e in of(events, "M", name="process_name")}
    assert processes == {1: "a.jsonl (run 1)", 2: "b.jsonl (run 2)"}
    assert len({e["id"] for e in of(events, "s")}) == 2


def test_an_unusable_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """A file that is not a trace exits 2 with a one-line message naming it."""
    bad = tmp_path / "bad.jsonl"
    bad.write_text("hello\n")
    result = CliRunner().invoke(main, ["export", str(bad), "-o", str(tmp_path / "x.json")])
    assert result.exit_code == 2
    assert "bad.jsonl:1" in result.output and "Traceback" not in result.output


def test_a_log_records_key_value_pairs_are_in_its_args(write_trace: WriteTrace) -> None:
    """A structlog call's key-value pairs (the line's ``fields``) are its instant's ``fields``."""
    rec, _ = story()
    rec.line(
        schema.LOG, thread="Thread-2", level="info", logger="structlog", message="processed",
        fields={"item": 3, "ok": True}, site="app.py:22",
    )  # fmt: skip
    logs = of(perfetto_trace(runs_of([str(write_trace(rec))]))["traceEvents"], "i", cat="log")
    assert [e["args"].get("fields") for e in logs] == [None, {"item": 3, "ok": True}]


def test_the_export_never_overwrites_a_trace_it_reads(write_trace: WriteTrace) -> None:
    """-o naming one of the input traces exits 2 with one line and leaves the trace as it was."""
    trace = write_trace(story()[0], name="trace.json")
    before = trace.read_bytes()
    result = CliRunner().invoke(main, ["export", str(trace), "-o", str(trace)])
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: {trace}: is a trace being exported")
    assert len(result.output.splitlines()) == 1
    assert trace.read_bytes() == before


@pytest.mark.parametrize(("command", "output"), [("export", "t.json"), ("timeline", "t.png")])
def test_a_damaged_trace_is_drawn_and_exported_with_the_reports_warnings(
    write_trace: WriteTrace, tmp_path: Path, command: str, output: str
) -> None:
    """A run killed mid-line is still drawn and exported, and stderr says what is missing, as
    `analyze report` does: the line cut short and the absent trace.end."""
    rec, _ = story()
    rec.lines.pop()  # no trace.end: the run was killed...
    trace = write_trace(rec, end=False, name="killed.jsonl", tail='{"event":"event.se')  # mid-line
    result = CliRunner().invoke(main, [command, str(trace), "-o", str(tmp_path / output)])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[:2] == [
        f"warning: {trace}:{len(rec.lines) + 1}: the last line is cut short (the run was killed"
        " while writing it); it was skipped",
        f"warning: trace {trace} has no trace.end: the run was killed or is still running, so"
        " findings may be incomplete",
    ]
