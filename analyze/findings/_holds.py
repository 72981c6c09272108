"""Lock holds: who held each traced lock from when to when, shared by the lock findings,
``deadlock`` and liveness.

A Lock or RLock is held by one thread at a time, and its lines are written
in the true order of who held it (acquire lines once it is held, release
lines while it still is), so a running count over the lock's own lines in
``seq`` order is its depth: an acquire that takes it from 0 to 1 starts a
hold, a release that takes it back to 0 ends it.  An RLock's inner levels
move the depth between 1 and n without starting or ending a hold.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from analyze.columns import RUN
from analyze.frames import lines_of
from synctrace import schema

_LOCK: Final = [RUN, "obj"]

#: A line that took a lock: an acquire that returned true.
TAKEN: Final = pl.col("event").is_in([schema.LOCK_ACQUIRE, schema.LOCK_ACQUIRE_END]) & pl.col(
    "result"
).fill_null(False)
#: A line that gave a lock back: a release that did not raise.
RELEASED: Final = (pl.col("event") == schema.LOCK_RELEASE) & pl.col("error").is_null()


def lock_moves(events: pl.LazyFrame) -> pl.LazyFrame:
    """The lines that took a lock (``TAKEN``) or gave one back (``RELEASED``)."""
    return lines_of(
        events, {schema.LOCK_ACQUIRE, schema.LOCK_ACQUIRE_END, schema.LOCK_RELEASE}
    ).filter(TAKEN | RELEASED)


def lock_holders(events: pl.LazyFrame) -> pl.LazyFrame:
    """Per run and lock still held when the trace ended: ``holder`` and ``holder_id``.

    A thread holds a lock when it acquired it more often than it released
    it (so an RLock's levels balance too).  A plain Lock may be released by
    a thread other than its taker; the lock itself must then still be taken
    more often than released, and of several threads with acquires to spare
    the one that acquired it last holds it.
    """
    return (
        lock_moves(events)
        .with_columns(pl.when(RELEASED).then(-1).otherwise(1).alias("delta"))
        .group_by(RUN, "obj", "thread", "thread_id")
        .agg(
            pl.col("delta").sum().alias("held"),
            pl.col("seq").filter(pl.col("delta") > 0).max().alias("taken_seq"),
        )
        .filter((pl.col("held") > 0) & (pl.col("held").sum().over(RUN, "obj") > 0))
        .filter(pl.col("taken_seq") == pl.col("taken_seq").max().over(RUN, "obj"))
        .select(
            RUN, "obj", pl.col("thread").alias("holder"), pl.col("thread_id").alias("holder_id")
        )
    )


def lock_holds(events: pl.LazyFrame) -> pl.LazyFrame:
    """One row per hold of a lock: run, obj, ``hold`` (1, 2, ... per lock, in order),
    thread and thread_id of the holder (the thread that took it), ``taken_seq``,
    ``taken_ts``, ``released_seq`` and ``released_ts`` (null while still held at the end).

    Acquires are ``lock.acquire`` and ``lock.acquire.end`` lines whose ``result``
    is true; releases are ``lock.release`` lines without ``error``.  Releases
    before the lock's first acquire (it was held when recording began) are
    left out, so the depth never goes below 0.
    """
    moves = (
        lock_moves(events)
        .select(*_LOCK, "seq", "ts", "thread", "thread_id", TAKEN.alias("up"))
        .sort(RUN, "seq")
        .filter(pl.col("up").cast(pl.Int8).cum_max().over(_LOCK) == 1)
        .with_columns(
            depth=pl.when("up").then(1).otherwise(-1).cum_sum().over(_LOCK),
        )
    )
    starts = (
        moves.filter(pl.col("up") & (pl.col("depth") == 1))
        .select(
            *_LOCK,
            "thread",
            "thread_id",
            pl.col("seq").alias("taken_seq"),
            pl.col("ts").alias("taken_ts"),
        )
        .with_columns(hold=pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over(_LOCK))
    )
    ends = (
        moves.filter(~pl.col("up") & (pl.col("depth") == 0))
        .select(*_LOCK, pl.col("seq").alias("released_seq"), pl.col("ts").alias("released_ts"))
        .with_columns(hold=pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over(_LOCK))
    )
    # Starts and ends alternate along a lock's lines, so the k-th end closes the k-th hold.
    return starts.join(ends, on=[*_LOCK, "hold"], how="left").select(
        *_LOCK,
        "hold",
        "thread",
        "thread_id",
        "taken_seq",
        "taken_ts",
        "released_seq",
        "released_ts",
    )
