"""The detectors: each turns the trace's lines into findings of one kind.

A detector is a pure function ``detect(events) -> findings`` of lazy frames
that never collects; its output has ``columns.FINDING_SCHEMA``.  To add a
kind, write a module with ``KIND``, ``detect`` and ``EXPLAIN`` (what a cause
of that kind means and its usual fix, per severity it reports) and add it to
``DETECTORS``; the report, the counts, the causes and every renderer pick it
up.  A detector with a threshold the user sets takes it from ``Settings``
(one field per option of ``analyze report``), the others ignore them.
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
    lock_contention,
    lock_held_while_blocked,
    lost_signal,
    racy_check,
    stolen_wakeup,
    stranded_item,
    thread_exception,
    unheard_notify,
    unwaited_signal,
)
from analyze.findings._explain import Explanation


@dataclass(frozen=True)
class Settings:
    """The report's thresholds, as ``analyze report`` options set them."""

    #: lock-contention: the shortest wait for a lock that counts, in ms.
    contention_ms: float = lock_contention.DEFAULT_MS


Detect = Callable[[pl.LazyFrame, Settings], pl.LazyFrame]


@dataclass(frozen=True)
class Detector:
    kind: str
    detect: Detect
    #: Severity -> what a cause of this kind and severity means, and its fix.
    explain: Mapping[str, Explanation]


def _plain(detect: Callable[[pl.LazyFrame], pl.LazyFrame]) -> Detect:
    """A detector without settings, called as one with them."""
    return lambda events, _settings: detect(events)


def _contention(events: pl.LazyFrame, settings: Settings) -> pl.LazyFrame:
    return lock_contention.detect(events, settings.contention_ms)


DETECTORS: Final[tuple[Detector, ...]] = (
    Detector(lost_signal.KIND, _plain(lost_signal.detect), lost_signal.EXPLAIN),
    Detector(unwaited_signal.KIND, _plain(unwaited_signal.detect), unwaited_signal.EXPLAIN),
    Detector(cleared_wait.KIND, _plain(cleared_wait.detect), cleared_wait.EXPLAIN),
    Detector(stranded_item.KIND, _plain(stranded_item.detect), stranded_item.EXPLAIN),
    Detector(hang.KIND, _plain(hang.detect), hang.EXPLAIN),
    Detector(deadlock.KIND, _plain(deadlock.detect), deadlock.EXPLAIN),
    Detector(failed_take.KIND, _plain(failed_take.detect), failed_take.EXPLAIN),
    Detector(thread_exception.KIND, _plain(thread_exception.detect), thread_exception.EXPLAIN),
    Detector(unheard_notify.KIND, _plain(unheard_notify.detect), unheard_notify.EXPLAIN),
    Detector(blocked_at_end.KIND, _plain(blocked_at_end.detect), blocked_at_end.EXPLAIN),
    Detector(coalesced_signal.KIND, _plain(coalesced_signal.detect), coalesced_signal.EXPLAIN),
    Detector(stolen_wakeup.KIND, _plain(stolen_wakeup.detect), stolen_wakeup.EXPLAIN),
    Detector(lock_contention.KIND, _contention, lock_contention.EXPLAIN),
    Detector(
        lock_held_while_blocked.KIND,
        _plain(lock_held_while_blocked.detect),
        lock_held_while_blocked.EXPLAIN,
    ),
    Detector(racy_check.KIND, _plain(racy_check.detect), racy_check.EXPLAIN),
)

#: Every kind a report counts (as 0 when none was found), in the order
#: reports list them.  CI scripts rely on these keys: add kinds, never rename.
KINDS: Final = tuple(d.kind for d in DETECTORS)
