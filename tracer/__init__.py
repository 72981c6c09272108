"""tracer: record what the threads of a run do to each other, as a trace.

Layers, bottom up: ``_site`` (call sites) and ``_names`` (object names);
``_writer`` (structlog rendering, the file) under ``_recorder`` (seq, clock,
buffer, the writer thread) and ``_threads`` (thread lifecycle and join
hooks); the drop-ins ``_event``, ``_condition``, ``_lock``, ``_semaphore``,
``_barrier``, ``_queue`` and ``_list`` on top of the recorder;
``demo`` and ``cli`` use only the public names below.  The trace format is
``synctrace.schema``; this package never imports ``analyze`` or polars.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from tracer._barrier import Barrier
from tracer._condition import Condition
from tracer._event import Event
from tracer._list import List
from tracer._lock import Lock, RLock
from tracer._queue import LifoQueue, PriorityQueue, Queue, SimpleQueue
from tracer._recorder import Recorder, RecordingError, end_reason
from tracer._semaphore import BoundedSemaphore, Semaphore
from tracer._writer import TraceFileError

__all__ = [
    "Barrier",
    "BoundedSemaphore",
    "Condition",
    "Event",
    "LifoQueue",
    "List",
    "Lock",
    "PriorityQueue",
    "Queue",
    "RLock",
    "Recorder",
    "RecordingError",
    "Semaphore",
    "SimpleQueue",
    "TraceFileError",
    "record",
]


@contextmanager
def record(path: str | os.PathLike[str] = "trace.jsonl") -> Iterator[Recorder]:
    """Record every traced operation made inside the block into ``path``.

    The file is created (or emptied) before the block runs; a path that
    cannot be written raises ``TraceFileError`` at once.  However the block
    ends, the trace ends with a ``trace.end`` line saying why.
    """
    recorder = Recorder(path).start()
    try:
        yield recorder
    except BaseException as exc:
        recorder.stop(*end_reason(exc))
        raise
    recorder.stop()
