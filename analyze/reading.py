"""Reading trace files into one lazy frame, and saying clearly why one is unusable.

The happy path never loops over lines in Python: each file is handed to
polars' NDJSON reader with an explicit schema, a piece of whole lines at a
time, each piece narrowed to the analysed columns as soon as it is parsed;
only the first and last lines (the run's metadata) are parsed with
:mod:`json`.  When polars
cannot read a file, or the check query (:func:`problems`) finds a line
breaking the format's rules or a second run, :func:`salvage` walks those
files line by line (``validate.LineChecker``), keeps what can be used and
names the damage; only a file nothing can be read of raises TraceError.
"""

from __future__ import annotations

import contextlib
import io
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, BinaryIO, Final, NoReturn

import polars as pl

from analyze import sources
from analyze.columns import ANALYZED, FIELD_SCHEMA, RUN
from analyze.errors import TraceError
from analyze.sources import LINE_LIMIT, Kind
from analyze.validate import END_EVENTS, KNOWN_EVENTS, LineChecker, has_type, parse_object
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
    """One run: the file it is in, what its first and last lines say, and any damage."""

    path: str
    start: dict[str, Any]
    #: The trace.end line, or None when the run was killed or is still going.
    end: dict[str, Any] | None
    #: Line number of a cut-short last line that was left out, if there was one.
    torn_line: int | None = None
    #: How the file stores its lines.
    kind: Kind = "jsonl"
    #: The line of its trace.start: runs concatenated in one file (``cat a b``)
    #: are told apart by it.
    first_line: int = 1
    #: How the report names the run: the path, or ``path:LINE`` of its
    #: trace.start when the file holds several runs.
    label: str = ""
    #: Damaged lines, each named ``file:line: what``, and what was done about it.
    damage: tuple[str, ...] = ()
    #: Lines left out for damage, so that the line count check does not
    #: blame them a second time.
    skipped: int = 0

    def __post_init__(self) -> None:
        if not self.label:
            object.__setattr__(self, "label", self.path)

    @property
    def redacted(self) -> bool:
        """Whether values, argv and host were replaced by salted hashes (``--redact``)."""
        return self.start.get("redacted") is True

    @property
    def warnings(self) -> list[str]:
        """Why findings from this run may be incomplete, one sentence each."""
        notes = list(self.damage)
        if self.torn_line is not None:
            notes.append(
                f"{self.path}:{self.torn_line}: the last line is cut short (the run was killed"
                " while writing it); it was skipped"
            )
        if self.end is None:
            notes.append(
                f"trace {self.label} has no trace.end: the run was killed or is still running,"
                " so findings may be incomplete"
            )
        else:
            dropped = self.end.get("events_dropped") or 0
            if dropped:
                notes.append(
                    f"trace {self.label} lost {dropped} events while recording (trace.end"
                    " events_dropped; was the disk full?), so findings may be incomplete"
                )
        return notes


@dataclass(frozen=True)
class Trace:
    """The runs to analyze: their metadata, and every line of every run as one lazy frame."""

    files: tuple[TraceFile, ...]
    #: Every line of every run (trace.start and trace.end included), in file
    #: order, with a ``run`` column holding the run's index in ``files`` and
    #: the fields of ``columns.ANALYZED`` (absent fields are null).  Nothing
    #: has been read yet.
    events: pl.LazyFrame = field(repr=False)
    #: Each run's lines on their own (``events`` is their concatenation), so
    #: that a file polars cannot read can be told from the others.
    parts: tuple[pl.LazyFrame, ...] = field(default=(), repr=False)
    #: Files of a folder that could not be used, each as the one line saying why.
    passed_over: tuple[str, ...] = ()

    @property
    def warnings(self) -> list[str]:
        skipped = [
            f"{why}; passed over, the folder's other traces are reported"
            for why in self.passed_over
        ]
        return skipped + [note for f in self.files for note in f.warnings]

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
    """Open trace files for analysis, checking their first and last lines.

    A file may be JSON lines, gzip- or zstd-compressed JSON lines, or Parquet
    written by ``analyze convert``; a folder stands for the traces in it
    (``sources.TRACE_SUFFIXES``), in name order.  Each file is a run until
    the report finds more than one trace.start in it.  Raises
    :class:`TraceError` for a file that is missing, empty, not a trace or
    of another major version.  Problems further inside a file are found
    when the report is built, which reads each file once, and only then
    walks a damaged file line by line (:func:`salvage`).
    """
    # A file named twice (a folder and a file in it, a glob and its folder)
    # is read once, not as two runs that double every count.
    seen: set[str] = set()
    opened = []
    passed_over: list[str] = []
    for named in paths:
        given = os.fspath(named)
        for path in sources.expand(given):
            if os.path.realpath(path) in seen:
                continue
            seen.add(os.path.realpath(path))
            try:
                opened.append(open_run(path))
            except TraceError as exc:
                # A file named on its own is what the user asked about; one of
                # a folder's (a stray log, a run that had not begun) is not.
                if not os.path.isdir(given):
                    raise
                passed_over.append(str(exc))
    if passed_over and not opened:
        raise TraceError(passed_over[0])
    if not opened:
        raise TraceError("no trace files given: name one or more .jsonl files")
    return _assemble(opened, tuple(passed_over))


def _assemble(
    opened: list[tuple[TraceFile, pl.LazyFrame]], passed_over: tuple[str, ...] = ()
) -> Trace:
    """The runs' frames as one, each line typed and tagged with its run's index."""
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
        files=tuple(f for f, _ in opened),
        events=pl.concat(frames, how="vertical").cache(),
        parts=tuple(frames),
        passed_over=passed_over,
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
    """Runs with a line that breaks the format's rules, or that hold another run.

    Fields missing, an event this analyzer does not know, ``seq`` not
    increasing (which is also how a second trace.start shows), ``ts`` going
    back, an end line whose begin_seq does not point back.  Part of the
    report's first collect; the runs it names are then walked line by line
    by :func:`salvage`, which says what is wrong where.  ``unusable`` says
    whether some line cannot be used as it is (a field missing, seq out of
    order), as opposed to lines that break a rule but can be read.
    """
    missing = pl.any_horizontal(pl.col(name).is_null() for name in schema.COMMON_FIELDS)
    event = pl.col("event")
    no_obj = event.is_in(list(schema.OPERATIONS)) & pl.col("obj").is_null()
    unknown = ~event.is_in(list(KNOWN_EVENTS))
    # Each run's lines are one block of the frame, so a line's predecessor
    # in its run is the line before it, unless that one is of another run
    # (a plain diff, masked there: a window per run cost 12 times as much).
    same_run = pl.col(RUN) == pl.col(RUN).shift(1)
    not_increasing = same_run & (pl.col("seq").diff() <= 0)
    back_in_time = same_run & (pl.col("ts").diff() < 0)
    unpaired = event.is_in(list(END_EVENTS)) & pl.col("begin_seq").is_null()
    unusable = missing | no_obj | not_increasing
    lines = trace.events.filter(unusable | unknown | back_in_time | unpaired).select(
        RUN, unusable=unusable
    )
    mismatched = _mismatched_ends(trace.events).with_columns(unusable=pl.lit(False))
    return pl.concat([lines, mismatched]).group_by(RUN).agg(pl.col("unusable").any())


def _mismatched_ends(events: pl.LazyFrame) -> pl.LazyFrame:
    """Runs with an end line that does not end its begin (another kind, thread or object)."""
    ends_of = pl.DataFrame(
        {"event": list(schema.BLOCKING), "closed_by": list(schema.BLOCKING.values())},
        schema={"event": ANALYZED["event"], "closed_by": ANALYZED["event"]},
    ).lazy()
    begins = (
        events.filter(pl.col("event").is_in(list(schema.BLOCKING)))
        .join(ends_of, on="event")
        .select(RUN, begin_seq="seq", closed_by="closed_by", b_thread="thread", b_obj="obj")
    )
    ends = events.filter(pl.col("event").is_in(list(END_EVENTS))).select(
        RUN, "begin_seq", "event", "thread", "obj"
    )
    paired = ends.join(begins, on=[RUN, "begin_seq"], how="left")
    wrong = (
        pl.col("closed_by").is_null()
        | (pl.col("closed_by") != pl.col("event"))
        | (pl.col("b_thread") != pl.col("thread"))
        | pl.col("b_obj").ne_missing(pl.col("obj"))
    )
    return paired.filter(wrong).select(RUN)


def diagnose(trace: Trace, cause: str = "") -> NoReturn:
    """Find the first unusable line of the trace in Python and raise a TraceError naming it."""
    for f in trace.files:
        if f.kind == "parquet":
            # Typed columns: there is no line to name; the message below
            # says which file could not be read.
            continue
        checker = LineChecker()
        for number, raw in enumerate(sources.lines(f.path, f.kind), start=1):
            if number == f.torn_line:
                break
            if isinstance(raw, bytes) and not raw.strip():
                continue
            checked = checker.check(number, raw)
            bad = [m for s, m in checked.problems if s == "unusable"]
            if bad:
                # Past the first line the file is a trace that was damaged.
                hint = (
                    _NOT_A_TRACE_HINT
                    if checked.line is None and number == 1
                    else f"`analyze validate {f.path}` lists every problem"
                )
                raise TraceError(f"{f.path}:{number}: {bad[0]} ({hint})")
    detail = f" ({cause})" if cause else ""
    raise TraceError(
        f"{', '.join(dict.fromkeys(f.path for f in trace.files))}: could not read the"
        f" trace{detail}; check that the files are unedited synctrace traces"
    )


# --- the slow path: what can still be read of a damaged file --------------------------

#: Damaged lines named one by one per file; the rest are counted.
_DAMAGE_NAMED: Final = 10


def salvage(trace: Trace, broken: dict[int, bool] | None = None) -> Trace:
    """The trace again, its damaged files read line by line: the usable lines, and warnings.

    ``broken``: the runs :func:`problems` named, each with whether a line
    of it is unusable (None: every run, when polars could not say which).
    Their files are walked with :class:`~analyze.validate.LineChecker`:
    lines that cannot be used (not JSON, a field missing or mistyped, out
    of ``seq`` order) are left out, lines that break a rule but can be read
    (``ts`` going back, an end that does not match its begin, an event this
    analyzer does not know) are kept, and each is named in the run's
    warnings; every trace.start begins a run of its own.  Parquet files
    have no lines to walk: one with an unusable line raises TraceError, one
    whose lines only break a rule is analyzed as it is, with a warning.
    """
    redo = {f.path for run, f in enumerate(trace.files) if broken is None or run in broken}
    opened: list[tuple[TraceFile, pl.LazyFrame]] = []
    done: set[str] = set()
    for f in trace.files:
        if f.path in done:
            continue
        done.add(f.path)
        if f.path not in redo:
            opened.append(open_run(f.path))
        elif f.kind == "parquet":
            runs = [run for run, g in enumerate(trace.files) if g.path == f.path]
            if broken is None or any(broken.get(run) for run in runs):
                diagnose(Trace(files=(f,), events=pl.LazyFrame()), "it breaks the format's rules")
            g, rows = open_run(f.path)
            note = (
                f"{f.path}: some lines break the format's rules (an unknown event, ts going"
                " back, or an end that does not match its begin); analyzed as they are"
                f" (`analyze validate` the trace it was converted from names them)"
            )
            opened.append((replace(g, damage=(note,)), rows))
        else:
            opened.extend(_walk(f.path, f.kind))
    return _assemble(opened, trace.passed_over)


@dataclass
class _Run:
    """One run of a file being walked: its lines so far and what was wrong with them."""

    start: dict[str, Any]
    first_line: int
    body: bytearray = field(default_factory=bytearray)
    end: dict[str, Any] | None = None
    damage: list[str] = field(default_factory=list)
    damaged: int = 0
    skipped: int = 0
    torn_line: int | None = None
    #: unknown event -> [first line, lines]
    unknown: dict[str, list[int]] = field(default_factory=dict)


def _walk(path: str, kind: Kind) -> list[tuple[TraceFile, pl.LazyFrame]]:
    """A file's runs as the usable lines of each, read line by line."""
    checker = LineChecker()
    runs: list[_Run] = []
    for number, raw in enumerate(sources.lines(path, kind), start=1):
        if isinstance(raw, bytes) and not raw.strip():
            continue
        checked = checker.check(number, raw)
        line = checked.line
        if line is not None and line["event"] == schema.TRACE_START:
            # A run of another major version cannot be read at all.
            _check_start(path, line, number)
            runs.append(_Run(start=line, first_line=number))
        elif not runs:
            # load_traces checked line 1; only blank lines can come before it.
            raise TraceError(f"{path}:{number}: the first line is not trace.start")
        run = runs[-1]
        torn = isinstance(raw, bytes) and not raw.endswith(b"\n") and line is None
        if torn:
            run.torn_line = number
            continue
        for severity, message in checked.problems:
            if severity == "unknown" and line is not None:
                seen = run.unknown.setdefault(line["event"], [number, 0])
                seen[1] += 1
                continue
            run.damaged += 1
            if len(run.damage) < _DAMAGE_NAMED:
                done = "the line was skipped" if not checked.usable else "analyzed as it is"
                run.damage.append(f"{path}:{number}: {message}; {done}")
        if not checked.usable:
            run.skipped += 1
            continue
        assert isinstance(raw, bytes)  # a TooLong line is never usable
        run.body += raw if raw.endswith(b"\n") else raw + b"\n"
        if line is not None and line["event"] == schema.TRACE_END:
            run.end = line
    several = len(runs) > 1
    return [_salvaged(path, kind, run, several) for run in runs]


def _salvaged(path: str, kind: Kind, run: _Run, several: bool) -> tuple[TraceFile, pl.LazyFrame]:
    damage = list(run.damage)
    if run.damaged > len(run.damage):
        damage.append(
            f"{path}: {run.damaged - len(run.damage)} more damaged lines in this run"
            f" (`analyze validate {path}` lists them all)"
        )
    damage.extend(
        f"{path}:{first}: unknown event {event!r} on {count} line{'' if count == 1 else 's'},"
        " first here (written by a newer synctrace/1.x?); the analysis ignores it"
        for event, (first, count) in run.unknown.items()
    )
    f = TraceFile(
        path=path,
        start=run.start,
        end=run.end,
        torn_line=run.torn_line,
        kind=kind,
        first_line=run.first_line,
        label=f"{path}:{run.first_line}" if several else path,
        damage=tuple(damage),
        skipped=run.skipped,
    )
    return f, pl.read_ndjson(bytes(run.body), schema=FIELD_SCHEMA).lazy()


# --- first and last lines ------------------------------------------------------


def open_run(path: str, *, stream: bool = False) -> tuple[TraceFile, pl.LazyFrame]:
    """One trace file's metadata, and its lines as a lazy frame; nothing read beyond those two.

    The frame has the fields the analysis reads (``columns.ANALYZED``),
    read a piece at a time into compact columns when it is collected
    (:func:`_read_pieces`).  ``stream=True`` gives every field of the format
    (``columns.FIELD_SCHEMA``) as polars' streaming scan instead, for
    copying the lines elsewhere (``analyze convert``) without holding them.
    Either way a field a line lacks is null.
    """
    kind = sources.kind_of(path)
    if kind == "parquet":
        return _open_parquet(path)
    # A file that begins with a byte-order mark is handed to polars without
    # it, from memory, as a compressed one is: polars refuses the mark.
    if kind == "jsonl" and not sources.has_bom(path):
        try:
            with open(path, "rb") as fh:
                first = fh.readline(LINE_LIMIT + 1)
                tail = _last_line(fh, fh.seek(0, os.SEEK_END))
        except OSError as exc:
            raise TraceError(f"{path}: cannot read it ({exc.strerror})") from None
        f = _trace_file(path, kind, first, tail, lambda: _count_newlines(path))
        return f, _scan(path, f.torn_line, stream)
    # A first line too long to be a trace's is told from a piece of the
    # stream, before a small file that inflates to gigabytes is held whole.
    with contextlib.closing(sources.lines(path, kind)) as lines:
        if isinstance(next(lines, b""), sources.TooLong):
            raise _first_line_too_long(path)
    data, cut = sources.decompress(path, kind)
    if cut and b"\n" not in data:
        raise TraceError(
            f"{path}: the {kind} data ends before its first line (the run was killed while"
            " writing it); nothing to analyse"
        )
    with io.BytesIO(data) as fh:
        first = fh.readline(LINE_LIMIT + 1)
        tail = _last_line(fh, len(data))
    f = _trace_file(path, kind, first, tail, lambda: data.count(b"\n"))
    return f, _scan(data, f.torn_line, stream)


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
    if len(first) > LINE_LIMIT:
        raise _first_line_too_long(path)

    start = parse_object(first)
    if start is None:
        raise TraceError(f"{path}:1: not a JSON object ({_NOT_A_TRACE_HINT})")
    if start.get("event") != schema.TRACE_START:
        what = repr(start["event"]) if "event" in start else "a JSON object with no event"
        raise TraceError(
            f"{path}:1: the first line is {what}, not {schema.TRACE_START}:"
            " the file is cut at the front or is not a synctrace trace; record a new one"
        )
    _check_start(path, start)

    end: dict[str, Any] | None = None
    torn_line: int | None = None
    last, newline_terminated = tail
    parsed = parse_object(last)
    if parsed is None and not newline_terminated:
        # What a SIGKILL leaves: the writer died inside a line (or inside the
        # compressed stream).  Everything before it is whole, so the run is
        # still worth analysing.
        torn_line = count_newlines() + 1
    elif parsed is not None and parsed.get("event") == schema.TRACE_END:
        end = parsed
    return TraceFile(path=path, start=start, end=end, torn_line=torn_line, kind=kind)


def _first_line_too_long(path: str) -> TraceError:
    return TraceError(
        f"{path}:1: the first line is longer than {LINE_LIMIT:,} bytes, far longer than"
        f" any trace line ({_NOT_A_TRACE_HINT})"
    )


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
    start = parse_object(meta.get(PARQUET_START, "").encode())
    if start is None:
        raise TraceError(
            f"{path}: a Parquet file without synctrace metadata; write it from a trace with"
            f" `analyze convert TRACE -o {Path(path).name}`"
        )
    _check_start(path, start)
    end = parse_object(meta.get(PARQUET_END, "").encode())
    # A field no line of the run had may have been left out of the file.
    rows = pl.scan_parquet(path).with_columns(
        pl.lit(None, dtype).alias(name)
        for name, dtype in FIELD_SCHEMA.items()
        if name not in columns
    )
    return TraceFile(path=path, start=start, end=end, kind="parquet"), rows


def _check_start(path: str, start: dict[str, Any], line: int = 1) -> None:
    version = start.get("schema")
    if not isinstance(version, str):
        raise TraceError(f"{path}:{line}: trace.start has no schema field ({_NOT_A_TRACE_HINT})")
    if version != schema.SCHEMA_MAJOR and not version.startswith(schema.SCHEMA_MAJOR + "."):
        where = path if line == 1 else f"{path}:{line}"
        raise TraceError(
            f"{where}: was written by {version}; this analyzer reads {schema.SCHEMA_MAJOR}:"
            " upgrade synctrace"
        )
    if not has_type(start.get("ts"), int):
        raise TraceError(f"{path}:{line}: trace.start has no integer ts; the file was edited")


def _last_line(fh: BinaryIO, size: int) -> tuple[bytes, bool]:
    """The last non-blank line of an open binary file, and whether a newline ends it."""
    chunk = _TAIL_CHUNK
    while True:
        fh.seek(max(0, size - chunk))
        data = fh.read()
        body = data.rstrip(b"\r\n\t ")
        cut = body.rfind(b"\n")
        # Past LINE_LIMIT the last line is no trace line: what is read
        # already is enough to say so, and reading on would hold it whole.
        if cut >= 0 or chunk >= size or chunk > LINE_LIMIT:
            return body[cut + 1 :], data.endswith(b"\n")
        chunk *= 4


def _count_newlines(path: str) -> int:
    with open(path, "rb") as fh:
        return sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 20), b""))


def _scan(source: str | bytes, torn_line: int | None, stream: bool) -> pl.LazyFrame:
    """JSON lines (a path, or decompressed bytes) as a lazy frame of typed trace fields.

    ``stream``: every field of the format, as polars' streaming scan;
    otherwise the analysed fields, read a piece at a time when collected.
    Fields absent from a line (the tracer leaves out those that are null)
    are null, as are fields the schema names and no line has.
    """
    if not stream:
        return pl.defer(lambda: _read_pieces(source, torn_line is not None), schema=ANALYZED)
    if torn_line is not None:
        # polars cannot be told to stop before a given line (n_rows still
        # parses the whole chunk), so a torn file is handed over without its
        # last line.  Only killed runs pay for holding the file in memory.
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
        source = data[: data.rindex(b"\n") + 1]
    return pl.scan_ndjson(source, schema=FIELD_SCHEMA)


#: Bytes of JSON lines handed to polars' parser at a time.  Big enough for
#: its threads to share each piece; small enough that the text of the file
#: is never held whole next to its parsed columns.
_PARSE_PIECE: Final = 8 << 20

#: What the pieces are parsed as: the analysed fields, in the dtypes the
#: format writes them in (narrowed after parsing).
_PARSED: Final = pl.Schema({name: FIELD_SCHEMA[name] for name in ANALYZED})


def _read_pieces(source: str | bytes, torn: bool) -> pl.DataFrame:
    """JSON lines parsed a piece at a time into ``columns.ANALYZED`` columns, held compactly.

    Handing polars the whole file made its reader map the file and parse
    every field at once: 4x the file's size at its peak, against the text
    of one piece and the narrow columns here.  Each piece is narrowed as
    soon as it is parsed, and a column no line of the piece has is left out
    of it; a column no line of the file has is a null constant, which
    polars does not spell out row by row.  ``torn``: the last line is cut
    short and left out.
    """
    parsed = [_narrow(pl.read_ndjson(piece, schema=_PARSED)) for piece in _pieces(source, torn)]
    if not parsed:
        return pl.DataFrame(schema=ANALYZED)
    lines = pl.concat(parsed, how="diagonal")
    return lines.select(
        pl.col(name) if name in lines.columns else pl.lit(None, dtype).alias(name)
        for name, dtype in ANALYZED.items()
    )


def _narrow(piece: pl.DataFrame) -> pl.DataFrame:
    """A parsed piece in ANALYZED's dtypes, without the columns no line of it has."""
    nulls = piece.null_count().row(0)
    return piece.select(
        pl.col(name).cast(dtype)
        for (name, dtype), missing in zip(ANALYZED.items(), nulls, strict=True)
        if missing < piece.height
    )


def _pieces(source: str | bytes, torn: bool) -> Iterator[bytes]:
    """The lines of a file or of bytes in pieces of about _PARSE_PIECE, each of whole lines.

    A last line without a newline is the last piece, unless ``torn`` says
    it was cut short.
    """
    if isinstance(source, bytes):
        at = 0
        while at < len(source):
            cut = source.rfind(b"\n", at, at + _PARSE_PIECE) + 1
            if cut <= at:  # a line longer than a piece
                cut = source.find(b"\n", at) + 1 or len(source)
            if cut == len(source) and not source.endswith(b"\n") and torn:
                return
            yield source[at:cut]
            at = cut
        return
    rest = b""  # a line longer than a piece, so far
    with open(source, "rb") as fh:
        while block := fh.read(_PARSE_PIECE):
            cut = block.rfind(b"\n") + 1
            if not cut:
                rest += block
                continue
            # The line cut in two is read again with the next piece: cheaper
            # than gluing its halves onto a copy of a whole piece.
            fh.seek(cut - len(block), os.SEEK_CUR)
            whole = block if cut == len(block) else block[:cut]
            yield rest + whole if rest else whole
            rest = b""
    if rest and not torn:
        yield rest
