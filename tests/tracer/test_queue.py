"""tracer's queues: item numbers per queue, waits for items and room, tasks, raw internals."""

from __future__ import annotations

import os
import queue
import threading
import traceback
from typing import Any

import pytest

import tracer
from tests.tracer.blocked import blocked_in
from tests.tracer.handshake import wait_until
from tracer.testing import CapturedTrace, capture

QUEUE_EVENTS = (
    "queue.put",
    "queue.get",
    "queue.put.begin",
    "queue.put.end",
    "queue.get.begin",
    "queue.get.end",
    "queue.task_done",
    "queue.join.begin",
    "queue.join.end",
)


def moves(trace: CapturedTrace) -> list[tuple[str, int | None, int | None, int, str | None]]:
    """(event without "queue.", item, index, depth, value) of every put and get line."""
    return [
        (e["event"][6:], e["item"], e["index"], e["depth"], e["value"])
        for e in trace.events("queue.put", "queue.get")
    ]


def order(trace: CapturedTrace) -> list[tuple[str, str]]:
    """(event, thread) of every queue line, in seq order."""
    return [(e["event"], e["thread"]) for e in trace.events(*QUEUE_EVENTS)]


def test_behaves_as_the_standard_queues_without_recording() -> None:
    """With no recording running, each drop-in is and behaves as its queue counterpart."""
    fifo: tracer.Queue[int] = tracer.Queue(maxsize=2)
    lifo: tracer.LifoQueue[int] = tracer.LifoQueue()
    prio: tracer.PriorityQueue[int] = tracer.PriorityQueue()
    simple: tracer.SimpleQueue[int] = tracer.SimpleQueue()
    assert isinstance(fifo, queue.Queue)
    assert isinstance(lifo, queue.LifoQueue) and isinstance(lifo, tracer.Queue)
    assert isinstance(prio, queue.PriorityQueue) and isinstance(prio, tracer.Queue)
    assert isinstance(simple, queue.SimpleQueue)
    for q in (fifo, lifo, prio, simple):
        for value in (2, 3, 1):
            if q is fifo and value == 1:
                with pytest.raises(queue.Full):
                    q.put_nowait(value)
                continue
            q.put(value)
    assert [fifo.get(), fifo.get()] == [2, 3]
    assert [lifo.get() for _ in range(3)] == [1, 3, 2]
    assert [prio.get() for _ in range(3)] == [1, 2, 3]
    assert [simple.get() for _ in range(3)] == [2, 3, 1]
    for q in (fifo, lifo, prio, simple):
        with pytest.raises(queue.Empty):
            q.get_nowait()
        with pytest.raises(queue.Empty):
            q.get(timeout=0.001)
    fifo.task_done()
    fifo.task_done()
    fifo.join()
    with pytest.raises(ValueError):
        fifo.task_done()


def test_fifo_numbers_items_and_takes_the_oldest() -> None:
    """The same value put twice is two items; a Queue takes them in put order from index 0."""
    q: tracer.Queue[int] = tracer.Queue(name="fifo")
    with capture() as trace:
        q.put(7)
        q.put(7)
        assert q.get() == 7
        assert q.get_nowait() == 7
    assert moves(trace) == [
        ("put", 1, 0, 1, "7"),
        ("put", 2, 1, 2, "7"),
        ("get", 1, 0, 1, "7"),
        ("get", 2, 0, 0, "7"),
    ]
    lines = trace.events(*QUEUE_EVENTS)
    assert all(e["obj"] == q.name and e["error"] is None for e in lines)
    assert all(e["site"].startswith("test_queue.py:") for e in lines)


def test_lifo_takes_the_newest_from_the_end() -> None:
    """A LifoQueue takes the last item put, from the end."""
    q: tracer.LifoQueue[int] = tracer.LifoQueue()
    with capture() as trace:
        q.put(7)
        q.put(7)
        q.put(3)
        assert [q.get() for _ in range(3)] == [3, 7, 7]
    assert moves(trace) == [
        ("put", 1, 0, 1, "7"),
        ("put", 2, 1, 2, "7"),
        ("put", 3, 2, 3, "3"),
        ("get", 3, 2, 2, "3"),
        ("get", 2, 1, 1, "7"),
        ("get", 1, 0, 0, "7"),
    ]


def test_priority_takes_the_smallest_and_equal_objects_oldest_first() -> None:
    """A PriorityQueue get names the item by identity; the same object twice leaves oldest first."""
    q: tracer.PriorityQueue[Any] = tracer.PriorityQueue()
    with capture() as trace:
        q.put(7)
        q.put(7)
        q.put(3)
        assert [q.get() for _ in range(3)] == [3, 7, 7]
    assert moves(trace) == [
        ("put", 1, None, 1, "7"),
        ("put", 2, None, 2, "7"),
        ("put", 3, None, 3, "3"),
        ("get", 3, None, 2, "3"),
        ("get", 1, None, 1, "7"),
        ("get", 2, None, 0, "7"),
    ]


def test_priority_tells_equal_but_distinct_values_apart() -> None:
    """Two equal tuples are two objects: each get names the very item it returned."""
    q: tracer.PriorityQueue[Any] = tracer.PriorityQueue()
    first, second = (1, "job"), (1, "job")
    with capture() as trace:
        q.put(second)
        q.put(first)
        taken = q.get()
    (get,) = trace.events("queue.get")
    assert get["item"] == (1 if taken is second else 2)


def test_simple_queue_numbers_items_in_put_order() -> None:
    """A SimpleQueue's lines number items as a Queue's do."""
    q: tracer.SimpleQueue[int] = tracer.SimpleQueue(name="simple")
    with capture() as trace:
        q.put(7)
        q.put_nowait(7)
        assert q.get() == 7
        assert q.get_nowait() == 7
    assert moves(trace) == [
        ("put", 1, 0, 1, "7"),
        ("put", 2, 1, 2, "7"),
        ("get", 1, 0, 1, "7"),
        ("get", 2, 0, 0, "7"),
    ]
    assert all(e["site"].startswith("test_queue.py:") for e in trace.events(*QUEUE_EVENTS))


def test_items_from_before_the_recording_are_numbered_without_a_put() -> None:
    """Items already queued when recording starts get numbers; new ones follow them."""
    q: tracer.Queue[str] = tracer.Queue()
    q.put("old")
    with capture() as trace:
        q.put("new")
        assert [q.get(), q.get()] == ["old", "new"]
    assert [(m[0], m[1], m[4]) for m in moves(trace)] == [
        ("put", 2, "'new'"),
        ("get", 1, "'old'"),
        ("get", 2, "'new'"),
    ]


@pytest.mark.parametrize("kind", [tracer.Queue, tracer.SimpleQueue])
def test_get_nowait_on_empty_is_a_failed_take(kind: type[Any]) -> None:
    """get_nowait() on an empty queue writes a get with error Empty and still raises."""
    q = kind()
    with capture() as trace, pytest.raises(queue.Empty):
        q.get_nowait()
    (get,) = trace.events(*QUEUE_EVENTS)
    assert (get["event"], get["item"], get["depth"], get["error"]) == (
        "queue.get",
        None,
        0,
        "Empty",
    )
    assert get["site"].startswith("test_queue.py:")


@pytest.mark.parametrize("kind", [tracer.Queue, tracer.SimpleQueue])
def test_get_that_times_out(kind: type[Any]) -> None:
    """A get(timeout) on an empty queue is begin, a get with error Empty, then a timed-out end."""
    q = kind()
    with capture() as trace, pytest.raises(queue.Empty):
        q.get(timeout=0.01)
    begin, get, end = trace.events(*QUEUE_EVENTS)
    assert (begin["event"], begin["timeout"]) == ("queue.get.begin", 0.01)
    assert (get["event"], get["item"], get["error"]) == ("queue.get", None, "Empty")
    assert (end["event"], end["begin_seq"]) == ("queue.get.end", begin["seq"])
    assert (end["result"], end["timed_out"], end["error"]) == (False, True, None)


@pytest.mark.parametrize("kind", [tracer.Queue, tracer.SimpleQueue])
def test_blocking_get_woken_by_a_put(kind: type[Any]) -> None:
    """A get that waits: its begin, then the put, then its get of that item, then its end."""
    q = kind()
    got: list[str] = []
    with capture() as trace:
        consumer = threading.Thread(
            target=lambda: got.append(q.get()), name="consumer", daemon=True
        )
        consumer.start()
        wait_until(lambda: blocked_in("queue.get.begin", q.name) == 1)
        q.put("x")
        consumer.join()
    assert got == ["x"]
    assert order(trace) == [
        ("queue.get.begin", "consumer"),
        ("queue.put", "MainThread"),
        ("queue.get", "consumer"),
        ("queue.get.end", "consumer"),
    ]
    begin, put, get, end = trace.events(*QUEUE_EVENTS)
    assert begin["timeout"] is None
    assert put["item"] == get["item"] == 1
    assert end["begin_seq"] == begin["seq"]
    assert (end["result"], end["timed_out"], end["error"]) == (True, False, None)


def test_put_on_a_full_queue() -> None:
    """With maxsize=1: put_nowait is refused with Full; a put waits for the get that makes room."""
    q: tracer.Queue[int] = tracer.Queue(maxsize=1)
    q.put(1)
    with capture() as trace:
        with pytest.raises(queue.Full):
            q.put_nowait(2)
        producer = threading.Thread(target=lambda: q.put(3), name="producer", daemon=True)
        producer.start()
        wait_until(lambda: blocked_in("queue.put.begin", q.name) == 1)
        assert q.get() == 1
        producer.join()
    assert order(trace) == [
        ("queue.put", "MainThread"),
        ("queue.put.begin", "producer"),
        ("queue.get", "MainThread"),
        ("queue.put", "producer"),
        ("queue.put.end", "producer"),
    ]
    refused, begin, get, put, end = trace.events(*QUEUE_EVENTS)
    assert (refused["item"], refused["depth"], refused["error"]) == (None, 1, "Full")
    assert (begin["timeout"], begin["maxsize"]) == (None, 1)
    assert (get["item"], put["item"], put["depth"]) == (1, 2, 1)
    assert (end["begin_seq"], end["result"], end["timed_out"]) == (begin["seq"], True, False)


def test_task_done_and_join() -> None:
    """join() waits for the last task_done(); one too many is written with ValueError."""
    q: tracer.Queue[str] = tracer.Queue()
    with capture() as trace:
        q.join()  # no unfinished task: returns at once, writes nothing
        q.put("job")
        joiner = threading.Thread(target=q.join, name="joiner", daemon=True)
        joiner.start()
        wait_until(lambda: blocked_in("queue.join.begin", q.name) == 1)
        q.get()
        q.task_done()
        joiner.join()
        with pytest.raises(ValueError):
            q.task_done()
    assert order(trace) == [
        ("queue.put", "MainThread"),
        ("queue.join.begin", "joiner"),
        ("queue.get", "MainThread"),
        ("queue.task_done", "MainThread"),
        ("queue.join.end", "joiner"),
        ("queue.task_done", "MainThread"),
    ]
    _, begin, _, done, end, extra = trace.events(*QUEUE_EVENTS)
    assert (done["error"], extra["error"]) == (None, "ValueError")
    assert (end["begin_seq"], end["error"]) == (begin["seq"], None)


def test_internals_write_nothing_but_queue_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    """A queue made while threading's primitives are traced still writes only queue.* lines."""
    with monkeypatch.context() as patched:
        # Only while the queue is built: queue.Queue.__init__ would read these.
        patched.setattr(threading, "Lock", tracer.Lock)
        patched.setattr(threading, "RLock", tracer.RLock)
        patched.setattr(threading, "Condition", tracer.Condition)
        q: tracer.Queue[int] = tracer.Queue(maxsize=1)
    assert not isinstance(q.mutex, tracer.Lock | tracer.RLock)
    assert not isinstance(q.not_empty, tracer.Condition)
    with capture() as trace:
        consumer = threading.Thread(target=q.get, name="consumer", daemon=True)
        consumer.start()
        wait_until(lambda: blocked_in("queue.get.begin", q.name) == 1)
        q.put(1)
        consumer.join()
        q.task_done()
        q.join()
    # Every operation line is the queue's (the consumer's join aside).
    operations = [e["event"] for e in trace.events() if "obj" in e and e["obj"] != "consumer"]
    assert operations and all(event.startswith("queue.") for event in operations)


def test_empty_qsize_and_full_write_their_answer_and_the_depth() -> None:
    """empty(), qsize() and full() are each one line: what they answered, and the depth."""
    q: tracer.Queue[int] = tracer.Queue(maxsize=1, name="box")
    with capture() as trace:
        assert q.empty() is True
        q.put(1)
        assert (q.empty(), q.qsize(), q.full()) == (False, 1, True)
    asked = [
        (e["event"], e["result"], e["size"], e["depth"])
        for e in trace.events("queue.empty", "queue.qsize", "queue.full")
    ]
    assert asked == [
        ("queue.empty", True, None, 0),
        ("queue.empty", False, None, 1),
        ("queue.qsize", None, 1, 1),
        ("queue.full", True, None, 1),
    ]
    assert all(e["obj"] == "box" and e["site"] for e in trace.events("queue.empty"))


@pytest.mark.parametrize("kind", [tracer.LifoQueue, tracer.PriorityQueue, tracer.SimpleQueue])
def test_every_queue_kind_answers_empty_and_qsize_in_the_trace(kind: type[Any]) -> None:
    """Each queue drop-in writes queue.empty and queue.qsize lines, with the depth."""
    q = kind()
    with capture() as trace:
        q.put(5)
        assert (q.empty(), q.qsize()) == (False, 1)
    (empty,) = trace.events("queue.empty")
    (size,) = trace.events("queue.qsize")
    assert (empty["result"], empty["depth"], size["size"], size["depth"]) == (False, 1, 1, 1)


def test_repr_and_unrecorded_questions_write_nothing() -> None:
    """A repr (which counts the items) writes no line; questions asked unrecorded are plain."""
    q: tracer.Queue[int] = tracer.Queue(name="quiet")
    simple: tracer.SimpleQueue[int] = tracer.SimpleQueue(name="quiet-simple")
    assert q.empty() and q.qsize() == 0 and not q.full()
    with capture() as trace:
        assert "0 items" in repr(q) and "0 items" in repr(simple)
    assert not trace.events("queue.empty", "queue.qsize", "queue.full")


def test_an_answer_goes_stale_at_the_next_put_of_another_thread() -> None:
    """The answer's line comes before the put that made it wrong, in seq order."""
    q: tracer.Queue[int] = tracer.Queue(name="work")
    answered = threading.Event()
    with capture() as trace:

        def producer() -> None:
            answered.wait()
            q.put(1)

        t = threading.Thread(target=producer, name="producer")
        t.start()
        assert q.empty()
        answered.set()
        t.join()
    assert [e["event"] for e in trace.events("queue.empty", "queue.put")] == [
        "queue.empty",
        "queue.put",
    ]


def test_a_failed_get_shows_no_tracer_frames_in_the_traceback() -> None:
    """get_nowait() on an empty traced queue raises Empty with queue.py's frames, not ours."""
    q: tracer.Queue[int] = tracer.Queue()
    with capture():
        try:
            q.get_nowait()
        except queue.Empty:
            text = traceback.format_exc()
    assert os.path.dirname(tracer.__file__) not in text and "queue.py" in text
