"""``tracer.Lock`` and ``tracer.RLock``: locks that record acquire and release.

An acquire first tries the lock without waiting: when that succeeds (or the
caller asked not to wait) it is one ``lock.acquire`` line; otherwise the wait
is a begin/end pair, so the time between them is the time the thread waited.
Acquire lines are written once the lock is held and release lines while it
still is, so for one lock the order of ``seq`` is the true order of who held
it.
"""

from __future__ import annotations

import _thread
from types import TracebackType
from typing import Any, Protocol

from synctrace import schema
from tracer.recording import names as _names
from tracer.recording import recorder as _recorder
from tracer.recording import site as _site
from tracer.recording.recorder import Recorder, seconds

# Captured before anything can patch threading: our internals are raw.
_allocate_lock = _thread.allocate_lock
_RawRLock = _thread.RLock


class _RawReentrant(Protocol):
    """``_thread.RLock`` with the private methods typeshed leaves out."""

    def acquire(self, blocking: bool = ..., timeout: float = ...) -> bool: ...
    def release(self) -> None: ...
    def _is_owned(self) -> bool: ...
    def _recursion_count(self) -> int: ...
    def _release_save(self) -> tuple[int, int]: ...
    def _acquire_restore(self, state: tuple[int, int], /) -> None: ...
    def _at_fork_reinit(self) -> None: ...


def _check_arguments(blocking: bool, timeout: float) -> None:
    """Raise as the raw lock would for arguments it refuses.

    The traced acquire first tries without waiting, which the raw lock
    accepts whatever the timeout; a fresh lock, acquired at once, checks the
    caller's arguments exactly as the real call would.
    """
    if blocking and timeout != -1:
        _allocate_lock().acquire(True, timeout)


def _acquire(
    rec: Recorder, raw: Any, name: str, site: _site.RawSite | None, blocking: bool, timeout: float
) -> bool:
    """The traced acquire of ``raw`` (a ``_thread`` lock or RLock)."""
    if not blocking:
        got: bool = raw.acquire(False, timeout)  # a timeout here raises, as it should
        rec.emit(schema.LOCK_ACQUIRE, name, site, {"result": got})
        return got
    _check_arguments(blocking, timeout)
    if raw.acquire(False):
        rec.emit(schema.LOCK_ACQUIRE, name, site, {"result": True})
        return True
    timeout_s = None if timeout == -1 else seconds(timeout)
    with rec.blocking(schema.LOCK_ACQUIRE_BEGIN, name, site, {"timeout": timeout_s}) as call:
        got = call.result = raw.acquire(True, timeout)
    return got


class _TracedLock:
    """What Lock and RLock share: naming, the traced acquire, the with-statement."""

    __slots__ = ("__weakref__", "_lock", "name")
    _kind = "Lock"
    _lock: Any
    name: str

    def __repr__(self) -> str:
        state = "locked" if self.locked() else "unlocked"
        return f"<tracer.{self._kind} {self.name!r} {state}>"

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        rec = _recorder.current
        if rec is None:
            return bool(self._lock.acquire(blocking, timeout))
        return _acquire(rec, self._lock, self.name, _site.caller_site(), blocking, timeout)

    def release(self) -> None:
        raise NotImplementedError

    def locked(self) -> bool:
        raise NotImplementedError

    # ``with lock:`` is acquire() itself, one call deep as in threading; the
    # call site skips our frames, so it is the with-line.
    __enter__ = acquire

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


class Lock(_TracedLock):
    """A drop-in for ``threading.Lock`` whose acquire and release are traced.

    With no recording running each method is one attribute read and the
    plain lock's operation.
    """

    __slots__ = ("_guard",)
    _lock: _thread.LockType

    def __init__(self, *, name: str | None = None) -> None:
        self._lock = _allocate_lock()
        # Held around a recorded release only, so that of two threads
        # releasing at once exactly one is written as the release and the
        # other as the RuntimeError it gets.  A leaf: nothing waits under it.
        # Reentrant, so that a signal handler releasing the lock in the
        # middle of a release cannot deadlock on it.
        self._guard = _RawRLock()
        self.name = _names.claim("Lock", name, owner=self)

    def release(self) -> None:
        rec = _recorder.current
        if rec is None:
            return self._lock.release()
        site = _site.caller_site()
        with self._guard:
            if self._lock.locked():
                rec.emit(schema.LOCK_RELEASE, self.name, site, {"error": None})
                return self._lock.release()
            try:
                self._lock.release()  # raises RuntimeError: release unlocked lock
            except RuntimeError:
                rec.emit(schema.LOCK_RELEASE, self.name, site, {"error": "RuntimeError"})
                raise

    def locked(self) -> bool:
        return bool(self._lock.locked())

    def _at_fork_reinit(self) -> None:
        self._lock._at_fork_reinit()  # type: ignore[attr-defined]
        self._guard._at_fork_reinit()  # type: ignore[attr-defined]

    def _is_owned(self) -> bool:
        # For threading.Condition: its default probe acquires and releases
        # the lock, which would write lines nobody asked for.  A plain Lock
        # has no owner, so "locked" is the best answer (threading's own
        # Condition(Lock()) reaches the same one by that probe).
        return self._lock.locked()


class RLock(_TracedLock):
    """A drop-in for ``threading.RLock`` whose acquire and release are traced.

    Each level of a re-entrant acquire or release is a line of its own, so
    the lines of one thread always balance.
    """

    __slots__ = ()
    _kind = "RLock"
    _lock: _RawReentrant

    def __init__(self, *, name: str | None = None) -> None:
        self._lock = _RawRLock()  # type: ignore[assignment]
        self.name = _names.claim("RLock", name, owner=self)

    def release(self) -> None:
        rec = _recorder.current
        if rec is None:
            return self._lock.release()
        # Only the owner can release, and only the owner can change whether
        # it is the owner: checking first is not a race.
        site = _site.caller_site()
        if self._lock._is_owned():
            rec.emit(schema.LOCK_RELEASE, self.name, site, {"error": None})
            return self._lock.release()
        try:
            self._lock.release()  # raises RuntimeError: not the owner
        except RuntimeError:
            rec.emit(schema.LOCK_RELEASE, self.name, site, {"error": "RuntimeError"})
            raise

    def locked(self) -> bool:
        if self._lock._is_owned():
            return True
        if self._lock.acquire(False):
            self._lock.release()
            return False
        return True

    def _at_fork_reinit(self) -> None:
        self._lock._at_fork_reinit()

    # --- what threading.Condition uses ------------------------------------------

    def _is_owned(self) -> bool:
        return self._lock._is_owned()

    def _release_save(self) -> tuple[int, int]:
        """Release every level (Condition.wait): one release line a level."""
        rec = _recorder.current
        if rec is not None and self._lock._is_owned():
            site = _site.caller_site()
            for _ in range(self._lock._recursion_count()):
                rec.emit(schema.LOCK_RELEASE, self.name, site, {"error": None})
        return self._lock._release_save()

    def _acquire_restore(self, state: tuple[int, int]) -> None:
        """Take the lock back after Condition.wait: one acquire line a level."""
        rec = _recorder.current
        if rec is None:
            return self._lock._acquire_restore(state)
        site = _site.caller_site()
        count = state[0]
        if self._lock.acquire(False):
            # The saved owner is this thread (only the owner can wait), so
            # re-entrant acquires rebuild exactly the saved state.
            rec.emit(schema.LOCK_ACQUIRE, self.name, site, {"result": True})
            for _ in range(count - 1):
                self._lock.acquire()
                rec.emit(schema.LOCK_ACQUIRE, self.name, site, {"result": True})
            return None
        with rec.blocking(schema.LOCK_ACQUIRE_BEGIN, self.name, site, {"timeout": None}) as call:
            # The raw restore, like threading's, cannot be interrupted: a
            # Condition.wait must never return without its lock.
            self._lock._acquire_restore(state)
            call.result = True
        for _ in range(count - 1):
            rec.emit(schema.LOCK_ACQUIRE, self.name, site, {"result": True})
        return None


_site.internal(__file__)
