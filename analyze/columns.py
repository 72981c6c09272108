"""Column names and dtypes of the frames analyze builds, in one place.

Trace fields keep the names the format gives them (``schema.FIELD_TYPES``);
this module adds the columns the analyzer itself introduces and maps the
format's JSON types onto polars dtypes, so no other module spells a dtype
or invents a column name of its own.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from synctrace import schema

#: The JSON types the format uses, as polars dtypes.  ``float`` fields accept
#: JSON integers too (``"timeout": 1``), which polars casts for us.
_DTYPES: Final[dict[type, pl.DataType]] = {
    str: pl.String(),
    int: pl.Int64(),
    float: pl.Float64(),
    bool: pl.Boolean(),
    # An object field (a log line's ``fields``) has keys of the program's
    # choosing, so no struct fits every trace: polars reads it into a String
    # column as its JSON text, which a reader parses where it needs the pairs.
    dict: pl.String(),
}

#: The dtype of the columns that name things (event, thread, obj, site):
#: a few distinct names repeated on every line, held as 4-byte codes rather
#: than as 16-byte string views, which also makes the joins and group-bys
#: on them cheaper.  A frame joined or concatenated with the lines spells
#: its names in it too (``name_lit``), since polars does not mix it with String.
NAME: Final = pl.Categorical()

#: Every field a trace line may carry, typed.  Reading with this explicit
#: schema (rather than inferring) keeps a column's dtype the same whether or
#: not a given trace happens to contain that event.  trace.end's scalar
#: fields are read too, so that a detector can see how its run ended without
#: leaving the lazy frame (its ``blocked`` list is not: the lines say as much).
FIELD_SCHEMA: Final = pl.Schema(
    {
        **{name: _DTYPES[kind] for name, kind in schema.FIELD_TYPES.items()},
        "reason": pl.String(),
        "detail": pl.String(),
        "exit_code": pl.Int64(),
    }
)

#: The fields the detectors and tables read, and the dtype each is held in
#: once read: every other field (parent, parties, maxsize) is never
#: parsed into memory.  Numbers are narrowed where the format allows
#: (``seq`` fits Int32 up to 2**31 lines; ``ts`` and ``thread_id`` need 64
#: bits), which halves the bytes joins and sorts move.  A detector that
#: needs another field adds it here; a field missing here makes its query
#: fail with "column not found", never silently null.
ANALYZED: Final = pl.Schema(
    {
        "event": NAME,
        "ts": pl.Int64(),
        "seq": pl.Int32(),
        "thread": NAME,
        "thread_id": pl.Int64(),
        "obj": NAME,
        "site": NAME,
        "waiters": pl.Int32(),
        "flag": pl.Boolean(),
        "begin_seq": pl.Int32(),
        "result": pl.Boolean(),
        "timed_out": pl.Boolean(),
        "woken_by": pl.Int32(),
        "item": pl.Int32(),
        "depth": pl.Int32(),
        "value": pl.String(),
        "error": pl.String(),
        "exc_type": pl.String(),
        "exc_msg": pl.String(),
        # liveness (who could still wake whom), sleeps, contention and the
        # queue checks read these
        "daemon": pl.Boolean(),
        "timeout": pl.Float64(),
        "seconds": pl.Float64(),
        "count": pl.Int32(),
        "all": pl.Boolean(),
        "woken": pl.Int32(),
        "size": pl.Int32(),
        "index": pl.Int32(),
        "reason": pl.String(),
        "detail": pl.String(),
        "exit_code": pl.Int64(),
        # the program's own log records, drawn by the timeline and the export
        "level": pl.String(),
        "logger": pl.String(),
        "message": pl.String(),
        "fields": pl.String(),  # its JSON text
    }
)
assert set(ANALYZED) <= set(FIELD_SCHEMA), "ANALYZED names a field the format does not have"

# --- columns the analyzer adds ------------------------------------------------

#: Index of the file a line came from: each file is one run, and every
#: order-dependent computation is partitioned by it.
RUN: Final = "run"

#: The shared shape of every detector's output.
FINDING_SCHEMA: Final = pl.Schema(
    {
        RUN: pl.Int64(),
        "kind": pl.String(),
        "severity": pl.String(),
        "ts": pl.Int64(),  # ns, the trace's monotonic clock
        "seq": pl.Int64(),
        "thread": pl.String(),
        "obj": pl.String(),
        "site": pl.String(),
        "message": pl.String(),
    }
)

#: Severities, worst first.  The position is the rank used for sorting and
#: for ``--fail-on``.
SEVERITIES: Final = ("error", "warning", "info")


def name_lit(value: str) -> pl.Expr:
    """A constant name (an event, say) in the dtype of the lines' name columns."""
    return pl.lit(value, NAME)


def severity_rank() -> pl.Expr:
    """A finding's ``severity`` as its rank in SEVERITIES: 0 for error, the worst."""
    return pl.col("severity").replace_strict(
        {s: i for i, s in enumerate(SEVERITIES)}, return_dtype=pl.Int64
    )


NS_PER_S: Final = 1_000_000_000
NS_PER_MS: Final = 1_000_000
