"""``tracer.Event``: ``threading.Event`` that records set, clear and wait.

What makes lost wake-ups visible is recorded at the instant it is true, under
the Event's own lock: how many threads a ``set()`` released (``waiters``),
the flag a ``wait()`` found, and which ``set()`` released each waiter.
"""

from __future__ import annotations

import _thread
import threading

from synctrace import schema
from tracer.recording import capture as _capture
from tracer.recording import names as _names
from tracer.recording import recorder as _recorder
from tracer.recording import site as _site

# Captured before anything can patch threading, so that our own internals are
# never traced primitives.
_RawCondition = threading.Condition
# The native sink does the common set(), clear() and wait() whole in C
# (Sink.event_set, event_clear, event_wait: the same steps under the same
# lock, the same lines) and answers NotImplemented, having done nothing, for
# every other case, which the code below then handles: this file stays the
# reference for what they do.
_NATIVE = _capture.NATIVE
# On the pure sink, pyfast's twins of those fast paths (a test may turn them off).
_PYFAST = True


class Event(threading.Event):
    """A drop-in for ``threading.Event`` whose operations are traced.

    With no recording running it behaves, and costs, as the plain Event.
    """

    # Invariants (under ``_cond``):
    # * ``_waiting`` maps the begin seq of every recorded wait() still inside
    #   the Event to the seq of the set() that released it, or None while it
    #   is blocked; ``waiters`` of a set() is the count of None values.
    # * ``_seen`` is True once someone has observed the current set()
    #   (a released waiter, a wait() that found the flag up, an is_set()).

    def __init__(self, *, name: str | None = None) -> None:
        # Not super().__init__(): that builds its Condition from threading's
        # module globals, which ``tracer run`` may have replaced.
        self._cond = _RawCondition(_thread.allocate_lock())
        self._flag = False
        self.name = _names.claim("Event", name, owner=self)
        self._waiting: dict[int, int | None] = {}
        self._seen = True

    def __repr__(self) -> str:
        state = "set" if self._flag else "unset"
        blocked = sum(1 for v in self._waiting.values() if v is None)
        return f"<tracer.Event {self.name!r} {state}, {blocked} recorded waiters>"

    def is_set(self) -> bool:
        flag = self._flag
        rec = _recorder.current
        if rec is None or not flag or self._seen:
            return flag
        with self._cond:
            if self._flag and not self._seen:
                self._seen = True
                rec.emit(schema.EVENT_IS_SET, self.name, _site.caller_site(), {"result": True})
            return self._flag

    def set(self) -> None:
        rec = _recorder.current
        if rec is not None and _NATIVE and rec.sink.event_set(self) is None:
            return
        with self._cond:
            if rec is not None:
                waiting = self._waiting
                released = [begin for begin, by in waiting.items() if by is None]
                seq = rec.emit(
                    schema.EVENT_SET,
                    self.name,
                    _site.caller_site(),
                    {"waiters": len(released), "flag": self._flag},
                )
                for begin in released:
                    waiting[begin] = seq
                self._seen = bool(released)
            self._flag = True
            self._cond.notify_all()

    def clear(self) -> None:
        rec = _recorder.current
        if rec is not None and _NATIVE and rec.sink.event_clear(self) is None:
            return
        with self._cond:
            if rec is not None:
                rec.emit(schema.EVENT_CLEAR, self.name, _site.caller_site(), {"flag": self._flag})
            self._flag = False

    def wait(self, timeout: float | None = None) -> bool:
        rec = _recorder.current
        if rec is None:
            with self._cond:
                signaled = self._flag
                if not signaled:
                    signaled = self._cond.wait(timeout)
                return signaled
        if _NATIVE and rec.sink.event_wait(self, timeout) is True:
            return True
        site = _site.caller_site()
        with self._cond:
            flag = self._flag
            timeout_s = None if timeout is None else _recorder.seconds(timeout)
            if flag:
                # Returns at once: the same begin and end lines, without the
                # machinery a call that may block needs.
                self._seen = True
                begin = rec.begin(
                    schema.EVENT_WAIT_BEGIN, self.name, site, {"flag": True, "timeout": timeout_s}
                )
                rec.end(
                    begin,
                    schema.EVENT_WAIT_END,
                    self.name,
                    site,
                    {"result": True, "timed_out": False},
                )
                return True
            with rec.blocking(
                schema.EVENT_WAIT_BEGIN,
                self.name,
                site,
                {"flag": flag, "timeout": timeout_s},
                outcome={"woken_by": None},
            ) as call:
                signaled = flag
                if flag:
                    self._seen = True
                else:
                    self._waiting[call.begin] = None
                    try:
                        signaled = self._cond.wait(timeout)
                    finally:
                        woken_by = self._waiting.pop(call.begin, None)
                    call.outcome["woken_by"] = woken_by if signaled else None
                call.result = signaled
            return signaled


_site.internal(__file__)


# On the pure sink, set, clear and wait while recording are pyfast's twins of
# the native fast paths, bound to the recording; they hand every case they
# do not handle to the methods above, which stay the reference.
_TRACED = {name: Event.__dict__[name] for name in ("set", "clear", "wait")}


def _switch(recording: bool) -> None:
    methods = _TRACED
    rec = _recorder.current
    # _NATIVE read now: a test may turn the native paths off.
    if recording and not _NATIVE and _PYFAST and rec is not None:
        # Imported here: where the native sink records it is never needed.
        from tracer.recording import pyfast

        if pyfast.serves(rec.sink):
            fast = pyfast.event_methods(rec.sink, *_TRACED.values())
            methods = dict(zip(_TRACED, fast, strict=True))
    for name, method in methods.items():
        setattr(Event, name, method)


_recorder.on_recording(_switch)
