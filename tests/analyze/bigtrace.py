"""Record a big realistic trace for measuring the analyzer (not a test; no test imports it).

    python tests/analyze/bigtrace.py /tmp/t1m.jsonl 31250    # 1M events
    python tests/analyze/bigtrace.py /tmp/t4m.jsonl 125000   # 4M events

Four threads, each ``rounds`` times: append, append, set, wait, clear, pop,
pop on a shared tracer.List and tracer.Event (8 events a round).
"""

from __future__ import annotations

import sys
import threading

import tracer


def record(path: str, rounds: int) -> None:
    """Write the workload's trace to ``path``."""
    with tracer.record(path):
        items = tracer.List(name="items")
        ready = tracer.Event(name="ready")

        def work(x: int) -> None:
            for _ in range(rounds):
                items.append(x)
                items.append(x + 1)
                ready.set()
                ready.wait()
                ready.clear()
                items.pop()
                items.pop()

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()


if __name__ == "__main__":
    record(sys.argv[1], int(sys.argv[2]))
