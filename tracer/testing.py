"""Helpers for tests, ours and our users': record a block, then assert on it.

from tracer.testing import capture

def test_producer_signals_a_waiter():
    with capture() as trace:
        run_my_pipeline()
    sets = trace.events("event.set", obj="ready")
    assert all(e["waiters"] > 0 for e in sets)
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from synctrace import schema
from tracer import record

#: Fields a line may leave out: a trace writes no field whose value is None.
_OPTIONAL = frozenset(schema.FIELD_TYPES) | set(schema.START_FIELDS) | set(schema.END_FIELDS)


class Line(dict[str, Any]):
    """One parsed trace line; a known field the line leaves out reads as None.

    The trace writes no field without a value, so ``line["error"]`` on a
    take that did not fail is None here rather than a KeyError.  A name the
    format does not know still raises KeyError.
    """

    def __missing__(self, key: str) -> None:
        if key in _OPTIONAL:
            return None
        raise KeyError(key)


class CapturedTrace:
    """The lines of a finished recording, parsed; filled when the block exits."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines: list[Line] = []

    def load(self) -> None:
        with self.path.open(encoding="utf-8") as f:
            self.lines = [Line(json.loads(line)) for line in f if line.strip()]

    def events(self, *names: str, **match: Any) -> list[Line]:
        """Lines whose event is one of ``names`` (any, if none given) and whose
        fields equal every ``match`` keyword, in file order."""
        return [
            line
            for line in self.lines
            if (not names or line["event"] in names)
            and all(line.get(k) == v for k, v in match.items())
        ]

    @property
    def end(self) -> Line:
        """The ``trace.end`` line."""
        return self.events("trace.end")[-1]


@contextmanager
def capture(path: str | os.PathLike[str] | None = None) -> Iterator[CapturedTrace]:
    """Record the block into ``path`` (a temporary file if None) and parse it.

    The trace is parsed even when the block raises, so a test can inspect
    what happened before the failure.
    """
    tmp = None
    if path is None:
        fd, tmp = tempfile.mkstemp(prefix="synctrace-", suffix=".jsonl")
        os.close(fd)
        path = tmp
    trace = CapturedTrace(Path(path))
    try:
        with record(trace.path):
            yield trace
    finally:
        trace.load()
        if tmp is not None:
            os.unlink(tmp)
