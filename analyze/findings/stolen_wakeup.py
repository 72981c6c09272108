"""Stolen wake-ups: a wait() returned, and the take it was waiting for found nothing.

Exactly, per run: a *return* is an ``event.wait.end`` or ``cond.wait.end``
line with ``result`` true and no ``error``.  Its thread's *next take* is
the thread's first line after it that is a take (``schema.CONTAINER_TAKES``)
or the end line of another Event or Condition wait; when that line is a
take whose ``error`` is one of ``schema.EMPTY_ERRORS`` (the container was
empty, or the value gone) and that did not wait for an item of its own
(it is not inside a ``queue.get.begin``/``queue.get.end`` pair of its
thread: a ``get(timeout=...)`` that timed out is polling, not trusting the
wake-up), the return and the failed take are a candidate.
Its *signal* is the seq of the line that let the wait through: the
``woken_by`` of the end line; else, for an Event wait whose begin line had
``flag`` true, the last ``event.set`` on the Event before that begin line;
else the wait's begin line.  The candidate is a finding when some take
from the failed take's container succeeded (has an ``item``) after the
signal and before the failed take; the last such take says why:

* by another thread: it took the item first (Event's wake-everyone, or an
  ``if`` instead of ``while`` around ``Condition.wait()``);
* by the same thread: the signal had already let it through once, and the
  flag, still up, let it through again for nothing.

An error when the failed take's own ``failed-take`` finding is an error
(the exception ended the thread or the run), a warning otherwise.  Placed
at the failed take (ts, seq, thread), with the wait's ``obj`` and ``site``
(its begin line's):
the wait is what needs fixing.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from analyze.columns import RUN
from analyze.findings import failed_take
from analyze.findings._explain import Explanation
from analyze.frames import finding, lines_of
from synctrace import schema

KIND: Final = "stolen-wakeup"

#: Lines the trace must have, one of each group, for this detector to find anything.
NEEDS: Final = (
    frozenset({schema.EVENT_WAIT_END, schema.COND_WAIT_END}),
    frozenset(schema.CONTAINER_TAKES),
)

_WHILE: Final = (
    "Re-check after every wake-up: `while not items: cond.wait()` (or cond.wait_for), then"
    " take under the same lock; or hand items over with queue.Queue, whose get() waits"
    " for an item of its own."
)

EXPLAIN: Final = {
    "error": Explanation(
        what=(
            "{threads} returned from wait() on {obj} at {site} and took from an empty"
            " container, {times}, and the exception ended the thread: the item it was woken"
            " for had been taken by another thread, or the flag was still up from a signal"
            " it had already used."
        ),
        fix=_WHILE,
    ),
    "warning": Explanation(
        what=(
            "{threads} returned from wait() on {obj} at {site} and found nothing to take,"
            " {times}: another thread had taken the item first, or the flag was still up"
            " from a signal it had already used, so the wake-up was for nothing (and a loop"
            " built this way spins or loses work)."
        ),
        fix=_WHILE,
    ),
}

_THREAD: Final = [RUN, "thread", "thread_id"]
_WAIT_ENDS: Final = {schema.EVENT_WAIT_END, schema.COND_WAIT_END}


def detect(events: pl.LazyFrame) -> pl.LazyFrame:
    """A wait() that returned, followed by a failed take because the item had already gone."""
    begins = lines_of(events, {schema.EVENT_WAIT_BEGIN, schema.COND_WAIT_BEGIN}).select(
        RUN,
        pl.col("seq").alias("begin_seq"),
        pl.col("flag").alias("begin_flag"),
        pl.col("site").alias("begin_site"),
    )
    # Failed takes are rare and wait returns are not: start from each failed
    # take and look back to its thread's previous take or wait end, which is
    # the same pairing as looking forward from each return to its next take.
    failed = (
        lines_of(events, schema.CONTAINER_TAKES)
        .filter(pl.col("error").is_in(sorted(schema.EMPTY_ERRORS)))
        .select(
            *_THREAD,
            pl.col("seq").alias("take_seq"),
            pl.col("ts").alias("take_ts"),
            pl.col("event").alias("take_event"),
            pl.col("obj").alias("box"),
            pl.col("site").alias("take_site"),
            pl.col("error").alias("take_error"),
        )
        .sort(RUN, "take_seq")
    )
    before = (
        lines_of(events, schema.CONTAINER_TAKES | _WAIT_ENDS)
        # Only the lines of threads that failed a take: in a busy trace
        # without one, sorting every take and wait end was most of its time.
        .join(failed.select(_THREAD).unique(), on=_THREAD, how="semi")
        .select(
            *_THREAD,
            "seq",
            "event",
            "obj",
            "site",
            "begin_seq",
            "woken_by",
            returned=pl.col("event").is_in(sorted(_WAIT_ENDS))
            & pl.col("result").fill_null(False)
            & pl.col("error").is_null(),
        )
        .sort(RUN, "seq")
    )
    returns = (
        failed.join_asof(
            before,
            left_on="take_seq",
            right_on="seq",
            by=_THREAD,
            strategy="backward",
            allow_exact_matches=False,
            check_sortedness=False,
        )
        .filter(pl.col("returned").fill_null(False))
        .join(begins, on=[RUN, "begin_seq"], how="left")
        # The call's site is its begin line's (the end line says the same).
        .with_columns(site=pl.coalesce("begin_site", "site"))
    )
    sets = (
        lines_of(events, {schema.EVENT_SET})
        .select(RUN, "obj", pl.col("seq").alias("set_seq"))
        .sort(RUN, "set_seq")
    )
    candidates = (
        returns.sort(RUN, "begin_seq")
        .join_asof(
            sets,
            left_on="begin_seq",
            right_on="set_seq",
            by=[RUN, "obj"],
            strategy="backward",
            allow_exact_matches=False,
            check_sortedness=False,
        )
        .with_columns(
            signal=pl.coalesce(
                "woken_by",
                pl.when(
                    (pl.col("event") == schema.EVENT_WAIT_END)
                    & pl.col("begin_flag").fill_null(False)
                ).then("set_seq"),
                "begin_seq",
            )
        )
    )
    takes = (
        lines_of(events, schema.CONTAINER_TAKES)
        .filter(pl.col("item").is_not_null())
        .select(
            RUN,
            pl.col("obj").alias("box"),
            pl.col("seq").alias("took_seq"),
            pl.col("thread").alias("taker"),
            pl.col("thread_id").alias("taker_id"),
            pl.col("item").alias("took_item"),
            pl.col("site").alias("took_site"),
        )
        .sort(RUN, "took_seq")
    )
    # A get that waited for an item of its own (a get.begin not yet ended)
    # did not count on the wake-up: timing out is its way of polling.
    gets = (
        lines_of(events, {schema.QUEUE_GET_BEGIN, schema.QUEUE_GET_END})
        .select(*_THREAD, pl.col("seq").alias("get_seq"), pl.col("event").alias("get_line"))
        .sort(RUN, "get_seq")
    )
    candidates = (
        candidates.sort(RUN, "take_seq")
        .join_asof(
            gets,
            left_on="take_seq",
            right_on="get_seq",
            by=_THREAD,
            strategy="backward",
            allow_exact_matches=False,
            check_sortedness=False,
        )
        .filter(pl.col("get_line").fill_null("") != schema.QUEUE_GET_BEGIN)
    )
    fates = failed_take.detect(events).select(
        RUN, pl.col("seq").alias("take_seq"), pl.col("severity")
    )
    stolen = (
        candidates.sort(RUN, "take_seq")
        .join_asof(
            takes,
            left_on="take_seq",
            right_on="took_seq",
            by=[RUN, "box"],
            strategy="backward",
            allow_exact_matches=False,
            check_sortedness=False,
        )
        .filter(pl.col("took_seq") > pl.col("signal"))
        .join(fates, on=[RUN, "take_seq"], how="left")
        .with_columns(
            severity=pl.when(pl.col("severity") == "error")
            .then(pl.lit("error"))
            .otherwise(pl.lit("warning")),
            ts=pl.col("take_ts"),
        )
        .drop("seq")
        .rename({"take_seq": "seq"})
        .sort(RUN, "seq")
    )
    return stolen.select(finding(KIND, pl.col("severity"), _message()))


def _message() -> pl.Expr:
    call = pl.col("take_event").replace_strict(
        {
            schema.LIST_POP: "pop()",
            schema.LIST_REMOVE: "remove()",
            schema.LIST_DEL: "del",
            schema.QUEUE_GET: "get()",
        },
        return_dtype=pl.String,
    )
    how = (
        pl.when(pl.col("woken_by").is_not_null())
        .then(pl.lit("was woken"))
        .when(pl.col("begin_flag").fill_null(False))
        .then(pl.lit("found the flag up"))
        .otherwise(pl.lit("returned"))
    )
    same = (pl.col("taker") == pl.col("thread")) & (pl.col("taker_id") == pl.col("thread_id"))
    why = (
        pl.when(same)
        .then(
            pl.format(
                "the same signal had already let this thread take item {} at {}",
                pl.col("took_item"),
                pl.col("took_site").fill_null("?"),
            )
        )
        .otherwise(
            pl.format(
                "{} took item {} first at {}",
                pl.col("taker"),
                pl.col("took_item"),
                pl.col("took_site").fill_null("?"),
            )
        )
    )
    fate = (
        pl.when(pl.col("severity") == "error")
        .then(pl.lit(", uncaught"))
        .otherwise(pl.lit(", handled"))
    )
    return pl.format(
        "wait() {}, then {} on {} at {} raised {}{}: {}",
        how,
        call,
        pl.col("box"),
        pl.col("take_site").fill_null("?"),
        pl.col("take_error"),
        fate,
        why,
    )
