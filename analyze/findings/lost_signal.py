"""Lost signals: a ``set()`` that nobody saw before the flag was cleared again."""

from __future__ import annotations

from typing import Final

import polars as pl

from analyze.findings._explain import Explanation
from analyze.findings._signals import unheard_sets
from analyze.frames import duration, finding
from synctrace import schema

KIND: Final = "lost-signal"

#: Lines the trace must have, one of each group, for this detector to find anything.
NEEDS: Final = (
    frozenset({schema.EVENT_SET}),
    frozenset({schema.EVENT_CLEAR}),
)

EXPLAIN: Final = {
    "error": Explanation(
        what=(
            "set() on {obj} at {site} ({threads}) reached no waiter and the flag was cleared"
            " before any wait() or is_set() looked, {times}: set() followed by clear() wakes"
            " only threads already inside wait(), so a thread that arrives a moment later"
            " sleeps through the signal."
        ),
        fix=(
            "Let the consumer clear the flag after it wakes, or hand items over with"
            " queue.Queue, or use a Condition with a while-loop predicate."
        ),
    ),
}


def detect(events: pl.LazyFrame) -> pl.LazyFrame:
    """A set() with no waiter, cleared before any wait()/is_set() saw it: the wake-up is lost."""
    sets = unheard_sets(events).filter(pl.col("lost"))
    message = pl.format(
        "set() reached no waiter; {} cleared the flag {} later ({}) before any wait() saw it",
        pl.col("clear_thread"),
        duration(pl.col("clear_ts") - pl.col("ts")),
        pl.col("clear_site"),
    )
    return sets.select(finding(KIND, "error", message))
