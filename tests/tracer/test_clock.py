"""tracer run's time: the program's sleeps traced, its clocks and timeouts scaled."""

from __future__ import annotations

import os
import queue
import sysconfig
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from tracer.primitives import sleep as _sleep
from tracer.run import clock as _clock
from tracer.run import patch as _patch
from tracer.testing import capture

#: A file name inside the standard library: code compiled under it is library code.
LIBRARY_FILE = os.path.join(sysconfig.get_paths()["stdlib"], "synctrace_test_library.py")


def as_library(source: str, **names: Any) -> dict[str, Any]:
    """Run ``source`` as if it were a module of the standard library; return its namespace."""
    namespace = dict(names)
    exec(compile(source, LIBRARY_FILE, "exec"), namespace)
    return namespace


def ticking(*readings: float) -> Callable[[], float]:
    """A fake real clock that returns ``readings`` in turn."""
    values = iter(readings)
    return lambda: next(values)


@contextmanager
def program_time(scale: float = 0.001) -> Iterator[list[float]]:
    """tracer run's time at ``scale``, inside a recording (as tracer run installs it).

    Yields the real sleeps asked for, which are not made.
    """
    slept: list[float] = []
    real_sleep = _sleep._real_sleep
    _sleep._real_sleep = slept.append
    _patch.install(time_scale=scale)
    _clock.install(scale)
    try:
        yield slept
    finally:
        _clock.uninstall()
        _patch.uninstall()
        _sleep._real_sleep = real_sleep


def test_program_clock_runs_one_over_scale_times_as_fast_from_its_origin() -> None:
    """program_time = origin + (real - origin) / scale, for the float and the _ns clocks."""
    clock = _clock._program_clock(ticking(100.0, 100.5), 0.01)
    assert clock() == pytest.approx(150.0)
    clock_ns = _clock._program_clock_ns(ticking(1_000, 1_003), 0.5)
    assert clock_ns() == 1_006


def test_library_code_reads_the_real_clock() -> None:
    """The same scaled clock, called from library code, gives the real reading."""
    clock = _clock._program_clock(ticking(100.0, 100.5, 101.0), 0.01)
    assert as_library("now = clock()", clock=clock)["now"] == 100.5
    assert clock() == pytest.approx(200.0)


def test_install_scales_the_time_modules_clocks_and_uninstall_restores_them() -> None:
    """Every clock the program reads is replaced while installed, and put back after."""
    names = ("time", "monotonic", "perf_counter", "time_ns", "monotonic_ns", "perf_counter_ns")
    originals = [getattr(time, n) for n in (*names, "sleep")]
    _clock.install(0.5)
    try:
        assert all(getattr(time, n) is not o for n, o in zip(names, originals, strict=False))
        before = time.monotonic_ns()
        assert time.monotonic_ns() >= before  # still monotonic
    finally:
        _clock.uninstall()
    assert [getattr(time, n) for n in (*names, "sleep")] == originals


def test_program_sleep_is_traced_in_its_seconds_and_slept_scaled() -> None:
    """time.sleep(25) from the program writes seconds=25 and sleeps 25 * scale real seconds."""
    with capture() as trace, program_time() as slept:
        time.sleep(25)
    (begin,) = trace.events("sleep.begin")
    assert begin["seconds"] == 25.0 and begin["site"].startswith("test_clock.py:")
    assert slept == [pytest.approx(0.025)]


def test_library_sleeps_are_neither_traced_nor_scaled() -> None:
    """A sleep made by library code is the real time.sleep, untraced."""
    with capture() as trace, program_time() as slept:
        as_library("import time\ntime.sleep(0)")
    assert not trace.events("sleep.begin") and slept == []


def test_timeouts_the_program_gives_are_scaled() -> None:
    """wait, get, put, acquire and join wait timeout * scale seconds, as their begin lines say."""
    with capture() as trace, program_time():
        event = threading.Event()
        assert event.wait(2) is False
        with pytest.raises(queue.Empty):
            queue.Queue().get(timeout=2)
        full: queue.Queue[int] = queue.Queue(maxsize=1)
        full.put(0)
        with pytest.raises(queue.Full):
            full.put(1, timeout=2)
        lock = threading.Lock()
        lock.acquire()
        assert lock.acquire(timeout=2) is False
        release = threading.Event()
        sleeper = threading.Thread(target=release.wait, name="sleeper")
        sleeper.start()
        sleeper.join(2)
        release.set()
        sleeper.join()
    timed = [
        (e["event"], e["timeout"])
        for e in trace.lines
        if e["event"].endswith(".begin") and e["timeout"] is not None
    ]
    assert timed == [
        ("event.wait.begin", pytest.approx(0.002)),
        ("queue.get.begin", pytest.approx(0.002)),
        ("queue.put.begin", pytest.approx(0.002)),
        ("lock.acquire.begin", pytest.approx(0.002)),
        ("thread.join.begin", pytest.approx(0.002)),
    ]


def test_a_timer_the_program_starts_fires_after_its_interval_scaled() -> None:
    """Timer(2, f) waits 2 * scale real seconds, given by position or as interval=, and the
    original __init__ is back afterwards."""
    original = threading.Timer.__init__
    fired: list[float] = []
    with capture(), program_time(scale=0.001):
        timers = [
            (2, threading.Timer(2, lambda: fired.append(2))),
            (3, threading.Timer(interval=3, function=lambda: fired.append(3))),
        ]
        for seconds, timer in timers:
            assert timer.interval == pytest.approx(0.001 * seconds)
            timer.start()
            timer.join(5)
            assert not timer.is_alive()
    assert fired == [2, 3]
    assert threading.Timer.__init__ is original


def test_timeouts_given_by_library_code_are_not_scaled() -> None:
    """A wait a library makes on the program's object keeps its timeout."""
    with capture() as trace, program_time():
        event = threading.Event()
        as_library("event.wait(0.001)", event=event)
    (begin,) = trace.events("event.wait.begin")
    assert begin["timeout"] == pytest.approx(0.001)


def test_wait_for_is_scaled_once() -> None:
    """Condition.wait_for(pred, 2) waits at most 2 * scale seconds, not 2 * scale * scale."""
    with capture() as trace, program_time():
        cond = threading.Condition()
        with cond:
            assert cond.wait_for(lambda: False, 2) is False
    first, *_ = trace.events("cond.wait.begin")
    # The first wait gets the whole time left, less what wait_for took to start.
    assert 0.002 * 0.001 < first["timeout"] <= 0.002
