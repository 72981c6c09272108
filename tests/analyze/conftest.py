"""Fixtures that write hand-made traces to tmp_path and build reports from them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from tracebuild import Recorder

from analyze import Report, build_report, load_traces
from synctrace import schema


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


WriteTrace = Callable[..., Path]


@pytest.fixture
def write_trace(tmp_path: Path) -> WriteTrace:
    """Write a Recorder (ended with trace.end unless end=False) and return its path."""
    counter = iter(range(1000))

    def write(rec: Recorder, *, end: bool = True, name: str | None = None, tail: str = "") -> Path:
        if end and rec.lines[-1]["event"] != schema.TRACE_END:
            rec.end()
        path = tmp_path / (name or f"run{next(counter)}.jsonl")
        path.write_text(rec.text() + tail)
        return path

    return write


@pytest.fixture
def report_of(write_trace: WriteTrace) -> Callable[..., Report]:
    """Write each Recorder as one file and build the report over all of them."""

    def build(*recs: Recorder, end: bool = True) -> Report:
        return build_report(load_traces([write_trace(r, end=end) for r in recs]))

    return build
