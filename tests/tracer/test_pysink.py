"""The pure-Python sink's own rule: events switched out mid-capture still leave in seq order."""

from __future__ import annotations

import json

import pytest

from tracer.recording import pysink
from tracer.recording.site import site_name


def lines(data: bytes) -> list[dict[str, object]]:
    return [json.loads(line) for line in data.decode().splitlines()]


def test_a_later_seq_waits_behind_a_gap_until_it_fills() -> None:
    """A thread switched out between taking its seq and queueing its event holds later ones back."""
    sink = pysink.Sink(1)
    late = next(sink._counter)  # seq 1 taken; its event is not queued yet
    sink.emit("event.set", "ev", None, {"waiters": 0})  # seq 2
    assert sink.drain(100, site_name) == b""
    sink._pending.append((late, 5, "event.clear", "T", 1, "ev", None, None))
    out = lines(sink.drain(100, site_name))
    assert [line["seq"] for line in out] == [1, 2]
    assert out[0]["ts"] <= out[1]["ts"]


def test_a_gap_that_never_fills_is_skipped_after_a_while(monkeypatch: pytest.MonkeyPatch) -> None:
    """An event lost between its two steps holds the trace back for GAP_PATIENCE_S, not forever."""
    monkeypatch.setattr(pysink, "GAP_PATIENCE_S", 0.0)
    sink = pysink.Sink(1)
    next(sink._counter)  # seq 1 never arrives
    sink.emit("event.set", "ev", None, None)
    assert sink.drain(100, site_name) == b""
    assert [line["seq"] for line in lines(sink.drain(100, site_name))] == [2]


def test_the_clock_never_goes_back_along_seq() -> None:
    """An event stamped before a later seq's is written with the later one's time."""
    sink = pysink.Sink(1)
    sink._pending.extend(
        [
            (2, 100, "event.set", "T", 1, "ev", None, None),
            (1, 200, "event.clear", "U", 2, "ev", None, None),
        ]
    )
    next(sink._counter), next(sink._counter)
    assert [line["ts"] for line in lines(sink.drain(100, site_name))] == [200, 200]
