"""Hangs: a blocking call (wait, acquire, join, get, ...) still blocked when the trace ended."""

from __future__ import annotations

from typing import Final

import polars as pl

from analyze.columns import RUN
from analyze.findings._explain import Explanation
from analyze.frames import duration, finding, run_bounds, run_endings
from analyze.waits import WAITS, unended
from synctrace import schema

KIND: Final = "hang"

EXPLAIN: Final = {
    "error": Explanation(
        what=(
            "{threads} blocked at {site} on {obj} in a call no live thread could still end:"
            " every thread that could wake it had ended or was blocked itself, so only"
            " killing the process ends the run."
        ),
        fix=(
            "Find the wake-up that never came (a lost signal, a producer that ended first,"
            " a notify before the wait): wait for a predicate in a while loop, and tell"
            " consumers when the work ends (a sentinel, or a timeout that re-checks)."
        ),
    ),
}

#: How each blocking call reads in a message: the call, its preposition and
#: the kind of object, as in "get() from queue q" or "join() of Thread-2".
_CALLS: Final[dict[str, tuple[str, str, str]]] = {
    schema.EVENT_WAIT_BEGIN: ("wait()", "on", "event"),
    schema.COND_WAIT_BEGIN: ("wait()", "on", "condition"),
    schema.LOCK_ACQUIRE_BEGIN: ("acquire()", "of", "lock"),
    schema.SEM_ACQUIRE_BEGIN: ("acquire()", "of", "semaphore"),
    schema.BARRIER_WAIT_BEGIN: ("wait()", "on", "barrier"),
    schema.THREAD_JOIN_BEGIN: ("join()", "of", "thread"),
    schema.QUEUE_PUT_BEGIN: ("put()", "into", "queue"),
    schema.QUEUE_GET_BEGIN: ("get()", "from", "queue"),
    schema.QUEUE_JOIN_BEGIN: ("join()", "of", "queue"),
}
# Every wait of the format must have words here.
assert set(_CALLS) == set(WAITS), "hang._CALLS is out of step with schema.BLOCKING"


def detect(events: pl.LazyFrame) -> pl.LazyFrame:
    """A blocking call with no end line: the thread never got past it (deadlock, lost wake-up)."""
    hung = (
        unended(events)
        .join(run_bounds(events), on=RUN, how="left")
        .join(run_endings(events), on=RUN, how="left")
        .sort(RUN, "seq")
    )
    return hung.select(finding(KIND, "error", _message()))


def _message() -> pl.Expr:
    def word(part: int) -> pl.Expr:
        words = {begin: call[part] for begin, call in _CALLS.items()}
        return pl.col("event").replace_strict(words, return_dtype=pl.String)

    # "wait() on event ready", but "wait() on event" when the object is
    # called "event", and "join() of Thread-2" rather than "of thread Thread-2".
    named = pl.col("obj").str.to_lowercase().str.starts_with(word(2))
    target = (
        pl.when(named).then(pl.col("obj")).otherwise(pl.format("{} {}", word(2), pl.col("obj")))
    )
    incomplete = (
        pl.when(pl.col("end_reason").is_null())
        .then(
            pl.lit(
                "; the trace has no trace.end, so the run may have been killed and its last"
                " ~0.1 s of lines may be missing"
            )
        )
        .otherwise(pl.lit(""))
    )
    return pl.format(
        "{} {} {} never returned: blocked for {} when the trace ended{}",
        word(0),
        word(1),
        target,
        duration(pl.col("end_ts") - pl.col("ts")),
        incomplete,
    )
