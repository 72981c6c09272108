"""The detectors: each turns the trace's lines into findings of one kind.

A detector is a pure function ``detect(events) -> findings`` of lazy frames
that never collects; its output has ``columns.FINDING_SCHEMA``.  To add a
kind, write a module with ``KIND``, ``detect``, ``EXPLAIN`` (what a cause
of that kind means and its usual fix, per severity it reports) and ``NEEDS``
(the event names without which it can find nothing) and add it to
``DETECTORS``; the report, the counts, the causes and every renderer pick it
up.  A detector with a threshold the user sets takes it from ``Settings``
(one field per option of ``analyze report``), the others ignore them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from types import ModuleType
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
    #: Groups of event names: a trace without a line of each group gives this
    #: detector nothing to find, and the report does not run it.
    needs: tuple[frozenset[str], ...] = ()

    def can_find(self, present: Collection[str]) -> bool:
        """Whether a trace with lines of the events ``present`` can hold a finding of this kind."""
        return all(not group.isdisjoint(present) for group in self.needs)


def _plain(detect: Callable[[pl.LazyFrame], pl.LazyFrame]) -> Detect:
    """A detector without settings, called as one with them."""
    return lambda events, _settings: detect(events)


def _contention(events: pl.LazyFrame, settings: Settings) -> pl.LazyFrame:
    return lock_contention.detect(events, settings.contention_ms)


def _of(module: ModuleType, detect: Detect | None = None) -> Detector:
    """The detector a findings module defines with its KIND, detect, EXPLAIN and NEEDS."""
    return Detector(module.KIND, detect or _plain(module.detect), module.EXPLAIN, module.NEEDS)


DETECTORS: Final[tuple[Detector, ...]] = (
    _of(lost_signal),
    _of(unwaited_signal),
    _of(cleared_wait),
    _of(stranded_item),
    _of(hang),
    _of(deadlock),
    _of(failed_take),
    _of(thread_exception),
    _of(unheard_notify),
    _of(blocked_at_end),
    _of(coalesced_signal),
    _of(stolen_wakeup),
    _of(lock_contention, _contention),
    _of(lock_held_while_blocked),
    _of(racy_check),
)

#: Every kind a report counts (as 0 when none was found), in the order
#: reports list them.  CI scripts rely on these keys: add kinds, never rename.
KINDS: Final = tuple(d.kind for d in DETECTORS)
