"""Lazy building blocks shared by the detectors and the tables.

Every function here takes and returns LazyFrames and never collects, so the
report can hand the whole plan to polars at once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Literal

import polars as pl

from analyze.columns import NS_PER_MS, NS_PER_S, RUN
from synctrace import schema

Engine = Literal["in-memory", "streaming"]


class _Shared:
    """The derived frames computed so far in one ``sharing()`` block, and how to collect them."""

    def __init__(self, engine: Engine) -> None:
        self.engine: Engine = engine
        #: (builder, id of the events frame) -> (that events frame, the result).
        #: Holding the events frame keeps its id from being reused by another
        #: frame while the block lasts.
        self.frames: dict[tuple[Any, int], tuple[pl.LazyFrame, pl.LazyFrame]] = {}


_SHARING: ContextVar[_Shared | None] = ContextVar("analyze_sharing", default=None)


@contextmanager
def sharing(engine: Engine = "in-memory") -> Iterator[None]:
    """Within the block, every :func:`shared` frame is computed once per events frame.

    The report opens one around building its plans: liveness, the waits
    still going at the end and the unheard sets are each read by several
    detectors and tables, and as lazy plans each reader would compute them
    again (liveness alone four times a report: half its start-up on a small
    trace).  Outside such a block the shared frames are plain lazy plans.
    """
    token = _SHARING.set(_Shared(engine))
    try:
        yield
    finally:
        _SHARING.reset(token)


def shared(
    build: Callable[[pl.LazyFrame], pl.LazyFrame],
) -> Callable[[pl.LazyFrame], pl.LazyFrame]:
    """Make ``build(events)`` a frame computed once per events frame inside ``sharing()``.

    Inside the block the frame is collected when first asked for and later
    readers get a lazy frame over the result, so keep such frames small
    (per wait, per thread, per set: never per line).
    """

    @functools.wraps(build)
    def once(events: pl.LazyFrame) -> pl.LazyFrame:
        memo = _SHARING.get()
        if memo is None:
            return build(events)
        key = (build, id(events))
        hit = memo.frames.get(key)
        if hit is None:
            hit = (events, build(events).collect(engine=memo.engine).lazy())
            memo.frames[key] = hit
        return hit[1]

    return once


def lines_of(events: pl.LazyFrame, names: Iterable[str]) -> pl.LazyFrame:
    """The lines whose event is one of ``names``."""
    return events.filter(pl.col("event").is_in(sorted(names)))


@shared
def run_bounds(events: pl.LazyFrame) -> pl.LazyFrame:
    """Per run: ``start_ts`` (its trace.start) and ``end_ts`` (its last line's ts).

    ``ts`` never decreases along a file, so min and max are the first and
    last lines even when trace.end is missing.
    """
    return events.group_by(RUN).agg(
        pl.col("ts").min().alias("start_ts"), pl.col("ts").max().alias("end_ts")
    )


@shared
def run_endings(events: pl.LazyFrame) -> pl.LazyFrame:
    """Per run that has a trace.end: ``end_reason``, ``end_detail`` and ``end_exit_code``.

    A run missing here is incomplete: killed, or still running.  (The names
    differ from the line's own so that joining this onto lines is unambiguous.)
    """
    return lines_of(events, {schema.TRACE_END}).select(
        RUN, *(pl.col(c).alias(f"end_{c}") for c in ("reason", "detail", "exit_code"))
    )


def item_lines(events: pl.LazyFrame) -> pl.LazyFrame:
    """Container lines that moved an item, with ``delta`` +1 (added) or -1 (left)."""
    moves = schema.CONTAINER_ADDS | schema.CONTAINER_TAKES | schema.CONTAINER_DISCARDS
    return (
        lines_of(events, moves)
        .filter(pl.col("item").is_not_null())
        .with_columns(
            pl.when(pl.col("event").is_in(sorted(schema.CONTAINER_ADDS)))
            .then(1)
            .otherwise(-1)
            .alias("delta")
        )
    )


def seconds(ns: pl.Expr) -> pl.Expr:
    """A time since the trace's start in ns as text in seconds, e.g. ``1.234``."""
    return (ns / NS_PER_S).round(3).cast(pl.String)


def duration(ns: pl.Expr) -> pl.Expr:
    """A duration in ns as text: ``1.26 s``, ``452 ms``, ``0.02 ms``, ``2 s``.

    Three significant digits (but never coarser than whole seconds), in
    seconds from one second up and in ms below, without trailing zeros.
    Integer arithmetic throughout, so no float ever prints as ``1e-05``.
    """
    digits = ns.cast(pl.String).str.len_chars().cast(pl.Int64)
    keep = pl.min_horizontal(
        pl.lit(10, pl.Int64).pow((digits - 3).clip(lower_bound=0)), pl.lit(NS_PER_S, pl.Int64)
    )
    rounded = (ns + keep // 2) // keep * keep

    def shown(scale: int, unit: str) -> pl.Expr:
        places = len(str(scale)) - 1
        fraction = (rounded % scale).cast(pl.String).str.zfill(places).str.strip_chars_end("0")
        whole = (rounded // scale).cast(pl.String)
        return (
            pl.when(fraction == "")
            .then(pl.format("{} {}", whole, pl.lit(unit)))
            .otherwise(pl.format("{}.{} {}", whole, fraction, pl.lit(unit)))
        )

    return pl.when(rounded >= NS_PER_S).then(shown(NS_PER_S, "s")).otherwise(shown(NS_PER_MS, "ms"))


def finding(kind: str, severity: pl.Expr | str, message: pl.Expr) -> list[pl.Expr]:
    """The FINDING columns from a frame that has run, ts, seq, thread, obj and site."""
    sev = pl.lit(severity) if isinstance(severity, str) else severity
    return [
        pl.col(RUN),
        pl.lit(kind).alias("kind"),
        sev.alias("severity"),
        pl.col("ts"),
        pl.col("seq"),
        pl.col("thread"),
        pl.col("obj"),
        pl.col("site"),
        message.alias("message"),
    ]
