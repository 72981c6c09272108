"""The detectors: each turns the trace's lines into findings of one kind.

A detector is a pure function ``detect(events) -> findings`` of lazy frames
that never collects; its output has ``columns.FINDING_SCHEMA``.  To add a
kind, write a module with ``KIND`` and ``detect`` and add it to
``DETECTORS``; the report, the counts and every renderer pick it up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

import polars as pl

from analyze.findings import (
    cleared_wait,
    deadlock,
    failed_take,
    hang,
    lost_signal,
    stranded_item,
    thread_exception,
    unheard_notify,
    unwaited_signal,
)


@dataclass(frozen=True)
class Detector:
    kind: str
    detect: Callable[[pl.LazyFrame], pl.LazyFrame]


DETECTORS: Final[tuple[Detector, ...]] = (
    Detector(lost_signal.KIND, lost_signal.detect),
    Detector(unwaited_signal.KIND, unwaited_signal.detect),
    Detector(cleared_wait.KIND, cleared_wait.detect),
    Detector(stranded_item.KIND, stranded_item.detect),
    Detector(hang.KIND, hang.detect),
    Detector(deadlock.KIND, deadlock.detect),
    Detector(failed_take.KIND, failed_take.detect),
    Detector(thread_exception.KIND, thread_exception.detect),
    Detector(unheard_notify.KIND, unheard_notify.detect),
)

#: Every kind a report counts (as 0 when none was found), in the order
#: reports list them.  CI scripts rely on these keys: add kinds, never rename.
KINDS: Final = tuple(d.kind for d in DETECTORS)
