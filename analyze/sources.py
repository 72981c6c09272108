"""What a trace file holds (JSON lines, gzip, zstd or Parquet), and its bytes decompressed.

A file's kind is told by its first bytes, not its name, so a renamed or
piped-in trace is still read the right way.  Compressed traces are
decompressed whole into memory: a ``.jsonl.gz`` is then read exactly like
the plain file it stands for, at the cost of holding its lines once (the
plain file's pages are held just the same when polars maps it).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from typing import Final, Literal, Protocol

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


def kind_of(path: str) -> Kind:
    """The kind of trace file at ``path``, from its first bytes (JSON lines unless recognised)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4)
    except FileNotFoundError:
        raise TraceError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise TraceError(f"{path}: is a directory, not a trace file") from None
    except OSError as exc:
        raise TraceError(f"{path}: cannot read it ({exc.strerror})") from None
    return next((kind for magic, kind in _MAGIC.items() if head.startswith(magic)), "jsonl")


def decompress(path: str, kind: Kind) -> tuple[bytes, bool]:
    """The lines of a gzip or zstd trace, and whether its compressed data was cut short.

    A cut stream is what a killed run leaves behind (the tracer died before
    closing the file): the lines before the cut are returned so that the run
    can still be analysed.  Damaged data (a flipped byte, a wrong checksum)
    raises TraceError: nothing after it can be trusted.
    """
    with open(path, "rb") as fh:
        raw = fh.read()
    try:
        if kind == "gzip":
            return _inflate(raw, lambda: zlib.decompressobj(wbits=31))
        return _inflate(raw, _zstd_member)
    except (zlib.error, _zstd_error()) as exc:
        tool = "gzip -t" if kind == "gzip" else "zstd -t"
        raise TraceError(
            f"{path}: the {kind} data is damaged ({exc}); the file was changed after it was"
            f" written (check with `{tool} {path}`), so record the run again"
        ) from None


def lines(path: str, kind: Kind) -> Iterator[bytes]:
    """Every line of a JSON-lines, gzip or zstd trace, with its newline, for the slow checks."""
    if kind == "jsonl":
        with open(path, "rb") as fh:
            yield from fh
        return
    data, _ = decompress(path, kind)
    start = 0
    while start < len(data):
        end = data.find(b"\n", start)
        end = len(data) if end < 0 else end + 1
        yield data[start:end]
        start = end


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
