"""Reading trace files into one lazy frame, and saying clearly why one is unusable.

The happy path never loops over lines in Python: each file is handed to
polars' NDJSON reader with an explicit schema, and only the first and last
lines (the run's metadata) are parsed with :mod:`json`.  Problems polars
reports, or that the validation query finds, are turned into a message by
:func:`diagnose`, which is the one place that walks a file line by line, and
only runs once something is already known to be wrong.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Final, NoReturn

import polars as pl

from analyze import sources
from analyze.columns import ANALYZED, FIELD_SCHEMA, RUN
from analyze.errors import TraceError
from analyze.sources import Kind
from synctrace import schema

#: Appended to messages about files that are not traces at all.
_NOT_A_TRACE_HINT = "is this a synctrace trace? record one with `tracer run` or `tracer demo`"

#: How much of a file's end is read to find its last line.  Lines are short
#: (values are cut to ``VALUE_REPR_LIMIT``), so one read nearly always does.
_TAIL_CHUNK = 64 * 1024


#: Key-value metadata of a Parquet trace (written by ``analyze convert``):
#: its trace.start and trace.end lines as JSON, since they carry fields (argv,
#: blocked, events_written...) that the columns do not.
PARQUET_START: Final = "synctrace.start"
PARQUET_END: Final = "synctrace.end"

__all__ = [
    "PARQUET_END",
    "PARQUET_START",
    "Trace",
    "TraceError",
    "TraceFile",
    "load_traces",
    "open_run",
]


@dataclass(frozen=True)
class TraceFile:
    """One file, that is one run: where it is and what its first and last lines say."""

    path: str
    start: dict[str, Any]
    #: The trace.end line, or None when the run was killed or is still going.
    end: dict[str, Any] | None
    #: Line number of a cut-short last line that was left out, if there was one.
    torn_line: int | None = None
    #: How the file stores its lines.
    kind: Kind = "jsonl"

    @property
    def warnings(self) -> list[str]:
        """Why findings from this file may be incomplete, one sentence each."""
        notes = []
        if self.torn_line is not None:
            notes.append(
                f"{self.path}:{self.torn_line}: the last line is cut short (the run was killed"
                " while writing it); it was skipped"
            )
        if self.end is None:
            notes.append(
                f"trace {self.path} has no trace.end: the run was killed or is still running,"
                " so findings may be incomplete"
            )
        else:
            dropped = self.end.get("events_dropped") or 0
            if dropped:
                notes.append(
                    f"trace {self.path} lost {dropped} events while recording (trace.end"
                    " events_dropped; was the disk full?), so findings may be incomplete"
                )
        return notes


@dataclass(frozen=True)
class Trace:
    """The runs to analyze: their metadata, and every line of every run as one lazy frame."""

    files: tuple[TraceFile, ...]
    #: Every line of every run (trace.start and trace.end included), in file
    #: order, with a ``run`` column holding the file's index in ``files`` and
    #: the fields of ``columns.ANALYZED`` (absent fields are null).  Nothing
    #: has been read yet.
    events: pl.LazyFrame = field(repr=False)

    @property
    def warnings(self) -> list[str]:
        return [note for f in self.files for note in f.warnings]

    @property
    def complete(self) -> bool:
        return all(f.end is not None for f in self.files)

    def runs(self) -> pl.DataFrame:
        """One row per run: its index, file and the ``ts`` of its trace.start."""
        return pl.DataFrame(
            {
                RUN: list(range(len(self.files))),
                "file": [f.path for f in self.files],
                "start_ts": [f.start["ts"] for f in self.files],
            },
            schema={RUN: pl.Int64, "file": pl.String, "start_ts": pl.Int64},
        )


def load_traces(paths: Iterable[str | os.PathLike[str]]) -> Trace:
    """Open trace files (one run each) for analysis, checking their first and last lines.

    A file may be JSON lines, gzip- or zstd-compressed JSON lines, or Parquet
    written by ``analyze convert``; a folder stands for the Parquet files in
    it, in name order.  Raises :class:`TraceError` for a file that is
    missing, empty, not a trace or of another major version.  Problems
    further inside a file are found when the report is built, which reads
    each file once.
    """
    opened = [run for p in paths for path in _expand(str(p)) for run in [open_run(path)]]
    if not opened:
        raise TraceError("no trace files given: name one or more .jsonl files")
    frames = [
        _in_program_time(
            f,
            lines.select(
                pl.lit(run, pl.Int64).alias(RUN),
                *(pl.col(n).cast(t) for n, t in ANALYZED.items()),
            ),
        )
        for run, (f, lines) in enumerate(opened)
    ]
    # Every detector and table starts from these lines; without the cache
    # node each would re-read and re-parse the files (5x slower on 300k lines).
    return Trace(
        files=tuple(f for f, _ in opened), events=pl.concat(frames, how="vertical").cache()
    )


def time_scale(f: TraceFile) -> float:
    """How fast the run's program time went: ``trace.start``'s ``time_scale``, else 1."""
    scale = f.start.get("time_scale")
    if isinstance(scale, int | float) and not isinstance(scale, bool) and scale > 0:
        return float(scale)
    return 1.0


def _in_program_time(f: TraceFile, lines: pl.LazyFrame) -> pl.LazyFrame:
    """A time-scaled run's lines on the program's own clock.

    Under ``tracer run --time-scale F`` a program second lasted F real
    seconds; ``ts`` and ``timeout`` are real, so both are divided by F from
    the run's start, and every time, duration and residency the report
    derives is in the seconds the program was written for.  (``seconds`` on
    sleep lines is the program's already.)
    """
    scale = time_scale(f)
    if scale == 1.0:
        return lines
    origin = int(f.start["ts"])
    return lines.with_columns(
        ts=(origin + ((pl.col("ts") - origin) / scale).round(0)).cast(pl.Int64),
        timeout=pl.col("timeout") / scale,
    )


def problems(trace: Trace) -> pl.LazyFrame:
    """Runs with a line that breaks the format's rules (fields missing, seq not increasing).

    Part of the report's single collect; when it is not empty, the report
    calls :func:`diagnose` to find and name the line.
    """
    missing = pl.any_horizontal(pl.col(name).is_null() for name in schema.COMMON_FIELDS)
    no_obj = pl.col("event").is_in(list(schema.OPERATIONS)) & pl.col("obj").is_null()
    not_increasing = pl.col("seq").diff().over(RUN) <= 0
    return trace.events.filter(missing | no_obj | not_increasing).select(RUN).unique()


def diagnose(trace: Trace, cause: str = "") -> NoReturn:
    """Find the first bad line of the trace in Python and raise a TraceError naming it."""
    for f in trace.files:
        _check_lines(f)
    detail = f" ({cause})" if cause else ""
    raise TraceError(
        f"{', '.join(f.path for f in trace.files)}: could not read the trace{detail};"
        " check that the files are unedited synctrace traces"
    )


# --- first and last lines ------------------------------------------------------


def _expand(path: str) -> list[str]:
    """A folder's Parquet files in name order; any other path as it is."""
    if not os.path.isdir(path):
        return [path]
    found = sorted(str(p) for p in Path(path).glob("*.parquet") if p.is_file())
    if not found:
        raise TraceError(f"{path}: is a directory, not a trace file")
    return found


def open_run(path: str) -> tuple[TraceFile, pl.LazyFrame]:
    """One trace file's metadata, and its lines as a lazy frame of every typed trace field.

    Every column of ``columns.FIELD_SCHEMA`` is there (null where a line
    lacks the field); nothing has been read beyond the first and last lines.
    """
    kind = sources.kind_of(path)
    if kind == "parquet":
        return _open_parquet(path)
    if kind == "jsonl":
        try:
            with open(path, "rb") as fh:
                first = fh.readline()
                tail = _last_line(fh, fh.seek(0, os.SEEK_END))
        except OSError as exc:
            raise TraceError(f"{path}: cannot read it ({exc.strerror})") from None
        f = _trace_file(path, kind, first, tail, lambda: _count_newlines(path))
        return f, _scan(path, f.torn_line)
    data, cut = sources.decompress(path, kind)
    if cut and b"\n" not in data:
        raise TraceError(
            f"{path}: the {kind} data ends before its first line (the run was killed while"
            " writing it); nothing to analyse"
        )
    with io.BytesIO(data) as fh:
        first = fh.readline()
        tail = _last_line(fh, len(data))
    f = _trace_file(path, kind, first, tail, lambda: data.count(b"\n"))
    return f, _scan(data, f.torn_line)


def _trace_file(
    path: str,
    kind: Kind,
    first: bytes,
    tail: tuple[bytes, bool],
    count_newlines: Callable[[], int],
) -> TraceFile:
    """Check a run's first line and read its last; ``tail`` is the last line and its newline."""
    if not tail[0]:
        raise TraceError(f"{path}: empty file ({_NOT_A_TRACE_HINT})")

    start = _parse_object(first)
    if start is None:
        raise TraceError(f"{path}:1: not a JSON object ({_NOT_A_TRACE_HINT})")
    if start.get("event") != schema.TRACE_START:
        raise TraceError(
            f"{path}:1: the first line is {start.get('event')!r}, not {schema.TRACE_START}:"
            " the file is cut at the front or is not a synctrace trace; record a new one"
        )
    _check_start(path, start)

    end: dict[str, Any] | None = None
    torn_line: int | None = None
    last, newline_terminated = tail
    parsed = _parse_object(last)
    if parsed is None and not newline_terminated:
        # What a SIGKILL leaves: the writer died inside a line (or inside the
        # compressed stream).  Everything before it is whole, so the run is
        # still worth analysing.
        torn_line = count_newlines() + 1
    elif parsed is not None and parsed.get("event") == schema.TRACE_END:
        end = parsed
    return TraceFile(path=path, start=start, end=end, torn_line=torn_line, kind=kind)


def _open_parquet(path: str) -> tuple[TraceFile, pl.LazyFrame]:
    """A Parquet trace: its metadata from the file's key-value pairs, its rows scanned lazily."""
    try:
        meta = pl.read_parquet_metadata(path)
        columns = pl.read_parquet_schema(path)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise TraceError(
            f"{path}: not a readable Parquet file ({str(exc).splitlines()[0]}); convert the"
            " trace again with `analyze convert`"
        ) from None
    start = _parse_object(meta.get(PARQUET_START, "").encode())
    if start is None:
        raise TraceError(
            f"{path}: a Parquet file without synctrace metadata; write it from a trace with"
            f" `analyze convert TRACE -o {Path(path).name}`"
        )
    _check_start(path, start)
    end = _parse_object(meta.get(PARQUET_END, "").encode())
    # A field no line of the run had may have been left out of the file.
    rows = pl.scan_parquet(path).with_columns(
        pl.lit(None, dtype).alias(name)
        for name, dtype in FIELD_SCHEMA.items()
        if name not in columns
    )
    return TraceFile(path=path, start=start, end=end, kind="parquet"), rows


def _check_start(path: str, start: dict[str, Any]) -> None:
    version = start.get("schema")
    if not isinstance(version, str):
        raise TraceError(f"{path}:1: trace.start has no schema field ({_NOT_A_TRACE_HINT})")
    if version != schema.SCHEMA_MAJOR and not version.startswith(schema.SCHEMA_MAJOR + "."):
        raise TraceError(
            f"{path}: was written by {version}; this analyzer reads {schema.SCHEMA_MAJOR}:"
            " upgrade synctrace"
        )
    if not _has_type(start.get("ts"), int):
        raise TraceError(f"{path}:1: trace.start has no integer ts; the file was edited")


def _last_line(fh: BinaryIO, size: int) -> tuple[bytes, bool]:
    """The last non-blank line of an open binary file, and whether a newline ends it."""
    chunk = _TAIL_CHUNK
    while True:
        fh.seek(max(0, size - chunk))
        data = fh.read()
        body = data.rstrip(b"\r\n\t ")
        cut = body.rfind(b"\n")
        if cut >= 0 or chunk >= size:
            return body[cut + 1 :], data.endswith(b"\n")
        chunk *= 4


def _count_newlines(path: str) -> int:
    with open(path, "rb") as fh:
        return sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 20), b""))


def _parse_object(line: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _scan(source: str | bytes, torn_line: int | None) -> pl.LazyFrame:
    """JSON lines (a path, or decompressed bytes) as a lazy frame of the typed trace fields.

    Fields absent from a line (the tracer leaves out those that are null)
    are null, as are fields the schema names and no line has.
    """
    if torn_line is not None:
        # polars cannot be told to stop before a given line (n_rows still
        # parses the whole chunk), so a torn file is handed over without its
        # last line.  Only killed runs pay for holding the file in memory.
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
        source = data[: data.rindex(b"\n") + 1]
    return pl.scan_ndjson(source, schema=FIELD_SCHEMA)


# --- the slow path: naming the bad line --------------------------------------------


def _check_lines(f: TraceFile) -> None:
    """Raise TraceError for the first line of ``f`` that breaks the format."""
    if f.kind == "parquet":
        # Typed columns: there is no line to name; diagnose's own message says
        # which file could not be read.
        return
    previous_seq: int | None = None
    for number, raw in enumerate(sources.lines(f.path, f.kind), start=1):
        if number == f.torn_line:
            break
        if not raw.strip():
            continue
        line = _parse_object(raw)
        where = f"{f.path}:{number}"
        if line is None:
            raise TraceError(f"{where}: not a JSON object ({_NOT_A_TRACE_HINT})")
        _check_fields(where, line)
        seq = line["seq"]
        if previous_seq is not None and seq <= previous_seq:
            raise TraceError(
                f"{where}: seq {seq} does not follow {previous_seq}: lines were reordered"
                " or traces concatenated; give each run as its own file"
            )
        previous_seq = seq


def _check_fields(where: str, line: dict[str, Any]) -> None:
    for name in schema.COMMON_FIELDS:
        if line.get(name) is None:
            raise TraceError(
                f"{where}: required field {name!r} is missing (every line needs"
                f" {', '.join(schema.COMMON_FIELDS)}); was the file edited?"
            )
    if line["event"] in schema.OPERATIONS and line.get("obj") is None:
        raise TraceError(f"{where}: {line['event']} has no 'obj' field; was the file edited?")
    for name, value in line.items():
        expected = schema.FIELD_TYPES.get(name)
        if expected is not None and value is not None and not _has_type(value, expected):
            raise TraceError(
                f"{where}: field {name!r} should be {_JSON_NAMES[expected]}, not"
                f" {json.dumps(value)[:40]}; was the file edited?"
            )


_JSON_NAMES: dict[type, str] = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
}


def _has_type(value: object, expected: type) -> bool:
    # bool is an int subclass in Python, but not in JSON.
    if isinstance(value, bool):
        return expected is bool
    if expected is float:
        return isinstance(value, int | float)
    return isinstance(value, expected)
