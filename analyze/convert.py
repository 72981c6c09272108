"""Writing a trace as Parquet, for traces too big to parse again on every report.

The Parquet file holds every line as a row with every field of the format
as a typed column (trace.start and trace.end included, so the report counts
and times them as it does in JSON lines), and the trace.start and trace.end
lines themselves as JSON in the file's metadata, since they carry fields
(argv, blocked, events_written) that the columns do not.  ``analyze report``
then reads only the columns it needs, lazily.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import polars as pl

from analyze.errors import TraceError
from analyze.reading import PARQUET_END, PARQUET_START, Trace, TraceFile, diagnose, open_run
from synctrace import schema

#: What a trace's name ends in, replaced by .parquet for the default output.
_TRACE_SUFFIX = re.compile(r"(\.jsonl)?(\.gz|\.zst)?$")


def default_output(source: str) -> str:
    """``run.jsonl.zst`` -> ``run.parquet``: the source's name with a .parquet suffix."""
    return _TRACE_SUFFIX.sub("", source, count=1) + ".parquet"


def convert(source: str, target: str) -> TraceFile:
    """Write the trace file ``source`` (JSON lines, gzip or zstd) to ``target`` as Parquet.

    Streams from the parsed lines to the file, so the trace is never held
    whole as a frame.  Raises TraceError for an unusable source, naming the
    first bad line, and when ``target`` cannot be written.
    """
    f, lines = open_run(source, stream=True)
    if f.kind == "parquet":
        raise TraceError(f"{source}: is already Parquet; give `analyze report` the file itself")
    if os.path.exists(target) and os.path.samefile(source, target):
        raise TraceError(f"{target}: is the trace being converted; choose another -o")
    metadata = {PARQUET_START: json.dumps(f.start)}
    if f.end is not None:
        metadata[PARQUET_END] = json.dumps(f.end)
    partial = Path(f"{target}.partial")
    try:
        lines.sink_parquet(partial, metadata=metadata)
    except pl.exceptions.PolarsError as exc:
        partial.unlink(missing_ok=True)
        diagnose(Trace(files=(f,), events=lines), str(exc).splitlines()[0])
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise TraceError(f"{target}: cannot write it ({exc.strerror})") from None
    # One column of the file just written: cheap, next to converting.
    starts = (
        pl.scan_parquet(partial)
        .filter(pl.col("event") == schema.TRACE_START)
        .select(pl.len())
        .collect()
        .item()
    )
    if starts > 1:
        partial.unlink(missing_ok=True)
        raise TraceError(
            f"{source}: holds {starts} runs (traces joined with cat), and a Parquet file holds"
            " one; convert each run's own trace, or report on this file as it is"
        )
    # Written under another name first, so a failed convert never leaves a
    # half-written file that looks like a trace.
    partial.replace(target)
    return f
