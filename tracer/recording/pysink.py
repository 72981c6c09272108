"""The event sink in pure Python: the reference twin of the native ``_csink``.

A sink stamps each event with ``seq`` and the clock, keeps it until the
writer drains it, and encodes drained events as JSON lines.  Both sinks have
the same methods, the same behaviour and the same tests; ``capture`` picks
one.

Invariants:
* ``seq`` comes from one counter, taken inside the traced primitive's own
  critical section, so for one object ``seq`` order is the true order.
* No lock on the hot path.  ``next(counter)`` and ``list.append`` are each
  atomic under the GIL, but a thread may be switched out between taking its
  ``seq`` and appending the event, so events can reach ``_pending`` out of
  order.  ``drain`` therefore sorts and hands out only the unbroken run of
  ``seq`` from the last one written; a later ``seq`` waits (``_held``) until
  the gap is filled.  A gap that stays open past ``GAP_PATIENCE_S`` (an
  exception struck between the two steps) is skipped, so it never holds the
  trace back for good.
* ``ts`` is read right after ``seq``; the same switch can make it lag a later
  event's, so ``drain`` writes ``max(ts, previous ts)``: a trace's ``ts``
  never decreases along ``seq``.
* ``_pending`` is only ever appended to by the program's threads and cut from
  the front by the writer (``del p[:n]`` after reading ``n`` items), both
  atomic under the GIL, so no event is lost between them.
"""

from __future__ import annotations

import _thread
import itertools
import json
import math
import threading
import time
from collections.abc import Callable
from typing import Any

import orjson

#: One captured event, in this order:
#: (seq, ts, event, thread, thread_id, obj, site, fields).
Captured = tuple[int, int, str, str, int, Any, Any, dict[str, Any] | None]

#: How long an unfilled gap in ``seq`` may hold later events back.
GAP_PATIENCE_S = 1.0
#: How long an emit waits for room before counting its event as dropped.
ROOM_PATIENCE_S = 5.0

_monotonic_ns = time.monotonic_ns
_get_ident = _thread.get_ident
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


class Sink:
    """Events of one recording between capture and the writer."""

    def __init__(self, first_seq: int = 0, max_pending: int = 1 << 18) -> None:
        self._counter = itertools.count(first_seq)
        self._next_out = first_seq  # the seq drain hands out next
        self._pending: list[Captured] = []
        self._held: list[Captured] = []  # drained but waiting behind a gap
        self._gap_since: float | None = None
        self._last_ts = 0
        self._max_pending = max_pending
        self._open = True
        #: Events that could not be kept (no room in time, or closed mid-way).
        self.dropped = 0
        #: begin seq -> (thread, thread_id, event, obj, site, ts) of every
        #: blocking call that has begun and not ended.
        self.blocked: dict[int, tuple[str, int, str, Any, Any, int]] = {}
        self._site_names: dict[Any, str] = {}  # a program has few call sites

    # --- the hot path -------------------------------------------------------

    def emit(self, event: str, obj: Any, site: Any, fields: dict[str, Any] | None = None) -> int:
        """Capture one event of the calling thread; return its seq (-1 once closed)."""
        # The hot path, written out in one function: every call saved here
        # is paid on each traced operation of the program.
        if not self._open:
            return -1
        pending = self._pending
        if len(pending) >= self._max_pending and not self._wait_for_room():
            self.dropped += 1
            return -1
        ident = _get_ident()
        thread: Any = _active.get(ident) or _current_thread()
        seq = next(self._counter)
        pending.append((seq, _monotonic_ns(), event, thread._name, ident, obj, site, fields))
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
        if len(self._pending) >= self._max_pending and not self._wait_for_room():
            self.dropped += 1
            return -1
        seq = next(self._counter)
        self._pending.append((seq, _monotonic_ns(), event, thread, ident, obj, site, fields))
        return seq

    def _wait_for_room(self) -> bool:
        """Wait, off the GIL, until the writer has drained; False when it never did."""
        deadline = _monotonic_ns() + int(ROOM_PATIENCE_S * 1e9)
        while len(self._pending) >= self._max_pending:
            if not self._open or _monotonic_ns() > deadline:
                return False
            _sleep(0.0005)
        return True

    # --- the writer's side ----------------------------------------------------

    @property
    def pending(self) -> int:
        """Events captured and not yet drained."""
        return len(self._pending)

    def wait(self, timeout: float, threshold: int) -> None:
        """Return after ``timeout`` seconds, or sooner once ``threshold`` events wait."""
        deadline = time.monotonic() + timeout
        while len(self._pending) < threshold and self._open:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            _sleep(min(left, 0.002))

    def close(self) -> int:
        """Accept no more events; return the seq the next event would have had."""
        self._open = False
        seq = next(self._counter)
        return seq

    def drain(self, limit: int, site_name: Callable[[Any], str], final: bool = False) -> bytes:
        """Encode up to ``limit`` events, in ``seq`` order, as JSON lines.

        ``final`` (after ``close``) hands out everything, gaps and all.
        """
        pending = self._pending
        n = min(len(pending), limit)
        batch = pending[:n]
        del pending[:n]
        if self._held:
            batch += self._held
            self._held = []
        if not batch:
            return b""
        batch.sort(key=_seq_of)
        ready = batch
        if not final:
            expected = self._next_out
            cut = 0
            for record in batch:
                if record[0] != expected:
                    break
                expected += 1
                cut += 1
            if cut < len(batch):
                now = time.monotonic()
                if (
                    cut == 0
                    and self._gap_since is not None
                    and (now - self._gap_since > GAP_PATIENCE_S)
                ):
                    cut = len(batch)  # the missing seq will never come
                    self._gap_since = None
                else:
                    if cut > 0 or self._gap_since is None:
                        self._gap_since = now
                    self._held = batch[cut:]
            else:
                self._gap_since = None
            ready = batch[:cut]
        if ready:
            self._next_out = ready[-1][0] + 1
        return self._encode(ready, site_name)

    def _encode(self, batch: list[Captured], site_name: Callable[[Any], str]) -> bytes:
        # structlog's JSONRenderer lays out trace.start and trace.end; event
        # lines take the same layout straight to orjson, which is all that
        # renderer does, at half the cost per line.  Each line goes into one
        # buffer at once: orjson's results are over-allocated, and keeping
        # thousands of them alive until a join costs ten times the encoding.
        dumps, names, newline = orjson.dumps, self._site_names, orjson.OPT_APPEND_NEWLINE
        last_ts = self._last_ts
        out = bytearray()
        add = out.extend
        for seq, ts, event, thread, ident, obj, site, fields in batch:
            if ts < last_ts:
                ts = last_ts
            last_ts = ts
            line: dict[str, Any] = {
                "event": event,
                "ts": ts,
                "seq": seq,
                "thread": thread,
                "thread_id": ident,
            }
            if obj is not None:
                line["obj"] = obj
            if site is not None:
                name = names.get(site)
                if name is None:
                    name = names[site] = site_name(site)
                line["site"] = name
            if fields:
                for key, value in fields.items():
                    if value is not None:
                        line[key] = value
            try:
                add(dumps(line, option=newline))
            except TypeError:  # orjson refuses an int past 64 bits and a lone surrogate
                add(_render_refused(line) + b"\n")
        self._last_ts = last_ts
        return bytes(out)


def _render_refused(line: dict[str, Any]) -> bytes:
    # The batch has already left ``_pending``: raising here would lose all
    # of it.  json writes big ints as digits and escapes surrogates; NaN and
    # infinities become null, as orjson writes them.
    finite = {
        key: None if isinstance(value, float) and not math.isfinite(value) else value
        for key, value in line.items()
    }
    return json.dumps(finite, default=repr, separators=(",", ":")).encode()


def _seq_of(record: Captured) -> int:
    return record[0]
