"""Thinning a run to what a picture can show: nothing narrower than a pixel is drawn alone.

A long run has hundreds of thousands of spans and marks; drawn one by one
they cost minutes and show a smear.  So spans of one lane and state that
touch within a pixel are merged, marks are binned one per pixel column,
and a container's depth becomes its lowest and highest value per column.
Each function is a pure polars query: what a picture shows is what these
return, which the tests check without drawing.
"""

from __future__ import annotations

import polars as pl


def merge_spans(spans: pl.DataFrame, by: list[str], pixel_s: float) -> pl.DataFrame:
    """Spans of one ``by`` group that overlap or lie within ``pixel_s`` of each other, merged.

    Returns ``by``, ``begin_s``, ``end_s`` and ``count`` (how many spans each
    row stands for), sorted by ``by`` and ``begin_s``.
    """
    ordered = spans.sort([*by, "begin_s"])
    reach = pl.col("end_s").cum_max().shift(1).over(by)
    return (
        ordered.with_columns(
            group=(pl.col("begin_s") > reach + pixel_s).fill_null(True).cum_sum().over(by)
        )
        .group_by([*by, "group"], maintain_order=True)
        .agg(
            begin_s=pl.col("begin_s").min(),
            end_s=pl.col("end_s").max(),
            count=pl.len().cast(pl.Int64),
        )
        .drop("group")
    )


def bin_marks(marks: pl.DataFrame, by: list[str], pixel_s: float) -> pl.DataFrame:
    """Marks of one ``by`` group binned one per ``pixel_s``-wide column.

    Returns ``by``, ``t_s`` (the first mark's time in its column) and
    ``count``, sorted by ``by`` and ``t_s``.
    """
    column = (pl.col("t_s") / pixel_s).floor().cast(pl.Int64)
    return (
        marks.sort([*by, "t_s"])
        .group_by([*by, column.alias("column")], maintain_order=True)
        .agg(t_s=pl.col("t_s").first(), count=pl.len().cast(pl.Int64))
        .drop("column")
    )


def depth_columns(depths: pl.DataFrame, pixel_s: float) -> pl.DataFrame:
    """Each container's depth per ``pixel_s``-wide column: obj, t_s, before, low, high, depth.

    ``low`` and ``high`` bound the depth within the column (the value before
    its first line included, so a rise and fall inside one column shows as
    a bar); ``before`` is the depth before the column's first line (on the
    first column, the items that were there when recording began); ``depth``
    is the value after its last line, which holds until the next column
    with a line.
    """
    column = (pl.col("t_s") / pixel_s).floor().cast(pl.Int64)
    return (
        depths.sort("obj", "t_s")
        .with_columns(before=pl.col("depth") - pl.col("delta"))
        .group_by("obj", column.alias("column"), maintain_order=True)
        .agg(
            t_s=pl.col("t_s").first(),
            before=pl.col("before").first(),
            low=pl.min_horizontal(pl.col("depth").min(), pl.col("before").first()),
            high=pl.max_horizontal(pl.col("depth").max(), pl.col("before").first()),
            depth=pl.col("depth").last(),
        )
        .drop("column")
    )
