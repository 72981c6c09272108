"""The trace file: render captured events through structlog and write them.

Threads of the program never touch the file.  They hand the recorder a tuple
of raw fields; this module turns batches of those tuples into JSON lines, in a
background thread, through a structlog processor chain that ends in one
renderer (structlog's ``JSONRenderer`` with orjson) and one sink.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import MutableMapping
from typing import Any

import orjson
import structlog

from synctrace import schema

#: What a traced thread captures for one event, in this order:
#: (seq, ts, event, thread, thread_id, obj, site, fields).
Captured = tuple[int, int, str, str, int, str | None, tuple[str, int] | None, dict[str, Any] | None]


class TraceFileError(Exception):
    """The trace file cannot be created or written."""


class _BatchSink:
    """structlog's "logger": collects rendered lines for one write() call."""

    def __init__(self) -> None:
        self.lines: list[bytes] = []

    def msg(self, message: bytes) -> None:
        self.lines.append(message)

    info = msg  # what structlog's default bound logger calls for msg()


class _SiteFormatter:
    """Processor: a captured (filename, line) becomes "file.py:LINE"."""

    def __init__(self) -> None:
        self._basenames: dict[str, str] = {}

    def __call__(self, _logger: Any, _name: str, ed: MutableMapping[str, Any]) -> Any:
        site = ed.get("site")
        if site is not None:
            filename, line = site
            base = self._basenames.get(filename)
            if base is None:
                base = self._basenames[filename] = os.path.basename(filename)
            ed["site"] = f"{base}:{line}"
        return ed


def _event_first(_logger: Any, _name: str, ed: MutableMapping[str, Any]) -> Any:
    """Processor: put ``event`` first, where a person reading the file looks."""
    return {"event": ed.pop("event"), **ed}


class TraceWriter:
    """Owns the trace file; renders and writes batches of captured events."""

    def __init__(self, path: str) -> None:
        self.path = path
        try:
            self._fd: int | None = os.open(
                path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644
            )
        except OSError as exc:
            raise TraceFileError(f"cannot write trace {path}: {exc.strerror}") from None
        self.written = 0  # lines on disk
        self.failed: str | None = None  # why writing stopped, once it has
        self._sink = _BatchSink()
        self._log = structlog.wrap_logger(
            self._sink,
            processors=[
                _SiteFormatter(),
                _event_first,
                structlog.processors.JSONRenderer(serializer=orjson.dumps),
            ],
            cache_logger_on_first_use=True,
        )

    def write(self, batch: list[Captured], dropped: int) -> int:
        """Render and write ``batch``; return how many events were lost doing so.

        ``dropped`` is the recorder's count so far, written into trace.end.
        """
        if self._fd is None or self.failed is not None:
            return len(batch)
        try:
            self._render(batch, dropped)
        except Exception as exc:  # a bug of ours must not reach the program
            self._sink.lines.clear()
            return self._fail(f"cannot render an event ({type(exc).__name__}: {exc})", len(batch))
        lines, self._sink.lines = self._sink.lines, []
        if not lines:
            return 0
        data = b"\n".join(lines) + b"\n"
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError as exc:
            # Disk full or the file went away: say so once and stop writing.
            # The program must run on unharmed, so nothing is raised.
            return self._fail(exc.strerror or str(exc), len(lines))
        self.written += len(lines)
        return 0

    def _fail(self, why: str, lost: int) -> int:
        self.failed = why
        print(
            f"synctrace: cannot write trace {self.path}: {why}; "
            "recording stopped, the program runs on",
            file=sys.stderr,
        )
        return lost

    def _render(self, batch: list[Captured], dropped: int) -> None:
        log = self._log
        for seq, ts, event, thread, thread_id, obj, site, fields in batch:
            line: dict[str, Any] = {"ts": ts, "seq": seq, "thread": thread, "thread_id": thread_id}
            if obj is not None:
                line["obj"] = obj
            if site is not None:
                line["site"] = site
            if fields:
                line.update(fields)
            if event == schema.TRACE_END:
                line["events_written"] = self.written + len(self._sink.lines)
                line["events_dropped"] = dropped
            log.msg(event, **line)

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None
