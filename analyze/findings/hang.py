"""Hangs: a wait (acquire, join, get, ...) that no live thread could still end.

What "could still end" means is defined in ``analyze.liveness``; a wait
that some live thread could still end is ``blocked-at-end`` instead.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from analyze.columns import RUN
from analyze.findings._explain import Explanation
from analyze.findings.deadlock import members as deadlock_members
from analyze.frames import duration, finding, run_bounds, run_endings
from analyze.liveness import ANYONE, thread_states, waits_at_end, wakers
from analyze.waits import WAITS
from synctrace import schema

KIND: Final = "hang"

#: Lines the trace must have, one of each group, for this detector to find anything.
NEEDS: Final = (frozenset(WAITS),)

#: Wakers named in a hang's message before the rest are counted.
NAMED_WAKERS: Final = 3

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
    """A wait no live thread could still end: the thread never gets past it.

    Exactly the waits of ``liveness.waits_at_end`` that are ``hung`` and not
    ``at_exit``, at the wait's begin line, all errors, except the waits of
    threads on a deadlock cycle (``deadlock.members``): the deadlock finding
    tells those, and a thread waiting for one of them (joining it, say)
    still hangs.  The message says how
    long it had been blocked and why nothing could wake it: each waker (up
    to three, by name) and whether it had ended or was blocked too, or,
    when nobody had yet done what would end the wait, that every other
    thread had ended or was blocked.
    """
    hung = (
        waits_at_end(events)
        .filter(pl.col("hung") & ~pl.col("at_exit"))
        .join(deadlock_members(events), on=[RUN, "seq"], how="anti")
        .join(_blame(events), on=[RUN, "seq"], how="left")
        .join(run_bounds(events), on=RUN, how="left")
        .join(run_endings(events), on=RUN, how="left")
        .sort(RUN, "seq")
    )
    return hung.select(finding(KIND, "error", _message()))


def call_words() -> pl.Expr:
    """How a wait's begin line reads: "wait() on event ready", "join() of Thread-2"."""

    def word(part: int) -> pl.Expr:
        words = {begin: call[part] for begin, call in _CALLS.items()}
        return pl.col("event").replace_strict(words, return_dtype=pl.String)

    # "wait() on event ready", but "wait() on event" when the object is
    # called "event", and "join() of Thread-2" rather than "of thread Thread-2".
    named = pl.col("obj").cast(pl.String).str.to_lowercase().str.starts_with(word(2))
    target = (
        pl.when(named).then(pl.col("obj")).otherwise(pl.format("{} {}", word(2), pl.col("obj")))
    )
    return pl.format("{} {} {}", word(0), word(1), target)


def _blame(events: pl.LazyFrame) -> pl.LazyFrame:
    """Per wait (run, seq): ``blame``, why none of its wakers could end it."""
    everyone = thread_states(events)
    states = everyone.select(
        RUN,
        pl.col("thread").alias("waker"),
        pl.col("thread_id").alias("waker_id"),
        "state",
        "where",
    )
    fate = (
        pl.when(pl.col("state") == "ended")
        .then(pl.lit("had ended"))
        .when(pl.col("where").is_not_null())
        .then(pl.format("was blocked too, at {}", pl.col("where")))
        .otherwise(pl.lit("was blocked too"))
    )
    anyone = pl.col("relation") == ANYONE
    return (
        wakers(events)
        .join(states, on=[RUN, "waker", "waker_id"], how="left")
        .sort(RUN, "seq", "waker")
        .group_by(RUN, "seq")
        .agg(
            pl.format("{}, which {}, {}", pl.col("waker"), pl.col("relation"), fate)
            .head(NAMED_WAKERS)
            .str.join("; ")
            .alias("named"),
            pl.len().alias("wakers"),
            anyone.any().alias("anyone"),
        )
        .select(
            RUN,
            "seq",
            pl.when(pl.col("anyone"))
            .then(
                pl.lit(
                    "no thread had done what would end it, and every other thread had ended"
                    " or was blocked"
                )
            )
            .when(pl.col("wakers") > NAMED_WAKERS)
            .then(
                pl.format(
                    "no live thread could end it: {}; and {} more",
                    pl.col("named"),
                    pl.col("wakers") - NAMED_WAKERS,
                )
            )
            .otherwise(pl.format("no live thread could end it: {}", pl.col("named")))
            .alias("blame"),
        )
    )


def _message() -> pl.Expr:
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
        "{} never returned: blocked for {} when the trace ended; {}{}",
        call_words(),
        duration(pl.col("end_ts") - pl.col("ts")),
        pl.col("blame").fill_null("no other thread was left to end it"),
        incomplete,
    )
