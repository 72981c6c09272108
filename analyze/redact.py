"""``analyze redact``: an existing trace rewritten with its data as salted hashes.

The same fields are hashed the same way as ``tracer run --redact`` does it
(``synctrace.redact``), with one random salt for the whole file.  Lines are
streamed in and out (memory bounded by one line), and the output is
compressed as its name asks (``.jsonl.gz``, ``.jsonl.zst``), whatever the
input was.  A line that is not JSON cannot be redacted, so it is left out
rather than copied: it may hold exactly what its owner wanted hidden.  For
the same reason a field synctrace/1 does not define (an edited line, a
newer 1.x) is hashed whatever it holds, and so is a data field holding
something other than text.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Final

import orjson

from analyze import sources
from analyze.errors import TraceError
from analyze.validate import parse_object
from synctrace import schema
from synctrace.redact import TEXT_FIELDS, Redactor

#: Lines left out that are named one by one; the rest are counted.
NAMED: Final = 10

#: Every field a synctrace/1 line can have.
_DEFINED: Final = frozenset(schema.FIELD_TYPES) | set(schema.START_FIELDS) | set(schema.END_FIELDS)


@dataclass
class Redacted:
    """What ``redact`` wrote: lines, runs, and the lines it had to leave out."""

    target: str
    lines: int = 0
    runs: int = 0
    left_out: int = 0
    notes: list[str] = field(default_factory=list)

    def leave_out(self, note: str) -> None:
        self.left_out += 1
        if len(self.notes) < NAMED:
            self.notes.append(note)


def redact(source: str, target: str) -> Redacted:
    """Write ``source`` (JSON lines, gzip or zstd) to ``target`` with its data hashed.

    Raises TraceError when ``source`` cannot be read or is no trace, when
    ``target`` is ``source`` itself, and when ``target`` cannot be written;
    ``target`` is then left as it was.
    """
    kind = sources.kind_of(source)
    if kind == "parquet":
        raise TraceError(
            f"{source}: is Parquet; redact the trace it was converted from, then convert"
            " the redacted one"
        )
    if target.lower().endswith(".parquet"):
        raise TraceError(
            f"{target}: redact writes JSON lines (.jsonl, .jsonl.gz, .jsonl.zst); convert the"
            " redacted trace to Parquet afterwards with `analyze convert`"
        )
    if os.path.exists(target) and os.path.samefile(source, target):
        raise TraceError(
            f"{target}: -o names the trace being redacted, which would be lost; write the"
            " redacted trace to another file (such as shared.jsonl.gz)"
        )
    partial = Path(f"{target}.partial")
    result = Redacted(target)
    try:
        with open(partial, "wb") as out:
            _write(source, kind, out, _compressor(target), result)
    except TraceError:
        partial.unlink(missing_ok=True)
        raise
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise TraceError(f"{target}: cannot write it ({exc.strerror})") from None
    # Written under another name first, so a failed redact never leaves a
    # half-written file that looks like a trace.
    partial.replace(target)
    return result


def _write(
    source: str,
    kind: sources.Kind,
    out: BinaryIO,
    compress: tuple[Callable[[bytes], bytes], Callable[[], bytes]],
    result: Redacted,
) -> None:
    pack, finish = compress
    redactor = Redactor()
    for number, raw in enumerate(sources.lines(source, kind), start=1):
        if isinstance(raw, bytes) and not raw.strip():
            continue
        line = None if isinstance(raw, sources.TooLong) else parse_object(raw)
        if line is None:
            if result.lines == 0:
                raise TraceError(
                    f"{source}:{number}: not a JSON object, so not a trace (is this a synctrace"
                    " trace? record one with `tracer run` or `tracer demo`)"
                )
            cut = isinstance(raw, bytes) and not raw.endswith(b"\n")
            if isinstance(raw, sources.TooLong):
                why = f"a line of {raw.size:,} bytes, longer than any trace line"
            elif cut:
                why = "cut short (the run was killed while writing it)"
            else:
                why = "not JSON"
            result.leave_out(f"{source}:{number}: {why}; left out, as it cannot be redacted")
            continue
        if result.lines == 0 and line.get("event") != "trace.start":
            raise TraceError(
                f"{source}:{number}: the first line is not trace.start: the file is cut at the"
                " front or is not a synctrace trace"
            )
        if line.get("event") == "trace.start":
            result.runs += 1
        result.lines += 1
        out.write(pack(orjson.dumps(_undefined_hashed(redactor, redactor.line(line))) + b"\n"))
    out.write(finish())


def _undefined_hashed(redactor: Redactor, line: dict[str, Any]) -> dict[str, Any]:
    """``line`` with what ``Redactor.line`` leaves as it is, yet may be data, hashed in place.

    The tracer writes only defined fields, with text in its text fields; a
    trace from elsewhere may have anything, and what is not known to be
    code is treated as data.
    """
    for name, value in line.items():
        if value is None:
            continue
        if name not in _DEFINED or (name in TEXT_FIELDS and not isinstance(value, str)):
            text = (
                value
                if isinstance(value, str)
                else orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
            )
            line[name] = redactor.token(text)
    return line


def _compressor(target: str) -> tuple[Callable[[bytes], bytes], Callable[[], bytes]]:
    """How to compress the output, from its name: gzip, zstd, or not at all."""
    lowered = target.lower()
    if lowered.endswith(".gz"):
        z = zlib.compressobj(6, zlib.DEFLATED, 31)
        return z.compress, z.flush
    if lowered.endswith((".zst", ".zstd")):
        import zstandard

        zc = zstandard.ZstdCompressor(level=3).compressobj()
        return zc.compress, zc.flush
    return (lambda data: data), (lambda: b"")
