"""Checking a trace line by line against the format, ``synctrace.schema``.

:class:`LineChecker` is the one place that knows the rules a line must
keep (a JSON object, a known event, the required fields with their types,
``seq`` strictly increasing, ``ts`` never decreasing, every end matching its
begin).  ``analyze validate`` lists what it finds; the report's loader asks
it which lines of a damaged trace it can still use.  It streams: the only
state it keeps is the last ``seq`` and ``ts`` and the blocking calls not yet
ended, so memory is bounded by the trace, never by one line.

This module imports no polars, so ``analyze validate`` starts at once.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import orjson

from analyze import sources
from analyze.errors import TraceError
from synctrace import schema

#: What a problem does to a line the report would read:
#: ``unusable``: the line is left out (not JSON, a required field missing or
#: of the wrong type, a seq out of order); ``unknown``: an event this reader
#: does not know, ignored by the analysis; ``suspect``: the line is kept but
#: breaks a rule (ts going back, an end that matches no begin).
Severity = Literal["unusable", "unknown", "suspect"]

KNOWN_EVENTS: Final = frozenset(schema.EVENT_FIELDS) | {schema.TRACE_START, schema.TRACE_END}
END_EVENTS: Final = frozenset(schema.BLOCKING.values())

#: trace.start and trace.end fields with their JSON types (``list``: an array).
_META_TYPES: Final[dict[str, type]] = {
    "schema": str,
    "run_id": str,
    "pid": int,
    "host": str,
    "python": str,
    "argv": list,
    "wall_time": str,
    "native": bool,
    "time_scale": float,
    "redacted": bool,
    "reason": str,
    "detail": str,
    "exit_code": int,
    "events_written": int,
    "events_dropped": int,
    "blocked": list,
}

_JSON_NAMES: Final[dict[type, str]] = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true or false",
    list: "an array",
    dict: "an object",
}

#: Problems ``analyze validate`` prints before saying how many more there are.
SHOWN: Final = 50


@dataclass(frozen=True)
class Problem:
    """One broken rule: where (file and line) and what, in words."""

    file: str
    line: int
    message: str
    severity: Severity = "unusable"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass
class Checked:
    """One line as the checker saw it: its object (None when unusable) and its problems."""

    line: dict[str, Any] | None
    problems: list[tuple[Severity, str]] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return self.line is not None and all(s != "unusable" for s, _ in self.problems)


class LineChecker:
    """Checks the lines of one file in order; a trace.start anywhere begins a new run.

    Invariant: ``_open`` holds exactly the begin lines of the current run
    whose end has not been seen, keyed by their ``seq``.
    """

    def __init__(self) -> None:
        self._seq: int | None = None
        self._ts: int | None = None
        #: begin seq -> (the end event that closes it, thread, obj, its line number)
        self._open: dict[int, tuple[str, str, str | None, int]] = {}

    def check(self, number: int, raw: bytes | sources.TooLong) -> Checked:
        """Check line ``number`` (1-based, as read from the file)."""
        if isinstance(raw, sources.TooLong):
            return Checked(
                None,
                [("unusable", f"a line of {raw.size:,} bytes, longer than any trace line")],
            )
        line = parse_object(raw)
        if line is None:
            return Checked(None, [("unusable", "not a JSON object")])
        problem = _field_problem(line)
        if problem is not None:
            return Checked(None, [("unusable", problem)])
        event, seq, ts = line["event"], line["seq"], line["ts"]
        out = Checked(line)
        if event == schema.TRACE_START:
            # A new run: what came before says nothing about its seq and ts.
            self._seq, self._ts, self._open = None, None, {}
            version = line.get("schema")
            if not isinstance(version, str) or not _readable_version(version):
                out.problems.append(
                    (
                        "unusable",
                        f"trace.start's schema is {json.dumps(version)}, not"
                        f" {schema.SCHEMA_MAJOR} or {schema.SCHEMA_MAJOR}.x",
                    )
                )
        if self._seq is not None and seq <= self._seq:
            out.problems.append(
                (
                    "unusable",
                    f"seq {seq} does not follow {self._seq}: the line is out of place (lines"
                    " reordered, repeated or pasted in)",
                )
            )
            return out
        if self._ts is not None and ts < self._ts:
            out.problems.append(
                ("suspect", f"ts goes back {(self._ts - ts) / 1e6:.3f} ms from the line before")
            )
        self._seq, self._ts = seq, max(ts, self._ts if self._ts is not None else ts)
        if event not in KNOWN_EVENTS:
            out.problems.append(
                (
                    "unknown",
                    f"unknown event {event!r} (not in {schema.SCHEMA_MAJOR} as this version of"
                    " synctrace knows it: written by a newer one?)",
                )
            )
        elif event in schema.BLOCKING:
            self._open[seq] = (schema.BLOCKING[event], line["thread"], line.get("obj"), number)
        elif event in END_EVENTS:
            mismatch = self._match_end(line)
            if mismatch is not None:
                out.problems.append(("suspect", mismatch))
        return out

    def _match_end(self, line: dict[str, Any]) -> str | None:
        """Why an end line does not end a begin of its run, or None when it does."""
        begin = line.get("begin_seq")
        if begin is None:
            return f"{line['event']} has no begin_seq: it ends no begin line"
        opened = self._open.pop(begin, None)
        if opened is None:
            return f"{line['event']} ends begin_seq {begin}, but no begin line still open has it"
        end_event, thread, obj, at = opened
        if end_event != line["event"]:
            return f"{line['event']} ends the begin at line {at}, which {end_event} should end"
        if thread != line["thread"] or obj != line.get("obj"):
            return (
                f"{line['event']} by {line['thread']} on {line.get('obj')} ends the begin at"
                f" line {at}, made by {thread} on {obj}"
            )
        return None


def parse_object(raw: bytes) -> dict[str, Any] | None:
    """A line as a JSON object, or None when it is not one."""
    try:
        value = orjson.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def has_type(value: object, expected: type) -> bool:
    """Whether a JSON value has the format's type (a float field accepts an integer)."""
    # bool is an int subclass in Python, but not in JSON.
    if isinstance(value, bool):
        return expected is bool
    if expected is float:
        return isinstance(value, int | float)
    return isinstance(value, expected)


def _readable_version(version: str) -> bool:
    return version == schema.SCHEMA_MAJOR or version.startswith(schema.SCHEMA_MAJOR + ".")


def _field_problem(line: dict[str, Any]) -> str | None:
    """What makes a parsed line unusable (a field missing or mistyped), or None."""
    for name in schema.COMMON_FIELDS:
        if line.get(name) is None:
            return (
                f"required field {name!r} is missing (every line needs"
                f" {', '.join(schema.COMMON_FIELDS)})"
            )
    meta = line["event"] in (schema.TRACE_START, schema.TRACE_END)
    for name, value in line.items():
        expected = (_META_TYPES if meta else schema.FIELD_TYPES).get(name)
        if expected is None and name in schema.COMMON_FIELDS:
            expected = schema.FIELD_TYPES[name]
        if expected is not None and value is not None and not has_type(value, expected):
            return f"field {name!r} should be {_JSON_NAMES[expected]}, not {json.dumps(value)[:40]}"
    if line["event"] in schema.OPERATIONS and line.get("obj") is None:
        return f"{line['event']} has no 'obj' field"
    return None


# --- analyze validate ---------------------------------------------------------------


@dataclass
class FileVerdict:
    """What ``validate`` found in one file: its first problems, and how many in all."""

    path: str
    #: Non-blank lines read.
    lines: int = 0
    #: trace.start lines (runs concatenated in one file are each a run).
    runs: int = 0
    #: The last usable line is a trace.end.
    complete: bool = False
    #: The first ``keep`` problems, in line order.
    problems: list[Problem] = field(default_factory=list)
    #: Every problem, counted, whether kept or not.
    count: int = 0
    keep: int | None = None

    @property
    def valid(self) -> bool:
        return self.count == 0

    def add(self, problem: Problem) -> None:
        self.count += 1
        if self.keep is None or len(self.problems) < self.keep:
            self.problems.append(problem)


def validate_file(path: str, keep: int | None = None) -> FileVerdict:
    """Every problem of one trace file, streaming its lines; the first ``keep`` are listed.

    Raises TraceError when the file cannot be read at all (missing, a
    folder, damaged compressed data) or is Parquet, which has no lines.
    """
    kind = sources.kind_of(path)
    if kind == "parquet":
        raise TraceError(
            f"{path}: is Parquet, which has no lines to check; validate the trace it was"
            " converted from"
        )
    verdict = FileVerdict(path, keep=keep)
    checker = LineChecker()
    last: dict[str, Any] | None = None
    for number, raw in enumerate(sources.lines(path, kind), start=1):
        if isinstance(raw, bytes) and not raw.strip():
            continue
        verdict.lines += 1
        checked = checker.check(number, raw)
        if (
            verdict.lines == 1
            and checked.line is not None
            and checked.line.get("event") != schema.TRACE_START
        ):
            verdict.add(
                Problem(
                    path,
                    number,
                    "the first line is not trace.start: the file is cut at the"
                    " front, or is not a synctrace trace",
                )
            )
        if isinstance(raw, bytes) and not raw.endswith(b"\n") and checked.line is None:
            checked.problems = [("unusable", "cut short (the run was killed while writing it)")]
        for severity, message in checked.problems:
            verdict.add(Problem(path, number, message, severity))
        if checked.line is not None and checked.usable:
            last = checked.line
            if last["event"] == schema.TRACE_START:
                verdict.runs += 1
    if verdict.lines == 0:
        empty = "empty file, not a trace"
        if kind != "jsonl":
            # The file has bytes; its data has no line.
            empty = (
                f"no line in the {kind} data: it ends before its first line (the run was"
                " killed while writing it), or an empty file was compressed"
            )
        verdict.add(Problem(path, 1, empty))
    verdict.complete = last is not None and last.get("event") == schema.TRACE_END
    return verdict


def validate(
    paths: Iterable[str | os.PathLike[str]], keep: int | None = None
) -> Iterator[FileVerdict]:
    """Check each trace file (a folder: the traces in it), one verdict per file.

    ``keep``: problems listed per file (all when None; all are counted).
    Raises TraceError for a path that cannot be read at all.
    """
    for p in paths:
        given = os.fspath(p)
        found = sources.expand(given)
        if os.path.isdir(given):
            # A folder's Parquet files are conversions of traces, with no lines.
            found = [f for f in found if not f.lower().endswith(".parquet")] or found
        for path in found:
            yield validate_file(path, keep)
