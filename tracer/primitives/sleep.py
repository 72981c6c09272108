"""``tracer.sleep``: ``time.sleep`` that records the sleep as a blocking pair.

A sleeping thread is alive and waits for nobody: recording its sleeps is
what lets the analyzer tell a slow run from a hung one.  The lines carry no
``obj``; ``seconds`` is the time the program asked for.  ``tracer run``
puts this in ``time.sleep`` for the program's own code; a program recorded
with ``tracer.record()`` calls ``tracer.sleep`` where it wants its sleeps
in the trace.
"""

from __future__ import annotations

import math
import time

from synctrace import schema
from tracer.primitives.unwind import hand_over
from tracer.recording import recorder as _recorder
from tracer.recording import site as _site

# Captured at import, before ``tracer run`` can replace time.sleep.
_real_sleep = time.sleep


def sleep(seconds: float) -> None:
    """A drop-in for ``time.sleep``; traced while a recording runs."""
    try:
        sleep_scaled(seconds, 1.0)
    except BaseException as exc:  # KeyboardInterrupt, a refused argument
        hand_over(exc)
        raise


def sleep_scaled(seconds: float, scale: float) -> None:
    """Sleep ``seconds`` of the program's time, which are ``seconds * scale`` real ones.

    The trace says what the program asked for (``seconds``); ``ts`` shows
    what it took.  Exceptions leave with this frame in their traceback: the
    caller, the program's entry point, hands them over.
    """
    # Only a number is read: time.sleep refuses "1", which float() would take.
    asked = float(seconds) if isinstance(seconds, int | float) else None
    rec = _recorder.current
    if rec is None or asked is None or not asked >= 0 or math.isinf(asked):
        # Nothing to record, or an argument time.sleep refuses: let it say so
        # (an exotic number it accepts is slept unscaled).
        _real_sleep(seconds if scale == 1 or asked is None else asked * scale)
        return
    with rec.blocking(
        schema.SLEEP_BEGIN, None, _site.caller_site(), {"seconds": asked}, reports_result=False
    ):
        _real_sleep(asked * scale)


_site.internal(__file__)
