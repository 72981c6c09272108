"""A program written against tracer.record, Event and List, analyzed with exact counts."""

from __future__ import annotations

import threading
from pathlib import Path

import analyze
import tracer


def test_producer_signalling_before_the_consumer_waits(tmp_path: Path) -> None:
    """Two pulses before the consumer waits are lost; the third wakes it; one item is stranded.

    The threads are ordered by untraced handshakes, so the timeline is exact:
    produce 1 (set+clear, nobody waits), produce 2 (the same), the consumer
    waits on the cleared flag, produce 3 (set with the consumer waiting),
    the consumer pops the newest item and leaves two behind.
    """
    items: tracer.List[int] = tracer.List(name="items")
    event = tracer.Event(name="event")
    may_wait = threading.Event()  # plain: the test's handshakes are not the program's
    trace = tmp_path / "trace.jsonl"

    def consumer() -> None:
        may_wait.wait()
        event.wait()
        items.pop()

    with tracer.record(trace):
        taker = threading.Thread(target=consumer, name="consumer")
        taker.start()
        for value in (10, 20):
            items.append(value)
            event.set()
            event.clear()
        may_wait.set()
        while not [b for b in event._waiting.values() if b is None]:  # until it blocks
            threading.Event().wait(0.001)
        items.append(30)
        event.set()
        event.clear()
        taker.join()

    report = analyze.build_report(analyze.load_traces([trace]))
    counts = report.counts
    assert counts["lost-signal"] == 2
    assert counts["unwaited-signal"] == 0
    assert counts["cleared-wait"] == 1
    assert counts["stranded-item"] == 2
    assert counts["hang"] == 0
    (wait,) = report.findings.filter(report.findings["kind"] == "cleared-wait").to_dicts()
    assert wait["severity"] == "warning" and "missed 2 signals" in wait["message"]
    table = report.containers.to_dicts()
    (row,) = [r for r in table if r["obj"] == "items"]
    assert (row["added"], row["taken"], row["stranded"]) == (3, 1, 2)
