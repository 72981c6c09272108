"""How much slower is a threaded program when synctrace records it?

Runs one producer/consumer workload three ways, alternating, several rounds:

* ``bare``: threading.Condition and a plain list;
* ``drop-in``: tracer.Condition and tracer.List with no recording running
  (what a program pays for using the drop-ins and not recording);
* ``recorded``: the same under ``tracer.record``.

and prints the median wall time of each and the ratios to ``bare``.  The
machine is shared and noisy, so only medians of ratios measured in the same
run mean anything.  ``--work`` sets the CPU work per item (iterations of a
small loop): 0 measures pure synchronisation, the worst case for a tracer.

    python bench/overhead.py --items 20000 --rounds 7 --work 0
    python bench/overhead.py --items 20000 --rounds 7 --work 300
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

import tracer


def workload(items: int, work: int, cond: Any, buffer: list[int]) -> None:
    """One producer, one consumer, handing ``items`` items over a Condition."""
    done = False

    def spin() -> None:
        total = 0
        for k in range(work):
            total += k

    def produce() -> None:
        nonlocal done
        for i in range(items):
            spin()
            with cond:
                buffer.append(i)
                cond.notify()
        with cond:
            done = True
            cond.notify()

    def consume() -> None:
        while True:
            with cond:
                while not buffer and not done:
                    cond.wait()
                if not buffer:
                    return
                buffer.pop(0)
            spin()

    threads = [threading.Thread(target=produce), threading.Thread(target=consume)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def timed(run: Callable[[], None]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--work", type=int, default=0, help="loop iterations per item")
    args = parser.parse_args()
    trace = os.path.join(tempfile.mkdtemp(), "bench.jsonl")

    def bare() -> None:
        workload(args.items, args.work, threading.Condition(), [])

    def drop_in() -> None:
        workload(args.items, args.work, tracer.Condition(), tracer.List())

    def recorded() -> None:
        with tracer.record(trace):
            workload(args.items, args.work, tracer.Condition(), tracer.List())

    modes = {"bare": bare, "drop-in": drop_in, "recorded": recorded}
    times: dict[str, list[float]] = {name: [] for name in modes}
    ratios: dict[str, list[float]] = {name: [] for name in modes}
    for _ in range(args.rounds):
        round_times = {name: timed(run) for name, run in modes.items()}
        for name, seconds in round_times.items():
            times[name].append(seconds)
            ratios[name].append(seconds / round_times["bare"])
    with open(trace, encoding="utf-8") as f:
        lines = sum(1 for _ in f)
    print(f"{args.items} items, work {args.work}, {args.rounds} rounds; last trace {lines} lines")
    for name in modes:
        print(
            f"  {name:9s} median {statistics.median(times[name]) * 1000:8.1f} ms"
            f"   ratio to bare (median of rounds) {statistics.median(ratios[name]):5.2f}x"
        )


if __name__ == "__main__":
    main()
