"""Hand-written traces for the analyzer's tests (the fixtures are in conftest.py).

``Recorder`` writes trace lines the way tracer would (auto seq, ts one
millisecond apart unless told otherwise), so a test states only the
operations that matter and the exact findings they must produce.
"""

from __future__ import annotations

import json
from typing import Any

from analyze import Report
from synctrace import schema

START_TS = 5_000_000_000
STEP_NS = 1_000_000  # 1 ms between consecutive lines unless a test says otherwise


class Recorder:
    """Builds the lines of one run; every method returns the seq of the line it wrote."""

    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []
        self.ts = START_TS
        self.line(
            schema.TRACE_START,
            schema="synctrace/1",
            run_id="ab12",
            pid=1,
            host="h",
            python="3.11.7",
            argv=["x.py"],
            wall_time="2026-11-26T03:40:00.000000+00:00",
        )

    def line(
        self, event: str, *, thread: str = "MainThread", after: int = STEP_NS, **fields: Any
    ) -> int:
        """Write one line ``after`` ns after the previous one."""
        if self.lines:
            self.ts += after
        seq = len(self.lines)
        ident = 100 + int(thread.rsplit("-", 1)[-1]) if "-" in thread else 1
        self.lines.append(
            {
                "event": event,
                "ts": self.ts,
                "seq": seq,
                "thread": thread,
                "thread_id": ident,
                **fields,
            }
        )
        return seq

    def op(
        self,
        event: str,
        obj: str,
        *,
        thread: str = "MainThread",
        site: str = "app.py:1",
        after: int = STEP_NS,
        **fields: Any,
    ) -> int:
        """Write one operation line on ``obj``."""
        return self.line(event, thread=thread, after=after, obj=obj, site=site, **fields)

    # --- Event ---
    def set(self, obj: str = "ready", *, waiters: int = 0, flag: bool = False, **kw: Any) -> int:
        return self.op(schema.EVENT_SET, obj, waiters=waiters, flag=flag, **kw)

    def clear(self, obj: str = "ready", *, flag: bool = True, **kw: Any) -> int:
        return self.op(schema.EVENT_CLEAR, obj, flag=flag, **kw)

    def is_set(self, obj: str = "ready", **kw: Any) -> int:
        return self.op(schema.EVENT_IS_SET, obj, result=True, **kw)

    def wait(
        self, obj: str = "ready", *, flag: bool = False, timeout: float | None = None, **kw: Any
    ) -> int:
        return self.op(schema.EVENT_WAIT_BEGIN, obj, flag=flag, timeout=timeout, **kw)

    def woke(
        self,
        begin: int,
        obj: str = "ready",
        *,
        result: bool = True,
        timed_out: bool = False,
        woken_by: int | None = None,
        error: str | None = None,
        **kw: Any,
    ) -> int:
        return self.op(
            schema.EVENT_WAIT_END,
            obj,
            begin_seq=begin,
            result=result,
            timed_out=timed_out,
            woken_by=woken_by,
            error=error,
            **kw,
        )

    # --- List ---
    def move(
        self,
        event: str,
        item: int | None,
        obj: str = "jobs",
        *,
        value: str = "'x'",
        error: str | None = None,
        index: int | None = 0,
        depth: int = 0,
        **kw: Any,
    ) -> int:
        return self.op(
            event, obj, item=item, index=index, depth=depth, value=value, error=error, **kw
        )

    def append(self, item: int, obj: str = "jobs", **kw: Any) -> int:
        return self.move(schema.LIST_APPEND, item, obj, **kw)

    def pop(self, item: int | None, obj: str = "jobs", **kw: Any) -> int:
        return self.move(schema.LIST_POP, item, obj, **kw)

    # --- queue ---
    def put(self, item: int, obj: str = "q", **kw: Any) -> int:
        return self.move(schema.QUEUE_PUT, item, obj, **kw)

    def get(self, item: int | None, obj: str = "q", **kw: Any) -> int:
        return self.move(schema.QUEUE_GET, item, obj, **kw)

    # --- any blocking operation ---
    def begin(self, event: str, obj: str, **kw: Any) -> int:
        """A blocking operation's begin line (``event`` is a key of schema.BLOCKING)."""
        return self.op(event, obj, **kw)

    def finish(self, begin: int, **kw: Any) -> int:
        """The end line of the begin at seq ``begin``, by the same thread on the same object."""
        line = self.lines[begin]
        return self.op(
            schema.BLOCKING[line["event"]],
            line["obj"],
            thread=line["thread"],
            begin_seq=begin,
            **{"error": None, **kw},
        )

    # --- threads ---
    def raised(
        self, exc_type: str, exc_msg: str = "", *, thread: str, site: str = "app.py:1", **kw: Any
    ) -> int:
        """A thread.exception line: ``thread``'s run() raised ``exc_type``."""
        return self.line(
            schema.THREAD_EXCEPTION,
            thread=thread,
            exc_type=exc_type,
            exc_msg=exc_msg,
            site=site,
            **kw,
        )

    def end(self, **fields: Any) -> int:
        written = len(self.lines)
        values = {
            "reason": "completed",
            "detail": None,
            "exit_code": None,
            "events_written": written,
            "events_dropped": 0,
            "blocked": [],
        }
        return self.line(schema.TRACE_END, **{**values, **fields})

    def text(self) -> str:
        return "".join(json.dumps(line) + "\n" for line in self.lines)


def found(report: Report, kind: str | None = None) -> list[tuple[str, str, int, str, str]]:
    """(kind, severity, seq, thread, message) of the report's findings, optionally of one kind."""
    rows = report.findings.select("kind", "severity", "seq", "thread", "message").rows()
    return [row for row in rows if kind is None or row[0] == kind]
