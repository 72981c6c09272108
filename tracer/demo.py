"""``tracer demo``: the cookbook's producer/consumer, instrumented.

``cookbook`` keeps the book's program as it is (Zaccone, *Python Parallel
Programming Cookbook*, "Thread synchronization with an event"): the producer
appends, calls ``set()`` and at once ``clear()``; the consumer sleeps,
``wait()``s and pops the newest item.  Most signals reach no waiter, items
are left behind, and the consumer ends blocked on a cleared flag.

``fixed`` is the correct version: a Condition guards the list, the consumer
waits only while the list is empty, takes the oldest item, and every item is
consumed.

Both use only the public API (``record``, ``Event``, ``Condition``,
``List``), as a user's program would.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import tracer

VARIANTS = ("cookbook", "fixed")


@dataclass(frozen=True)
class DemoResult:
    path: Path
    produced: int
    consumed: int
    left: int
    events: int

    def summary(self, variant: str) -> str:
        return (
            f"{variant}: {self.produced} items produced, {self.consumed} consumed, "
            f"{self.left} left in the list; {self.events} events written to {self.path}"
        )


def _shares(total: int, parts: int) -> list[int]:
    """Split ``total`` items between ``parts`` producers as evenly as possible."""
    return [total // parts + (1 if k < total % parts else 0) for k in range(parts)]


def run(
    variant: str = "cookbook",
    *,
    items: int = 10,
    producers: int = 1,
    consumers: int = 1,
    time_scale: float = 0.1,
    seed: int | None = None,
    output: str | Path = "trace.jsonl",
    redact: bool = False,
) -> DemoResult:
    """Run one variant under ``tracer.record(output, redact=redact)`` and return what happened."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}: choose one of {', '.join(VARIANTS)}")
    if items < 0 or producers < 1 or consumers < 1 or time_scale < 0:
        raise ValueError("items must be >= 0, producers and consumers >= 1, time scale >= 0")
    rng = random.Random(seed)
    program = _cookbook if variant == "cookbook" else _fixed
    with tracer.record(output, redact=redact) as recorder:
        produced, consumed, left = program(
            _shares(items, producers), consumers, time_scale, rng, recorder
        )
    return DemoResult(Path(output), produced, consumed, left, recorder.events_written)


def _cookbook(
    shares: list[int], consumers: int, scale: float, rng: random.Random, recorder: tracer.Recorder
) -> tuple[int, int, int]:
    items: tracer.List[int] = tracer.List(name="items")
    event = tracer.Event(name="event")
    finished = False  # set once the recording has stopped; lets consumers leave
    consumed = 0
    last_take = time.monotonic()

    def producer(count: int) -> None:
        for _ in range(count):
            time.sleep(2 * scale)
            items.append(rng.randint(0, 256))
            event.set()
            event.clear()  # the book's bug: the flag is down again at once

    def consumer() -> None:
        nonlocal consumed, last_take
        while True:
            time.sleep(3 * scale)
            event.wait()
            if finished:
                return
            items.pop()  # the newest item: the book's list is a stack
            consumed += 1
            last_take = time.monotonic()

    workers = [
        threading.Thread(target=producer, args=(n,), name=f"producer-{k + 1}")
        for k, n in enumerate(shares)
    ]
    takers = [
        threading.Thread(target=consumer, name=f"consumer-{k + 1}", daemon=True)
        for k in range(consumers)
    ]
    for t in workers + takers:
        t.start()
    for t in workers:
        t.join()
    # The book's consumer never stops.  Once no item has been taken for two
    # of its cycles, it is blocked for good: end the recording there (the
    # trace records it as still blocked), then release it, unrecorded.
    idle = 6 * scale + 0.05
    while time.monotonic() - last_take < idle:
        time.sleep(min(idle, 0.05))
    recorder.stop("stopped", "the consumers were idle after the producers finished")
    finished = True
    event.set()
    for t in takers:
        t.join(timeout=5 + 3 * scale)
    return sum(shares), consumed, len(items)


def _fixed(
    shares: list[int], consumers: int, scale: float, rng: random.Random, recorder: tracer.Recorder
) -> tuple[int, int, int]:
    items: tracer.List[int] = tracer.List(name="items")
    ready = tracer.Condition(name="items_ready")
    done = False  # guarded by ``ready``: no more items will come
    consumed = 0

    def producer(count: int) -> None:
        for _ in range(count):
            time.sleep(2 * scale)
            with ready:
                items.append(rng.randint(0, 256))
                ready.notify()

    def consumer() -> None:
        nonlocal consumed
        while True:
            with ready:
                # Re-check the predicate after every wake-up: a notify() that
                # came while we were busy is not lost, the list still holds it.
                while not items and not done:
                    ready.wait()
                if not items:
                    return
                items.pop(0)  # the oldest item
                consumed += 1
            time.sleep(3 * scale)  # work on the item outside the lock

    workers = [
        threading.Thread(target=producer, args=(n,), name=f"producer-{k + 1}")
        for k, n in enumerate(shares)
    ]
    takers = [threading.Thread(target=consumer, name=f"consumer-{k + 1}") for k in range(consumers)]
    for t in workers + takers:
        t.start()
    for t in workers:
        t.join()
    with ready:
        done = True
        ready.notify_all()
    for t in takers:
        t.join()
    return sum(shares), consumed, len(items)
