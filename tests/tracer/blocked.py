"""Handshakes on the recording itself: who is blocked, according to the recorder."""

from __future__ import annotations

from tracer.recording import recorder as _recorder


def blocked_in(event: str, obj: str | None = None) -> int:
    """How many begin lines of ``event`` (on ``obj``, if given) have no end yet.

    A thread that has written its begin line is about to block or blocked:
    the recorder keeps every begin until its end is written.
    """
    rec = _recorder.current
    if rec is None:
        return 0
    begins = list(rec.blocked.values())
    return sum(1 for b in begins if b[2] == event and (obj is None or b[3] == obj))
