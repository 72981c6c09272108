"""What happened after each ``set()`` that found no waiter: shared by two detectors.

A set with no waiter is only delivered if someone looks at the flag (a
``wait()`` that finds it set, or ``is_set()``) before it is cleared again.
"""

from __future__ import annotations

import polars as pl

from analyze.columns import RUN
from analyze.frames import lines_of, shared
from synctrace import schema

_BY = [RUN, "obj"]


def _prefixed(frame: pl.LazyFrame, prefix: str) -> pl.LazyFrame:
    """seq, ts, thread, site and event of ``frame`` renamed ``<prefix>_...``, keyed by run+obj."""
    return frame.select(
        RUN,
        "obj",
        *(pl.col(c).alias(f"{prefix}_{c}") for c in ("seq", "ts", "thread", "site", "event")),
    ).sort(RUN, f"{prefix}_seq")


def _next(left: pl.LazyFrame, right: pl.LazyFrame, prefix: str) -> pl.LazyFrame:
    # Files are read in seq order and seq only grows, so both sides are
    # sorted within each (run, obj): the sortedness check would only cost.
    return left.join_asof(
        right,
        left_on="seq",
        right_on=f"{prefix}_seq",
        by=_BY,
        strategy="forward",
        allow_exact_matches=False,
        check_sortedness=False,
    )


@shared
def unheard_sets(events: pl.LazyFrame) -> pl.LazyFrame:
    """Every ``event.set`` with no waiter, with the next clear and the next look at the flag.

    Columns: the set line's run, obj, seq, ts, thread, site; ``clear_*`` and
    ``see_*`` (seq, ts, thread, site, event) of the first clear and of the
    first look after it (null when there was none); and ``lost``, true when
    the flag was cleared before anyone looked.
    """
    sets = (
        lines_of(events, {schema.EVENT_SET})
        .filter(pl.col("waiters") == 0)
        .select(RUN, "obj", "seq", "ts", "thread", "site")
        .sort(RUN, "seq")
    )
    clears = _prefixed(lines_of(events, {schema.EVENT_CLEAR}), "clear")
    looks = _prefixed(
        events.filter(
            ((pl.col("event") == schema.EVENT_WAIT_BEGIN) & pl.col("flag"))
            # is_set() lines are written only when it returned true.
            | ((pl.col("event") == schema.EVENT_IS_SET) & pl.col("result").fill_null(True))
        ),
        "see",
    )
    return _next(_next(sets, clears, "clear"), looks, "see").with_columns(
        lost=pl.col("clear_seq").is_not_null()
        & (pl.col("see_seq").is_null() | (pl.col("see_seq") > pl.col("clear_seq")))
    )
