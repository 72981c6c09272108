"""Random schedules that a real run could have produced, written as synctrace/1 lines.

A small simulator plays the primitives' semantics: at each step one thread
that can move does one thing.  A thread in ``wait()``/``acquire()``/``get()``
stays blocked until another thread's ``set()``/``release()``/``put()`` lets
it through, or its timeout runs out; a woken thread writes its end line
when it next runs, so other threads' lines may come in between, as they do
in real runs.  A run ends with a ``trace.end`` of any reason, or is cut with
none, whatever its threads were doing.  Every choice is drawn from
hypothesis, so a failing schedule shrinks to a short one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from hypothesis import strategies as st

from synctrace import schema

T = TypeVar("T")
Draw = Callable[[st.SearchStrategy[T]], T]
Line = dict[str, Any]

START_TS = 1_000_000_000
MAIN = "MainThread"
EVENTS = ("ev", "done")
CONDITIONS = ("cv",)
LOCKS = ("lk", "lk2")
RLOCKS = ("rl",)
SEMAPHORES = ("sem",)
LISTS = ("jobs", "results")
#: name -> (maxsize, take order): a FIFO Queue, a bounded LifoQueue.
QUEUES = {"q": (0, "fifo"), "stack": (2, "lifo")}
TIMEOUTS = (None, None, 0.05)
FAMILIES = ("event", "cond", "lock", "sem", "list", "queue")


@dataclass
class Worker:
    name: str
    ident: int
    daemon: bool
    #: new (no line yet), running, blocked, sleeping, ended
    state: str = "new"
    #: the begin line of the call it is in (blocked, or sleeping)
    begin: Line | None = None
    #: lines it writes when it next runs: the end of a wait something ended
    pending: list[Line] = field(default_factory=list)
    #: what it does next once running, before choosing anew (a consumer's
    #: take after its wait returns, a queue check's act)
    plan: list[Callable[[Worker], None]] = field(default_factory=list)


@dataclass
class Sim:
    draw: Draw[Any]
    lines: list[Line] = field(default_factory=list)
    ts: int = START_TS
    workers: dict[str, Worker] = field(default_factory=dict)
    flags: dict[str, bool] = field(default_factory=dict)
    #: is_set() is written once per set(): whether it was, since the last set.
    seen: dict[str, bool] = field(default_factory=dict)
    #: lock -> (owner, depth); a plain Lock has depth 1 at most
    owners: dict[str, tuple[str, int]] = field(default_factory=dict)
    sem: dict[str, int] = field(default_factory=dict)
    boxes: dict[str, list[int]] = field(default_factory=dict)
    numbered: dict[str, int] = field(default_factory=dict)
    #: the kinds of primitive this run's program uses
    families: tuple[str, ...] = FAMILIES

    # --- writing ---------------------------------------------------------------------

    def write(self, event: str, thread: str, **fields: Any) -> Line:
        if self.lines:
            self.ts += self.draw(
                st.sampled_from((0, 1_000, 250_000, 1_000_000, 20_000_000, 90_000_000))
            )
        w = self.workers[thread]
        line = {"event": event, "ts": self.ts, "seq": len(self.lines), "thread": thread}
        line["thread_id"] = w.ident
        line.update({k: v for k, v in fields.items() if v is not None})
        self.lines.append(line)
        return line

    def op(self, event: str, thread: str, obj: str, **fields: Any) -> Line:
        line = 1 + self.draw(st.integers(0, 1))
        return self.write(event, thread, obj=obj, site=f"{obj}.py:{line}", **fields)

    def end_of(self, begin: Line, **fields: Any) -> Line:
        """The end line answering ``begin``, to be written when its thread next runs."""
        return {
            "event": schema.BLOCKING[begin["event"]],
            "obj": begin.get("obj"),
            "site": begin.get("site"),
            "begin_seq": begin["seq"],
            **fields,
        }

    def block(self, w: Worker, begin: Line) -> None:
        w.state, w.begin = "blocked", begin

    def release_waiter(self, w: Worker, *lines: Line) -> None:
        """``w`` is let through: it writes ``lines`` when it next runs."""
        w.state, w.pending = "running", list(lines)

    # --- what a thread can do ---------------------------------------------------------

    def movable(self) -> list[Worker]:
        return [w for w in self.workers.values() if w.state != "ended" and self.can_move(w)]

    def can_move(self, w: Worker) -> bool:
        if w.state != "blocked":
            return True
        assert w.begin is not None
        return w.begin.get("timeout") is not None or self.ready(w.begin)

    def ready(self, begin: Line) -> bool:
        """What the blocked call waits for has happened (a free lock, an item, ...)."""
        ev, obj = begin["event"], begin.get("obj", "")
        return (
            (ev == schema.LOCK_ACQUIRE_BEGIN and obj not in self.owners)
            or (ev == schema.SEM_ACQUIRE_BEGIN and self.sem[obj] > 0)
            or (ev == schema.QUEUE_GET_BEGIN and bool(self.boxes[obj]))
            or (ev == schema.QUEUE_PUT_BEGIN and len(self.boxes[obj]) < QUEUES[obj][0])
            or (ev == schema.THREAD_JOIN_BEGIN and self.workers[obj].state == "ended")
        )

    def unblocks(self, w: Worker, begin: Line) -> list[Line] | None:
        """The lines ``w`` writes if what it waits for has happened (taking it), else None."""
        if not self.ready(begin):
            return None
        ev, obj = begin["event"], begin.get("obj", "")
        if ev == schema.LOCK_ACQUIRE_BEGIN and obj not in self.owners:
            self.owners[obj] = (w.name, 1)
            return [self.end_of(begin, result=True, timed_out=False)]
        if ev == schema.SEM_ACQUIRE_BEGIN and self.sem[obj] > 0:
            self.sem[obj] -= 1
            return [self.end_of(begin, result=True, timed_out=False, count=self.sem[obj])]
        if ev == schema.QUEUE_GET_BEGIN and self.boxes[obj]:
            return [self.take_line(obj), self.end_of(begin, result=True, timed_out=False)]
        if ev == schema.QUEUE_PUT_BEGIN and len(self.boxes[obj]) < QUEUES[obj][0]:
            return [self.add_line(obj), self.end_of(begin, result=True, timed_out=False)]
        if ev == schema.THREAD_JOIN_BEGIN and self.workers[obj].state == "ended":
            return [self.end_of(begin, result=True, timed_out=False)]
        return None

    def take_line(self, obj: str) -> Line:
        box = self.boxes[obj]
        lifo = obj in QUEUES and QUEUES[obj][1] == "lifo"
        index = len(box) - 1 if lifo else 0
        item = box.pop(index)
        return {
            "event": schema.QUEUE_GET,
            "obj": obj,
            "item": item,
            "index": index,
            "depth": len(box),
            "value": repr(f"v{item % 3}"),
        }

    def add_line(self, obj: str) -> Line:
        self.numbered[obj] = item = self.numbered.get(obj, 0) + 1
        self.boxes[obj].append(item)
        return {
            "event": schema.QUEUE_PUT,
            "obj": obj,
            "item": item,
            "index": len(self.boxes[obj]) - 1,
            "depth": len(self.boxes[obj]),
            "value": repr(f"v{item % 3}"),
        }

    def flush(self, w: Worker) -> None:
        """Write the lines a let-through thread owes (its take, its end line)."""
        for line in w.pending:
            fields = {k: v for k, v in line.items() if k not in ("event", "obj", "site")}
            site = line.get("site") or f"{line['obj']}.py:1"
            self.write(line["event"], w.name, obj=line["obj"], site=site, **fields)
        w.pending = []

    # --- one step ---------------------------------------------------------------------

    def step(self, w: Worker) -> None:
        if w.state == "new":
            self.write(schema.THREAD_START, w.name, parent=MAIN, daemon=w.daemon, site="main.py:5")
            w.state = "running"
        elif w.pending:
            self.flush(w)
        elif w.state == "sleeping":
            assert w.begin is not None
            self.write(schema.SLEEP_END, w.name, begin_seq=w.begin["seq"], site=w.begin["site"])
            w.state, w.begin = "running", None
        elif w.state == "blocked":
            self.unblock_or_time_out(w)
        else:
            self.act(w)

    def unblock_or_time_out(self, w: Worker) -> None:
        begin = w.begin
        assert begin is not None
        lines = self.unblocks(w, begin)
        if lines is None:  # only a timed wait may move while still blocked
            ev, obj = begin["event"], begin.get("obj", "")
            lines = []
            if ev == schema.QUEUE_GET_BEGIN:
                lines.append({"event": schema.QUEUE_GET, "obj": obj, "depth": 0, "error": "Empty"})
            elif ev == schema.QUEUE_PUT_BEGIN:
                lines.append(
                    {
                        "event": schema.QUEUE_PUT,
                        "obj": obj,
                        "depth": len(self.boxes[obj]),
                        "error": "Full",
                        "value": "'x'",
                    }
                )
            extra = {"count": self.sem[obj]} if ev == schema.SEM_ACQUIRE_BEGIN else {}
            lines.append(self.end_of(begin, result=False, timed_out=True, **extra))
        w.begin = None
        self.release_waiter(w, *lines)
        self.flush(w)
        if lines[0].get("error"):
            self.after_failed_take(w, lines[0]["error"])

    def die(self, w: Worker, exc: str) -> None:
        if w.name == MAIN:  # an uncaught exception in the main thread ends the run
            raise RunEnds("exception", exc)
        self.write(schema.THREAD_EXCEPTION, w.name, exc_type=exc, exc_msg="", site="work.py:9")
        self.end_thread(w)

    def end_thread(self, w: Worker) -> None:
        self.write(schema.THREAD_END, w.name)
        w.state = "ended"

    def blocked_on(self, event: str, obj: str) -> list[Worker]:
        """Threads blocked in ``event`` on ``obj``, in the order they began."""
        found = [
            w
            for w in self.workers.values()
            if w.state == "blocked"
            and w.begin is not None
            and w.begin["event"] == event
            and w.begin.get("obj") == obj
        ]
        return sorted(found, key=lambda w: w.begin["seq"] if w.begin else 0)

    def act(self, w: Worker) -> None:
        """A running thread does one operation (or ends)."""
        # Mostly the run's own primitives, so that threads meet on them.
        if w.plan:
            w.plan.pop(0)(w)
            return
        choices = [*self.families * 4, "sleep", "join"]
        if "list" in self.families or "queue" in self.families:
            # the patterns the wake-up and queue-check findings look for
            choices += ["consume", "produce", "check"] * 3
        if w.name != MAIN:
            choices += ["end", "raise"]
        what = self.draw(st.sampled_from(choices))
        getattr(self, f"do_{what}")(w)

    def do_consume(self, w: Worker) -> None:
        """Wait on an Event or a Condition, then take one item without waiting."""
        if self.draw(st.booleans()):
            obj = EVENTS[0]
            flag = self.flags.get(obj, False)
            begin = self.op(schema.EVENT_WAIT_BEGIN, w.name, obj, flag=flag)
            if flag:
                self.release_waiter(w, self.end_of(begin, result=True, timed_out=False))
            else:
                self.block(w, begin)
        else:
            self.block(w, self.op(schema.COND_WAIT_BEGIN, w.name, CONDITIONS[0]))
        w.plan.append(self.take_at_once)

    def do_produce(self, w: Worker) -> None:
        """Add one item to the jobs list or queue q, then set() the Event or notify_all()."""
        obj = self.draw(st.sampled_from(("jobs", "jobs", "q")))
        if obj in QUEUES:
            self.queue_op(w, obj, "put")
        else:
            box = self.boxes[obj]
            self.numbered[obj] = item = self.numbered.get(obj, 0) + 1
            box.append(item)
            self.op(
                schema.LIST_APPEND,
                w.name,
                obj,
                item=item,
                index=len(box) - 1,
                depth=len(box),
                value=repr(f"v{item % 3}"),
            )
        w.plan.append(self.signal)

    def signal(self, w: Worker) -> None:
        if self.draw(st.booleans()):
            obj = EVENTS[0]
            waiters = self.blocked_on(schema.EVENT_WAIT_BEGIN, obj)
            flag = self.flags.get(obj, False)
            line = self.op(schema.EVENT_SET, w.name, obj, waiters=len(waiters), flag=flag)
            self.flags[obj], self.seen[obj] = True, False
            woken = waiters
        else:
            obj = CONDITIONS[0]
            woken = self.blocked_on(schema.COND_WAIT_BEGIN, obj)
            line = self.op(
                schema.COND_NOTIFY, w.name, obj, waiters=len(woken), woken=len(woken), all=True
            )
        for other in woken:
            assert other.begin is not None
            end = self.end_of(other.begin, result=True, timed_out=False, woken_by=line["seq"])
            other.begin = None
            self.release_waiter(other, end)

    def take_at_once(self, w: Worker) -> None:
        """pop() from a list or get_nowait() from a queue: fails when it is empty."""
        obj = self.draw(st.sampled_from(("jobs", "jobs", "q")))
        box = self.boxes[obj]
        if obj in QUEUES:
            if box:
                line = self.take_line(obj)
                self.op(
                    schema.QUEUE_GET,
                    w.name,
                    obj,
                    **{k: v for k, v in line.items() if k not in ("event", "obj")},
                )
            else:
                self.op(schema.QUEUE_GET, w.name, obj, depth=0, error="Empty")
                self.after_failed_take(w, "Empty")
        elif box:
            item = box.pop()
            self.op(
                schema.LIST_POP,
                w.name,
                obj,
                item=item,
                index=len(box),
                depth=len(box),
                value=repr(f"v{item % 3}"),
            )
        else:
            self.op(schema.LIST_POP, w.name, obj, depth=0, error="IndexError")
            self.after_failed_take(w, "IndexError")

    def do_check(self, w: Worker) -> None:
        """Put or get, then (other threads may run between) check the queue and act on it.

        The first move makes the thread one of the queue's users: a thread
        that only looks is a monitor, and its checks act on nothing.
        """
        obj = self.draw(st.sampled_from(sorted(QUEUES)))
        self.queue_op(w, obj, self.draw(st.sampled_from(("put", "nowait"))))
        if w.state == "running":
            w.plan.append(lambda me: self.check(me, obj))

    def check(self, w: Worker, obj: str) -> None:
        """empty(), qsize() or full() on ``obj``, then act on the answer."""
        maxsize = QUEUES[obj][0]
        box = self.boxes[obj]
        which = self.draw(
            st.sampled_from((schema.QUEUE_EMPTY, schema.QUEUE_QSIZE, schema.QUEUE_FULL))
        )
        if which == schema.QUEUE_QSIZE:
            answer: dict[str, Any] = {"size": len(box)}
        elif which == schema.QUEUE_EMPTY:
            answer = {"result": not box}
        else:
            answer = {"result": 0 < maxsize <= len(box)}
        self.op(which, w.name, obj, depth=len(box), **answer)
        # As programs do: stop on "empty" or "full", get on "not empty", put on
        # "room" (qsize() read for its zero-ness); now and then anything.
        if which == schema.QUEUE_FULL:
            then = "end" if answer["result"] else "put"
        else:
            empty = answer.get("result", answer.get("size") == 0)
            then = "end" if empty else "get"
        then = self.draw(st.sampled_from((then, then, then, "get", "put", "end")))
        if then == "end" and w.name != MAIN:
            w.plan.append(self.end_thread)
        elif then != "end":
            w.plan.append(lambda me: self.queue_op(me, obj, then))

    # Event
    def do_event(self, w: Worker) -> None:
        obj = self.draw(st.sampled_from(EVENTS))
        flag = self.flags.get(obj, False)
        what = self.draw(st.sampled_from(("set", "clear", "wait", "wait", "is_set")))
        if what == "set":
            waiters = self.blocked_on(schema.EVENT_WAIT_BEGIN, obj)
            line = self.op(schema.EVENT_SET, w.name, obj, waiters=len(waiters), flag=flag)
            self.flags[obj], self.seen[obj] = True, False
            for other in waiters:
                assert other.begin is not None
                end = self.end_of(other.begin, result=True, timed_out=False, woken_by=line["seq"])
                other.begin = None
                self.release_waiter(other, end)
        elif what == "clear":
            self.op(schema.EVENT_CLEAR, w.name, obj, flag=flag)
            self.flags[obj] = False
        elif what == "is_set":
            if flag and not self.seen.get(obj):
                self.op(schema.EVENT_IS_SET, w.name, obj, result=True)
                self.seen[obj] = True
        else:
            timeout = self.draw(st.sampled_from(TIMEOUTS))
            begin = self.op(schema.EVENT_WAIT_BEGIN, w.name, obj, flag=flag, timeout=timeout)
            if flag:
                self.release_waiter(w, self.end_of(begin, result=True, timed_out=False))
            else:
                self.block(w, begin)

    # Condition (its lock is not traced: only cond lines appear)
    def do_cond(self, w: Worker) -> None:
        obj = self.draw(st.sampled_from(CONDITIONS))
        what = self.draw(st.sampled_from(("notify", "notify_all", "wait", "wait")))
        if what == "wait":
            timeout = self.draw(st.sampled_from(TIMEOUTS))
            self.block(w, self.op(schema.COND_WAIT_BEGIN, w.name, obj, timeout=timeout))
            return
        waiters = self.blocked_on(schema.COND_WAIT_BEGIN, obj)
        woken = waiters if what == "notify_all" else waiters[:1]
        line = self.op(
            schema.COND_NOTIFY,
            w.name,
            obj,
            waiters=len(waiters),
            woken=len(woken),
            all=what == "notify_all",
        )
        for other in woken:
            assert other.begin is not None
            end = self.end_of(other.begin, result=True, timed_out=False, woken_by=line["seq"])
            other.begin = None
            self.release_waiter(other, end)

    # Lock and RLock
    def do_lock(self, w: Worker) -> None:
        obj = self.draw(st.sampled_from(LOCKS + RLOCKS))
        owner, depth = self.owners.get(obj, (None, 0))
        what = self.draw(st.sampled_from(("acquire", "acquire", "release")))
        if what == "release":
            if owner is None:
                self.op(schema.LOCK_RELEASE, w.name, obj, error="RuntimeError")
            elif owner == w.name:
                self.op(schema.LOCK_RELEASE, w.name, obj)
                if depth > 1:
                    self.owners[obj] = (owner, depth - 1)
                else:
                    del self.owners[obj]
            return
        if owner is None or (owner == w.name and obj in RLOCKS):
            self.op(schema.LOCK_ACQUIRE, w.name, obj, result=True)
            self.owners[obj] = (w.name, depth + 1)
        elif self.draw(st.booleans()):  # acquire(blocking=False)
            self.op(schema.LOCK_ACQUIRE, w.name, obj, result=False)
        else:
            timeout = self.draw(st.sampled_from(TIMEOUTS))
            self.block(w, self.op(schema.LOCK_ACQUIRE_BEGIN, w.name, obj, timeout=timeout))

    # Semaphore(2)
    def do_sem(self, w: Worker) -> None:
        obj = self.draw(st.sampled_from(SEMAPHORES))
        if self.draw(st.booleans()):
            self.sem[obj] += 1
            self.op(schema.SEM_RELEASE, w.name, obj, count=self.sem[obj])
        elif self.sem[obj] > 0:
            self.sem[obj] -= 1
            self.op(schema.SEM_ACQUIRE, w.name, obj, result=True, count=self.sem[obj])
        elif self.draw(st.booleans()):
            self.op(schema.SEM_ACQUIRE, w.name, obj, result=False, count=0)
        else:
            timeout = self.draw(st.sampled_from(TIMEOUTS))
            self.block(w, self.op(schema.SEM_ACQUIRE_BEGIN, w.name, obj, timeout=timeout, count=0))

    # tracer.List
    def do_list(self, w: Worker) -> None:
        obj = self.draw(st.sampled_from(LISTS))
        box = self.boxes[obj]
        what = self.draw(st.sampled_from(("append", "insert", "pop", "pop0", "del", "clear")))
        if what in ("append", "insert"):
            self.numbered[obj] = item = self.numbered.get(obj, 0) + 1
            index = len(box) if what == "append" else 0
            box.insert(index, item)
            event = schema.LIST_APPEND if what == "append" else schema.LIST_INSERT
            self.op(
                event,
                w.name,
                obj,
                item=item,
                index=index,
                depth=len(box),
                value=repr(f"v{item % 3}"),
            )
        elif what == "clear":
            while box:  # newest item first
                item = max(box)
                index = box.index(item)
                box.remove(item)
                self.op(
                    schema.LIST_CLEAR,
                    w.name,
                    obj,
                    item=item,
                    index=index,
                    depth=len(box),
                    value=repr(f"v{item % 3}"),
                )
        elif not box:
            event = schema.LIST_DEL if what == "del" else schema.LIST_POP
            self.op(event, w.name, obj, depth=0, error="IndexError")
            self.after_failed_take(w, "IndexError")
        else:
            index = {"pop": len(box) - 1, "pop0": 0}.get(
                what, self.draw(st.integers(0, len(box) - 1))
            )
            item = box.pop(index)
            event = schema.LIST_DEL if what == "del" else schema.LIST_POP
            self.op(
                event,
                w.name,
                obj,
                item=item,
                index=index,
                depth=len(box),
                value=repr(f"v{item % 3}"),
            )

    def after_failed_take(self, w: Worker, exc: str) -> None:
        """The exception is handled, or ends the thread (the main thread: the run)."""
        if self.draw(st.booleans()):
            self.die(w, exc)

    # queue.Queue / LifoQueue
    def do_queue(self, w: Worker) -> None:
        obj = self.draw(st.sampled_from(sorted(QUEUES)))
        what = self.draw(st.sampled_from(("put", "get", "get", "nowait", "check")))
        self.queue_op(w, obj, what)

    def queue_op(self, w: Worker, obj: str, what: str) -> None:
        maxsize, _ = QUEUES[obj]
        box = self.boxes[obj]
        if what == "check":
            which = self.draw(
                st.sampled_from((schema.QUEUE_EMPTY, schema.QUEUE_QSIZE, schema.QUEUE_FULL))
            )
            answer: dict[str, Any] = (
                {"size": len(box)}
                if which == schema.QUEUE_QSIZE
                else {"result": not box if which == schema.QUEUE_EMPTY else 0 < maxsize <= len(box)}
            )
            self.op(which, w.name, obj, depth=len(box), **answer)
        elif what == "put":
            if maxsize and len(box) >= maxsize:
                if self.draw(st.booleans()):  # put_nowait
                    self.op(
                        schema.QUEUE_PUT, w.name, obj, depth=len(box), value="'x'", error="Full"
                    )
                    return
                timeout = self.draw(st.sampled_from(TIMEOUTS))
                self.block(
                    w,
                    self.op(schema.QUEUE_PUT_BEGIN, w.name, obj, timeout=timeout, maxsize=maxsize),
                )
                return
            line = self.add_line(obj)
            self.op(
                schema.QUEUE_PUT,
                w.name,
                obj,
                **{k: v for k, v in line.items() if k not in ("event", "obj")},
            )
        elif box:
            line = self.take_line(obj)
            self.op(
                schema.QUEUE_GET,
                w.name,
                obj,
                **{k: v for k, v in line.items() if k not in ("event", "obj")},
            )
        elif what == "nowait":
            self.op(schema.QUEUE_GET, w.name, obj, depth=0, error="Empty")
            self.after_failed_take(w, "Empty")
        else:
            timeout = self.draw(st.sampled_from(TIMEOUTS))
            self.block(w, self.op(schema.QUEUE_GET_BEGIN, w.name, obj, timeout=timeout))

    def do_sleep(self, w: Worker) -> None:
        w.begin = self.write(schema.SLEEP_BEGIN, w.name, seconds=0.01, site="work.py:3")
        w.state = "sleeping"

    def do_join(self, w: Worker) -> None:
        # Thread.join writes lines only for a thread still alive, and one
        # that has not written its first line is not yet a thread of the trace.
        alive = [
            o.name
            for o in self.workers.values()
            if o.name not in (w.name, MAIN) and o.state not in ("new", "ended")
        ]
        if not alive:
            return
        target = self.draw(st.sampled_from(alive))
        timeout = self.draw(st.sampled_from(TIMEOUTS))
        self.block(
            w,
            self.write(
                schema.THREAD_JOIN_BEGIN, w.name, obj=target, site="main.py:7", timeout=timeout
            ),
        )

    def do_end(self, w: Worker) -> None:
        self.end_thread(w)

    def do_raise(self, w: Worker) -> None:
        self.die(w, "ValueError")


class RunEnds(Exception):
    """The main thread ended the run (an uncaught exception)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(reason)
        self.reason, self.detail = reason, detail


@st.composite
def runs(draw: Draw[Any], max_steps: int = 40) -> list[Line]:
    """One run's lines: a random schedule of up to ``max_steps`` steps, ended or cut."""
    sim = Sim(draw)
    sim.families = tuple(
        draw(st.lists(st.sampled_from(FAMILIES), min_size=1, max_size=3, unique=True))
    )
    n = draw(st.integers(2, 3))
    sim.workers[MAIN] = Worker(MAIN, 1, False, state="running")
    for i in range(1, n + 1):
        sim.workers[f"Thread-{i}"] = Worker(f"Thread-{i}", 100 + i, draw(st.booleans()))
    for obj in SEMAPHORES:
        sim.sem[obj] = 1
    for obj in (*LISTS, *QUEUES):
        sim.boxes[obj] = []
    sim.write(
        schema.TRACE_START,
        MAIN,
        schema=schema.SCHEMA,
        run_id="ab12",
        pid=1,
        host="h",
        python="3.11",
        argv=["app.py"],
        wall_time="2026-01-01T00:00:00+00:00",
        native=True,
        time_scale=draw(st.sampled_from((None, 0.5, 4.0))),
    )
    reason: str | None = draw(st.sampled_from((*schema.END_REASONS, None)))
    detail = None
    for _ in range(draw(st.integers(max_steps // 4, max_steps))):
        movers = sim.movable()
        if not movers:
            break
        try:
            sim.step(draw(st.sampled_from(movers)))
        except RunEnds as end:
            reason, detail = end.reason, end.detail
            break
    if reason is not None:
        blocked = [
            {
                "thread": w.name,
                "thread_id": w.ident,
                "event": w.begin["event"],
                "obj": w.begin.get("obj"),
                "site": w.begin.get("site"),
                "begin_seq": w.begin["seq"],
                "ts": w.begin["ts"],
            }
            for w in sim.workers.values()
            if w.state == "blocked" and w.begin is not None
        ]
        sim.write(
            schema.TRACE_END,
            MAIN,
            reason=reason,
            detail=detail,
            exit_code=1 if reason in ("exception", "exit") else None,
            events_written=len(sim.lines),
            events_dropped=0,
            blocked=blocked,
        )
    return sim.lines


def renamed(lines: list[Line], prefix: str, ident_offset: int) -> list[Line]:
    """The run with its threads, objects and sites renamed, so runs of a batch share none."""
    out = []
    for line in lines:
        line = dict(line)
        line["thread"] = prefix + line["thread"]
        line["thread_id"] += ident_offset
        for name in ("obj", "site"):  # a join's obj is a thread name: renamed alike
            if name in line:
                line[name] = prefix + line[name]
        if "blocked" in line:
            line["blocked"] = [renamed([b], prefix, ident_offset)[0] for b in line["blocked"]]
        out.append(line)
    return out


#: Runs a report is built over: building one costs some 150 ms however small
#: the files, and each further file about 40 ms, so a batch is what lets CI
#: check 1,000 schedules in about a minute.
BATCH = 10


@st.composite
def batches(draw: Draw[Any]) -> list[list[Line]]:
    """BATCH runs for one report, in pairs that share names, so that two runs of one
    program add up in the tables and causes while other pairs stay apart."""
    return [renamed(draw(runs()), f"p{n // 2}-", 1000 * (n // 2)) for n in range(BATCH)]
