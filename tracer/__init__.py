"""tracer: record what the threads of a run do to each other, as a trace.

Three rooms, each a package: ``primitives`` (the drop-ins: events,
conditions, locks, semaphores, barriers, queues, lists, ``sleep`` and the
thread hooks), which record through ``recording`` (call sites, names, the capture
sink that stamps ``seq`` and the clock, the recorder and its writer), and
``run`` (``tracer run``: patching, rewriting and importing an unmodified
program).  ``demo``, ``cli`` and ``testing`` use only the public names
below.  The trace format is ``synctrace.schema``; this package never imports
``analyze`` or polars.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from tracer.primitives.barrier import Barrier
from tracer.primitives.condition import Condition
from tracer.primitives.event import Event
from tracer.primitives.lists import List
from tracer.primitives.lock import Lock, RLock
from tracer.primitives.queues import LifoQueue, PriorityQueue, Queue, SimpleQueue
from tracer.primitives.semaphore import BoundedSemaphore, Semaphore
from tracer.primitives.sleep import sleep
from tracer.recording.recorder import Recorder, RecordingError, end_reason
from tracer.recording.writer import TraceFileError

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
    "sleep",
]


@contextmanager
def record(
    path: str | os.PathLike[str] = "trace.jsonl", *, redact: bool = False
) -> Iterator[Recorder]:
    """Record every traced operation made inside the block into ``path``.

    The file is created (or emptied) before the block runs; a path that
    cannot be written raises ``TraceFileError`` at once.  However the block
    ends, the trace ends with a ``trace.end`` line saying why.  With
    ``redact``, the program's data (values, exception and log messages,
    argv, host) is written as short salted hashes, equal where the
    originals were, so that the trace can be shared and still analyzed.
    """
    recorder = Recorder(path, redact=redact).start()
    try:
        yield recorder
    except BaseException as exc:
        recorder.stop(*end_reason(exc))
        raise
    recorder.stop()
