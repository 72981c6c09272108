"""Thread exceptions: a thread's ``run()`` ended by an exception nobody caught."""

from __future__ import annotations

from typing import Final

import polars as pl

from analyze.columns import RUN
from analyze.findings._explain import Explanation
from analyze.frames import finding, lines_of
from synctrace import schema

KIND: Final = "thread-exception"

#: Lines the trace must have, one of each group, for this detector to find anything.
NEEDS: Final = (frozenset({schema.THREAD_EXCEPTION}),)

EXPLAIN: Final = {
    "error": Explanation(
        what=(
            "{threads} ended by an uncaught exception raised at {site}: its work stopped"
            " there, and threads waiting for it may wait forever."
        ),
        fix=(
            "Catch and report exceptions in the thread's run() (or use concurrent.futures,"
            " whose result() re-raises them), and let the threads that wait for it stop"
            " when it dies."
        ),
    ),
}


def detect(events: pl.LazyFrame) -> pl.LazyFrame:
    """A thread killed by an exception: its work stops, and whoever waits on it may hang."""
    message = (
        pl.when(pl.col("exc_msg").fill_null("") == "")
        .then(pl.format("the thread ended by an uncaught {}", pl.col("exc_type")))
        .otherwise(
            pl.format(
                "the thread ended by an uncaught {}: {}", pl.col("exc_type"), pl.col("exc_msg")
            )
        )
    )
    return (
        lines_of(events, {schema.THREAD_EXCEPTION})
        .sort(RUN, "seq")
        .select(finding(KIND, "error", message))
    )
