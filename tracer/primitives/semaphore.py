"""``tracer.Semaphore`` and ``tracer.BoundedSemaphore``: acquire and release, traced.

Lines are written under the semaphore's own Condition, the one its counter
lives under, so ``count`` is the counter right after the operation and, for
one semaphore, the order of ``seq`` is the true order of its operations.
"""

from __future__ import annotations

import _thread
import threading
from types import TracebackType

from synctrace import schema
from tracer.recording import names as _names
from tracer.recording import recorder as _recorder
from tracer.recording import site as _site
from tracer.recording.recorder import seconds

# Captured before anything can patch threading: our internals are raw.
_RawCondition = threading.Condition
_RawRLock = _thread.RLock


class Semaphore(threading.Semaphore):
    """A drop-in for ``threading.Semaphore`` whose acquire and release are traced."""

    _kind = "Semaphore"

    # The Condition's lock is reentrant (threading's is not) so that the
    # traced paths can hold it around threading's own acquire and release,
    # which take it again; its wait() releases every level, so waiting is
    # unchanged.

    def __init__(self, value: int = 1, *, name: str | None = None) -> None:
        # Not super().__init__(): it builds its Condition from threading's
        # module globals, which ``tracer run`` may have replaced.
        if value < 0:
            raise ValueError("semaphore initial value must be >= 0")
        self._cond = _RawCondition(_RawRLock())
        self._value = value
        self.name = _names.claim(self._kind, name, owner=self)

    def __repr__(self) -> str:
        return f"<tracer.{self._kind} {self.name!r} value={self._value}>"

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        rec = _recorder.current
        if rec is None or (not blocking and timeout is not None):
            # Unrecorded, or refused by threading with a ValueError.
            return super().acquire(blocking, timeout)
        site = _site.caller_site()
        with self._cond:
            if self._value > 0 or not blocking:
                got = super().acquire(False)
                rec.emit(schema.SEM_ACQUIRE, self.name, site, {"result": got, "count": self._value})
                return got
            with rec.blocking(
                schema.SEM_ACQUIRE_BEGIN,
                self.name,
                site,
                {"timeout": seconds(timeout), "count": self._value},
                outcome={"count": self._value},
            ) as call:
                try:
                    got = call.result = super().acquire(True, timeout)
                finally:
                    call.outcome["count"] = self._value
            return got

    def __enter__(self, blocking: bool = True, timeout: float | None = None) -> bool:
        # threading's ``__enter__ = acquire`` is bound to its own acquire.
        return self.acquire(blocking, timeout)

    def release(self, n: int = 1) -> None:
        rec = _recorder.current
        if rec is None:
            return super().release(n)
        site = _site.caller_site()
        with self._cond:
            error: str | None = None
            try:
                super().release(n)  # BoundedSemaphore's raises ValueError past its bound
            except BaseException as exc:
                error = type(exc).__name__
                raise
            finally:
                rec.emit(
                    schema.SEM_RELEASE, self.name, site, {"count": self._value, "error": error}
                )

    def __exit__(
        self,
        t: type[BaseException] | None,
        v: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


class BoundedSemaphore(Semaphore, threading.BoundedSemaphore):
    """A drop-in for ``threading.BoundedSemaphore`` whose acquire and release are traced.

    An over-release still raises ValueError, and is written with that error.
    """

    _kind = "BoundedSemaphore"

    def __init__(self, value: int = 1, *, name: str | None = None) -> None:
        super().__init__(value, name=name)
        self._initial_value = value

    def __repr__(self) -> str:
        return f"<tracer.BoundedSemaphore {self.name!r} value={self._value}/{self._initial_value}>"


_site.internal(__file__)
