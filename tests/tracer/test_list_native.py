"""tracer.List's native fast path (Sink.list_append, list_pop): the Python path's lines."""

from __future__ import annotations

import threading
from typing import Any

import pytest

import tracer
from synctrace import schema
from tracer.primitives import lists
from tracer.recording import capture as sink_choice
from tracer.recording import recorder
from tracer.testing import capture

needs_native = pytest.mark.skipif(
    not sink_choice.NATIVE, reason="the native sink is not in use (not built, or SYNCTRACE_PURE=1)"
)

LONG = "x" * 200
VALUES: list[Any] = [
    1,
    -7,
    0,
    2**63 - 1,
    -(2**63),
    2**63,
    10**30,
    2**70,
    "a",
    "é\n",
    LONG,
    0.5,
    1e300,
    b"b",
    True,
    None,
    (1, 2),
]
RUN_FIELDS = ("ts", "thread_id")
LIST = (schema.LIST_APPEND, schema.LIST_POP)


def script() -> list[dict[str, Any]]:
    """Appends and pops of every kind of value (some the fast path declines), as lines."""
    items: tracer.List[Any] = tracer.List(["before"], name="items")
    with capture() as trace:
        for value in VALUES:
            items.append(value)
        items.append(ValueError("v"))  # a repr the fast path leaves to short_repr
        items.pop()
        items.pop(0)
        items.pop(-2)
        items.pop(True)  # an index that is not an exact int
        while items:
            items.pop()
        with pytest.raises(IndexError):
            items.pop()
        items.append(3)
        with pytest.raises(IndexError):
            items.pop(5)
    return [{k: v for k, v in line.items() if k not in RUN_FIELDS} for line in trace.events(*LIST)]


@needs_native
def test_fast_path_writes_the_python_paths_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """The same appends and pops write the same lines with the fast path on and off."""
    fast = script()
    monkeypatch.setattr(lists, "_NATIVE", False)
    slow = script()
    assert [line["event"] for line in fast] == [line["event"] for line in slow]
    assert fast == slow
    assert [list(line) for line in fast] == [list(line) for line in slow]


def test_values_are_cut_as_short_repr_cuts_them() -> None:
    """A long value is written as its first 77 characters and "...", on either path."""
    items: tracer.List[str] = tracer.List()
    with capture() as trace:
        items.append(LONG)
        items.pop()
    assert [e["value"] for e in trace.events(*LIST)] == [lists.short_repr(LONG)] * 2
    assert len(lists.short_repr(LONG)) == schema.VALUE_REPR_LIMIT


@needs_native
def test_event_names_match_the_schema() -> None:
    """The fast path's lines carry the schema's event names."""
    items: tracer.List[int] = tracer.List([1])
    with capture() as trace:
        items.append(2)
        items.pop()
    assert [e["event"] for e in trace.events(*LIST)] == [schema.LIST_APPEND, schema.LIST_POP]


@needs_native
def test_a_busy_lock_declines_and_changes_nothing() -> None:
    """While another thread holds the list's lock, list_append and list_pop do nothing."""
    items: tracer.List[int] = tracer.List([1])
    held, done = threading.Event(), threading.Event()

    def hold() -> None:
        with items._lock:
            held.set()
            done.wait()

    with capture() as trace:
        rec = recorder.current
        assert rec is not None
        items.append(2)  # numbers the items for this recording
        holder = threading.Thread(target=hold)
        holder.start()
        held.wait()
        try:
            assert rec._sink.list_append(items, 3, rec.generation) is NotImplemented
            assert rec._sink.list_pop(items, -1, rec.generation) is NotImplemented
            assert list(items) == [1, 2] and items._ids == [1, 2]
        finally:
            done.set()
            holder.join()
        assert items.pop() == 2
    assert [(e["event"], e["item"]) for e in trace.events(*LIST)] == [
        ("list.append", 2),
        ("list.pop", 2),
    ]


@needs_native
def test_an_earlier_recordings_numbering_declines() -> None:
    """Items from before the recording are numbered by the Python path first, then fast."""
    items: tracer.List[int] = tracer.List([5, 6])
    with capture() as trace:
        rec = recorder.current
        assert rec is not None
        assert rec._sink.list_append(items, 7, rec.generation) is NotImplemented
        items.append(7)
        assert rec._sink.list_pop(items, 0, rec.generation) == 5
    assert [(e["event"], e["item"], e["index"]) for e in trace.events(*LIST)] == [
        ("list.append", 3, 2),
        ("list.pop", 1, 0),
    ]


def _line_of(marker: str) -> int:
    """The line of this file that holds ``marker`` in a comment."""
    with open(__file__, encoding="utf-8") as source:
        for number, text in enumerate(source, 1):
            if text.rstrip().endswith(f"# {marker}"):
                return number
    raise AssertionError(marker)


@needs_native
def test_c_methods_are_installed_only_while_recording() -> None:
    """While a native recording runs List.append and pop are C descriptors; after, list's own."""
    with capture():
        assert tracer.List.append is lists._FAST["append"]
        assert tracer.List.pop is lists._FAST["pop"]
        assert "List" in repr(tracer.List.append)
    assert tracer.List.append is list.append
    assert tracer.List.pop is list.pop


@needs_native
def test_c_methods_write_the_programs_line_as_site() -> None:
    """With no frame of ours in between, the site is the line of the program that called."""
    items: tracer.List[int] = tracer.List(name="sited")
    with capture() as trace:
        items.append(1)  # site-append
        items.pop()  # site-pop
    sites = [e["site"] for e in trace.events(*LIST)]
    name = __file__.rsplit("/", 1)[-1]
    assert sites == [f"{name}:{_line_of('site-append')}", f"{name}:{_line_of('site-pop')}"]


@needs_native
def test_pop_arguments_are_checked_as_list_pop_checks_them() -> None:
    """Too many arguments, a keyword, a str or an out-of-range index raise as list.pop raises."""
    items: tracer.List[int] = tracer.List([1, 2])
    plain = [1, 2]
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
        ((0, 1), {}),
        ((), {"index": 0}),
        (("a",), {}),
        ((9,), {}),
    ]
    with capture():
        for args, kwargs in calls:
            with pytest.raises((TypeError, IndexError)) as ours:
                items.pop(*args, **kwargs)
            with pytest.raises((TypeError, IndexError)) as theirs:
                plain.pop(*args, **kwargs)
            assert type(ours.value) is type(theirs.value)
            assert str(ours.value).replace("List.", "list.") == str(theirs.value)
        assert list(items) == [1, 2]


@needs_native
def test_a_subclass_keeps_its_own_append_and_super_records_its_line() -> None:
    """A List subclass's append stays its own; its super().append records the subclass's line."""

    class Doubling(tracer.List[int]):
        def append(self, value: int) -> None:
            super().append(value * 2)  # site-super

    items = Doubling(name="doubling")
    with capture() as trace:
        items.append(2)
        assert items.pop() == 4
    lines = trace.events(*LIST)
    assert [(e["event"], e["value"]) for e in lines] == [("list.append", "4"), ("list.pop", "4")]
    assert lines[0]["site"].endswith(f":{_line_of('site-super')}")


@needs_native
def test_c_methods_without_a_handed_over_sink_take_the_python_path() -> None:
    """With the sink taken back mid-recording, the C methods hand calls to the traced methods."""
    items: tracer.List[int] = tracer.List(name="handed")
    with capture() as trace:
        rec = recorder.current
        assert rec is not None
        recorder._hand_over(None, None)
        try:
            items.append(1)
            assert items.pop(0) == 1
        finally:
            recorder._hand_over(rec.sink, rec.generation)
    assert [(e["event"], e["item"]) for e in trace.events(*LIST)] == [
        ("list.append", 1),
        ("list.pop", 1),
    ]


@needs_native
def test_a_bound_method_kept_past_the_recording_does_the_plain_operation() -> None:
    """A bound C method used after the recording stopped changes the list and records nothing."""
    items: tracer.List[int] = tracer.List(name="kept")
    with capture() as trace:
        append, pop = items.append, items.pop
    append(5)
    assert pop() == 5 and list(items) == []
    assert trace.events(*LIST) == []


@needs_native
def test_threads_racing_a_stop_never_break_the_list() -> None:
    """Threads appending and popping while the recording stops keep their list whole."""
    items: tracer.List[int] = tracer.List(name="racing")
    stop = threading.Event()

    def churn() -> None:
        while not stop.is_set():
            items.append(1)
            items.pop()

    workers = [threading.Thread(target=churn) for _ in range(3)]
    with capture():
        for worker in workers:
            worker.start()
        stop.wait(0.05)
    stop.wait(0.05)
    stop.set()
    for worker in workers:
        worker.join()
    assert list(items) == []


@needs_native
def test_the_list_lock_is_a_reentrant_lock_that_counts_its_holds() -> None:
    """ListLock takes and lets go as an RLock does, and `held` is the holder's depth."""
    from tracer.recording import _csink

    lock = _csink.ListLock()
    assert lock.held == 0 and not lock._is_owned()
    with lock:
        assert lock.acquire() is True and lock.held == 2 and lock._is_owned()
        lock.release()
        assert lock.held == 1
    assert lock.held == 0
    with pytest.raises(RuntimeError):
        lock.release()  # not held: refused, and the count stays
    assert lock.held == 0


@needs_native
def test_a_list_lock_held_elsewhere_is_refused_without_waiting() -> None:
    """Another thread's acquire(False) and acquire(timeout=...) fail while it is held, counting
    nothing."""
    from tracer.recording import _csink

    lock = _csink.ListLock()
    answers: list[bool] = []

    def try_it() -> None:
        answers.append(lock.acquire(False))
        answers.append(lock.acquire(timeout=0.01))
        answers.append(lock.acquire(blocking=False))

    with lock:
        other = threading.Thread(target=try_it)
        other.start()
        other.join()
        assert answers == [False, False, False] and lock.held == 1
    assert lock.held == 0 and lock.acquire(False) is True and lock.held == 1
    lock.release()


@needs_native
def test_a_list_used_while_its_own_thread_holds_the_lock_records_through_python() -> None:
    """Held by the calling thread (a value's repr touching its list), the fast path declines and
    the Python path re-enters the lock: the operation happens and its line is written."""
    items: tracer.List[int] = tracer.List(name="items")
    with capture() as trace:
        with items._lock:
            items.append(1)
            assert items.pop() == 1
        assert items._lock.held == 0
    assert [(e["event"], e["item"]) for e in trace.events(*LIST)] == [
        ("list.append", 1),
        ("list.pop", 1),
    ]
