"""Many threads at once through the real recorder: nothing lost, torn or out of order."""

from __future__ import annotations

import json
import threading
from collections import defaultdict
from pathlib import Path

import pytest

import tracer

THREADS = 16
ROUNDS = 25_000  # four events a round: 100,000 events a thread


@pytest.mark.slow
def test_sixteen_threads_lose_nothing_and_keep_each_objects_order(tmp_path: Path) -> None:
    """16 threads x 100,000 events: every event written whole, seq strictly increasing,
    and for each list the item numbers and depths follow seq order exactly."""
    path = tmp_path / "stress.jsonl"
    shared = tracer.List(name="shared")
    own = [tracer.List(name=f"own-{n}") for n in range(THREADS)]
    go = threading.Barrier(THREADS)

    def work(mine: tracer.List[int]) -> None:
        go.wait()
        for i in range(ROUNDS):
            shared.append(i)
            mine.append(i)
            mine.pop()
            shared.pop()

    with tracer.record(path):
        workers = [threading.Thread(target=work, args=(own[n],)) for n in range(THREADS)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    with path.open("rb") as f:
        lines = [json.loads(raw) for raw in f]  # a torn line would raise here
    end = lines[-1]
    assert end["event"] == "trace.end" and end["events_dropped"] == 0
    assert end["events_written"] == len(lines) - 1
    seqs = [line["seq"] for line in lines]
    assert seqs == list(range(len(lines)))
    ops = [line for line in lines if line["event"] in ("list.append", "list.pop")]
    assert len(ops) == THREADS * ROUNDS * 4

    depth: dict[str, int] = defaultdict(int)
    last_item: dict[str, int] = defaultdict(int)
    for line in ops:
        obj = line["obj"]
        if line["event"] == "list.append":
            depth[obj] += 1
            assert line["item"] == last_item[obj] + 1, line  # numbered in seq order
            last_item[obj] = line["item"]
        else:
            depth[obj] -= 1
        assert line["depth"] == depth[obj], line  # each op saw the one before it
    assert all(d == 0 for d in depth.values())
