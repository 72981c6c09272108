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
from typing import Any

import orjson
import structlog

from synctrace import schema
from tracer.recording import site as _site

#: What a traced thread captures for one event, in this order:
#: (seq, ts, event, thread, thread_id, obj, site, fields).
Captured = tuple[int, int, str, str, int, str | None, tuple[str, int] | None, dict[str, Any] | None]


class TraceFileError(Exception):
    """The trace file cannot be created or written."""


class _SiteNames(dict[tuple[str, int], str]):
    """A captured (filename, line) as "file.py:LINE"; a program has few sites."""

    def __missing__(self, site: tuple[str, int]) -> str:
        name = self[site] = _site.site_name(site)
        return name


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
        self._site = _SiteNames()
        # The last processor of a structlog chain.  The rest of the chain
        # (thread, clock, seq, call site) ran on the traced thread, as
        # captured fields; here they are only laid out, in the order a
        # person reads them, which is cheaper than a bound logger per line.
        self._render = structlog.processors.JSONRenderer(serializer=orjson.dumps)

    def write(self, batch: list[Captured], dropped: int) -> int:
        """Render and write ``batch``; return how many events were lost doing so.

        ``dropped`` is the recorder's count so far, written into trace.end.
        """
        if self._fd is None or self.failed is not None:
            return len(batch)
        try:
            lines = self._lines(batch, dropped)
        except Exception as exc:  # a bug of ours must not reach the program
            return self._fail(f"cannot render an event ({type(exc).__name__}: {exc})", len(batch))
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

    def _lines(self, batch: list[Captured], dropped: int) -> list[bytes]:
        render, site_name = self._render, self._site
        lines: list[bytes] = []
        for seq, ts, event, thread, thread_id, obj, site, fields in batch:
            line: dict[str, Any] = {
                "event": event,
                "ts": ts,
                "seq": seq,
                "thread": thread,
                "thread_id": thread_id,
            }
            if obj is not None:
                line["obj"] = obj
            if site is not None:
                line["site"] = site_name[site]
            if fields:
                line.update(fields)
            if event == schema.TRACE_END:
                line["events_written"] = self.written + len(lines)
                line["events_dropped"] = dropped
            lines.append(render(None, event, line))  # type: ignore[arg-type]
        return lines

    def close(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None
