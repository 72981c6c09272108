"""The recording: hands out ``seq``, buffers captured events, runs the writer.

Invariants:
* ``seq`` is taken, the clock read and the event queued under ``_lock``, so
  file order is ``seq`` order and ``ts`` never decreases along it.  Traced
  primitives call ``emit`` inside their own critical section, which makes the
  order of ``seq`` for one object the true order of its operations.
* ``_lock`` is a raw lock of ours, held only for those few steps: it is a
  leaf (nothing else is acquired under it) and never a traced primitive.
* The program's threads never write the file; one background thread (a raw
  ``_thread`` thread, so it neither appears in ``threading.enumerate()`` nor
  shifts ``Thread-N`` numbering) renders and writes a batch every
  ``flush_interval`` seconds.
"""

from __future__ import annotations

import _thread
import itertools
import os
import platform
import socket
import sys
import threading
import time
import uuid
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from synctrace import schema
from tracer.primitives import threads as _threads
from tracer.recording import site as _site
from tracer.recording.site import RawSite
from tracer.recording.writer import Captured, TraceWriter

#: The recording in progress, or None.  Traced primitives read this on every
#: call: when it is None they do nothing but the plain operation.
current: Recorder | None = None
_start_lock = _thread.allocate_lock()
_generations = itertools.count(1)

#: How often the writer flushes: a killed process loses at most about this.
FLUSH_INTERVAL = 0.1
#: Events held in memory before new ones are dropped (and counted as such).
MAX_PENDING = 2_000_000


class RecordingError(RuntimeError):
    """A recording cannot start (one is already running)."""


class Recorder:
    """One trace being written.  Use ``tracer.record()`` rather than this."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        flush_interval: float = FLUSH_INTERVAL,
        max_pending: int = MAX_PENDING,
    ) -> None:
        self.path = os.fspath(path)
        #: Changes with each recording, so containers know when their item
        #: numbering belongs to an earlier one.
        self.generation = next(_generations)
        self._writer = TraceWriter(self.path)  # raises TraceFileError first
        self._flush_interval = flush_interval
        self._max_pending = max_pending
        self._lock = _thread.RLock()
        self._seq = -1
        self._pending: list[Captured] = []
        self._dropped = 0
        self._open = False
        self._blocked: dict[int, Captured] = {}  # begin seq -> its begin event
        self._wake = _thread.allocate_lock()
        self._done = _thread.allocate_lock()

    # --- the hot path ---------------------------------------------------------

    def emit(
        self,
        event: str,
        obj: str | None,
        site: RawSite | None,
        fields: dict[str, Any] | None = None,
        *,
        thread: tuple[str, int] | None = None,
        blocking: bool = False,
    ) -> int:
        """Queue one event; return its seq (-1 once the recording has ended)."""
        if thread is None:
            name, ident = threading.current_thread().name, _thread.get_ident()
        else:
            name, ident = thread
        with self._lock:
            if not self._open:
                return -1
            self._seq += 1
            captured = (self._seq, time.monotonic_ns(), event, name, ident, obj, site, fields)
            if len(self._pending) < self._max_pending and self._writer.failed is None:
                self._pending.append(captured)
            else:
                self._dropped += 1
            if blocking:
                self._blocked[self._seq] = captured
            return self._seq

    def blocking(
        self,
        begin_event: str,
        obj: str | None,
        site: RawSite | None,
        fields: dict[str, Any] | None = None,
        *,
        outcome: dict[str, Any] | None = None,
        timeouts: tuple[type[BaseException], ...] = (),
        reports_result: bool = True,
    ) -> BlockingCall:
        """Write a blocking call's begin line; the returned call writes its end.

        ``outcome`` holds the end line's own fields with their values should
        the call raise; ``timeouts`` are the exceptions that mean the call
        gave up waiting (``queue.Empty``), not that it failed.
        """
        begin = self.emit(begin_event, obj, site, fields, blocking=True)
        return BlockingCall(
            self, schema.BLOCKING[begin_event], obj, site, begin, outcome, timeouts, reports_result
        )

    def _end_blocking(
        self,
        event: str,
        obj: str | None,
        site: RawSite | None,
        begin_seq: int,
        fields: dict[str, Any],
    ) -> int:
        with self._lock:
            self._blocked.pop(begin_seq, None)
            return self.emit(event, obj, site, {"begin_seq": begin_seq, **fields})

    # --- lifecycle ------------------------------------------------------------

    def start(self) -> Recorder:
        """Write trace.start, install the thread hooks and start the writer."""
        global current
        with _start_lock:
            if current is not None:
                raise RecordingError(
                    f"a recording is already running (writing {current.path}); "
                    "synctrace records one trace at a time"
                )
            self._open = True
            wall = datetime.now(UTC).isoformat()
            self.emit(
                schema.TRACE_START,
                None,
                None,
                {
                    "schema": schema.SCHEMA,
                    "run_id": uuid.uuid4().hex,
                    "pid": os.getpid(),
                    "host": socket.gethostname(),
                    "python": platform.python_version(),
                    "argv": list(sys.argv),
                    "wall_time": wall,
                },
            )
            current = self
        _threads.install()
        self._wake.acquire()
        self._done.acquire()
        _thread.start_new_thread(self._write_loop, ())
        return self

    def stop(
        self, reason: str = "completed", detail: str | None = None, exit_code: int | None = None
    ) -> None:
        """Write trace.end and everything still queued; close the file.

        Threads that are still running keep running; their later operations
        are simply not recorded.
        """
        global current
        with _start_lock:
            if current is self:
                current = None
                _threads.uninstall()
        with self._lock:
            if not self._open:
                return
            blocked = [
                {
                    "thread": b[3],
                    "thread_id": b[4],
                    "event": b[2],
                    "obj": b[5],
                    "site": None if b[6] is None else _site.site_name(b[6]),
                    "begin_seq": b[0],
                    "ts": b[1],
                }
                for b in sorted(self._blocked.values())
            ]
            fields = {
                "reason": reason,
                "detail": detail,
                "exit_code": exit_code,
                "blocked": blocked,
            }
            self.emit(schema.TRACE_END, None, None, fields)
            self._open = False
        self._wake.release()
        # The writer finishes the last batch; wait for it, but never forever:
        # a stuck disk must not hang the program at exit.
        if self._done.acquire(timeout=10):
            self._done.release()

    def _write_loop(self) -> None:
        try:
            while True:
                stopping = self._wake.acquire(timeout=self._flush_interval)
                self._flush()
                if stopping:
                    break
        finally:
            self._writer.close()
            self._done.release()

    def _flush(self) -> None:
        with self._lock:
            batch, self._pending = self._pending, []
            dropped = self._dropped
        if batch:
            # A signal handler running inside emit() can queue a later seq
            # ahead of an earlier one; both land in the same batch.
            batch.sort(key=_seq_of)
            lost = self._writer.write(batch, dropped)
            if lost:
                with self._lock:
                    self._dropped += lost

    @property
    def events_written(self) -> int:
        """Lines on disk so far (all of them, trace.end included, once stopped)."""
        return self._writer.written

    @property
    def events_dropped(self) -> int:
        return self._dropped

    def __enter__(self) -> Recorder:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        reason, detail, code = end_reason(exc)
        self.stop(reason, detail, code)


class BlockingCall:
    """A blocking call between its begin line (written) and its end line.

    Used as ``with rec.blocking(...) as call:``.  Inside, set ``call.result``
    to what the call returned and ``call.outcome[...]`` to any other end
    field.  Leaving the block writes the end line: ``begin_seq``, ``result``
    and ``timed_out`` (no result and no error), the outcome fields, and
    ``error``: the name of the exception leaving the block, which goes on to
    the caller untouched.
    """

    __slots__ = (
        "_end",
        "_obj",
        "_rec",
        "_reports_result",
        "_site",
        "_timeouts",
        "begin",
        "outcome",
        "result",
    )

    def __init__(
        self,
        rec: Recorder,
        end_event: str,
        obj: str | None,
        site: RawSite | None,
        begin: int,
        outcome: dict[str, Any] | None,
        timeouts: tuple[type[BaseException], ...],
        reports_result: bool,
    ) -> None:
        self._rec, self._end, self._obj, self._site = rec, end_event, obj, site
        self._timeouts, self._reports_result = timeouts, reports_result
        self.begin = begin
        self.result: Any = False
        self.outcome: dict[str, Any] = {} if outcome is None else outcome

    def __enter__(self) -> BlockingCall:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        error = None
        if exc_type is not None and not issubclass(exc_type, self._timeouts):
            error = exc_type.__name__
        fields: dict[str, Any] = {}
        if self._reports_result:
            fields["result"] = self.result
            fields["timed_out"] = not self.result and error is None
        fields.update(self.outcome)
        fields["error"] = error
        self._rec._end_blocking(self._end, self._obj, self._site, self.begin, fields)


def seconds(timeout: object) -> float | None:
    """A begin line's ``timeout``: seconds, or None for none (or one we cannot read).

    Never raises: an odd timeout is the call's to refuse, not ours.
    """
    if timeout is None:
        return None
    try:
        return float(timeout)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def _forget_in_child() -> None:
    """After os.fork(), in the child: record nothing, and never end the parent's trace.

    The writer thread did not survive the fork and the file is the parent's:
    a child writing to it would interleave lines, and a child's trace.end
    would close the parent's trace.  Locks another thread held at the fork
    stay held in the child forever, so they are replaced.
    """
    global current, _start_lock
    _start_lock = _thread.allocate_lock()
    rec, current = current, None
    if rec is not None:
        rec._lock = _thread.RLock()
        rec._open = False
        rec._pending = []


os.register_at_fork(after_in_child=_forget_in_child)


def end_reason(exc: BaseException | None) -> tuple[str, str | None, int | None]:
    """trace.end's reason, detail and exit code for a block ended by ``exc``."""
    if exc is None:
        return "completed", None, None
    if isinstance(exc, KeyboardInterrupt):
        return "interrupt", "KeyboardInterrupt", None
    if isinstance(exc, SystemExit):
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        return "exit", None, code
    return "exception", type(exc).__name__, None


def _seq_of(captured: Captured) -> int:
    return captured[0]


_site.internal(__file__)
