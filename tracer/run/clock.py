"""``tracer run``'s time: the program's sleeps traced, its clocks scaled.

``time.sleep`` called from the program's own code becomes ``tracer.sleep``
(a ``sleep.begin``/``sleep.end`` pair).  With ``--time-scale F`` the program
also lives in a time that runs 1/F times as fast as the real one: a sleep of
``s`` seconds lasts ``s * F`` real seconds, and its clocks (``time.time``,
``monotonic``, ``perf_counter`` and their ``_ns`` forms) read

    program_time = origin + (real_time - origin) / F

from the moment the run starts, so that ``while time.time() < deadline``
loops keep their meaning.  Timeouts given to the traced primitives are
scaled to match (see ``_patch``).

Only the program's code sees that time: the same verdict on the caller's
file as for the primitives (``_patch._from_library``) gives the standard
library, installed packages and synctrace itself the real clocks, so the
trace's ``ts``, ``--timeout`` and threading's own waits stay in real time.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import Any

from tracer.primitives.sleep import sleep_scaled
from tracer.primitives.unwind import hand_over
from tracer.recording import site as _site
from tracer.run import patch as _patch

_CLOCKS = ("time", "monotonic", "perf_counter")
#: What ``install`` replaced: attribute of ``time`` -> (original, replacement).
_installed: dict[str, tuple[Any, Any]] = {}


def _program_sleep(real: Callable[[float], None], scale: float) -> Callable[[float], None]:
    def sleep(seconds: float) -> None:
        try:
            if _patch._from_library(1):
                real(seconds)
            else:
                sleep_scaled(seconds, scale)
        except BaseException as exc:  # KeyboardInterrupt, a refused argument
            hand_over(exc)
            raise

    return functools.update_wrapper(sleep, real)


def _program_clock(real: Callable[[], float], scale: float) -> Callable[[], float]:
    origin = real()

    def clock() -> float:
        now = real()
        if _patch._from_library(1):
            return now
        return origin + (now - origin) / scale

    return functools.update_wrapper(clock, real)


def _program_clock_ns(real: Callable[[], int], scale: float) -> Callable[[], int]:
    origin = real()

    def clock_ns() -> int:
        now = real()
        if _patch._from_library(1):
            return now
        # round() of a non-decreasing value never decreases: a monotonic
        # clock stays monotonic.
        return origin + round((now - origin) / scale)

    return functools.update_wrapper(clock_ns, real)


def install(scale: float = 1.0) -> None:
    """Trace the program's sleeps, and scale its time by ``scale`` (real seconds per second)."""
    if _installed:
        return
    replacements: dict[str, Any] = {"sleep": _program_sleep(time.sleep, scale)}
    if scale != 1:
        for name in _CLOCKS:
            replacements[name] = _program_clock(getattr(time, name), scale)
            replacements[name + "_ns"] = _program_clock_ns(getattr(time, name + "_ns"), scale)
    for name, replacement in replacements.items():
        _installed[name] = (getattr(time, name), replacement)
        setattr(time, name, replacement)


def uninstall() -> None:
    for name, (original, replacement) in _installed.items():
        if getattr(time, name) is replacement:
            setattr(time, name, original)
    _installed.clear()


_site.internal(__file__)
