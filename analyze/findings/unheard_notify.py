"""Unheard notifies: a ``Condition.notify()`` that found no thread waiting."""

from __future__ import annotations

from typing import Final

import polars as pl

from analyze.columns import RUN
from analyze.frames import finding, lines_of
from synctrace import schema

KIND: Final = "unheard-notify"


def detect(events: pl.LazyFrame) -> pl.LazyFrame:
    """A notify() with no waiter: harmless when waiters re-check a predicate, so only ever info.

    Correct code notifies whether or not anyone waits, because a Condition's
    waiters test the shared state before they wait; a notify is lost only for
    code that waits without such a test.  That cannot be told from the trace,
    so this is a hint for reading a lost wake-up, never a warning.
    """
    call = pl.when(pl.col("all").fill_null(False)).then(pl.lit("notify_all()"))
    message = pl.format(
        "{} found no thread waiting, so it woke nobody (fine if waiters check their"
        " condition before wait())",
        call.otherwise(pl.lit("notify()")),
    )
    return (
        lines_of(events, {schema.COND_NOTIFY})
        .filter(pl.col("waiters") == 0)
        .sort(RUN, "seq")
        .select(finding(KIND, "info", message))
    )
