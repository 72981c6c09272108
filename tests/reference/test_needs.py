"""Each detector's ``needs`` is sound: run on random schedules, it finds nothing without them."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from model import Line
from schedules import batches

from analyze import load_traces
from analyze.findings import DETECTORS, Settings
from analyze.frames import sharing


@pytest.mark.slow
@settings(max_examples=60)
@given(batches())
def test_a_detector_finds_nothing_in_a_trace_without_what_it_needs(
    files: list[list[Line]],
) -> None:
    """Every detector, run whatever the trace holds, finds something only where it can_find."""
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for n, lines in enumerate(files):
            path = Path(folder) / f"run{n}.jsonl"
            path.write_text("".join(json.dumps(line) + "\n" for line in lines))
            paths.append(path)
        events = load_traces(paths).events.collect().lazy()
        present = set(events.select(pl.col("event").cast(pl.String).unique()).collect()["event"])
        with sharing():
            for d in DETECTORS:
                found = d.detect(events, Settings()).collect().height
                assert d.can_find(present) or found == 0, d.kind


def test_needs_name_only_known_events() -> None:
    """A misspelt event name in ``needs`` would skip a detector for good: every name is real."""
    from analyze.validate import KNOWN_EVENTS

    for d in DETECTORS:
        for group in d.needs:
            assert group and group <= set(KNOWN_EVENTS), d.kind
