"""Failed takes: a pop, remove, del or get that raised, and whether the exception was handled."""

from __future__ import annotations

from typing import Final

import polars as pl

from analyze.columns import RUN
from analyze.findings._explain import Explanation
from analyze.frames import finding, lines_of, run_endings
from synctrace import schema

KIND: Final = "failed-take"

#: Lines the trace must have, one of each group, for this detector to find anything.
NEEDS: Final = (frozenset(schema.CONTAINER_TAKES),)

EXPLAIN: Final = {
    "error": Explanation(
        what=(
            "A take from {obj} at {site} ({threads}) raised, {times}, and the exception ended"
            " the thread or the run: the code took an item it assumed was there."
        ),
        fix=(
            "Block in queue.Queue.get(), or call get(timeout=...) in a loop that handles"
            " queue.Empty, or test and take under one lock."
        ),
    ),
    "info": Explanation(
        what=(
            "A take from {obj} at {site} ({threads}) raised, {times}, and the program handled"
            " the exception (polling with get(timeout=...), say)."
        ),
        fix="Nothing to fix.",
    ),
}

_CALLS: Final[dict[str, str]] = {
    schema.LIST_POP: "pop()",
    schema.LIST_REMOVE: "remove()",
    schema.LIST_DEL: "del",
    schema.QUEUE_GET: "get()",
}
assert set(_CALLS) == set(schema.CONTAINER_TAKES), "failed_take._CALLS is out of step with schema"

_THREAD = [RUN, "thread", "thread_id"]


def detect(events: pl.LazyFrame) -> pl.LazyFrame:
    """A take that raised: an error when the exception ended its thread, info when handled."""
    failed = (
        lines_of(events, schema.CONTAINER_TAKES)
        .filter(pl.col("error").is_not_null())
        .select(RUN, "seq", "ts", "thread", "thread_id", "obj", "site", "event", "error", "depth")
        .sort(RUN, "seq")
    )
    # The thread's next line, skipping end lines of blocking calls: a get
    # that timed out writes its get.end after the failed take, and only then
    # does the exception reach run().  An end line of a later call cannot be
    # skipped by mistake, because that call's begin line would come first.
    later = (
        events.filter(
            ~pl.col("event").is_in(
                [schema.TRACE_START, schema.TRACE_END, *schema.BLOCKING.values()]
            )
        )
        # Only the lines of threads that failed a take: usually none at all.
        .join(failed.select(_THREAD).unique(), on=_THREAD, how="semi")
        .select(
            *_THREAD,
            pl.col("seq").alias("next_seq"),
            pl.col("event").alias("next_event"),
            pl.col("exc_type").alias("next_exc_type"),
        )
        .sort(RUN, "next_seq")
    )
    # The thread that wrote trace.start runs the recorded program (or block):
    # an exception that leaves it ends the run, and trace.end names it.
    starters = lines_of(events, {schema.TRACE_START}).select(
        RUN,
        pl.col("thread").alias("start_thread"),
        pl.col("thread_id").alias("start_thread_id"),
    )
    takes = (
        failed.join_asof(
            later,
            left_on="seq",
            right_on="next_seq",
            by=_THREAD,
            strategy="forward",
            allow_exact_matches=False,
            check_sortedness=False,
        )
        .join(starters, on=RUN, how="left")
        .join(run_endings(events), on=RUN, how="left")
        .with_columns(_fate().alias("fate"))
        .sort(RUN, "seq")
    )
    severity = pl.when(pl.col("fate") == "handled").then(pl.lit("info")).otherwise(pl.lit("error"))
    return takes.select(finding(KIND, severity, _message()))


def _fate() -> pl.Expr:
    """ "thread" or "run" when the exception ended it, "handled" when the program caught it."""
    ended_thread = (pl.col("next_event") == schema.THREAD_EXCEPTION) & (
        pl.col("next_exc_type") == pl.col("error")
    )
    ended_run = (
        pl.col("next_seq").is_null()
        & (pl.col("thread") == pl.col("start_thread"))
        & (pl.col("thread_id") == pl.col("start_thread_id"))
        & (pl.col("end_reason") == "exception")
        & (pl.col("end_detail") == pl.col("error"))
    )
    return (
        pl.when(ended_thread.fill_null(False))
        .then(pl.lit("thread"))
        .when(ended_run.fill_null(False))
        .then(pl.lit("run"))
        .otherwise(pl.lit("handled"))
    )


def _message() -> pl.Expr:
    event, error = pl.col("event"), pl.col("error")
    container = pl.when(event == schema.QUEUE_GET).then(pl.lit("queue")).otherwise(pl.lit("list"))
    what = (
        pl.when((event == schema.LIST_REMOVE) & (error == "ValueError"))
        .then(pl.lit(" of a value not in the list"))
        .when(error.is_in(sorted(schema.EMPTY_ERRORS)) & (pl.col("depth").fill_null(0) == 0))
        .then(pl.format(" on an empty {}", container))
        .when(error == "IndexError")
        .then(pl.format(" with an index past the end of the list ({} items)", pl.col("depth")))
        .otherwise(pl.format(" on the {}", container))
    )
    fate = (
        pl.when(pl.col("fate") == "thread")
        .then(pl.lit("which ended the thread"))
        .when(pl.col("fate") == "run")
        .then(pl.lit("which ended the run"))
        .otherwise(pl.lit("which the program handled"))
    )
    call = event.replace_strict(_CALLS, return_dtype=pl.String)
    return pl.format("{}{} raised {}, {}", call, what, error, fate)
