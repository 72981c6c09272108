"""``tracer.Condition``: ``threading.Condition`` that records wait and notify.

A notify() that reaches no waiter is legal here (correct code re-checks its
predicate in a loop), so it is recorded with ``waiters`` 0 and left to the
analyzer to judge, unlike an Event's set(), whose effect can be erased.
"""

from __future__ import annotations

import _thread
import threading
from typing import Any

from synctrace import schema
from tracer.recording import names as _names
from tracer.recording import recorder as _recorder
from tracer.recording import site as _site
from tracer.recording.recorder import Recorder


class Condition(threading.Condition):
    """A drop-in for ``threading.Condition`` whose wait and notify are traced."""

    # Invariant (under the condition's lock): ``_waiting`` maps the begin seq
    # of each recorded wait() to the seq of the notify that released it, or
    # None while it waits.  Entries are in the order the waits began, which is
    # the order threading's Condition releases its waiters in.

    def __init__(self, lock: Any = None, *, name: str | None = None) -> None:
        # A raw RLock, as threading.Condition would make, but never a traced one.
        super().__init__(_thread.RLock() if lock is None else lock)
        self.name = _names.claim("Condition", name, owner=self)
        self._waiting: dict[int, int | None] = {}

    def __repr__(self) -> str:
        return f"<tracer.Condition {self.name!r}, {len(self._waiters)} waiters>"  # type: ignore[attr-defined]

    def wait(self, timeout: float | None = None) -> bool:
        rec = _recorder.current
        if rec is None or not self._is_owned():  # type: ignore[attr-defined]
            # Unowned: let threading raise its RuntimeError, unrecorded.
            return super().wait(timeout)
        site = _site.caller_site()
        timeout_s = _recorder.seconds(timeout)
        with rec.blocking(
            schema.COND_WAIT_BEGIN,
            self.name,
            site,
            {"timeout": timeout_s},
            outcome={"woken_by": None},
        ) as call:
            self._waiting[call.begin] = None
            try:
                result = super().wait(timeout)
            finally:
                woken_by = self._waiting.pop(call.begin, None)
            call.result = result
            call.outcome["woken_by"] = woken_by if result else None
        return result

    def notify(self, n: int = 1) -> None:
        rec = _recorder.current
        if rec is not None:
            self._record_notify(rec, n, every=False)
        super().notify(n)

    def notify_all(self) -> None:
        rec = _recorder.current
        if rec is not None:
            self._record_notify(rec, None, every=True)
        # One line for the whole call.  Not super().notify_all(): it calls
        # self.notify(), which would write a second line.  Nor
        # threading.Condition.notify(): under ``tracer run`` that name is the
        # patched subclass, whose notify is ours, and the second line (no
        # waiters left) would read as an unheard notify.
        super().notify(len(self._waiters))  # type: ignore[attr-defined]

    def _record_notify(self, rec: Recorder, n: int | None, *, every: bool) -> None:
        if not self._is_owned():  # type: ignore[attr-defined]
            return  # threading raises its RuntimeError: nothing was notified
        pending = [begin for begin, by in self._waiting.items() if by is None]
        released = pending if n is None else pending[: max(n, 0)]
        seq = rec.emit(
            schema.COND_NOTIFY,
            self.name,
            _site.caller_site(3),
            {"waiters": len(pending), "woken": len(released), "all": every},
        )
        for begin in released:
            self._waiting[begin] = seq


_site.internal(__file__)
