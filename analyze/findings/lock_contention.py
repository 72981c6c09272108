"""Lock contention: acquires that waited long for a lock, one finding per lock.

Exactly: per run and lock (``obj`` of ``lock.*`` lines; semaphores have no
single holder and are left out), the ``lock.acquire.begin`` lines that have
their ``lock.acquire.end`` (whatever its result: a wait that timed out or
was interrupted waited too) and whose wait, end ``ts`` minus begin ``ts``,
is at least ``Settings.contention_ms`` (``--contention-ms``, default 20
ms, the trace's own clock).  A lock with at least one such wait is one info
finding, placed at the longest of them (the earliest on a tie): its ts,
seq, thread and site.  The message counts those waits, their total and
longest, and names the holders: the threads whose holds of the lock
(``_holds.lock_holds``) overlapped one of those waits, that is, taken
before the wait's end line and not released before its begin line, the
waiter's own hold (taken at its end line) excluded; each holder with the
number of those waits it held the lock during, most first, then by name.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from analyze.columns import NS_PER_MS, RUN
from analyze.findings._explain import Explanation
from analyze.findings._holds import lock_holds
from analyze.frames import duration, finding, lines_of
from synctrace import schema

KIND: Final = "lock-contention"

#: Lines the trace must have, one of each group, for this detector to find anything.
NEEDS: Final = (
    frozenset({schema.LOCK_ACQUIRE_BEGIN}),
    frozenset({schema.LOCK_ACQUIRE_END}),
)

#: JFR's default threshold for its JavaMonitorEnter events.
DEFAULT_MS: Final = 20.0

#: Holders named in a message before the rest are counted.
NAMED_HOLDERS: Final = 3

EXPLAIN: Final = {
    "info": Explanation(
        what=(
            "Threads waited for {obj} at least the contention threshold; the longest wait"
            " was {threads}'s at {site}: while one thread holds the lock the others queue"
            " behind it, so the work under it runs one thread at a time."
        ),
        fix=(
            "Nothing to fix if the run is fast enough; otherwise hold {obj} for less (compute"
            " outside the lock, take it only to read or publish the shared state), or split"
            " the state it guards so threads need different locks."
        ),
    ),
}

_LOCK: Final = [RUN, "obj"]


def detect(events: pl.LazyFrame, contention_ms: float = DEFAULT_MS) -> pl.LazyFrame:
    """Per lock, the acquires that waited at least ``contention_ms``, and who held it meanwhile."""
    ends = lines_of(events, {schema.LOCK_ACQUIRE_END}).select(
        RUN,
        pl.col("begin_seq").alias("seq"),
        pl.col("seq").alias("end_seq"),
        pl.col("ts").alias("end_ts"),
    )
    waits = (
        lines_of(events, {schema.LOCK_ACQUIRE_BEGIN})
        .select(*_LOCK, "seq", "ts", "thread", "site")
        .join(ends, on=[RUN, "seq"])
        .with_columns(waited=pl.col("end_ts") - pl.col("ts"))
        .filter(pl.col("waited") >= round(contention_ms * NS_PER_MS))
        .sort(RUN, "seq")
    )
    holds = lock_holds(events).sort(RUN, "taken_seq")
    # The holds overlapping a wait are consecutive: from the last hold taken
    # before its begin (if not yet released then) to the last taken before its end.
    first = waits.join_asof(
        holds.select(*_LOCK, "taken_seq", "released_seq", pl.col("hold").alias("lo")),
        left_on="seq",
        right_on="taken_seq",
        by=_LOCK,
        strategy="backward",
        allow_exact_matches=False,
        check_sortedness=False,
    ).with_columns(
        lo=pl.when(pl.col("released_seq").is_null() | (pl.col("released_seq") > pl.col("seq")))
        .then(pl.col("lo"))
        .otherwise(pl.col("lo") + 1)
        .fill_null(1)
    )
    spans = (
        first.sort(RUN, "end_seq")
        .join_asof(
            holds.select(
                *_LOCK, pl.col("taken_seq").alias("last_taken"), pl.col("hold").alias("hi")
            ),
            left_on="end_seq",
            right_on="last_taken",
            by=_LOCK,
            strategy="backward",
            allow_exact_matches=False,
            check_sortedness=False,
        )
        .with_columns(hi=pl.col("hi").fill_null(0))
    )
    held_by = (
        spans.filter(pl.col("hi") >= pl.col("lo"))
        .select(*_LOCK, "seq", hold=pl.int_ranges("lo", pl.col("hi") + 1, dtype=pl.Int64))
        .explode("hold")
        .join(holds.select(*_LOCK, "hold", pl.col("thread").alias("holder")), on=[*_LOCK, "hold"])
        .unique([*_LOCK, "seq", "holder"])
        .group_by(*_LOCK, "holder")
        .agg(waits=pl.len())
        .sort("waits", "holder", descending=[True, False])
        .group_by(_LOCK, maintain_order=True)
        .agg(
            holders=pl.format(
                "{} ({} {})",
                "holder",
                "waits",
                pl.when(pl.col("waits") == 1).then(pl.lit("wait")).otherwise(pl.lit("waits")),
            )
            .head(NAMED_HOLDERS)
            .str.join(", "),
            more=(pl.len().cast(pl.Int64) - NAMED_HOLDERS).clip(lower_bound=0),
        )
    )
    per_lock = (
        waits.sort(*_LOCK, "waited", "seq", descending=[False, False, True, False])
        .group_by(_LOCK, maintain_order=True)
        .agg(
            pl.col("seq", "ts", "thread", "site", "waited").first(),
            count=pl.len(),
            total=pl.col("waited").sum(),
        )
        .join(held_by, on=_LOCK, how="left")
        .sort(RUN, "seq")
    )
    return per_lock.select(finding(KIND, "info", _message(contention_ms)))


def _message(contention_ms: float) -> pl.Expr:
    holders = (
        pl.when(pl.col("holders").is_null())
        .then(pl.lit("no recorded holder"))
        .when(pl.col("more") > 0)
        .then(pl.format("held by {} and {} more", pl.col("holders"), pl.col("more")))
        .otherwise(pl.format("held by {}", pl.col("holders")))
    )
    waits = pl.when(pl.col("count") == 1).then(pl.lit("acquire")).otherwise(pl.lit("acquires"))
    return pl.format(
        "{} {} waited at least {} ms, {} in all, the longest {}; {}",
        pl.col("count"),
        waits,
        pl.lit(f"{contention_ms:g}"),
        duration(pl.col("total")),
        duration(pl.col("waited")),
        holders,
    )
