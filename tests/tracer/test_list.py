"""tracer.List: item numbers, positions and depths of every add and take."""

from __future__ import annotations

import os
import threading
import traceback

import pytest

import tracer
from tracer.testing import capture

CONTAINER = (
    "list.append",
    "list.insert",
    "list.extend",
    "list.pop",
    "list.remove",
    "list.del",
    "list.clear",
)


def moves(trace: object) -> list[tuple[str, int | None, int | None, int, str | None]]:
    """(event without "list.", item, index, depth, value) of every container line."""
    return [
        (e["event"][5:], e["item"], e["index"], e["depth"], e["value"])
        for e in trace.events(*CONTAINER)  # type: ignore[attr-defined]
    ]


def test_behaves_as_list_without_recording() -> None:
    """With no recording running, the drop-in is a plain list."""
    items: tracer.List[int] = tracer.List([3, 1], name="plain")
    items.append(2)
    items.extend([5])
    items += [4]
    items.sort()
    assert isinstance(items, list) and items == [1, 2, 3, 4, 5]
    assert items.pop() == 5 and items.pop(0) == 1
    del items[0]
    assert items == [3, 4]


def test_same_value_appended_twice_is_two_items() -> None:
    """Items are numbered by arrival, so equal values stay distinguishable."""
    items: tracer.List[int] = tracer.List()
    with capture() as trace:
        items.append(7)
        items.append(7)
        assert items.pop() == 7
    assert moves(trace) == [
        ("append", 1, 0, 1, "7"),
        ("append", 2, 1, 2, "7"),
        ("pop", 2, 1, 1, "7"),
    ]


def test_pop_from_empty_records_the_error_and_still_raises() -> None:
    """A failed take is written with its error, and the caller still gets IndexError."""
    items: tracer.List[int] = tracer.List(name="empty")
    with capture() as trace, pytest.raises(IndexError):
        items.pop()
    (line,) = trace.events("list.pop")
    assert line["item"] is None and line["error"] == "IndexError" and line["depth"] == 0


def test_remove_missing_value_records_value_error() -> None:
    """remove() of an absent value is a failed take with ValueError."""
    items: tracer.List[int] = tracer.List()
    with capture() as trace, pytest.raises(ValueError):
        items.remove(42)
    assert trace.events("list.remove")[0]["error"] == "ValueError"


def test_insert_positions_follow_list_semantics() -> None:
    """insert() records where list.insert really puts the item, clamping both ends."""
    items: tracer.List[str] = tracer.List()
    with capture() as trace:
        items.insert(0, "a")
        items.insert(-1, "b")  # before the last: index 0
        items.insert(100, "c")  # clamps to the end: index 2
        items.insert(-100, "d")  # clamps to the start
    assert items == ["d", "b", "a", "c"]
    assert [(m[1], m[2]) for m in moves(trace)] == [(1, 0), (2, 0), (3, 2), (4, 0)]


def test_insert_front_and_pop_end_takes_oldest_item() -> None:
    """The item taken is known by number even when positions shift (a deque-like list)."""
    items: tracer.List[str] = tracer.List()
    with capture() as trace:
        for v in "xyz":
            items.insert(0, v)
        assert items.pop() == "x"
    assert moves(trace)[-1] == ("pop", 1, 2, 2, "'x'")


def test_extend_and_iadd_write_one_line_per_item() -> None:
    """extend() and += add their items one line each, in order."""
    items: tracer.List[int] = tracer.List()
    with capture() as trace:
        items.extend(range(2))
        items += [9]
    assert moves(trace) == [
        ("extend", 1, 0, 1, "0"),
        ("extend", 2, 1, 2, "1"),
        ("extend", 3, 2, 3, "9"),
    ]


def test_del_index_is_a_take_and_del_slice_discards_newest_first() -> None:
    """del items[i] takes one item; del items[a:b] drops items, newest first."""
    items: tracer.List[int] = tracer.List([10, 11, 12, 13])
    with capture() as trace:
        del items[0]
        del items[0:2]
    assert moves(trace) == [
        ("del", 1, 0, 3, "10"),
        ("clear", 3, 1, 2, "12"),
        ("clear", 2, 0, 1, "11"),
    ]
    assert items == [13]


def test_clear_discards_every_item_newest_first() -> None:
    """clear() writes one discard per item, newest first, down to depth 0."""
    items: tracer.List[str] = tracer.List()
    with capture() as trace:
        items.extend("ab")
        items.clear()
    assert moves(trace)[2:] == [("clear", 2, 1, 1, "'b'"), ("clear", 1, 0, 0, "'a'")]


def test_slice_assignment_discards_old_items_and_adds_new_ones() -> None:
    """items[a:b] = values drops the old items and adds the new ones at their places."""
    items: tracer.List[int] = tracer.List([1, 2, 3])
    with capture() as trace:
        items[0:2] = [7, 8, 9]
        assert items.pop(0) == 7
    assert moves(trace) == [
        ("clear", 2, 1, 2, "2"),
        ("clear", 1, 0, 1, "1"),
        ("insert", 4, 0, 2, "7"),
        ("insert", 5, 1, 3, "8"),
        ("insert", 6, 2, 4, "9"),
        ("pop", 4, 0, 3, "7"),
    ]


def test_index_assignment_changes_value_in_place() -> None:
    """items[i] = v is not an add or a take: the item keeps its number."""
    items: tracer.List[int] = tracer.List([1])
    with capture() as trace:
        items[0] = 5
        items.pop()
    assert moves(trace) == [("pop", 1, 0, 0, "5")]


def test_sort_and_reverse_keep_numbers_with_their_values() -> None:
    """After sort() and reverse(), a take still names the item that holds the value."""
    items: tracer.List[int] = tracer.List()
    with capture() as trace:
        items.extend([3, 1, 2])  # items 1, 2, 3
        items.sort()  # values 1, 2, 3 are items 2, 3, 1
        assert items.pop(0) == 1
        items.reverse()  # values 3, 2 are items 1, 3
        assert items.pop(0) == 3
    assert [m[:2] for m in moves(trace)[3:]] == [("pop", 2), ("pop", 1)]


def test_items_from_before_the_recording_are_numbered_without_add_lines() -> None:
    """A list filled before recording still names the items taken from it."""
    items: tracer.List[str] = tracer.List(["old"])
    with capture() as trace:
        items.append("new")
        items.pop(0)
    assert moves(trace) == [("append", 2, 1, 2, "'new'"), ("pop", 1, 0, 1, "'old'")]


def test_long_and_failing_reprs_are_cut_and_caught() -> None:
    """Values are written as short reprs; a value whose repr raises still goes in."""

    class Broken:
        def __repr__(self) -> str:
            raise RuntimeError("no repr")

    items: tracer.List[object] = tracer.List()
    with capture() as trace:
        items.append("x" * 500)
        items.append(Broken())
    long, broken = (m[4] for m in moves(trace))
    assert long is not None and len(long) == 80 and long.endswith("...")
    assert broken is not None and broken.startswith("<Broken")


def test_concurrent_appends_keep_numbers_and_positions_consistent() -> None:
    """Four threads appending at once: every item number and index is unique and in order."""
    items: tracer.List[int] = tracer.List()
    start = threading.Barrier(4)

    def producer(k: int) -> None:
        start.wait()
        for i in range(500):
            items.append(k * 1000 + i)

    with capture() as trace:
        threads = [threading.Thread(target=producer, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    lines = moves(trace)
    assert [m[1] for m in lines] == list(range(1, 2001))
    assert [m[2] for m in lines] == list(range(2000))
    assert [m[4] for m in lines] == [repr(v) for v in items]


def test_a_failed_take_shows_no_tracer_frames_in_the_threads_traceback() -> None:
    """A traced pop(), remove() or del that raises shows the program's frames, none of ours."""
    items: tracer.List[int] = tracer.List(name="empty-in-thread")
    texts: list[str] = []

    def consumer() -> None:
        for take in (items.pop, lambda: items.remove(3), lambda: items.__delitem__(0)):
            try:
                take()
            except (IndexError, ValueError):
                texts.append(traceback.format_exc())

    with capture() as trace:
        t = threading.Thread(target=consumer)
        t.start()
        t.join()
    assert len(texts) == 3 and len(trace.events("list.pop", "list.remove", "list.del")) == 3
    for text in texts:
        assert os.path.dirname(tracer.__file__) not in text and "in consumer" in text
