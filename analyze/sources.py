"""What a trace file holds (JSON lines, gzip, zstd or Parquet), its bytes and its lines.

A file's kind is told by its first bytes, not its name, so a renamed or
piped-in trace is still read the right way.  For the report's fast path
compressed traces are decompressed whole into memory: a ``.jsonl.gz`` is
then read exactly like the plain file it stands for, at the cost of holding
its lines once (the plain file's pages are held just the same when polars
maps it).  The slow paths (naming damage, ``validate``, ``redact``) stream
lines instead, a bounded piece at a time, so that neither a big trace nor
one enormous line is ever held whole.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import BinaryIO, Final, Literal, NamedTuple, Protocol

from analyze.errors import TraceError

Kind = Literal["jsonl", "gzip", "zstd", "parquet"]

_MAGIC: Final[dict[bytes, Kind]] = {
    b"\x1f\x8b": "gzip",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"PAR1": "parquet",
}

#: Compressed bytes fed to the decompressor at a time, so that a damaged
#: file fails early and a cut one keeps everything before the cut.
_PIECE: Final = 1 << 20

#: The longest line read as a line.  Trace lines are short (values are cut
#: to ``VALUE_REPR_LIMIT``, log messages to ``LOG_MESSAGE_LIMIT``); even a
#: trace.end listing a thousand blocked threads is ~150 kB.  A longer
#: "line" is not a trace line, and is skipped a piece at a time rather
#: than read into memory just to be complained about.
LINE_LIMIT: Final = 1 << 20

#: The UTF-8 byte-order mark some Windows editors put at the front of a
#: file they save.  It is not part of the first line: JSON parsers (and
#: polars) refuse it, so every reader here leaves it out.
BOM: Final = b"\xef\xbb\xbf"

#: What a folder's traces are named, as ``analyze`` and ``tracer`` name them.
TRACE_SUFFIXES: Final = (".jsonl", ".jsonl.gz", ".jsonl.zst", ".parquet")


class TooLong(NamedTuple):
    """A line longer than LINE_LIMIT: only its size is kept."""

    size: int
    #: Whether a newline ended it (False: it ran to the end of the file).
    terminated: bool


def expand(path: str) -> list[str]:
    """The trace files a path stands for: a folder's traces in name order, a file as it is.

    A folder's traces are its files named like traces (TRACE_SUFFIXES), not
    its subfolders'.  Raises TraceError for a folder with none.
    """
    if not os.path.isdir(path):
        return [path]
    found = sorted(str(p) for p in Path(path).iterdir() if _is_trace(p))
    if not found:
        below = sorted(str(sub) for sub in Path(path).iterdir() if _holds_traces(sub))
        more = len(below) - 1
        fix = (
            f"subfolders are not searched: name {below[0]}"
            + (f" (and {more} more folder{'s' if more > 1 else ''})" if more else "")
            if below
            else "give trace files, or a folder that holds them"
        )
        raise TraceError(
            f"{path}: a folder with no traces in it (looked for"
            f" {', '.join('*' + s for s in TRACE_SUFFIXES)}); {fix}"
        )
    return found


def _is_trace(p: Path) -> bool:
    return p.is_file() and p.name.lower().endswith(TRACE_SUFFIXES)


def _holds_traces(folder: Path) -> bool:
    """Whether ``folder`` is a folder with traces in it (one that cannot be read holds none)."""
    try:
        return folder.is_dir() and any(_is_trace(p) for p in folder.iterdir())
    except OSError:
        return False


def has_bom(path: str) -> bool:
    """Whether the file at ``path`` begins with a UTF-8 byte-order mark."""
    try:
        with open(path, "rb") as fh:
            return fh.read(len(BOM)) == BOM
    except OSError as exc:
        raise TraceError(f"{path}: cannot read it ({exc.strerror})") from None


def kind_of(path: str) -> Kind:
    """The kind of trace file at ``path``, from its first bytes (JSON lines unless recognised)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except FileNotFoundError:
        raise TraceError(f"{path}: no such file; check the path") from None
    except IsADirectoryError:
        raise TraceError(f"{path}: is a directory, not a trace file") from None
    except OSError as exc:
        raise TraceError(f"{path}: cannot read it ({exc.strerror})") from None
    return next((kind for magic, kind in _MAGIC.items() if head.startswith(magic)), "jsonl")


def decompress(path: str, kind: Kind) -> tuple[bytes, bool]:
    """The lines of a trace (gzip, zstd or plain), and whether its compressed data was cut short.

    A cut stream is what a killed run leaves behind (the tracer died before
    closing the file): the lines before the cut are returned so that the run
    can still be analysed.  Damaged data (a flipped byte, a wrong checksum)
    raises TraceError: nothing after it can be trusted.  A leading
    byte-order mark is left out.
    """
    with open(path, "rb") as fh:
        raw = fh.read()
    if kind == "jsonl":
        return raw.removeprefix(BOM), False
    try:
        if kind == "gzip":
            data, cut = _inflate(raw, lambda: zlib.decompressobj(wbits=31))
        else:
            data, cut = _inflate(raw, _zstd_member)
    except (zlib.error, _zstd_error()) as exc:
        raise _damaged(path, kind, exc) from None
    return data.removeprefix(BOM), cut


def _damaged(path: str, kind: Kind, exc: Exception) -> TraceError:
    tool = "gzip -t" if kind == "gzip" else "zstd -t"
    return TraceError(
        f"{path}: the {kind} data is damaged ({exc}); the file was changed after it was"
        f" written (check with `{tool} {path}`), so record the run again"
    )


def lines(path: str, kind: Kind, limit: int = LINE_LIMIT) -> Generator[bytes | TooLong]:
    """Every line of a JSON-lines, gzip or zstd trace, in order, streamed.

    A line is yielded with its newline (the last one may lack it: the run
    was killed while writing it); a line longer than ``limit`` is yielded
    as :class:`TooLong`, having been skipped a piece at a time.  Memory is
    bounded by ``limit`` and one decompressed piece, whatever the file.
    A compressed stream cut short ends the lines where its data ends;
    damaged compressed data raises TraceError.  A leading byte-order mark
    is left out.
    """
    buffer = bytearray()
    skipping = 0  # bytes of an over-long line seen so far, 0 when not in one
    for piece in _without_bom(_pieces(path, kind)):
        at = 0
        while at < len(piece):
            newline = piece.find(b"\n", at)
            stop = len(piece) if newline < 0 else newline + 1
            if skipping:
                skipping += stop - at
            else:
                buffer += piece[at:stop]
                if len(buffer) > limit:
                    skipping, buffer = len(buffer), bytearray()
            at = stop
            if newline < 0:
                break
            if skipping:
                yield TooLong(skipping, True)
                skipping = 0
            else:
                yield bytes(buffer)
                buffer.clear()
    if skipping:
        yield TooLong(skipping, False)
    elif buffer:
        yield bytes(buffer)


def _without_bom(pieces: Iterator[bytes]) -> Iterator[bytes]:
    """The pieces with a byte-order mark at the very front left out."""
    head = b""
    for piece in pieces:
        head += piece
        # A decompressor may hand over fewer bytes than the mark at first.
        if len(head) >= len(BOM):
            yield head.removeprefix(BOM)
            break
    else:
        if head and head != BOM:
            yield head
        return
    yield from pieces


def _pieces(path: str, kind: Kind) -> Iterator[bytes]:
    """The file's decompressed bytes, a piece of at most _PIECE at a time.

    The pieces are bounded on the way out, not only on the way in: a few
    hundred kilobytes of gzip can hold a line of gigabytes.
    """
    try:
        with open(path, "rb") as fh:
            if kind == "jsonl":
                yield from iter(lambda: fh.read(_PIECE), b"")
                return
            try:
                yield from (_gunzip(fh) if kind == "gzip" else _unzstd(fh))
            except (zlib.error, _zstd_error()) as exc:
                raise _damaged(path, kind, exc) from None
    except OSError as exc:
        raise TraceError(f"{path}: cannot read it ({exc.strerror})") from None


def _gunzip(fh: BinaryIO) -> Iterator[bytes]:
    obj = zlib.decompressobj(wbits=31)
    for raw in iter(lambda: fh.read(_PIECE), b""):
        while raw:
            yield obj.decompress(raw, _PIECE)
            if obj.eof:
                # The next member (files joined with cat) begins in what is left.
                raw, obj = obj.unused_data, zlib.decompressobj(wbits=31)
            else:
                raw = obj.unconsumed_tail
    # Output zlib still holds when the input ran out (a cut file's last piece).
    while not obj.eof and (piece := obj.decompress(b"", _PIECE)):
        yield piece


def _unzstd(fh: BinaryIO) -> Iterator[bytes]:
    # Imported here so that reading plain traces never loads zstandard.
    import zstandard

    reader = zstandard.ZstdDecompressor().stream_reader(fh, read_across_frames=True)
    yield from iter(lambda: reader.read(_PIECE), b"")


class _Member(Protocol):
    """What zlib's and zstandard's decompressor objects have in common."""

    def decompress(self, data: bytes, /) -> bytes: ...
    @property
    def eof(self) -> bool: ...
    @property
    def unused_data(self) -> bytes: ...


def _inflate(raw: bytes, member: Callable[[], _Member]) -> tuple[bytes, bool]:
    # Both formats allow several members (frames) one after another: a
    # writer that flushes often, or files joined with cat.
    out = bytearray()
    while raw:
        obj = member()
        for at in range(0, len(raw), _PIECE):
            out += obj.decompress(raw[at : at + _PIECE])
            if obj.eof:
                break
        if not obj.eof:
            return bytes(out), True
        raw = obj.unused_data
    return bytes(out), False


def _zstd_member() -> _Member:
    # Imported here so that reading plain traces never loads zstandard.
    import zstandard

    return zstandard.ZstdDecompressor().decompressobj()


def _zstd_error() -> type[Exception]:
    import zstandard

    return zstandard.ZstdError
