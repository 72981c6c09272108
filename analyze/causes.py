"""Causes: the findings of one kind, on one object, from one call site, told once.

A run that loses a signal in a loop loses it at every turn; the reader needs
the loop's one mistake, how often it struck, who was involved, what it means
and how it is usually fixed, and only then a few of its findings.  A cause
is exactly that grouping of the findings frame: same ``kind``, same ``obj``
and same ``site`` (a missing object or site is a value of its own), across
every run of the report.
"""

from __future__ import annotations

from typing import Any, Final

import polars as pl

from analyze.columns import SEVERITIES, severity_rank
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


def causes(findings: pl.DataFrame) -> pl.DataFrame:
    """One row per cause, worst first: cause (its rank, from 0), key, kind, severity, obj,
    site, count, first_ts_s, last_ts_s, threads (sorted), explanation and fix.

    ``findings`` has the report's finding columns (FINDING_SCHEMA and ``ts_s``).
    A cause's severity is the worst of its findings; causes are ordered by
    severity, hangs last among the errors (a hang is where the run got
    stuck; the lost signal, deadlock or dead thread that explains it comes
    first), then by how many findings they have (most first), then by their
    first finding's time, so the order is the same on every run.

    It takes the collected findings: a report has a few causes, and their
    words are filled in Python, one string per cause, where as polars
    expressions (a when/then per kind and severity, each a concat of the
    template's parts) they cost a small trace's report a quarter of its time.
    """
    rank = severity_rank()
    grouped = (
        findings.with_columns(cause_key(), rank.alias("rank"))
        .group_by("key")
        .agg(
            *(pl.col(c).first() for c in CAUSE_BY),
            pl.col("rank").min(),
            pl.len().cast(pl.Int64).alias("count"),
            pl.col("ts_s").min().alias("first_ts_s"),
            pl.col("ts_s").max().alias("last_ts_s"),
            pl.col("thread").drop_nulls().unique().sort().alias("threads"),
        )
        .with_columns(
            pl.col("rank")
            .replace_strict(dict(enumerate(SEVERITIES)), return_dtype=pl.String)
            .alias("severity")
        )
        .sort(
            [pl.col("rank"), pl.col("kind") == "hang", "count", "first_ts_s", "key"],
            descending=[False, False, True, False, False],
        )
    )
    words = {(d.kind, severity): e for d in DETECTORS for severity, e in d.explain.items()}
    what: list[str | None] = []
    fix: list[str | None] = []
    for row in grouped.select("kind", "severity", "obj", "site", "count", "threads").iter_rows(
        named=True
    ):
        explanation = words.get((row["kind"], row["severity"]))
        what.append(None if explanation is None else _fill(explanation.what, row))
        fix.append(None if explanation is None else _fill(explanation.fix, row))
    return grouped.with_columns(
        pl.int_range(pl.len(), dtype=pl.Int64).alias("cause"),
        pl.Series("explanation", what, dtype=pl.String),
        pl.Series("fix", fix, dtype=pl.String),
    ).select(
        "cause",
        "key",
        "kind",
        "severity",
        "obj",
        "site",
        "count",
        "first_ts_s",
        "last_ts_s",
        "threads",
        "explanation",
        "fix",
    )


def _fill(template: str, cause: dict[str, Any]) -> str:
    """The template with each placeholder replaced by the cause's own value."""
    count: int = cause["count"]
    return template.format(
        obj="?" if cause["obj"] is None else cause["obj"],
        site="?" if cause["site"] is None else cause["site"],
        threads=_thread_list(cause["threads"]),
        count=str(count),
        times="once" if count == 1 else "twice" if count == 2 else f"{count} times",
    )


def _thread_list(names: list[str]) -> str:
    """ "a", "a and b", "a, b and c", or "a, b, c and 4 more"; "no thread" when none."""
    if not names:
        return "no thread"
    if len(names) == 1:
        return names[0]
    if len(names) <= NAMED_THREADS:
        return f"{', '.join(names[:-1])} and {names[-1]}"
    return f"{', '.join(names[:NAMED_THREADS])} and {len(names) - NAMED_THREADS} more"
