"""tracer.sleep: a sleep is a blocking pair on no object, with the seconds asked for."""

from __future__ import annotations

import os
import traceback

import pytest

import tracer
from tracer.testing import capture


def test_a_sleep_is_a_begin_end_pair_with_seconds_and_no_object() -> None:
    """sleep.begin carries the seconds and the caller's site; sleep.end names its begin."""
    with capture() as trace:
        tracer.sleep(0)
    (begin,) = trace.events("sleep.begin")
    (end,) = trace.events("sleep.end")
    assert begin["seconds"] == 0.0 and isinstance(begin["seconds"], float)
    assert begin["obj"] is None and "obj" not in begin
    assert begin["site"].startswith("test_sleep.py:") and end["site"] == begin["site"]
    assert end["begin_seq"] == begin["seq"] and end["error"] is None
    assert end["thread"] == begin["thread"]


def test_unrecorded_sleep_is_time_sleep() -> None:
    """With no recording running, tracer.sleep just sleeps."""
    assert tracer.sleep(0) is None


def test_a_refused_argument_raises_as_time_sleep_and_writes_nothing() -> None:
    """A refused sleep raises time.sleep's own error, unrecorded, with no frame of ours."""
    with capture() as trace:
        with pytest.raises(ValueError):
            tracer.sleep(-1)
        try:
            tracer.sleep("1")  # type: ignore[arg-type]
        except TypeError:
            text = traceback.format_exc()
    assert not trace.events("sleep.begin", "sleep.end")
    assert os.path.dirname(tracer.__file__) not in text
