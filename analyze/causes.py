"""Causes: the findings of one kind, on one object, from one call site, told once.

A run that loses a signal in a loop loses it at every turn; the reader needs
the loop's one mistake, how often it struck, who was involved, what it means
and how it is usually fixed, and only then a few of its findings.  A cause
is exactly that grouping of the findings frame: same ``kind``, same ``obj``
and same ``site`` (a missing object or site is a value of its own), across
every run of the report.
"""

from __future__ import annotations

from string import Formatter
from typing import Final

import polars as pl

from analyze.columns import SEVERITIES
from analyze.findings import DETECTORS

#: The columns that make a cause; a finding's ``cause`` key is built from them.
CAUSE_BY: Final = ("kind", "obj", "site")
#: Threads named in an explanation before the rest are counted.
NAMED_THREADS: Final = 3


def cause_key() -> pl.Expr:
    """One string per (kind, obj, site), so findings and causes join without null keys."""
    return pl.concat_str([pl.col(c).fill_null("\x00") for c in CAUSE_BY], separator="\x1f").alias(
        "key"
    )


def causes(findings: pl.LazyFrame) -> pl.LazyFrame:
    """One row per cause, worst first: cause (its rank, from 0), key, kind, severity, obj,
    site, count, first_ts_s, last_ts_s, threads (sorted), explanation and fix.

    ``findings`` has the report's finding columns (FINDING_SCHEMA and ``ts_s``).
    A cause's severity is the worst of its findings; causes are ordered by
    severity, then by how many findings they have (most first), then by
    their first finding's time, so the order is the same on every run.
    """
    rank = pl.col("severity").replace_strict(
        {s: i for i, s in enumerate(SEVERITIES)}, return_dtype=pl.Int64
    )
    grouped = (
        findings.with_columns(cause_key(), rank.alias("rank"))
        .group_by("key")
        .agg(
            *(pl.col(c).first() for c in CAUSE_BY),
            pl.col("rank").min(),
            pl.len().alias("count"),
            pl.col("ts_s").min().alias("first_ts_s"),
            pl.col("ts_s").max().alias("last_ts_s"),
            pl.col("thread").drop_nulls().unique().sort().alias("threads"),
        )
        .with_columns(
            pl.col("rank")
            .replace_strict(dict(enumerate(SEVERITIES)), return_dtype=pl.String)
            .alias("severity")
        )
        .sort(["rank", "count", "first_ts_s", "key"], descending=[False, True, False, False])
    )
    return grouped.with_columns(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("cause"),
        _words("what").alias("explanation"),
        _words("fix").alias("fix"),
    ).select(
        "cause",
        "key",
        "kind",
        "severity",
        "obj",
        "site",
        pl.col("count").cast(pl.Int64),
        "first_ts_s",
        "last_ts_s",
        "threads",
        "explanation",
        "fix",
    )


def _words(part: str) -> pl.Expr:
    """The kind's explanation (``what``) or ``fix`` for the cause's severity, filled in."""
    chosen: pl.Expr = pl.lit(None, pl.String)
    for detector in DETECTORS:
        for severity, explanation in detector.explain.items():
            chosen = (
                pl.when((pl.col("kind") == detector.kind) & (pl.col("severity") == severity))
                .then(_fill(getattr(explanation, part)))
                .otherwise(chosen)
            )
    return chosen


def _fill(template: str) -> pl.Expr:
    """The template with each placeholder replaced by the cause's own value."""
    values = {
        "obj": pl.col("obj").fill_null("?"),
        "site": pl.col("site").fill_null("?"),
        "threads": _thread_list(),
        "count": pl.col("count").cast(pl.String),
        "times": pl.when(pl.col("count") == 1)
        .then(pl.lit("once"))
        .when(pl.col("count") == 2)
        .then(pl.lit("twice"))
        .otherwise(pl.format("{} times", pl.col("count"))),
    }
    parts: list[pl.Expr] = []
    for text, name, _, _ in Formatter().parse(template):
        if text:
            parts.append(pl.lit(text))
        if name is not None:
            parts.append(values[name])
    return pl.concat_str(parts) if parts else pl.lit("")


def _thread_list() -> pl.Expr:
    """ "a", "a and b", "a, b and c", or "a, b, c and 4 more"; "no thread" when none."""
    names, n = pl.col("threads"), pl.col("threads").list.len()
    shown = names.list.head(NAMED_THREADS)
    return (
        pl.when(n == 0)
        .then(pl.lit("no thread"))
        .when(n == 1)
        .then(names.list.first())
        .when(n <= NAMED_THREADS)
        .then(pl.format("{} and {}", names.list.head(n - 1).list.join(", "), names.list.last()))
        .otherwise(pl.format("{} and {} more", shown.list.join(", "), n - NAMED_THREADS))
    )
