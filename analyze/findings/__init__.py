"""The detectors: each turns the trace's lines into findings of one kind.

A detector is a pure function ``detect(events) -> findings`` of lazy frames
that never collects; its output has ``columns.FINDING_SCHEMA``.  To add a
kind, write a module with ``KIND``, ``detect`` and ``EXPLAIN`` (what a cause
of that kind means and its usual fix, per severity it reports) and add it to
``DETECTORS``; the report, the counts, the causes and every renderer pick it
up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final

import polars as pl

from analyze.findings import (
    blocked_at_end,
    cleared_wait,
    coalesced_signal,
    deadlock,
    failed_take,
    hang,
    lost_signal,
    stranded_item,
    thread_exception,
    unheard_notify,
    unwaited_signal,
)
from analyze.findings._explain import Explanation


@dataclass(frozen=True)
class Detector:
    kind: str
    detect: Callable[[pl.LazyFrame], pl.LazyFrame]
    #: Severity -> what a cause of this kind and severity means, and its fix.
    explain: Mapping[str, Explanation]


DETECTORS: Final[tuple[Detector, ...]] = (
    Detector(lost_signal.KIND, lost_signal.detect, lost_signal.EXPLAIN),
    Detector(unwaited_signal.KIND, unwaited_signal.detect, unwaited_signal.EXPLAIN),
    Detector(cleared_wait.KIND, cleared_wait.detect, cleared_wait.EXPLAIN),
    Detector(stranded_item.KIND, stranded_item.detect, stranded_item.EXPLAIN),
    Detector(hang.KIND, hang.detect, hang.EXPLAIN),
    Detector(deadlock.KIND, deadlock.detect, deadlock.EXPLAIN),
    Detector(failed_take.KIND, failed_take.detect, failed_take.EXPLAIN),
    Detector(thread_exception.KIND, thread_exception.detect, thread_exception.EXPLAIN),
    Detector(unheard_notify.KIND, unheard_notify.detect, unheard_notify.EXPLAIN),
    Detector(blocked_at_end.KIND, blocked_at_end.detect, blocked_at_end.EXPLAIN),
    Detector(coalesced_signal.KIND, coalesced_signal.detect, coalesced_signal.EXPLAIN),
)

#: Every kind a report counts (as 0 when none was found), in the order
#: reports list them.  CI scripts rely on these keys: add kinds, never rename.
KINDS: Final = tuple(d.kind for d in DETECTORS)
