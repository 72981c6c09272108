"""``tracer.Queue`` and friends: queues whose puts and gets are traced, item by item.

``queue.put`` and ``queue.get`` are container lines, like a List's: each item
gets a number when it is put (1, 2, 3, ... per queue), kept in a shadow of the
real storage, so that a get says which item it took even when values repeat.

Queue, LifoQueue and PriorityQueue write those lines from ``_put`` and
``_get``, which ``queue.Queue`` calls under its mutex, so for one queue the
order of ``seq`` is the true order of its puts and gets (the values' reprs
are taken there too, under the mutex, as a PriorityQueue's comparisons are).
Their mutex is a raw reentrant lock: a traced put or get holds it from its
begin line to its end line, around ``queue.Queue``'s own code, which takes it
again (its Conditions' ``wait()`` releases every level, so waiting is
unchanged).  ``q.mutex`` is therefore an RLock where queue's is a Lock.

SimpleQueue is written in C and has no lock to share; see its class.
"""

from __future__ import annotations

import _thread
import queue
import threading
from collections import deque
from collections.abc import Callable
from typing import Any, TypeVar

from synctrace import schema
from tracer.primitives.lists import moved, short_repr
from tracer.primitives.unwind import hand_over
from tracer.recording import names as _names
from tracer.recording import recorder as _recorder
from tracer.recording import site as _site
from tracer.recording.recorder import Recorder, seconds

_T = TypeVar("_T")

# Captured before anything can patch threading: our internals are raw.
_RawCondition = threading.Condition
_RawRLock = _thread.RLock
_allocate_lock = _thread.allocate_lock


def _refused_timeout(block: bool, timeout: Any) -> bool:
    """Will the queue refuse this timeout (ValueError, TypeError) before anything else?"""
    if not block or timeout is None:
        return False
    try:
        return not timeout >= 0
    except TypeError:
        return True


class Queue(queue.Queue[_T]):
    """A drop-in for ``queue.Queue`` whose puts, gets and tasks are traced.

    With no recording running it behaves, and nearly costs, as the plain one.
    """

    _kind = "Queue"

    # Invariant (under ``mutex``, while recording): ``_ids`` holds the number
    # of each item in ``self.queue``, in the same order (a FIFO queue's deque
    # here; see the subclasses for theirs), for recording ``_generation``.

    def __init__(self, maxsize: int = 0, *, name: str | None = None) -> None:
        # queue.Queue.__init__, but with raw internals: the original reads
        # threading.Lock and threading.Condition when called, which ``tracer
        # run`` may have replaced with traced ones.
        self.maxsize = maxsize
        self._init(maxsize)
        self.mutex = _RawRLock()  # type: ignore[assignment]
        self.not_empty = _RawCondition(self.mutex)
        self.not_full = _RawCondition(self.mutex)
        self.all_tasks_done = _RawCondition(self.mutex)
        self.unfinished_tasks = 0
        if hasattr(queue, "ShutDown"):  # Python 3.13 added shutdown()
            self.is_shutdown = False
        self.name = _names.claim(self._kind, name, owner=self)
        self._ids: Any = self._fresh_ids([])
        self._last_id = 0
        self._generation = 0

    def __repr__(self) -> str:
        # _qsize(), not qsize(): a repr must not write a line.
        return f"<tracer.{self._kind} {self.name!r} {self._qsize()} items, maxsize={self.maxsize}>"

    # --- the shadow: how each kind of queue orders its item numbers -------------

    def _fresh_ids(self, numbers: list[int]) -> Any:
        return deque(numbers)

    def _shadow_put(self, ids: Any, number: int, value: Any) -> int | None:
        """Record ``number`` as put; return the index it was put at."""
        ids.append(number)
        return len(ids) - 1

    def _shadow_get(self, ids: Any, value: Any) -> tuple[int | None, int | None]:
        """Remove the number of the item just taken; return it and its index."""
        return (ids.popleft() if ids else None), 0

    def _shadow(self, rec: Recorder) -> Any:
        """The item numbers, numbering any items this recording has not seen put."""
        if self._generation != rec.generation or len(self._ids) != self._qsize():
            # A new recording, or items moved behind our back (``q.queue``
            # used directly): number what is there now, in storage order.
            self._generation = rec.generation
            self._ids = self._fresh_ids([self._new_id() for _ in range(self._qsize())])
        return self._ids

    def _new_id(self) -> int:
        self._last_id += 1
        return self._last_id

    # --- the container lines, written under the mutex ---------------------------

    def _put(self, item: _T) -> None:
        rec = _recorder.current
        if rec is None:
            return super()._put(item)
        ids = self._shadow(rec)
        super()._put(item)
        number = self._new_id()
        index = self._shadow_put(ids, number, item)
        rec.emit(
            schema.QUEUE_PUT,
            self.name,
            _site.caller_site(),
            moved(number, index, len(ids), short_repr(item)),
        )
        return None

    def _get(self) -> _T:
        rec = _recorder.current
        if rec is None:
            return super()._get()
        ids = self._shadow(rec)
        value = super()._get()
        number, index = self._shadow_get(ids, value)
        rec.emit(
            schema.QUEUE_GET,
            self.name,
            _site.caller_site(),
            moved(number, index, len(ids), short_repr(value)),
        )
        return value

    def _refused(self, rec: Recorder, event: str, site: _site.RawSite | None, error: str) -> None:
        """A put on a full queue or a get on an empty one: no item moved."""
        rec.emit(
            event,
            self.name,
            site,
            moved(None, None, self._qsize(), None, error),
        )

    # --- the public operations ----------------------------------------------------

    def put(self, item: _T, block: bool = True, timeout: float | None = None) -> None:
        rec = _recorder.current
        if rec is None or _refused_timeout(block, timeout):
            return super().put(item, block, timeout)
        site = _site.caller_site()
        with self.mutex:
            if not (block and 0 < self.maxsize <= self._qsize()):
                try:
                    return super().put(item, block, timeout)
                except queue.Full as exc:
                    self._refused(rec, schema.QUEUE_PUT, site, "Full")
                    hand_over(exc)
                    raise
            with rec.blocking(
                schema.QUEUE_PUT_BEGIN,
                self.name,
                site,
                {"timeout": seconds(timeout), "maxsize": self.maxsize},
                timeouts=(queue.Full,),
            ) as call:
                try:
                    super().put(item, block, timeout)
                except queue.Full as exc:  # timed out: no room came
                    self._refused(rec, schema.QUEUE_PUT, site, "Full")
                    hand_over(exc)
                    raise
                call.result = True
            return None

    def get(self, block: bool = True, timeout: float | None = None) -> _T:
        rec = _recorder.current
        if rec is None or _refused_timeout(block, timeout):
            return super().get(block, timeout)
        site = _site.caller_site()
        with self.mutex:
            if not (block and not self._qsize()):
                try:
                    return super().get(block, timeout)
                except queue.Empty as exc:
                    self._refused(rec, schema.QUEUE_GET, site, "Empty")
                    hand_over(exc)
                    raise
            with rec.blocking(
                schema.QUEUE_GET_BEGIN,
                self.name,
                site,
                {"timeout": seconds(timeout)},
                timeouts=(queue.Empty,),
            ) as call:
                try:
                    value = super().get(block, timeout)
                except queue.Empty as exc:  # timed out: no item came
                    self._refused(rec, schema.QUEUE_GET, site, "Empty")
                    hand_over(exc)
                    raise
                call.result = True
            return value

    # --- questions: their answers hold only until another thread's put or get ----

    def empty(self) -> bool:
        rec = _recorder.current
        if rec is None:
            return super().empty()
        return bool(self._asked(rec, schema.QUEUE_EMPTY, "result", super().empty))

    def full(self) -> bool:
        rec = _recorder.current
        if rec is None:
            return super().full()
        return bool(self._asked(rec, schema.QUEUE_FULL, "result", super().full))

    def qsize(self) -> int:
        rec = _recorder.current
        if rec is None:
            return super().qsize()
        return int(self._asked(rec, schema.QUEUE_QSIZE, "size", super().qsize))

    def _asked(self, rec: Recorder, event: str, field: str, ask: Callable[[], Any]) -> Any:
        """Answer a question about the queue and write the answer with the true depth.

        Under the mutex, so that no put or get comes between the answer and
        its line: the line's seq places the answer among them exactly.
        """
        site = _site.caller_site()
        with self.mutex:
            answer = ask()
            rec.emit(event, self.name, site, {field: answer, "depth": self._qsize()})
            return answer

    def task_done(self) -> None:
        rec = _recorder.current
        if rec is None:
            return super().task_done()
        site = _site.caller_site()
        with self.mutex:
            error: str | None = None
            try:
                super().task_done()  # ValueError when called too many times
            except BaseException as exc:
                error = type(exc).__name__
                hand_over(exc)
                raise
            finally:
                rec.emit(schema.QUEUE_TASK_DONE, self.name, site, {"error": error})
            return None

    def join(self) -> None:
        rec = _recorder.current
        if rec is None:
            return super().join()
        site = _site.caller_site()
        with self.mutex:
            if not self.unfinished_tasks:
                return None  # returns at once: nothing to write
            with rec.blocking(schema.QUEUE_JOIN_BEGIN, self.name, site, reports_result=False):
                super().join()
            return None


class LifoQueue(Queue[_T], queue.LifoQueue[_T]):
    """A drop-in for ``queue.LifoQueue``: the newest item is taken first."""

    _kind = "LifoQueue"

    def _fresh_ids(self, numbers: list[int]) -> Any:
        return numbers

    def _shadow_get(self, ids: Any, value: Any) -> tuple[int | None, int | None]:
        if not ids:
            return None, None
        return ids.pop(), len(ids)


class PriorityQueue(Queue[_T], queue.PriorityQueue[_T]):  # type: ignore[type-var]
    """A drop-in for ``queue.PriorityQueue``: the smallest item is taken first.

    A heap's positions mean nothing to a reader, so ``index`` is null on both
    puts and gets.  The item a get took is found by identity: the shadow
    holds (number, id of the value) in put order, and a get takes the oldest
    entry whose value *is* the one the heap returned (the same object put
    twice is two items, taken oldest first).
    """

    _kind = "PriorityQueue"

    def _fresh_ids(self, numbers: list[int]) -> Any:
        # Items from before the recording: numbered in heap (storage) order.
        return [(n, id(v)) for n, v in zip(numbers, self.queue, strict=False)]

    def _shadow_put(self, ids: Any, number: int, value: Any) -> int | None:
        ids.append((number, id(value)))
        return None

    def _shadow_get(self, ids: Any, value: Any) -> tuple[int | None, int | None]:
        key = id(value)
        for position, (number, ident) in enumerate(ids):
            if ident == key:
                del ids[position]
                return number, None
        return None, None  # not put through us: counted, but not numbered


class SimpleQueue(queue.SimpleQueue[_T]):
    """A drop-in for ``queue.SimpleQueue`` whose puts and gets are traced.

    SimpleQueue is written in C: it has no lock of its own to share, and a
    get blocks inside C.  A put is written, under a small lock of ours, just
    before the value goes in, so a get never appears before the put of what
    it took.  A get is written just after the value came out, and we never
    hold our lock while the get blocks: so the seq order of get lines is
    only approximate (two consumers' lines may come in the other order than
    their takes, and a put may be written between a take and its line).
    Which item a get took is found by the identity of its value, so that
    approximation never swaps two different values' numbers.
    """

    # Invariant (under ``_guard``): ``_ids`` holds (number, id of the value)
    # of every item put during this recording and not yet written as taken,
    # in put order; items from before it are (number, None).

    def __init__(self, *, name: str | None = None) -> None:
        super().__init__()
        self.name = _names.claim("SimpleQueue", name, owner=self)
        # Reentrant: a value's __repr__ may itself use this queue.
        self._guard = _RawRLock()
        self._ids: deque[tuple[int, int | None]] = deque()
        self._last_id = 0
        self._generation = 0

    def __repr__(self) -> str:
        return f"<tracer.SimpleQueue {self.name!r} {self._depth()} items>"

    def _depth(self) -> int:
        """The number of items, asked without writing a line."""
        return queue.SimpleQueue.qsize(self)

    def _shadow(self, rec: Recorder, taken: int = 0) -> deque[tuple[int, int | None]]:
        if self._generation != rec.generation:
            # A new recording: number what is there now (``taken`` items
            # have just left but are not written yet).  Its values are out
            # of reach in C, hence no identity.
            self._generation = rec.generation
            self._ids = deque((self._new_id(), None) for _ in range(self._depth() + taken))
        return self._ids

    def _new_id(self) -> int:
        self._last_id += 1
        return self._last_id

    def put(self, item: _T, block: bool = True, timeout: float | None = None) -> None:
        rec = _recorder.current
        if rec is None:
            return super().put(item, block, timeout)
        site, text = _site.caller_site(), short_repr(item)
        with self._guard:
            ids = self._shadow(rec)
            number = self._new_id()
            ids.append((number, id(item)))
            rec.emit(
                schema.QUEUE_PUT,
                self.name,
                site,
                moved(number, len(ids) - 1, len(ids), text),
            )
            # Never blocks (a SimpleQueue is unbounded), so holding our lock is safe.
            super().put(item, block, timeout)
        return None

    def put_nowait(self, item: _T) -> None:
        # C's put_nowait calls C's put directly, past our put.
        self.put(item, False)

    def get(self, block: bool = True, timeout: float | None = None) -> _T:
        rec = _recorder.current
        if rec is None or _refused_timeout(block, timeout):
            return super().get(block, timeout)
        site = _site.caller_site()
        try:
            value = super().get(False)  # first without waiting, as a Lock
        except queue.Empty as exc:
            if not block:
                self._took_none(rec, site)
                hand_over(exc)
                raise
        else:
            self._took(rec, site, value)
            return value
        with rec.blocking(
            schema.QUEUE_GET_BEGIN,
            self.name,
            site,
            {"timeout": seconds(timeout)},
            timeouts=(queue.Empty,),
        ) as call:
            try:
                value = super().get(True, timeout)
            except queue.Empty as exc:  # timed out
                self._took_none(rec, site)
                hand_over(exc)
                raise
            call.result = True
            self._took(rec, site, value)
        return value

    def get_nowait(self) -> _T:
        # C's get_nowait calls C's get directly, past our get.
        return self.get(False)

    def empty(self) -> bool:
        rec = _recorder.current
        if rec is None:
            return super().empty()
        return bool(self._asked(rec, schema.QUEUE_EMPTY, "result", super().empty))

    def qsize(self) -> int:
        rec = _recorder.current
        if rec is None:
            return super().qsize()
        return int(self._asked(rec, schema.QUEUE_QSIZE, "size", super().qsize))

    def _asked(self, rec: Recorder, event: str, field: str, ask: Callable[[], Any]) -> Any:
        """Answer a question and write it with the depth, under our lock.

        Puts are written under the same lock, so no put comes between the
        answer and its line; gets are not (see the class), so against them
        the order is as approximate as theirs.
        """
        site = _site.caller_site()
        with self._guard:
            answer = ask()
            rec.emit(event, self.name, site, {field: answer, "depth": self._depth()})
            return answer

    def _took(self, rec: Recorder, site: _site.RawSite | None, value: Any) -> None:
        text = short_repr(value)
        with self._guard:
            ids = self._shadow(rec, taken=1)
            number: int | None = None
            index: int | None = None
            key = id(value)
            for position, (n, ident) in enumerate(ids):
                if ident == key:
                    number, index = n, position
                    break
            else:  # put before this recording: the oldest such is FIFO's answer
                for position, (n, ident) in enumerate(ids):
                    if ident is None:
                        number, index = n, position
                        break
            if index is not None:
                del ids[index]
            rec.emit(
                schema.QUEUE_GET,
                self.name,
                site,
                moved(number, index, len(ids), text),
            )

    def _took_none(self, rec: Recorder, site: _site.RawSite | None) -> None:
        rec.emit(
            schema.QUEUE_GET,
            self.name,
            site,
            moved(None, None, self._depth(), None, "Empty"),
        )


_site.internal(__file__)
