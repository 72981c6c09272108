"""The per-container table: traffic, stranded items, take order and residency.

Containers are aggregated by name across runs (the same program run twice
names its containers the same), while everything that depends on the order
of lines is computed within one run first.
"""

from __future__ import annotations

import polars as pl

from analyze.columns import NS_PER_MS, RUN
from analyze.findings.stranded_item import buffers, stranded
from analyze.frames import item_lines, lines_of
from analyze.liveness import served
from synctrace import schema

_KEY = [RUN, "obj"]
_NEVER = pl.lit(2**63 - 1, pl.Int64)  # "has not left yet" sorts after every seq
_TAKES = sorted(schema.CONTAINER_TAKES)


def containers(events: pl.LazyFrame) -> pl.LazyFrame:
    """One row per container name: obj, added, taken, discarded, stranded, left,
    failed_takes, order, and residency_{min,p50,p95,max}_ms over taken items.

    Of the items still in a container at the end, ``left`` counts those of a
    buffer that a thread able to go had taken from (``liveness.served``:
    they may yet be taken) and ``stranded`` the others.
    """
    lines = lines_of(
        events, schema.CONTAINER_ADDS | schema.CONTAINER_TAKES | schema.CONTAINER_DISCARDS
    )
    has_item = pl.col("item").is_not_null()
    is_take = pl.col("event").is_in(_TAKES)
    traffic = lines.group_by("obj").agg(
        added=(pl.col("event").is_in(sorted(schema.CONTAINER_ADDS)) & has_item).sum(),
        taken=(is_take & has_item).sum(),
        discarded=(pl.col("event").is_in(sorted(schema.CONTAINER_DISCARDS)) & has_item).sum(),
        failed_takes=(is_take & pl.col("error").is_not_null()).sum(),
    )
    remaining = stranded(events).join(
        buffers(events)
        .join(served(events), on=[RUN, "obj"], how="semi")
        .with_columns(pl.lit(True).alias("waiting")),
        on=[RUN, "obj"],
        how="left",
    )
    left_behind = remaining.group_by("obj").agg(
        (~pl.col("waiting").fill_null(False)).sum().alias("stranded"),
        pl.col("waiting").fill_null(False).sum().alias("left"),
    )
    return (
        traffic.join(left_behind, on="obj", how="left")
        .join(_order(events), on="obj", how="left")
        .join(_residency(_items(events)), on="obj", how="left")
        .with_columns(
            pl.col("obj").cast(pl.String), pl.col("stranded", "left").fill_null(0).cast(pl.UInt32)
        )
        .select(
            "obj",
            "added",
            "taken",
            "discarded",
            "stranded",
            "left",
            "failed_takes",
            "order",
            "residency_min_ms",
            "residency_p50_ms",
            "residency_p95_ms",
            "residency_max_ms",
        )
        .sort("obj")
    )


def _items(events: pl.LazyFrame) -> pl.LazyFrame:
    """One row per (run, obj, item): when it was added, taken, and when it left at all."""
    added, taken, left = pl.col("delta") > 0, pl.col("event").is_in(_TAKES), pl.col("delta") < 0
    # Each value is picked out on every line first and the groups take their
    # first non-null: a filter inside the aggregation ran per group, twice
    # as slow on 250k items.
    picked = {
        "add_seq": pl.when(added).then("seq"),
        "add_ts": pl.when(added).then("ts"),
        "take_seq": pl.when(taken).then("seq"),
        "take_ts": pl.when(taken).then("ts"),
        "leave_seq": pl.when(left).then("seq"),
    }
    return (
        item_lines(events)
        .select(*_KEY, "item", **picked)
        .group_by(*_KEY, "item")
        .agg(pl.col(name).drop_nulls().first() for name in picked)
    )


def _residency(items: pl.LazyFrame) -> pl.LazyFrame:
    # Items already in the list when recording began have no add line, so
    # their time in the container is unknown: they are left out.
    stay = (pl.col("take_ts") - pl.col("add_ts")) / NS_PER_MS
    return (
        items.filter(pl.col("take_ts").is_not_null() & pl.col("add_ts").is_not_null())
        .group_by("obj")
        .agg(
            residency_min_ms=stay.min(),
            residency_p50_ms=stay.quantile(0.5, "linear"),
            residency_p95_ms=stay.quantile(0.95, "linear"),
            residency_max_ms=stay.max(),
        )
    )


def _order(events: pl.LazyFrame) -> pl.LazyFrame:
    """obj and ``order``: FIFO, LIFO or mixed over all runs (null when nothing was taken)."""
    per_run = _fifo(events).join(_lifo(events), on=_KEY, how="full", coalesce=True)
    return per_run.group_by("obj").agg(
        pl.when(pl.col("fifo").all())
        .then(pl.lit("FIFO"))
        .when(pl.col("lifo").all())
        .then(pl.lit("LIFO"))
        .otherwise(pl.lit("mixed"))
        .alias("order")
    )


def _fifo(events: pl.LazyFrame) -> pl.LazyFrame:
    """Per run+obj, whether every take took the oldest item present.

    Item numbers follow the order of adding (items present before recording
    began have the lowest), so "older than X" is "smaller number than X".  X
    was the oldest when taken iff every older item had left before, i.e. the
    latest departure among older items precedes X's take.
    """
    older_left = pl.col("leave_seq").fill_null(_NEVER).cum_max().shift(1).over(_KEY)
    return (
        _items(events)
        # By the object's code, not its name: any order of the objects
        # will do, and comparing names made this sort four times slower.
        .sort(RUN, pl.col("obj").to_physical(), "item")
        .with_columns(older_left=older_left)
        .filter(pl.col("take_seq").is_not_null())
        .group_by(_KEY)
        .agg(
            fifo=(
                pl.col("older_left").is_null() | (pl.col("older_left") < pl.col("take_seq"))
            ).all()
        )
    )


def _lifo(events: pl.LazyFrame) -> pl.LazyFrame:
    """Per run+obj, whether every take took the newest item present.

    ``level`` counts the items present (relative to the start of the trace).
    If every removal so far took the newest item, the items present form a
    stack ordered by age, and the top one, when a take happens at level L,
    is the item of the latest add that brought the count to L: nothing at
    level L has been removed since.  The first take that breaks this shows
    up as a mismatch, so checking each take against that item suffices.
    """
    moves = (
        item_lines(events).sort(RUN, "seq").with_columns(level=pl.col("delta").cum_sum().over(_KEY))
    )
    tops = (
        moves.filter(pl.col("delta") > 0)
        .select(*_KEY, "level", pl.col("seq").alias("top_seq"), pl.col("item").alias("top"))
        .sort(RUN, "top_seq")
    )
    takes = (
        moves.filter(pl.col("event").is_in(_TAKES))
        .with_columns(level=pl.col("level") + 1)  # the level before the take
        .select(*_KEY, "level", "seq", "item")
    )
    # A take with no add at its level took an item that was there before
    # recording began; whether it was the newest is unknown, so it is not
    # counted against LIFO.
    matched = takes.join_asof(
        tops,
        left_on="seq",
        right_on="top_seq",
        by=[*_KEY, "level"],
        strategy="backward",
        allow_exact_matches=False,
        check_sortedness=False,
    )
    return matched.group_by(_KEY).agg(
        lifo=(pl.col("top").is_null() | (pl.col("top") == pl.col("item"))).all()
    )
