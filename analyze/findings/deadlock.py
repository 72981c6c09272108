"""Deadlocks: threads still blocked when the trace ended, each waiting for the next, in a cycle.

A thread waits for another when it is blocked acquiring a lock the other
holds, or blocked joining it.  Following those waits from thread to thread
and coming back to the start is a deadlock: none of them can ever go on.
A wait with a timeout is left out: it returns by itself (its thread is
``timed`` in ``analyze.liveness``, not blocked).  Semaphores are left out:
a semaphore has no single holder, so a thread waiting on one waits for no
thread in particular.  Neither is a thread
blocked in anything else (an event, a queue, a condition) part of a cycle:
a thread blocked on a lock held by such a thread is a hang, not a deadlock.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from analyze.columns import RUN
from analyze.findings._explain import Explanation
from analyze.findings._holds import lock_holders
from analyze.frames import finding, shared
from analyze.waits import unended
from synctrace import schema

KIND: Final = "deadlock"

EXPLAIN: Final = {
    "error": Explanation(
        what=(
            "A cycle of blocked threads closed when {threads} blocked at {site} on {obj}:"
            " each waits for a lock another of them holds (or to join another; a thread"
            " alone waits for a Lock it holds itself), so none of them can ever go on, and"
            " every thread waiting for them hangs too."
        ),
        fix=(
            "Take locks in one global order everywhere (or hold one at a time), never"
            " join a thread while holding a lock it needs, and use an RLock where a thread"
            " may take a lock it already holds."
        ),
    ),
}

#: The longest cycle found, in threads.  Following a wait is a lazy join, so
#: the walk has a fixed number of steps (each a join of a frame with a row a
#: blocked thread); a ring of more threads than this is reported as hangs only.
MAX_CYCLE: Final = 8

_WAITS: Final = (schema.LOCK_ACQUIRE_BEGIN, schema.THREAD_JOIN_BEGIN)
_THREAD: Final = [RUN, "thread", "thread_id"]

#: Lines the trace must have, one of each group, for this detector to find anything.
NEEDS: Final = (frozenset(_WAITS),)


def detect(events: pl.LazyFrame) -> pl.LazyFrame:
    """Threads blocked on each other's locks (or joins) in a cycle: none of them can ever go on."""
    blocked = _blocked(events)
    cycles = _cycle_paths(events)
    # The cycle in order from its first blocked thread, each with what it
    # holds that the one before it waits for.
    members = (
        cycles.select(
            RUN,
            "start",
            pl.col("path").alias("seq"),
            pl.col("path").list.eval(pl.int_range(pl.len())).alias("pos"),
        )
        .explode("seq", "pos")
        .join(blocked, on=[RUN, "seq"])
        .with_columns(
            *(
                pl.col(c)
                .shift(1)
                .fill_null(pl.col(c).last())
                .over(RUN, "start", order_by="pos")
                .alias(f"before_{c}")
                for c in ("obj", "event")
            )
        )
        .group_by(RUN, "start")
        .agg(_member().sort_by("pos").str.join("; ").alias("text"), pl.col("seq").max())
    )
    # Reported where the last of its threads blocked: only then was it a deadlock.
    return (
        members.join(blocked, on=[RUN, "seq"])
        .sort(RUN, "seq")
        .select(finding(KIND, "error", pl.col("text")))
    )


def _blocked(events: pl.LazyFrame) -> pl.LazyFrame:
    """The waits that can be links of a cycle, a thread's blocked begin line standing for it."""
    return (
        unended(events)
        .select(RUN, "seq", "ts", "thread", "thread_id", "obj", "site", "event", "timeout")
        # A thread blocks in one call at a time: its last unended one.
        .filter(pl.col("seq") == pl.col("seq").max().over(_THREAD))
        .filter(pl.col("event").is_in(_WAITS))
        # A wait with a timeout returns by itself, so it can close no cycle.
        .filter(pl.col("timeout").is_null())
        .drop("timeout")
    )


def members(events: pl.LazyFrame) -> pl.LazyFrame:
    """RUN and ``seq`` of the blocked begin line of every thread on a deadlock cycle.

    Their waits are told by the deadlock finding (which names each member
    and what it holds and waits for), so ``hang`` leaves them out.
    """
    return _cycle_paths(events).select(RUN, pl.col("path").alias("seq")).explode("seq").unique()


@shared
def _cycle_paths(events: pl.LazyFrame) -> pl.LazyFrame:
    """The deadlock cycles (see ``_cycles``), walked once a report for detect and members."""
    return _cycles(_waits(events, _blocked(events)))


def _waits(events: pl.LazyFrame, blocked: pl.LazyFrame) -> pl.LazyFrame:
    """Per blocked thread, ``next``: the blocked thread it waits for (none if that one is not)."""
    targets = blocked.select(RUN, "thread", "thread_id", pl.col("seq").alias("next"))
    on_locks = (
        blocked.filter(pl.col("event") == schema.LOCK_ACQUIRE_BEGIN)
        .join(lock_holders(events), on=[RUN, "obj"])
        .join(
            targets,
            left_on=[RUN, "holder", "holder_id"],
            right_on=[RUN, "thread", "thread_id"],
        )
        .select(RUN, "seq", "next")
    )
    # A join names the thread but not its id: names are unique among the
    # threads alive at once unless the program reuses one, and then the
    # earliest blocked of them is taken.
    on_joins = (
        blocked.filter(pl.col("event") == schema.THREAD_JOIN_BEGIN)
        .join(targets, left_on=[RUN, "obj"], right_on=[RUN, "thread"])
        .select(RUN, "seq", "next")
    )
    return pl.concat([on_locks, on_joins]).group_by(RUN, "seq").agg(pl.col("next").min())


def _cycles(waits: pl.LazyFrame) -> pl.LazyFrame:
    """One row per cycle of waits: ``start`` (its smallest seq) and ``path`` (its seqs in order).

    Every blocked thread walks along the waits for MAX_CYCLE steps, noting
    where it has been until it is back where it started; a walker whose
    next thread is not blocked drops out at the join.  Each thread on a
    cycle walks it once, so the walker that started at its smallest seq
    stands for it.
    """
    step = waits.select(RUN, pl.col("seq").alias("here"), "next")
    walk = waits.select(
        RUN,
        pl.col("seq").alias("start"),
        pl.col("seq").alias("here"),
        pl.concat_list("seq").alias("path"),
        pl.lit(False).alias("closed"),
    )
    for _ in range(MAX_CYCLE):
        back = pl.col("closed") | (pl.col("next") == pl.col("start"))
        walk = walk.join(step, on=[RUN, "here"]).select(
            RUN,
            "start",
            pl.col("next").alias("here"),
            pl.when(back).then("path").otherwise(pl.concat_list("path", "next")).alias("path"),
            back.alias("closed"),
        )
    return walk.filter(pl.col("closed") & (pl.col("path").list.min() == pl.col("start"))).select(
        RUN, "start", "path"
    )


def _member() -> pl.Expr:
    """ "Thread-1 holds a and waits for b", or "MainThread waits for Thread-1 to end"."""
    waits = (
        pl.when(pl.col("event") == schema.THREAD_JOIN_BEGIN)
        .then(pl.format("waits for {} to end", pl.col("obj")))
        .otherwise(pl.format("waits for {}", pl.col("obj")))
    )
    # What it holds matters only as what the thread before it waits for;
    # a thread joined by the one before it need hold nothing.
    return (
        pl.when(pl.col("before_event") == schema.LOCK_ACQUIRE_BEGIN)
        .then(pl.format("{} holds {} and {}", pl.col("thread"), pl.col("before_obj"), waits))
        .otherwise(pl.format("{} {}", pl.col("thread"), waits))
    )
