"""The recording: one trace's lifecycle, its sink and its writer thread.

Invariants:
* Events are captured by the sink (``capture.Sink``: native where built,
  else pure Python) with no lock of ours on the hot path: ``seq`` and the
  clock are taken inside the traced primitive's own critical section, which
  makes the order of ``seq`` for one object the true order of its
  operations.  ``emit`` is the sink's own method, bound on the instance, so
  a traced operation costs one call into the sink.
* The program's threads never write the file; one background thread (a raw
  ``_thread`` thread, so it neither appears in ``threading.enumerate()`` nor
  shifts ``Thread-N`` numbering) drains the sink, in ``seq`` order, every
  ``flush_interval`` seconds or as soon as a quarter of ``max_pending``
  events wait, and writes them.
* At most ``max_pending`` events wait in memory.  When the writer falls that
  far behind, the program's thread waits for room (off the GIL) rather than
  lose events; an event that finds no room within a few seconds (the disk
  has stalled) is counted in trace.end's ``events_dropped``, never lost
  silently.
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
from collections.abc import Callable
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from synctrace import schema
from tracer.primitives import threads as _threads
from tracer.recording import capture
from tracer.recording import logs as _logs
from tracer.recording import site as _site
from tracer.recording.site import RawSite
from tracer.recording.writer import TraceWriter

#: The recording in progress, or None.  Traced primitives read this on every
#: call: when it is None they do nothing but the plain operation.
current: Recorder | None = None
_start_lock = _thread.allocate_lock()
_generations = itertools.count(1)

#: How often the writer flushes: a killed process loses at most about this.
FLUSH_INTERVAL = 0.1
#: Events held in memory at most.  A program that makes events faster than
#: the writer can write them fills any room and then runs at the writer's
#: pace.  The native writer drains without the GIL (it never queues behind
#: the program's threads), but it shares the machine with them, and a burst
#: that outruns it for a moment waits for room unless there is plenty.
#: Four threads doing nothing but traced operations, in-run against bare,
#: peak memory above the bare run (medians of interleaved rounds of
#: bench/workload.py on a 2-core machine that others were using too, so
#: the ranges are wide; measured before the List fast paths became cheaper):
#:
#:   room / batch       in-run              peak memory
#:   262,144 / 16,384   2.3x [1.9-4.2]      +59 MB
#:   262,144 / 65,536   2.8x [2.2-4.0]      +67 MB
#:   131,072 / 16,384   3.1x [1.6-4.5]      +35 MB
#:    65,536 / 16,384   4.5x [4.0-5.3]      +26 MB
#:
#: Speed is what the trace is for (a slowed program takes other
#: interleavings), so the native sink takes the first; on a quiet machine
#: the benchmark now runs it at 1.9x bare and +54 MB (docs/performance.md).
#: A native record is 192 bytes, and the ring's memory is only touched as
#: records fill it.  A pure record is a dozen slots of Python objects,
#: several times that, and the pure writer is the slower side anyway: it
#: gets 65,536.
MAX_PENDING = 1 << 18 if capture.NATIVE else 1 << 16
#: Events the writer encodes per batch (and per write() of a plain trace):
#: the encoding buffer holds one batch.  The native writer needs no GIL
#: between batches, so a small batch costs it only a write() more.
DRAIN_CHUNK = 1 << 14 if capture.NATIVE else 1 << 16


def _no_hand_over(sink: Any, generation: int | None) -> None:
    """The pure sink has no native methods to tell of a recording."""


#: Tells the native module which sink the methods it installs on drop-ins
#: (List.append, List.pop) record into: (sink, generation) as a recording
#: starts, (None, None) as it stops.
_hand_over: Callable[[Any, int | None], None] = _no_hand_over
if capture.NATIVE:
    from tracer.recording import _csink

    _hand_over = _csink.set_recording

#: Called with True when a recording starts and False when it stops: drop-ins
#: that cost nothing unrecorded swap their methods here.
_switches: list[Callable[[bool], None]] = []


def on_recording(switch: Callable[[bool], None]) -> None:
    """Have ``switch(True)`` called as each recording starts, ``switch(False)`` as it stops."""
    _switches.append(switch)
    if current is not None:
        switch(True)


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
        time_scale: float = 1.0,
        redact: bool = False,
    ) -> None:
        self.path = os.fspath(path)
        #: ``tracer run --time-scale``: written in trace.start when not 1.
        self.time_scale = time_scale
        #: ``--redact``: values, exception and log messages, argv and host are
        #: written as salted hashes (the writer does it; trace.start says so).
        self.redact = redact
        #: Changes with each recording, so containers know when their item
        #: numbering belongs to an earlier one.
        self.generation = next(_generations)
        self._writer = TraceWriter(self.path, redact=redact)  # raises TraceFileError first
        self._flush_interval = flush_interval
        # seq 0 is trace.start, which the recorder writes itself.
        #: Where events go: drop-ins with a native fast path (List) call it.
        self.sink = self._sink = capture.Sink(1, max_pending)
        self._threshold = max(1, max_pending // 4)
        #: The sink's hot-path methods, bound once: ``rec.emit(...)`` is a
        #: single call into the sink.
        self.emit = self._sink.emit
        self.emit_as = self._sink.emit_as
        #: A blocking call that cannot block (its answer is known at once)
        #: writes its begin and end lines with these, skipping BlockingCall.
        self.begin = self._sink.begin
        self.end = self._sink.end
        self._end_line: dict[str, Any] | None = None
        self._lost = 0  # events the writer could not write
        self._stopping = False
        self._started = False
        self._done = _thread.allocate_lock()

    # --- the hot path ---------------------------------------------------------

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
        begin = self._sink.begin(begin_event, obj, site, fields)
        return BlockingCall(
            self, schema.BLOCKING[begin_event], obj, site, begin, outcome, timeouts, reports_result
        )

    @property
    def blocked(self) -> dict[int, tuple[Any, ...]]:
        """Begin seq -> (thread, thread_id, event, obj, site, ts) of calls not yet ended."""
        return self._sink.blocked  # type: ignore[no-any-return]

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
            thread = threading.current_thread()
            start = {
                "event": schema.TRACE_START,
                "ts": time.monotonic_ns(),
                "seq": 0,
                "thread": thread.name,
                "thread_id": _thread.get_ident(),
                "schema": schema.SCHEMA,
                "run_id": uuid.uuid4().hex,
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "python": platform.python_version(),
                "argv": list(sys.argv),
                "wall_time": datetime.now(UTC).isoformat(),
                "native": capture.NATIVE,
            }
            if self.time_scale != 1:
                start["time_scale"] = float(self.time_scale)
            self._lost += self._writer.write(self._writer.render(start))
            self._started = True
            current = self
            _hand_over(self._sink, self.generation)
            _logs.start(self.emit)
            for switch in _switches:
                switch(True)
        _threads.install()
        self._done.acquire()
        _thread.start_new_thread(self._write_loop, ())
        return self

    def stop(
        self, reason: str = "completed", detail: str | None = None, exit_code: int | None = None
    ) -> None:
        """Write trace.end and everything captured before it; close the file.

        Threads that are still running keep running; their later operations
        are simply not recorded.
        """
        global current
        with _start_lock:
            if current is self:
                _logs.stop()
                for switch in _switches:
                    switch(False)
                current = None
                _hand_over(None, None)
                _threads.uninstall()
            if self._stopping or not self._started:
                return
            self._stopping = True
        sink = self._sink
        seq = sink.close()
        blocked = [
            _without_nulls(
                {
                    "thread": b[0],
                    "thread_id": b[1],
                    "event": b[2],
                    "obj": b[3],
                    "site": None if b[4] is None else _site.site_name(b[4]),
                    "begin_seq": begin,
                    "ts": b[5],
                }
            )
            for begin, b in sorted(sink.blocked.items())
        ]
        thread = threading.current_thread()
        self._end_line = _without_nulls(
            {
                "event": schema.TRACE_END,
                "ts": time.monotonic_ns(),
                "seq": seq,
                "thread": thread.name,
                "thread_id": _thread.get_ident(),
                "reason": reason,
                "detail": detail,
                "exit_code": exit_code,
                "blocked": blocked,
            }
        )
        # The writer drains what is left, writes the line above and closes
        # the file.  Wait for it, but never forever: a stuck disk must not
        # hang the program at exit.
        if self._done.acquire(timeout=10):
            self._done.release()

    def _write_loop(self) -> None:
        sink, writer = self._sink, self._writer
        # The native sink writes a plain trace's lines itself, with the GIL
        # once a batch, and the pure sink has an encoding process write them
        # (see Sink.pump); compressed and redacted traces go through
        # drain_lines() and the writer.  Whatever pump leaves (nothing,
        # unless a write failed) the loop below drains.
        pump = getattr(sink, "pump", None)
        # The native sink lets written records' references go lazily (see
        # Sink.trim); the pure one lets them go as it drains.
        trim = getattr(sink, "trim", None)
        try:
            while True:
                # Read before draining: once it is set, the sink is closed, so
                # this drain takes every event there will ever be.
                end_line = self._end_line
                sink.wait(self._flush_interval, self._threshold)
                # Fewer than a threshold's worth came in a whole interval:
                # the program is quiet, and trimming costs it nothing.
                quiet = sink.pending < self._threshold
                fd = writer.direct_fd
                if fd is not None and pump is not None:
                    self._lost += writer.wrote(*pump(fd, DRAIN_CHUNK))
                while True:
                    data, lines = sink.drain_lines(
                        DRAIN_CHUNK, writer.site_name, end_line is not None
                    )
                    if not data:
                        break
                    self._lost += writer.write(data, lines)
                    # The native sink lends its encoding buffer (a Lines):
                    # held here, the next drain would have to allocate another.
                    del data
                if end_line is not None:
                    self._write_end(end_line)
                    break
                if quiet and trim is not None:
                    trim()
                writer.sync()
        except BaseException as exc:  # a bug of ours must not pass silently
            print(
                f"synctrace: the trace writer stopped ({type(exc).__name__}: {exc});"
                " the program runs on",
                file=sys.stderr,
            )
        finally:
            # With no writer left, threads must not wait for room it would
            # have made: a closed sink turns every later event away at once.
            sink.close()
            writer.close()
            self._done.release()

    def _write_end(self, line: dict[str, Any]) -> None:
        line["events_written"] = self._writer.written
        line["events_dropped"] = self._sink.dropped + self._lost
        self._writer.write(self._writer.render(line))

    @property
    def events_written(self) -> int:
        """Lines on disk so far (all of them, trace.end included, once stopped)."""
        return self._writer.written

    @property
    def events_dropped(self) -> int:
        return int(self._sink.dropped) + self._lost

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


def _without_nulls(line: dict[str, Any]) -> dict[str, Any]:
    """A line as the trace writes it: a field with no value is left out."""
    return {key: value for key, value in line.items() if value is not None}


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
        self._rec._sink.end(self.begin, self._end, self._obj, self._site, fields)


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
        # The child's copy of the sink still holds the parent's unwritten
        # events; closing it makes the child's drop-ins record nothing.
        rec._stopping = True
        rec._sink.close()
        _logs.stop()
        _hand_over(None, None)
        for switch in _switches:
            switch(False)


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


_site.internal(__file__)
