"""The event sink in pure Python: the reference twin of the native ``_csink``.

A sink stamps each event with ``seq`` and the clock, keeps it until the
writer drains it, and encodes drained events as JSON lines.  Both sinks have
the same methods, the same behaviour and the same tests; ``capture`` picks
one.

Where the time goes, in Python: the busiest operations (List.append and
pop, Event.set, clear and wait) are ``pyfast``'s functions, one frame each,
while recording; encoding (``jsonlines``) is done, for a plain trace, by an
encoding process of the sink's own (``pump``, ``offload``), so that it is
not paid on the program's GIL; for other traces, and whenever that process
is missing, by the writer thread (``drain_lines``).

Invariants:
* ``seq`` comes from one counter, taken inside the traced primitive's own
  critical section, so for one object ``seq`` order is the true order.
* ``seq`` is taken, the clock read and the event queued under ``_lock``, a
  raw lock held for those three steps only (a leaf: nothing is acquired
  under it; taken, when busy, by letting the GIL go and trying again, as
  ``pyfast._take_turn`` explains).  ``next(counter)`` and ``list.append`` are each atomic under the
  GIL, but a thread can be switched out between them; without the lock a
  starved thread's event would reach the writer after later ones, and no
  hold-back can tell a late event from a lost one.  The native sink needs no
  lock: one C call that never lets go of the GIL does the three steps.
* ``_pending`` is flat: every event takes ``WIDTH`` slots, added in one
  ``+=`` of a tuple (one C call, atomic under the GIL) by the program's
  threads and cut from the front by the writer (``del p[:n]`` after reading
  ``n`` slots, ``n`` a multiple of ``WIDTH``), so no event is lost between
  them and a record is never split.  Flat, an event leaves behind no object
  for the garbage collector to track: a tuple per event was a collection
  every few hundred events.
"""

from __future__ import annotations

import _thread
import itertools
import threading
import time
from collections.abc import Callable
from typing import Any

from tracer.recording import jsonlines, offload
from tracer.recording import site as _site

#: One captured event, as ``WIDTH`` consecutive slots of ``_pending``:
#: (seq, ts, event, thread, thread_id, obj, site, fields, v0, v1, v2, v3).
#: ``fields`` is a dict or None, and the values None; or, from the fast
#: paths (``pyfast``), a tuple of up to four field names, whose values are
#: v0, v1, ... in the same order.
Captured = tuple[Any, ...]
WIDTH = jsonlines.WIDTH
#: The slots after ``fields`` of an event whose fields are a dict.
_NO_VALUES = (None, None, None, None)

#: Whether ``pump`` hands encoding to a process of its own (``offload``);
#: a test may turn it off.
OFFLOAD = True
#: Events encoded at a time, here or by the encoding process: small enough
#: that a batch's lines, held twice on their way out, stay a few MB, and
#: that a few batches in flight keep both processes busy.
ENCODE_CHUNK = 1 << 14

#: How long an emit waits for room before counting its event as dropped.
ROOM_PATIENCE_S = 5.0

_monotonic_ns = time.monotonic_ns
_get_ident = _thread.get_ident
#: Tries (each after letting the GIL go) before blocking on a busy lock.
_TURNS = 100
_active = threading._active  # type: ignore[attr-defined]
_current_thread = threading.current_thread
_sleep = time.sleep


def _thread_name(ident: int) -> str:
    # threading.current_thread().name, without its two Python-level calls:
    # the registry maps ident to Thread, whose name lives in ``_name``.  A
    # thread threading did not start is not there: it makes up a dummy.
    thread: Any = _active.get(ident) or _current_thread()
    name: str = thread._name
    return name


def take_turn(lock: Any) -> None:
    """Acquire ``lock``, held by another thread, without joining a lock convoy."""
    # A thread that blocks on a lock takes it, when it is let go, without
    # the GIL, then waits for the GIL while holding it; the thread that let
    # it go, holding the GIL, blocks on it at its next operation, and so on:
    # every operation a hand-over of both, two context switches.  Letting
    # the GIL go (sleep(0)) and trying again takes the lock only while
    # holding the GIL.  A holder that keeps it long (a reference path
    # waiting on something) is waited for by blocking, after a while.
    for _ in range(_TURNS):
        _sleep(0)
        if lock.acquire(False):
            return
    lock.acquire()


class Sink:
    """Events of one recording between capture and the writer."""

    def __init__(self, first_seq: int = 0, max_pending: int = 1 << 18) -> None:
        self._counter = itertools.count(first_seq)
        self._pending: list[Any] = []  # WIDTH slots an event
        # Reentrant: a signal handler may record in the middle of an emit.
        self._lock = _thread.RLock()
        self._last_ts = 0
        self._max_pending = max_pending
        #: Slots of ``_pending`` that ``max_pending`` events take.
        self._room = max_pending * WIDTH
        self._open = True
        #: Events that could not be kept (no room in time, or closed mid-way).
        self.dropped = 0
        #: begin seq -> (thread, thread_id, event, obj, site, ts) of every
        #: blocking call that has begun and not ended.
        self.blocked: dict[int, tuple[str, int, str, Any, Any, int]] = {}
        self._site_names: dict[Any, str] = {}  # a program has few call sites
        self._process: offload.EncodingProcess | None = None
        self._taken_ts = 0
        self._offload_tried = False

    # --- the hot path -------------------------------------------------------

    def emit(self, event: str, obj: Any, site: Any, fields: dict[str, Any] | None = None) -> int:
        """Capture one event of the calling thread; return its seq (-1 once closed)."""
        # The hot path, written out in one function: every call saved here
        # is paid on each traced operation of the program.
        if not self._open:
            return -1
        pending = self._pending
        if len(pending) >= self._room and not self._wait_for_room():
            self.dropped += 1
            return -1
        ident = _get_ident()
        thread: Any = _active.get(ident) or _current_thread()
        name = thread._name
        if type(site) is tuple:
            site = self._site_names.get(site) or self._name_site(site)
        lock = self._lock
        if not lock.acquire(False):
            take_turn(lock)
        try:
            if not self._open:  # closed while this thread looked for room
                return -1
            seq = next(self._counter)
            pending += (seq, _monotonic_ns(), event, name, ident, obj, site, fields, *_NO_VALUES)
        finally:
            lock.release()
        return seq

    def emit_as(
        self,
        event: str,
        obj: Any,
        site: Any,
        fields: dict[str, Any] | None,
        thread: str,
        thread_id: int,
    ) -> int:
        """Capture one event on behalf of ``thread`` (a thread's first and last lines)."""
        return self._capture(event, obj, site, fields, thread, thread_id)

    def begin(self, event: str, obj: Any, site: Any, fields: dict[str, Any] | None = None) -> int:
        """Capture a blocking call's begin line and remember it until its end."""
        ident = _get_ident()
        name = _thread_name(ident)
        seq = self._capture(event, obj, site, fields, name, ident)
        if seq >= 0:
            self.blocked[seq] = (name, ident, event, obj, site, _monotonic_ns())
        return seq

    def end(self, begin_seq: int, event: str, obj: Any, site: Any, fields: dict[str, Any]) -> int:
        """Capture a blocking call's end line (``begin_seq`` first) and forget its begin."""
        self.blocked.pop(begin_seq, None)
        ident = _get_ident()
        return self._capture(
            event, obj, site, {"begin_seq": begin_seq, **fields}, _thread_name(ident), ident
        )

    def _capture(
        self,
        event: str,
        obj: Any,
        site: Any,
        fields: dict[str, Any] | None,
        thread: str,
        ident: int,
    ) -> int:
        if not self._open:
            return -1
        pending = self._pending
        if len(pending) >= self._room and not self._wait_for_room():
            self.dropped += 1
            return -1
        if type(site) is tuple:
            site = self._site_names.get(site) or self._name_site(site)
        lock = self._lock
        if not lock.acquire(False):
            take_turn(lock)
        try:
            if not self._open:
                return -1
            seq = next(self._counter)
            pending += (seq, _monotonic_ns(), event, thread, ident, obj, site, fields, *_NO_VALUES)
        finally:
            lock.release()
        return seq

    def _name_site(self, site: Any) -> str:
        # Sites are named at capture, once each, as the native sink names
        # them and as pyfast does: the encoder, wherever it runs, gets names.
        name: str = _site.site_name(site)
        self._site_names[site] = name
        return name

    def _wait_for_room(self) -> bool:
        """Wait, off the GIL, until the writer has drained; False when it never did."""
        deadline = _monotonic_ns() + int(ROOM_PATIENCE_S * 1e9)
        while len(self._pending) >= self._room:
            if not self._open or _monotonic_ns() > deadline:
                return False
            _sleep(0.0005)
        return True

    # --- the writer's side ----------------------------------------------------

    @property
    def pending(self) -> int:
        """Events captured and not yet drained."""
        return len(self._pending) // WIDTH

    def wait(self, timeout: float, threshold: int) -> None:
        """Return after ``timeout`` seconds, or sooner once ``threshold`` events wait."""
        deadline = time.monotonic() + timeout
        slots = threshold * WIDTH
        while len(self._pending) < slots and self._open:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            _sleep(min(left, 0.002))

    def close(self) -> int:
        """Accept no more events; return the seq the next event would have had."""
        with self._lock:  # no emit is half-way: every event before is in
            self._open = False
            return next(self._counter)

    def drain(self, limit: int, site_name: Callable[[Any], str], final: bool = False) -> bytes:
        """Encode up to ``limit`` events, in ``seq`` order, as JSON lines.

        ``final`` is for the native twin's signature: here every drain is
        already whole.
        """
        return self.drain_lines(limit, site_name, final)[0]

    def drain_lines(
        self, limit: int, site_name: Callable[[Any], str], final: bool = False
    ) -> tuple[bytes, int]:
        """``drain()``, and how many lines the bytes hold, so the writer need not count them."""
        if self._process is not None:
            return b"", 0  # the encoding process writes them: see pump()
        batch = self._take(min(limit, ENCODE_CHUNK))
        if not batch:
            return b"", 0
        return self._encode(batch, site_name), len(batch) // WIDTH  # one line per event

    def pump(self, fd: int, limit: int) -> tuple[int, int, int]:
        """Hand what waits, ``limit`` events a batch, to an encoding process writing to ``fd``.

        The native sink's ``pump``, with the encoding moved off the
        program's GIL (``offload``) where the native one moves it off the
        GIL.  Returns (lines written, lines lost, errno of a failed write or
        0), as the native one does, counting lines as written once the
        process has them; the sink's closing (or the process failing) ends
        the process, and its answer corrects the count: lines it was handed
        and never wrote come back as negative written and as lost.
        Whatever is left once the process is gone (or when it cannot start)
        ``drain_lines`` encodes.
        """
        process = self._process
        if process is None:
            if self._offload_tried or not OFFLOAD:
                return 0, 0, 0
            self._offload_tried = True
            process = self._process = offload.start(fd)
            if process is None:
                return 0, 0, 0
        closed = not self._open  # read first: once closed, this pump takes every event
        before, failed = process.sent, False
        # Taken a frame's worth at a time: all at once would leave the room
        # free for as many again while these wait for the process.
        while batch := self._take(min(limit, ENCODE_CHUNK)):
            last_ts = self._last_ts
            self._last_ts = max(last_ts, self._taken_ts)
            if process.send(batch, last_ts):
                continue
            # Encoding here, on the GIL, whenever the process is behind was
            # tried: it slowed the program more than waiting for room did.
            # Only a batch marshal would not take is encoded here.
            self._last_ts = last_ts
            if process.alive:
                data = self._encode(batch, _site.site_name)
                if process.send_lines(data, len(batch) // WIDTH, last_ts):
                    continue
            # Gone: the batch goes back, before anything captured since, for
            # drain_lines to encode once the process has been seen out.
            with self._lock:
                self._pending[0:0] = batch
            failed = True
            break
        lines = process.sent - before
        if not (closed or failed):
            process.unanswered()
            return lines, 0, 0
        self._process = None
        written, errno = process.close()
        return lines + written - process.sent, process.sent - written, errno

    def _take(self, limit: int) -> list[Any]:
        """Up to ``limit`` events off the front of ``_pending``, flat, in ``seq`` order.

        Sets ``_taken_ts``: the latest ts among them.
        """
        lock = self._lock
        if not lock.acquire(False):
            take_turn(lock)
        try:
            pending = self._pending
            n = min(len(pending), limit * WIDTH)
            batch = pending[:n]
            seqs = batch[::WIDTH]
            # Queued in seq order, but for a signal handler that records
            # inside an emit: it queues its later seq first.  Both are in
            # before the lock is let go, and the cut takes the earlier one
            # along.  (In order, the last is the largest: max() costs more
            # than the check.)
            ordered = seqs == sorted(seqs)
            top = (seqs[-1] if ordered else max(seqs)) if seqs else -1
            if n < len(pending) and pending[n] < top:
                while n < len(pending) and pending[n] < top:
                    batch += pending[n : n + WIDTH]
                    n += WIDTH
                seqs = batch[::WIDTH]
                ordered = False
            del pending[:n]
        finally:
            lock.release()
        if ordered:
            # ts is read with seq under the lock: in seq order, in ts order.
            self._taken_ts = batch[1 - WIDTH] if batch else 0
        else:
            records = sorted(zip(*[iter(batch)] * WIDTH, strict=True), key=_seq_of)
            batch = [slot for record in records for slot in record]
            self._taken_ts = max(batch[1::WIDTH])
        return batch

    def _encode(self, batch: list[Any], site_name: Callable[[Any], str]) -> bytes:
        # Sites come named (see _name_site); site_name serves any that a
        # caller queued unnamed.
        records = zip(*[iter(batch)] * WIDTH, strict=True)
        data, self._last_ts = jsonlines.encode(records, site_name, self._last_ts)
        return data


def _seq_of(record: Captured) -> int:
    seq: int = record[0]
    return seq
