"""Stranded items: put into a buffer, still there at the end, and nobody left to take them.

Only containers used as buffers count: a queue (a buffer by nature), or a
list something was taken from.  A list that was only ever added to, such as
the ``results`` a program's workers fill and its main thread reads at the
end, is a collection, and its items are where they belong.  Items of a
buffer that a thread able to go (``liveness.served``) has taken from are
only *left at the end* (a column of the container table): a run cut in the
middle leaves work in its queues that its consumers were about to take.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from analyze.columns import RUN
from analyze.findings._explain import Explanation
from analyze.frames import duration, finding, item_lines, lines_of, run_bounds
from analyze.liveness import served
from synctrace import schema

KIND: Final = "stranded-item"

#: Lines the trace must have, one of each group, for this detector to find anything.
NEEDS: Final = (
    frozenset(schema.CONTAINER_ADDS),
    frozenset(schema.CONTAINER_TAKES | {schema.QUEUE_PUT}),
)

EXPLAIN: Final = {
    "warning": Explanation(
        what=(
            "Items added to {obj} at {site} ({threads}) were never taken ({count} of them),"
            " and no thread that takes from {obj} could still run: the work they carried"
            " is lost."
        ),
        fix=(
            "Keep consumers running until the producers are done: send one sentinel (None)"
            " per consumer, or use queue.join(), and wake consumers with a signal that"
            " cannot be lost."
        ),
    ),
}


def stranded(events: pl.LazyFrame) -> pl.LazyFrame:
    """The add line of every item that was added and never taken or discarded."""
    moves = item_lines(events)
    left = moves.filter(pl.col("delta") < 0).select(RUN, "obj", "item")
    return moves.filter(pl.col("delta") > 0).join(left, on=[RUN, "obj", "item"], how="anti")


def buffers(events: pl.LazyFrame) -> pl.LazyFrame:
    """run and obj of every container used as a buffer: a queue, or taken from at least once.

    A take that failed counts: a consumer tried to take from it.
    """
    return lines_of(events, schema.CONTAINER_TAKES | {schema.QUEUE_PUT}).select(RUN, "obj").unique()


def detect(events: pl.LazyFrame) -> pl.LazyFrame:
    """An item nobody took or could still take: work produced and never consumed.

    Exactly the add lines of ``stranded`` items of ``buffers`` that are not
    ``liveness.served``, all warnings.
    """
    message = pl.format(
        "item {} ({}) was added and never taken: it had been there {} when the trace ended",
        pl.col("item"),
        pl.col("value").fill_null("value not recorded"),
        duration(pl.col("end_ts") - pl.col("ts")),
    )
    return (
        stranded(events)
        .join(buffers(events), on=[RUN, "obj"], how="semi")
        .join(served(events), on=[RUN, "obj"], how="anti")
        .join(run_bounds(events), on=RUN, how="left")
        .sort(RUN, "seq")
        .select(finding(KIND, "warning", message))
    )
