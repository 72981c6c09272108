"""The trace file: lines on disk, plain or compressed as the file's name says.

The program's threads never touch the file.  The sink encodes events into
JSON lines; this module writes them, compressing on the way for
``.jsonl.gz`` (zlib, stdlib) and ``.jsonl.zst`` (zstandard), and renders the
two metadata lines, ``trace.start`` and ``trace.end``, through structlog.

A compressed trace is flushed to a decodable boundary at every ``sync()``
(the writer's heartbeat, about ten times a second), so a killed run leaves
a file whose every whole line up to the last heartbeat can be read back.
Both compressors release the GIL while they work.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import zlib
from typing import TYPE_CHECKING, Any, Final, Protocol

import orjson
import structlog

from synctrace.redact import MAPPING_FIELDS, TEXT_FIELDS, Redactor
from tracer.recording import site as _site

if TYPE_CHECKING:
    # Encoded lines come as bytes, or as the native sink's Lines: its
    # encoding buffer, lent without a copy.
    from typing_extensions import Buffer

#: A text field's key and its encoded string.  In JSON a quote inside a
#: string is always escaped, so ``"value":"`` can only be the key itself.
_TEXT_FIELD: Final = re.compile(
    rb'"(' + b"|".join(n.encode() for n in TEXT_FIELDS) + rb')":"((?:[^"\\]|\\.)*)"'
)
#: Lines with a mapping field (a log line's ``fields``) are parsed again.
_MAPPING_FIELD: Final = re.compile(
    rb'"(?:' + b"|".join(n.encode() for n in MAPPING_FIELDS) + rb')":\{'
)


class TraceFileError(Exception):
    """The trace file cannot be created or written."""


class _Compressor(Protocol):
    def compress(self, data: Buffer, /) -> bytes: ...
    def flush(self, mode: int = ..., /) -> bytes: ...


class _Gzip:
    """A gzip stream (the gzip file format, readable by ``gzip -d`` and zcat)."""

    def __init__(self) -> None:
        # wbits 31: zlib's deflate in a gzip container.  Level 6 is gzip's
        # own default: most of the ratio of 9 for a third of the time.
        self._z = zlib.compressobj(6, zlib.DEFLATED, 31)

    def compress(self, data: Buffer) -> bytes:
        return self._z.compress(data)

    def sync(self) -> bytes:
        return self._z.flush(zlib.Z_SYNC_FLUSH)

    def finish(self) -> bytes:
        return self._z.flush(zlib.Z_FINISH)


class _Zstd:
    """A zstd stream (one frame, readable by ``zstd -d``)."""

    def __init__(self) -> None:
        import zstandard  # only recordings that ask for .zst pay its import

        self._flush_block = zstandard.COMPRESSOBJ_FLUSH_BLOCK
        self._flush_finish = zstandard.COMPRESSOBJ_FLUSH_FINISH
        # Level 1, not zstd's default 3: on trace lines it is both smaller
        # (12.5 against 15.5 bytes an event) and twice as fast, measured on
        # the 640k-event benchmark trace.
        self._z = zstandard.ZstdCompressor(level=1).compressobj()

    def compress(self, data: Buffer) -> bytes:
        return self._z.compress(memoryview(data))

    def sync(self) -> bytes:
        return self._z.flush(self._flush_block)

    def finish(self) -> bytes:
        return self._z.flush(self._flush_finish)


def compression_of(path: str) -> str | None:
    """``"gzip"``, ``"zstd"`` or None (plain), from the file's name."""
    lowered = path.lower()
    if lowered.endswith(".gz"):
        return "gzip"
    if lowered.endswith((".zst", ".zstd")):
        return "zstd"
    return None


class TraceWriter:
    """Owns the trace file: writes encoded lines, and renders start and end."""

    def __init__(self, path: str, *, redact: bool = False) -> None:
        self.path = path
        #: Set for a recording with ``redact``: every line's data is hashed
        #: on its way to the file (``synctrace.redact``).
        self._redactor = Redactor() if redact else None
        kind = compression_of(path)
        try:
            self._codec: _Gzip | _Zstd | None = (
                _Gzip() if kind == "gzip" else _Zstd() if kind == "zstd" else None
            )
        except ImportError:
            raise TraceFileError(
                f"cannot write trace {path}: .zst needs the zstandard package"
                " (pip install zstandard), or name the file .jsonl or .jsonl.gz"
            ) from None
        try:
            self._fd: int | None = os.open(
                path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644
            )
        except OSError as exc:
            raise TraceFileError(f"cannot write trace {path}: {exc.strerror}") from None
        self.written = 0  # lines handed to the file (or its compressor)
        self.failed: str | None = None  # why writing stopped, once it has
        # structlog's renderer for the two metadata lines; event lines come
        # encoded from the sink in the same layout.
        self._render = structlog.processors.JSONRenderer(serializer=orjson.dumps)

    def site_name(self, site: Any) -> str:
        """How the sink writes a captured site: ``file.py:LINE``."""
        return _site.site_name(site)

    def render(self, line: dict[str, Any]) -> bytes:
        """One metadata line, rendered by structlog, with its newline."""
        if self._redactor is not None:
            line = self._redactor.line(dict(line))
        rendered = self._render(None, line["event"], line)
        return (rendered if isinstance(rendered, bytes) else rendered.encode()) + b"\n"

    def write(self, data: Buffer, lines: int | None = None) -> int:
        """Write encoded lines; return how many were lost (0 unless writing failed).

        ``data`` is read, never kept.  ``lines`` is how many it holds, when
        the caller knows (the sink's ``drain_lines``): counting them costs a
        pass over the bytes.
        """
        if lines is None:
            lines = bytes(data).count(b"\n")
        if self._fd is None or self.failed is not None:
            return lines
        if self._redactor is not None:
            data = self._redacted(data)
        out = data if self._codec is None else self._codec.compress(data)
        if self._write_all(out):
            self.written += lines
            return 0
        return lines

    @property
    def direct_fd(self) -> int | None:
        """The file descriptor encoded lines may be written to as they are, or None.

        A plain, unredacted trace that is still being written takes the
        sink's lines unchanged, so the native sink can write them itself
        (``Sink.pump``); the caller then reports them with :meth:`wrote`.
        """
        if self._codec is None and self._redactor is None and self.failed is None:
            return self._fd
        return None

    def wrote(self, lines: int, lost: int, errno: int) -> int:
        """Account for lines written to :attr:`direct_fd` by others; return how many were lost.

        ``errno`` non-zero: the last write failed, and writing stops as it
        does when :meth:`write` fails.
        """
        self.written += lines
        if errno:
            self._fail(os.strerror(errno))
        return lost

    def _redacted(self, lent: Buffer) -> bytes:
        """Encoded lines with their data hashed.

        The sinks encode values on the program's hot path, which stays as it
        is; a redacted recording pays here instead, in the writer thread:
        lines holding data are parsed, redacted and encoded again.
        """
        redactor = self._redactor
        assert redactor is not None
        data = bytes(lent)

        def token(match: re.Match[bytes]) -> bytes:
            # The encoded string is hashed as it is: within one trace the
            # same value is always encoded the same way.
            return b'"' + match[1] + b'":"' + redactor.token_of_bytes(match[2]) + b'"'

        data = _TEXT_FIELD.sub(token, data)
        if not _MAPPING_FIELD.search(data):
            return data
        return b"\n".join(
            orjson.dumps(redactor.mappings(orjson.loads(raw)))
            if _MAPPING_FIELD.search(raw)
            else raw
            for raw in data.split(b"\n")
        )

    def sync(self) -> None:
        """Make everything written so far decodable from the file (compressed traces)."""
        if self._codec is not None and self.failed is None and self._fd is not None:
            self._write_all(self._codec.sync())

    def _write_all(self, data: Buffer) -> bool:
        if self._fd is None or self.failed is not None:
            return False
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError as exc:
            # Disk full or the file went away: say so once and stop writing.
            # The program must run on unharmed, so nothing is raised.
            self._fail(exc.strerror or str(exc))
            return False
        return True

    def _fail(self, why: str) -> None:
        self.failed = why
        print(
            f"synctrace: cannot write trace {self.path}: {why}; "
            "recording stopped, the program runs on",
            file=sys.stderr,
        )

    def close(self) -> None:
        if self._fd is not None:
            if self._codec is not None and self.failed is None:
                self._write_all(self._codec.finish())
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None
