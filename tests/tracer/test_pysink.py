"""The pure-Python sink's own rules: events leave in seq order, on a clock that never goes back."""

from __future__ import annotations

import json
import threading

from tracer.recording import pysink
from tracer.recording.site import site_name


def lines(data: bytes) -> list[dict[str, object]]:
    return [json.loads(line) for line in data.decode().splitlines()]


def queue(sink: pysink.Sink, *events: tuple[object, ...]) -> None:
    """Put events straight into the sink's pending slots, in the order given."""
    for event in events:
        sink._pending.extend(event + (None,) * (pysink.WIDTH - len(event)))


def test_a_signal_handler_recording_inside_an_emit_stays_in_seq_order() -> None:
    """An event queued out of order (a handler's, inside an emit) leaves in seq order, even
    when the drain's limit falls between the two."""
    sink = pysink.Sink(1)
    next(sink._counter), next(sink._counter)  # seqs 1 and 2, queued newest first
    queue(
        sink,
        (2, 10, "event.set", "T", 1, "ev", None, None),
        (1, 5, "event.clear", "T", 1, "ev", None, None),
    )
    assert [line["seq"] for line in lines(sink.drain(1, site_name))] == [1, 2]


def test_the_clock_never_goes_back_along_seq() -> None:
    """An event stamped before a later seq's is written with the later one's time."""
    sink = pysink.Sink(1)
    queue(
        sink,
        (2, 100, "event.set", "T", 1, "ev", None, None),
        (1, 200, "event.clear", "U", 2, "ev", None, None),
    )
    next(sink._counter), next(sink._counter)
    assert [line["ts"] for line in lines(sink.drain(100, site_name))] == [200, 200]


def test_a_busy_lock_is_taken_once_its_holder_lets_go() -> None:
    """take_turn waits out a holder, first letting the GIL go, then blocking."""
    lock = threading.RLock()
    held, release, taken = threading.Event(), threading.Event(), threading.Event()

    def holder() -> None:
        with lock:
            held.set()
            release.wait()

    def taker() -> None:
        pysink.take_turn(lock)
        taken.set()
        lock.release()

    first = threading.Thread(target=holder)
    first.start()
    held.wait()
    second = threading.Thread(target=taker)
    second.start()
    assert not taken.wait(0.05)  # the holder still has it: no turn taken past it
    release.set()
    first.join()
    assert taken.wait(10)
    second.join()
