"""Handshakes for the tracer's tests: order threads by observable state, not sleeps."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Handshake on observable state: return as soon as ``condition()`` holds.

    Polls instead of sleeping a guessed time, so a slow machine only makes the
    test slower, never wrong.
    """
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.001)


def blocked_waiters(primitive: object) -> int:
    """How many recorded waiters are blocked in ``primitive`` right now."""
    waiting: dict[int, int | None] = primitive._waiting  # type: ignore[attr-defined]
    return sum(1 for by in list(waiting.values()) if by is None)
