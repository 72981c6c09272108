"""Racy checks: acting on a queue's empty(), qsize() or full() after the answer went stale.

Exactly, per run.  A *check* is a ``queue.empty``, ``queue.qsize`` or
``queue.full`` line; its *claim* is "empty" (``empty()`` true, or
``qsize()`` 0), "not empty" (``empty()`` false, ``qsize()`` above 0),
"full" (``full()`` true) or "room" (``full()`` false).  ``qsize()`` is read
for its zero-ness: the one use a program can make of it without knowing
the bound.  The check's thread *acts* on it at its next line on the same
queue that is not a check nor the end line of a blocking call (a put, get,
their begin lines, task_done, join); when it has none, at its end
(``thread.end`` or ``thread.exception``; for the thread that wrote
trace.start, a trace.end whose reason is completed, exit or exception),
provided it had put to or taken from that queue (a line with an ``item``)
before the check: a thread that only looked, a monitor, acts on nothing.
A check followed by another check of the same thread on the same queue
before its act is superseded: only the last one is acted on.  The
queue's depth *at the act* is the ``depth`` of the last line on the queue
before it that has one.  The check is a warning when its answer was wrong
where it mattered:

* "empty", acted on by ending: depth at the act above 0 (a consumer
  stopped while a producer's item was arriving);
* "not empty", acted on by a get (``queue.get`` or ``queue.get.begin``):
  depth at the act 0 (the get waited or failed: another consumer took it);
* "full", acted on by ending: depth at the act below the check's depth;
* "room", acted on by a put: that put waited (``queue.put.begin``) or
  raised ``Full``.

Every other act agrees with its check or cannot be hurt by it (an "empty"
answer followed by a get that just succeeds), so a single consumer that
drains with ``while not q.empty(): q.get()`` after its producers ended is
quiet.  Since the act is the thread's next line on the queue, only other
threads' lines lie between the two: the message names the last item move
(put or get with an ``item``) on the queue before the act.  Placed at the
check (ts, seq, thread, obj, site).
"""

from __future__ import annotations

from typing import Final

import polars as pl

from analyze.columns import RUN
from analyze.findings._explain import Explanation
from analyze.frames import finding, lines_of
from analyze.liveness import FINISHED
from synctrace import schema

KIND: Final = "racy-check"

EXPLAIN: Final = {
    "warning": Explanation(
        what=(
            "{threads} acted on the answer of {obj}'s empty(), qsize() or full() at {site},"
            " {times}, after another thread's put or get had made it wrong: the answer is"
            " true only at the instant it is given."
        ),
        fix=(
            "Let the blocking call decide: take with get() (or get(timeout=...) in a loop"
            " that handles queue.Empty) and stop on a sentinel the producer puts when it is"
            " done, and put with put() or put_nowait() handling queue.Full."
        ),
    ),
}

_CHECKS: Final = {schema.QUEUE_EMPTY, schema.QUEUE_QSIZE, schema.QUEUE_FULL}
_ACTS: Final = {
    schema.QUEUE_PUT,
    schema.QUEUE_GET,
    schema.QUEUE_PUT_BEGIN,
    schema.QUEUE_GET_BEGIN,
    schema.QUEUE_TASK_DONE,
    schema.QUEUE_JOIN_BEGIN,
}
_GETS: Final = [schema.QUEUE_GET, schema.QUEUE_GET_BEGIN]
_PUTS: Final = [schema.QUEUE_PUT, schema.QUEUE_PUT_BEGIN]
_THREAD: Final = [RUN, "thread", "thread_id"]
_MINE: Final = [RUN, "obj", "thread", "thread_id"]

#: Lines the trace must have, one of each group, for this detector to find anything.
NEEDS: Final = (frozenset(_CHECKS),)


def _asof(
    left: pl.LazyFrame, right: pl.LazyFrame, on: str, right_on: str, by: list[str], forward: bool
) -> pl.LazyFrame:
    # Every frame here is sorted by run and seq, and seq only grows.
    return left.sort(RUN, on).join_asof(
        right.sort(RUN, right_on),
        left_on=on,
        right_on=right_on,
        by=by,
        strategy="forward" if forward else "backward",
        allow_exact_matches=False,
        check_sortedness=False,
    )


def detect(events: pl.LazyFrame) -> pl.LazyFrame:
    """A check of empty(), qsize() or full() acted on after another thread had made it wrong."""
    empty, full = pl.col("event") == schema.QUEUE_EMPTY, pl.col("event") == schema.QUEUE_FULL
    qsize = pl.col("event") == schema.QUEUE_QSIZE
    claim = (
        pl.when((empty & pl.col("result")) | (qsize & (pl.col("size") == 0)))
        .then(pl.lit("empty"))
        .when(empty | qsize)
        .then(pl.lit("not empty"))
        .when(full & pl.col("result"))
        .then(pl.lit("full"))
        .otherwise(pl.lit("room"))
    )
    checks = lines_of(events, _CHECKS).select(
        *_MINE, "seq", "ts", "site", "event", "result", "size", "depth", claim.alias("claim")
    )
    later_checks = checks.select(*_MINE, pl.col("seq").alias("next_check"))
    acts = lines_of(events, _ACTS).select(
        *_MINE,
        pl.col("seq").alias("act_seq"),
        pl.col("event").alias("act"),
        pl.col("site").alias("act_site"),
        pl.col("error").alias("act_error"),
    )
    moves = lines_of(events, {schema.QUEUE_PUT, schema.QUEUE_GET}).filter(
        pl.col("item").is_not_null()
    )
    own_moves = moves.select(*_MINE, pl.col("seq").alias("moved_seq"))
    starters = lines_of(events, {schema.TRACE_START}).select(*_THREAD)
    ends = pl.concat(
        [
            lines_of(events, {schema.THREAD_END, schema.THREAD_EXCEPTION}).select(
                *_THREAD, pl.col("seq").alias("end_seq")
            ),
            lines_of(events, {schema.TRACE_END})
            .filter(pl.col("reason").is_in(FINISHED))
            .select(RUN, pl.col("seq").alias("end_seq"))
            .join(starters, on=RUN)
            .select(*_THREAD, "end_seq"),
        ]
    )
    depths = lines_of(events, _CHECKS | {schema.QUEUE_PUT, schema.QUEUE_GET}).filter(
        pl.col("depth").is_not_null()
    )
    acted = (
        _asof(checks, later_checks, "seq", "next_check", _MINE, forward=True)
        .pipe(_asof, acts, "seq", "act_seq", _MINE, forward=True)
        .pipe(_asof, own_moves, "seq", "moved_seq", _MINE, forward=False)
        .pipe(_asof, ends, "seq", "end_seq", _THREAD, forward=True)
        .with_columns(
            act=pl.when(pl.col("act_seq").is_null() & pl.col("moved_seq").is_not_null())
            .then(pl.when(pl.col("end_seq").is_not_null()).then(pl.lit("end")))
            .otherwise("act"),
            act_seq=pl.coalesce(
                "act_seq", pl.when(pl.col("moved_seq").is_not_null()).then("end_seq")
            ),
        )
        .filter(
            pl.col("act_seq").is_not_null()
            & (pl.col("next_check").is_null() | (pl.col("next_check") > pl.col("act_seq")))
        )
        .pipe(
            _asof,
            depths.select(
                RUN, "obj", pl.col("seq").alias("depth_seq"), pl.col("depth").alias("then")
            ),
            "act_seq",
            "depth_seq",
            [RUN, "obj"],
            forward=False,
        )
        .pipe(
            _asof,
            moves.select(
                RUN,
                "obj",
                pl.col("seq").alias("mover_seq"),
                pl.col("event").alias("move"),
                pl.col("thread").alias("mover"),
                pl.col("item").alias("mover_item"),
                pl.col("site").alias("mover_site"),
            ),
            "act_seq",
            "mover_seq",
            [RUN, "obj"],
            forward=False,
        )
    )
    claim_col, act = pl.col("claim"), pl.col("act")
    wrong = (
        ((claim_col == "empty") & (act == "end") & (pl.col("then") > 0))
        | ((claim_col == "not empty") & act.is_in(_GETS) & (pl.col("then") == 0))
        | ((claim_col == "full") & (act == "end") & (pl.col("then") < pl.col("depth")))
        | (
            (claim_col == "room")
            & (
                (act == schema.QUEUE_PUT_BEGIN)
                | ((act == schema.QUEUE_PUT) & (pl.col("act_error") == "Full"))
            )
        )
    )
    return (
        acted.filter(wrong.fill_null(False))
        .sort(RUN, "seq")
        .select(finding(KIND, "warning", _message()))
    )


def _message() -> pl.Expr:
    answer = (
        pl.when(pl.col("event") == schema.QUEUE_EMPTY)
        .then(pl.format("empty() returned {}", pl.col("result")))
        .when(pl.col("event") == schema.QUEUE_FULL)
        .then(pl.format("full() returned {}", pl.col("result")))
        .otherwise(pl.format("qsize() returned {}", pl.col("size")))
    )
    # polars writes booleans as "true"/"false"; the program saw Python's.
    answer = answer.str.replace("true", "True").str.replace("false", "False")
    move = (
        pl.when(pl.col("move") == schema.QUEUE_PUT)
        .then(
            pl.format(
                "{} put item {} at {}", pl.col("mover"), pl.col("mover_item"), pl.col("mover_site")
            )
        )
        .otherwise(
            pl.format(
                "{} took item {} at {}", pl.col("mover"), pl.col("mover_item"), pl.col("mover_site")
            )
        )
    )
    items = (
        pl.when(pl.col("then") == 1)
        .then(pl.lit("1 item"))
        .otherwise(pl.format("{} items", pl.col("then")))
    )
    act = pl.col("act")
    acted = (
        pl.when(act == "end")
        .then(pl.format("this thread ended with {} in the queue", items))
        .when(act == schema.QUEUE_GET_BEGIN)
        .then(pl.format("this thread's get() at {} had to wait", pl.col("act_site")))
        .when(act == schema.QUEUE_GET)
        .then(
            pl.format(
                "this thread's get() at {} raised {}", pl.col("act_site"), pl.col("act_error")
            )
        )
        .when(act == schema.QUEUE_PUT_BEGIN)
        .then(pl.format("this thread's put() at {} had to wait", pl.col("act_site")))
        .otherwise(pl.format("this thread's put() at {} raised Full", pl.col("act_site")))
    )
    return pl.format("{}, then {}, and {}", answer, move, acted)
