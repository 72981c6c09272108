"""Lazy building blocks shared by the detectors and the tables.

Every function here takes and returns LazyFrames and never collects, so the
report can hand the whole plan to polars at once.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from analyze.columns import NS_PER_MS, NS_PER_S, RUN
from synctrace import schema


def lines_of(events: pl.LazyFrame, names: Iterable[str]) -> pl.LazyFrame:
    """The lines whose event is one of ``names``."""
    return events.filter(pl.col("event").is_in(sorted(names)))


def run_bounds(events: pl.LazyFrame) -> pl.LazyFrame:
    """Per run: ``start_ts`` (its trace.start) and ``end_ts`` (its last line's ts).

    ``ts`` never decreases along a file, so min and max are the first and
    last lines even when trace.end is missing.
    """
    return events.group_by(RUN).agg(
        pl.col("ts").min().alias("start_ts"), pl.col("ts").max().alias("end_ts")
    )


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
