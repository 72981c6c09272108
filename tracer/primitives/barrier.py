"""``tracer.Barrier``: ``threading.Barrier`` whose waits are traced.

Both lines of a wait are written under the barrier's own Condition, so the
order of the begin lines is the order of arrival.
"""

from __future__ import annotations

import _thread
import threading
from collections.abc import Callable

from synctrace import schema
from tracer.recording import names as _names
from tracer.recording import recorder as _recorder
from tracer.recording import site as _site
from tracer.recording.recorder import seconds

# Captured before anything can patch threading: our internals are raw.
_RawCondition = threading.Condition
_RawRLock = _thread.RLock


class Barrier(threading.Barrier):
    """A drop-in for ``threading.Barrier`` whose ``wait()`` is traced."""

    def __init__(
        self,
        parties: int,
        action: Callable[[], None] | None = None,
        timeout: float | None = None,
        *,
        name: str | None = None,
    ) -> None:
        # threading's __init__, but with a raw Condition over a reentrant lock
        # (so that wait() below can hold it around threading's own wait(),
        # which takes it again and releases every level while it blocks).
        self._cond = _RawCondition(_RawRLock())
        self._action = action
        self._timeout = timeout
        self._parties = parties
        self._state = 0  # 0 filling, 1 draining, -1 resetting, -2 broken
        self._count = 0
        self.name = _names.claim("Barrier", name, owner=self)

    def __repr__(self) -> str:
        return (
            f"<tracer.Barrier {self.name!r} waiters={self.n_waiting}/{self.parties}"
            f"{' broken' if self.broken else ''}>"
        )

    def wait(self, timeout: float | None = None) -> int:
        rec = _recorder.current
        if rec is None:
            return super().wait(timeout)
        site = _site.caller_site()
        # The timeout this wait will really use: the barrier's default if none.
        effective = self._timeout if timeout is None else timeout
        with self._cond:
            with rec.blocking(
                schema.BARRIER_WAIT_BEGIN,
                self.name,
                site,
                {"parties": self._parties, "timeout": seconds(effective)},
                outcome={"index": None},
                reports_result=False,
            ) as call:
                index = call.outcome["index"] = super().wait(timeout)
            return index


_site.internal(__file__)
