"""The container table (traffic, order, residency) and stranded-item findings."""

from __future__ import annotations

import random
from collections.abc import Callable

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from tracebuild import Recorder, found

from analyze import Report
from synctrace import schema

ReportOf = Callable[..., Report]


def row(report: Report, obj: str = "jobs") -> dict[str, object]:
    rows = report.containers.filter(pl.col("obj") == obj).to_dicts()
    assert len(rows) == 1
    return rows[0]


def order_of(report_of: ReportOf, *moves: tuple[str, int]) -> object:
    """The order of a container after ``moves``: ("add", item), ("insert", item), ("take", item)."""
    rec = Recorder()
    events = {
        "add": schema.LIST_APPEND,
        "insert": schema.LIST_INSERT,
        "take": schema.LIST_POP,
        "drop": schema.LIST_CLEAR,
    }
    for what, item in moves:
        rec.move(events[what], item)
    return row(report_of(rec))["order"]


def test_pure_fifo(report_of: ReportOf) -> None:
    """append + pop(0) takes the oldest item every time: FIFO."""
    moves = [("add", 1), ("add", 2), ("add", 3), ("take", 1), ("take", 2), ("take", 3)]
    assert order_of(report_of, *moves) == "FIFO"


def test_pure_lifo(report_of: ReportOf) -> None:
    """append + pop() takes the newest item every time: LIFO."""
    moves = [("add", 1), ("add", 2), ("add", 3), ("take", 3), ("take", 2), ("take", 1)]
    assert order_of(report_of, *moves) == "LIFO"


def test_mixed(report_of: ReportOf) -> None:
    """Taking the oldest and then the newest item is neither FIFO nor LIFO."""
    moves = [("add", 1), ("add", 2), ("add", 3), ("take", 1), ("take", 3)]
    assert order_of(report_of, *moves) == "mixed"


def test_single_take_is_fifo(report_of: ReportOf) -> None:
    """One item in, one out is both FIFO and LIFO; FIFO wins."""
    assert order_of(report_of, ("add", 1), ("take", 1)) == "FIFO"


def test_insert_front_and_pop_is_fifo(report_of: ReportOf) -> None:
    """insert(0, x) + pop() takes the oldest item: FIFO, whatever the positions."""
    moves = [("insert", 1), ("insert", 2), ("take", 1), ("insert", 3), ("take", 2), ("take", 3)]
    assert order_of(report_of, *moves) == "FIFO"


def test_interleaved_lifo(report_of: ReportOf) -> None:
    """Adds between takes: each take still took the newest item present, so LIFO."""
    moves = [("add", 1), ("add", 2), ("take", 2), ("add", 3), ("take", 3), ("take", 1)]
    assert order_of(report_of, *moves) == "LIFO"


def test_no_takes_has_no_order(report_of: ReportOf) -> None:
    """A container nothing was taken from (only cleared) has order null."""
    assert order_of(report_of, ("add", 1), ("add", 2), ("drop", 2), ("drop", 1)) is None


def test_discarded_items_leave_without_breaking_fifo(report_of: ReportOf) -> None:
    """An item removed by clear() before a take counts as gone for the FIFO check."""
    moves = [("add", 1), ("drop", 1), ("add", 2), ("take", 2)]
    assert order_of(report_of, *moves) == "FIFO"


def test_lifo_with_stranded_items_below(recorder: Recorder, report_of: ReportOf) -> None:
    """The cookbook: items 1..10 added, the consumer pops the newest five and ends: LIFO, five
    stranded."""
    for item in range(1, 11):
        recorder.append(item, thread="producer")
    for item in range(10, 5, -1):
        recorder.pop(item, thread="consumer")
    recorder.line(schema.THREAD_END, thread="consumer")
    report = report_of(recorder)
    facts = row(report)
    assert (facts["added"], facts["taken"], facts["stranded"], facts["order"]) == (10, 5, 5, "LIFO")
    stranded = found(report, "stranded-item")
    assert [seq for _, _, seq, _, _ in stranded] == [1, 2, 3, 4, 5]
    assert {severity for _, severity, *_ in stranded} == {"warning"}


def test_items_a_live_consumer_could_still_take_are_left_not_stranded(
    recorder: Recorder, report_of: ReportOf
) -> None:
    """A run cut while its consumer still runs: the items in the buffer are left, not stranded."""
    for item in range(1, 4):
        recorder.put(item, thread="producer")
    recorder.get(1, thread="consumer")
    report = report_of(recorder, end=False)
    assert found(report, "stranded-item") == []
    facts = row(report, "q")
    assert (facts["added"], facts["taken"], facts["stranded"], facts["left"]) == (3, 1, 0, 2)
    recorder.line(schema.THREAD_END, thread="consumer")
    ended = report_of(recorder, end=False)
    assert [seq for _, _, seq, _, _ in found(ended, "stranded-item")] == [2, 3]
    assert (row(ended, "q")["stranded"], row(ended, "q")["left"]) == (2, 0)


def test_same_value_twice_is_two_items(recorder: Recorder, report_of: ReportOf) -> None:
    """Two appends of the same value are two items; taking one strands the other."""
    recorder.append(1, value="'a'", thread="producer")
    second = recorder.append(2, value="'a'", thread="producer", site="prod.py:7")
    recorder.pop(1, value="'a'", thread="consumer")
    recorder.line(schema.THREAD_END, thread="consumer", after=0)
    report = report_of(recorder)
    assert found(report, "stranded-item") == [
        (
            "stranded-item",
            "warning",
            second,
            "producer",
            "item 2 ('a') was added and never taken: it had been there 2 ms when the trace ended",
        ),
    ]
    assert report.findings["site"].to_list() == ["prod.py:7"]


def test_list_only_appended_to_strands_nothing(recorder: Recorder, report_of: ReportOf) -> None:
    """A results list workers append to and nobody takes from is a collection, not a buffer."""
    for item in range(1, 4):
        recorder.append(item, "results", thread=f"Thread-{item}")
    report = report_of(recorder)
    assert found(report) == []
    facts = row(report, "results")
    assert (facts["added"], facts["taken"], facts["stranded"]) == (3, 0, 3)


def test_list_with_one_take_strands_the_rest(recorder: Recorder, report_of: ReportOf) -> None:
    """One pop makes a list a buffer: the two items nobody took are two stranded items."""
    first = recorder.append(1)
    second = recorder.append(2)
    recorder.append(3)
    recorder.pop(3)
    assert [(k, s, q) for k, s, q, _, _ in found(report_of(recorder))] == [
        ("stranded-item", "warning", first),
        ("stranded-item", "warning", second),
    ]


def test_a_failed_take_makes_a_list_a_buffer(recorder: Recorder, report_of: ReportOf) -> None:
    """A consumer that tried to take (and failed) shows the list was meant to be drained."""
    recorder.pop(None, error="IndexError", thread="consumer")
    recorder.line(schema.THREAD_END, thread="consumer")
    added = recorder.append(1, thread="producer")
    kinds = [(k, q) for k, _, q, _, _ in found(report_of(recorder))]
    assert kinds == [("failed-take", added - 2), ("stranded-item", added)]


def test_queue_with_puts_and_no_gets_strands_them(recorder: Recorder, report_of: ReportOf) -> None:
    """A queue is a buffer by nature: items put and never got are stranded even with no get."""
    puts = [recorder.put(item, thread="producer") for item in (1, 2)]
    assert found(report_of(recorder)) == [
        (
            "stranded-item",
            "warning",
            seq,
            "producer",
            f"item {item} ('x') was added and never taken: it had been there {ms} ms when the"
            " trace ended",
        )
        for item, seq, ms in zip((1, 2), puts, (2, 1), strict=True)
    ]


def test_residency_and_failed_takes(recorder: Recorder, report_of: ReportOf) -> None:
    """Residency is take ts - add ts over taken items; failed takes are counted apart."""
    # Item 1 was in the list before recording began: it has no add line, so
    # no residency, and taking the newer items first makes the order mixed.
    recorder.append(2)
    recorder.append(3)
    recorder.pop(2, after=9_000_000)  # 10 ms after its add
    recorder.pop(3, after=20_000_000)  # 29 ms
    recorder.append(4)
    recorder.pop(4)  # 1 ms
    recorder.pop(None, error="IndexError")
    recorder.pop(1)
    recorder.pop(None, error="IndexError")
    expected = pl.DataFrame(
        {
            "obj": ["jobs"],
            "added": [3],
            "taken": [4],
            "discarded": [0],
            "stranded": [0],
            "left": [0],
            "failed_takes": [2],
            "order": ["mixed"],
            "residency_min_ms": [1.0],
            "residency_p50_ms": [10.0],
            "residency_p95_ms": [27.1],
            "residency_max_ms": [29.0],
        },
        schema_overrides={
            "added": pl.UInt32,
            "taken": pl.UInt32,
            "discarded": pl.UInt32,
            "stranded": pl.UInt32,
            "left": pl.UInt32,
            "failed_takes": pl.UInt32,
        },
    )
    assert_frame_equal(report_of(recorder).containers, expected)


def test_containers_aggregate_by_name_across_runs(report_of: ReportOf) -> None:
    """Counts add up over files, and the order is FIFO only if every run was FIFO."""
    fifo, lifo = Recorder(), Recorder()
    for rec in (fifo, lifo):
        rec.append(1)
        rec.append(2)
    fifo.pop(1)
    lifo.pop(2)
    report = report_of(fifo, lifo)
    facts = row(report)
    assert (facts["added"], facts["taken"], facts["stranded"], facts["order"]) == (4, 2, 2, "mixed")
    assert report.findings.select("run", "seq").rows() == [(0, 2), (1, 1)]


@pytest.mark.parametrize("other_run", ["fifo", "none"])
def test_a_run_without_takes_does_not_change_the_order(report_of: ReportOf, other_run: str) -> None:
    """A run that took nothing from a container adds no evidence about its order."""
    first, second = Recorder(), Recorder()
    first.append(1)
    first.append(2)
    first.pop(1)
    second.append(1)
    if other_run == "fifo":
        second.pop(1)
    assert row(report_of(first, second))["order"] == "FIFO"


def test_order_agrees_with_a_direct_simulation(recorder: Recorder, report_of: ReportOf) -> None:
    """On random workloads (FIFO, LIFO or random takes, with clears) order matches a replay."""
    rng = random.Random(7)
    expected = {}
    for n in range(150):
        obj, policy = f"c{n}", rng.choice(["fifo", "lifo", "any"])
        present: list[int] = []
        next_item, fifo, lifo, took = 1, True, True, False
        for _ in range(rng.randint(1, 12)):
            roll = rng.random()
            if roll < 0.5 or not present:
                recorder.append(next_item, obj)
                present.append(next_item)
                next_item += 1
            elif roll < 0.95:
                index = {"fifo": 0, "lifo": -1, "any": rng.randrange(len(present))}[policy]
                item = present.pop(index)
                fifo = fifo and all(p > item for p in present)
                lifo = lifo and all(p < item for p in present)
                took = True
                recorder.pop(item, obj)
            else:  # clear(): newest item first
                for item in reversed(present):
                    recorder.move(schema.LIST_CLEAR, item, obj)
                present.clear()
        expected[obj] = ("FIFO" if fifo else "LIFO" if lifo else "mixed") if took else None
    assert {"FIFO", "LIFO", "mixed", None} == set(expected.values())
    got = dict(report_of(recorder).containers.select("obj", "order").iter_rows())
    assert got == expected


def queue_order(report_of: ReportOf, puts: int, gets: list[int], **get_fields: object) -> object:
    """The order of queue "q" after putting items 1..puts and getting ``gets`` in turn."""
    rec = Recorder()
    for item in range(1, puts + 1):
        rec.put(item, thread="producer")
    for item in gets:
        rec.get(item, thread="consumer", **get_fields)
    return row(report_of(rec), "q")["order"]


def test_fifo_queue(report_of: ReportOf) -> None:
    """queue.Queue gets the oldest item first: FIFO."""
    assert queue_order(report_of, 3, [1, 2, 3]) == "FIFO"


def test_lifo_queue(report_of: ReportOf) -> None:
    """queue.LifoQueue gets the newest item first: LIFO."""
    assert queue_order(report_of, 3, [3, 2, 1]) == "LIFO"


def test_priority_queue_gets_have_no_index(report_of: ReportOf) -> None:
    """A PriorityQueue get has index null; the order follows the items, neither FIFO nor LIFO."""
    assert queue_order(report_of, 3, [2, 3, 1], index=None) == "mixed"


def test_queue_traffic_failed_gets_and_residency(recorder: Recorder, report_of: ReportOf) -> None:
    """Puts are adds, gets are takes, failed gets (Empty) count apart, residency is get - put."""
    recorder.get(None, error="Empty", thread="consumer")
    recorder.put(1, thread="producer")
    recorder.put(2, thread="producer", after=3_000_000)
    recorder.get(1, thread="consumer", after=6_000_000)  # 9 ms after its put
    recorder.get(2, thread="consumer", after=1_000_000)  # 7 ms
    recorder.get(None, error="Empty", thread="consumer")
    recorder.line(schema.THREAD_END, thread="consumer")
    recorder.put(3, thread="producer")  # never got, and the consumer is gone: stranded
    expected = pl.DataFrame(
        {
            "obj": ["q"],
            "added": [3],
            "taken": [2],
            "discarded": [0],
            "stranded": [1],
            "left": [0],
            "failed_takes": [2],
            "order": ["FIFO"],
            "residency_min_ms": [7.0],
            "residency_p50_ms": [8.0],
            "residency_p95_ms": [8.9],
            "residency_max_ms": [9.0],
        },
        schema_overrides={
            "added": pl.UInt32,
            "taken": pl.UInt32,
            "discarded": pl.UInt32,
            "stranded": pl.UInt32,
            "left": pl.UInt32,
            "failed_takes": pl.UInt32,
        },
    )
    report = report_of(recorder)
    assert_frame_equal(report.containers, expected)
    assert report.counts == {**report.counts, "failed-take": 2, "stranded-item": 1}
