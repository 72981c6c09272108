"""Fixtures shared by the tracer's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tracer.primitives import event as event_module
from tracer.primitives import lists
from tracer.recording import capture as sink_choice
from tracer.recording import pysink, recorder


@pytest.fixture
def pure(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Record on the pure sink, as SYNCTRACE_PURE=1 does, whichever sink was picked."""
    monkeypatch.setattr(sink_choice, "Sink", pysink.Sink)
    monkeypatch.setattr(recorder, "_hand_over", recorder._no_hand_over)
    monkeypatch.setattr(lists, "_NATIVE", False)
    monkeypatch.setattr(event_module, "_NATIVE", False)
    yield
