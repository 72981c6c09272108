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

from analyze.findings import cleared_wait, hang, lost_signal, stranded_item, unwaited_signal


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
)

#: Kinds the report already counts (as 0) so that CI scripts can rely on
#: their keys; a detector for each is planned.  Moving one into DETECTORS
#: needs no change here: counts take the union, in this order.
PLANNED_KINDS: Final = ("failed-take", "thread-exception")

#: Every kind a report counts, in the order reports list them.
KINDS: Final = tuple(dict.fromkeys([d.kind for d in DETECTORS] + list(PLANNED_KINDS)))
