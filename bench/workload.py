"""The 4-thread workload of issue 7, run once in this process, one mode.

    python bench/workload.py MODE ROUNDS TRACE

Four threads each run ROUNDS rounds of::

    items.append(a); items.append(b)
    event.set(); event.wait(); event.clear()
    items.pop(); items.pop()

on one list shared by all four threads and one Event per thread.  The list is
shared so that the list's recording really is contended (its seq is taken
under the list's own lock by four threads at once); the Events are per
thread because with one shared Event a thread could clear() the flag between
another's set() and wait() and leave it blocked forever.  A shared list can
never be popped empty here: each thread pops only after its own two appends,
so at least its own contribution is in the list.

Recorded, one round is eight trace lines (two ``list.append``, ``event.set``,
``event.wait.begin``, ``event.wait.end``, ``event.clear``, two ``list.pop``),
which ``expected_counts`` states so the harness can check the trace.

Modes:

* ``bare``: ``threading.Event`` and a plain list; synctrace is not imported,
  so the whole-process time of this mode is the baseline a program pays
  without synctrace at all;
* ``drop-in``: ``tracer.Event`` and ``tracer.List``, no recording running;
* ``recorded``: the drop-ins inside ``tracer.record(TRACE)``;
* ``viztracer``: the bare objects under VizTracer, saving to TRACE.

The pure-Python recording path is ``recorded`` with ``SYNCTRACE_PURE=1`` in
the environment: the harness sets it for the child, so it applies at import.

Prints one JSON object: ``{"in_run": seconds}``, the time from starting the
four threads to joining the last, inside the recording (starting and ending
the recording, importing and writing at exit are not in it: the harness
times the whole process from outside).
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Any

THREADS = 4
#: Trace lines per round of one thread, by event name.
PER_ROUND = {
    "list.append": 2,
    "list.pop": 2,
    "event.set": 1,
    "event.wait.begin": 1,
    "event.wait.end": 1,
    "event.clear": 1,
}
MODES = ("bare", "drop-in", "recorded", "viztracer")


def expected_counts(rounds: int) -> dict[str, int]:
    """Trace lines per event name that the workload itself must produce."""
    return {name: n * rounds * THREADS for name, n in PER_ROUND.items()}


def workload(rounds: int, items: Any, events: list[Any]) -> float:
    """Run the four threads; return the seconds from first start to last join."""

    def work(event: Any) -> None:
        # Local names: the loop is what is measured, not global look-ups.
        append, pop = items.append, items.pop
        set_, wait, clear = event.set, event.wait, event.clear
        for i in range(rounds):
            append(i)
            append(-i)
            set_()
            wait()
            clear()
            pop()
            pop()

    threads = [
        threading.Thread(target=work, args=(events[k],), name=f"worker-{k}") for k in range(THREADS)
    ]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start


def run(mode: str, rounds: int, trace: str) -> float:
    if mode == "bare":
        return workload(rounds, [], [threading.Event() for _ in range(THREADS)])
    if mode == "viztracer":
        from viztracer import VizTracer  # type: ignore[import-untyped, import-not-found, unused-ignore]

        viz = VizTracer(output_file=trace, verbose=0)
        viz.start()
        seconds = workload(rounds, [], [threading.Event() for _ in range(THREADS)])
        viz.stop()
        viz.save()
        return seconds

    import tracer

    def objects() -> tuple[Any, list[Any]]:
        return tracer.List(), [tracer.Event(name=f"event-{k}") for k in range(THREADS)]

    if mode == "drop-in":
        return workload(rounds, *objects())
    if mode == "recorded":
        with tracer.record(trace):
            # Made inside the recording, as a program would, so that they are
            # named and numbered by it.
            items, events = objects()
            return workload(rounds, items, events)
    raise SystemExit(f"unknown mode {mode!r}; one of {', '.join(MODES)}")


def main(argv: list[str]) -> None:
    if len(argv) != 3:
        raise SystemExit(__doc__)
    mode, rounds, trace = argv[0], int(argv[1]), argv[2]
    print(json.dumps({"in_run": run(mode, rounds, trace)}))


if __name__ == "__main__":
    main(sys.argv[1:])
