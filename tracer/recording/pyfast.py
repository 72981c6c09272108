"""The pure sink's fast paths: the native fast paths' twins in Python.

While a recording runs on the pure sink, ``List.append``, ``List.pop`` and
``Event``'s ``set``, ``clear`` and ``wait`` are the functions made here,
each bound to that recording's sink.  A traced operation is then one Python
frame: the call-site walk (cached per call site) and the sink's emit are
written into it, and its fields travel as plain values after a shape
number (``jsonlines.SHAPES``) instead of a dict.  Busy locks are taken by
turns (``pysink.take_turn``), never by blocking first.

Every case they do not handle (a value or index of an odd kind, a thread
threading did not start, a full sink, a waiter that must block, an object
numbered by an earlier recording) they hand, having changed nothing, to the
drop-in's traced method, which stays the reference for what they do: the
same steps, under the same locks, the same lines.

Invariants (those of ``pysink``, kept here by hand):
* ``seq`` is taken, the clock read and the record queued (``WIDTH`` slots in
  one ``extend``) under the sink's lock, inside the primitive's own lock.
* ``wait()`` on a set flag queues its begin and end lines in one hold of the
  sink's lock: a recording that stops in between could otherwise leave a
  begin line with no end and no entry in the sink's ``blocked``.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any

from synctrace import schema
from tracer.primitives.unwind import hand_over
from tracer.recording import jsonlines, pysink
from tracer.recording import site as _site

_getframe = sys._getframe
take_turn = pysink.take_turn
_internal = _site._internal
_active = threading._active  # type: ignore[attr-defined]
_list_append = list.append
_list_pop = list.pop

#: What each fast record carries in its fields slot: its shape's number.
LIST_FIELDS = jsonlines.LIST
SET_FIELDS = jsonlines.SET
CLEAR_FIELDS = jsonlines.CLEAR
WAIT_BEGIN_FIELDS = jsonlines.WAIT_BEGIN
WAIT_END_FIELDS = jsonlines.WAIT_END

# Ints this small have a repr well inside the trace's value limit.
_SMALL = 10**18

#: Call sites, named, by the calling frame's ``f_lasti``: (code, name).
#: Reading ``f_lineno`` walks the code's line table, three times the cost of
#: this look-up; keyed on the code object, the look-up would hash the code,
#: which costs more still.  Two codes with the same ``f_lasti`` take turns in
#: a slot, and a name is used only when its code is the caller's.  Sites are
#: named here, once each, as the native sink names them at capture.
_sites: dict[int, tuple[Any, str]] = {}


def _site_at(frame: Any) -> str | None:
    """The named call site of the frame that called a fast path; cached when it is the program's."""
    code = frame.f_code
    if code.co_filename not in _internal:
        name = _site.site_name((code.co_filename, frame.f_lineno))
        _sites[frame.f_lasti] = (code, name)
        return name
    # Called from a frame of ours (List.extend, a Condition): where that
    # frame was called from is not fixed by its code and position.
    while frame is not None and frame.f_code.co_filename in _internal:
        frame = frame.f_back
    return None if frame is None else _site.site_name((frame.f_code.co_filename, frame.f_lineno))


def serves(sink: Any) -> bool:
    """Whether ``sink`` is the pure sink, whose twins of the fast paths these are.

    A recording may be handed either sink whichever one ``capture`` picked
    (tests do).
    """
    return isinstance(sink, pysink.Sink)


def list_methods(
    sink: pysink.Sink,
    generation: int,
    traced_append: Callable[..., Any],
    traced_pop: Callable[..., Any],
    describe: Callable[[Any], str],
) -> tuple[Callable[..., Any], Callable[..., Any]]:
    """``List.append`` and ``List.pop`` recording into ``sink`` for recording ``generation``.

    ``describe`` is how a value is written (``lists.short_repr``).
    """
    pending, counter, room = sink._pending, sink._counter, sink._room
    queue = pending.extend  # WIDTH slots in one call: an event is never split
    # acquire() and release() rather than ``with``: half the cost, on every event.
    acquire, release = sink._lock.acquire, sink._lock.release
    clock, get_ident, sites = pysink._monotonic_ns, pysink._get_ident, _sites
    append_event, pop_event = schema.LIST_APPEND, schema.LIST_POP

    def append(self: Any, value: Any) -> None:
        ident = get_ident()
        thread = _active.get(ident)
        if thread is None or self._generation != generation or len(pending) >= room:
            return traced_append(self, value)  # type: ignore[no-any-return]
        # Before the lock, as the reference does: a __repr__ may touch the list.
        small = type(value) is int and -_SMALL < value < _SMALL
        text = value if small else describe(value)  # a small int is written as its digits
        frame = _getframe(1)
        known = sites.get(frame.f_lasti)
        site = known[1] if known is not None and known[0] is frame.f_code else _site_at(frame)
        own = self._lock
        if not own.acquire(False):
            take_turn(own)
        try:
            _list_append(self, value)
            self._last_id = item = self._last_id + 1
            ids = self._ids
            _list_append(ids, item)
            depth = len(ids)
            if not acquire(False):
                take_turn(sink._lock)
            try:
                if sink._open:
                    queue(
                        (
                            next(counter),
                            clock(),
                            append_event,
                            thread._name,
                            ident,
                            self.name,
                            site,
                            LIST_FIELDS,
                            item,
                            depth - 1,
                            depth,
                            text,
                        )
                    )
            finally:
                release()
        finally:
            own.release()
        return None

    def pop(self: Any, index: Any = -1) -> Any:
        # The reference cuts our frames from a failed pop's traceback; this
        # frame is ours too, and comes before it.
        try:
            if type(index) is not int:
                return traced_pop(self, index)
            ident = get_ident()
            thread = _active.get(ident)
            if thread is None or self._generation != generation or len(pending) >= room:
                return traced_pop(self, index)
            frame = _getframe(1)
            known = sites.get(frame.f_lasti)
            site = known[1] if known is not None and known[0] is frame.f_code else _site_at(frame)
            own = self._lock
            if not own.acquire(False):
                take_turn(own)
            try:
                n = len(self)
                at = index + n if index < 0 else index
                ids = self._ids
                if not 0 <= at < n or len(ids) != n:
                    # A pop that fails is the reference's to write; the lock is
                    # reentrant, so it may take it from inside this one.
                    return traced_pop(self, index)
                value = _list_pop(self, at)
                item = _list_pop(ids, at)
                small = type(value) is int and -_SMALL < value < _SMALL
                text = value if small else describe(value)  # a small int is written as its digits
                if not acquire(False):
                    take_turn(sink._lock)
                try:
                    if sink._open:
                        queue(
                            (
                                next(counter),
                                clock(),
                                pop_event,
                                thread._name,
                                ident,
                                self.name,
                                site,
                                LIST_FIELDS,
                                item,
                                at,
                                n - 1,
                                text,
                            )
                        )
                finally:
                    release()
            finally:
                own.release()
            return value
        except BaseException as exc:
            hand_over(exc)
            raise

    return append, pop


def event_methods(
    sink: pysink.Sink,
    traced_set: Callable[..., Any],
    traced_clear: Callable[..., Any],
    traced_wait: Callable[..., Any],
) -> tuple[Callable[..., Any], Callable[..., Any], Callable[..., Any]]:
    """``Event.set``, ``Event.clear`` and ``Event.wait`` recording into ``sink``.

    They take the Event's Condition's lock itself (``_cond._lock``): the
    Condition's ``with`` is a Python call of its own.
    """
    pending, counter, room = sink._pending, sink._counter, sink._room
    queue = pending.extend  # WIDTH slots in one call: an event is never split
    acquire, release = sink._lock.acquire, sink._lock.release
    clock, get_ident, sites = pysink._monotonic_ns, pysink._get_ident, _sites
    set_event, clear_event = schema.EVENT_SET, schema.EVENT_CLEAR
    begin_event, end_event = schema.EVENT_WAIT_BEGIN, schema.EVENT_WAIT_END

    def set(self: Any) -> None:
        ident = get_ident()
        thread = _active.get(ident)
        if thread is None or len(pending) >= room:
            return traced_set(self)  # type: ignore[no-any-return]
        frame = _getframe(1)
        known = sites.get(frame.f_lasti)
        site = known[1] if known is not None and known[0] is frame.f_code else _site_at(frame)
        cond = self._cond
        own = cond._lock
        if not own.acquire(False):
            take_turn(own)
        try:
            waiting = self._waiting
            released = [begin for begin, by in waiting.items() if by is None] if waiting else ()
            seq = -1
            if not acquire(False):
                take_turn(sink._lock)
            try:
                if sink._open:
                    seq = next(counter)
                    queue(
                        (
                            seq,
                            clock(),
                            set_event,
                            thread._name,
                            ident,
                            self.name,
                            site,
                            SET_FIELDS,
                            len(released),
                            self._flag,
                            None,
                            None,
                        )
                    )
            finally:
                release()
            for begin in released:
                waiting[begin] = seq
            self._seen = bool(released)
            self._flag = True
            if cond._waiters:  # notify_all() costs a Python call even with no one to wake
                cond.notify_all()
        finally:
            own.release()
        return None

    def clear(self: Any) -> None:
        ident = get_ident()
        thread = _active.get(ident)
        if thread is None or len(pending) >= room:
            return traced_clear(self)  # type: ignore[no-any-return]
        frame = _getframe(1)
        known = sites.get(frame.f_lasti)
        site = known[1] if known is not None and known[0] is frame.f_code else _site_at(frame)
        own = self._cond._lock
        if not own.acquire(False):
            take_turn(own)
        try:
            if not acquire(False):
                take_turn(sink._lock)
            try:
                if sink._open:
                    queue(
                        (
                            next(counter),
                            clock(),
                            clear_event,
                            thread._name,
                            ident,
                            self.name,
                            site,
                            CLEAR_FIELDS,
                            self._flag,
                            None,
                            None,
                            None,
                        )
                    )
            finally:
                release()
            self._flag = False
        finally:
            own.release()
        return None

    def wait(self: Any, timeout: Any = None) -> Any:
        # Only a wait that returns at once is done here: one that may block
        # needs the reference's BlockingCall and its entry in ``_waiting``.
        if not self._flag or (timeout is not None and type(timeout) is not float):
            return traced_wait(self, timeout)
        ident = get_ident()
        thread = _active.get(ident)
        if thread is None or len(pending) + pysink.WIDTH >= room:
            return traced_wait(self, timeout)
        frame = _getframe(1)
        known = sites.get(frame.f_lasti)
        site = known[1] if known is not None and known[0] is frame.f_code else _site_at(frame)
        own = self._cond._lock
        if not own.acquire(False):
            take_turn(own)
        try:
            if not self._flag:  # cleared since the look above: this wait may block
                declined = True
            else:
                declined = False
                self._seen = True
                name, obj = thread._name, self.name
                if not acquire(False):
                    take_turn(sink._lock)
                try:
                    if sink._open:
                        begin = next(counter)
                        queue(
                            (
                                begin,
                                clock(),
                                begin_event,
                                name,
                                ident,
                                obj,
                                site,
                                WAIT_BEGIN_FIELDS,
                                True,
                                timeout,
                                None,
                                None,
                                next(counter),
                                clock(),
                                end_event,
                                name,
                                ident,
                                obj,
                                site,
                                WAIT_END_FIELDS,
                                begin,
                                True,
                                False,
                                None,
                            )
                        )
                finally:
                    release()
        finally:
            own.release()
        # The Condition's lock is not reentrant: the reference takes it anew.
        return traced_wait(self, timeout) if declined else True

    return set, clear, wait


_site.internal(__file__)
