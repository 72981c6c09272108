"""The trace format ``synctrace/1``: event names, their fields and their types.

This module is the only contract between ``tracer`` (which writes traces) and
``analyze`` (which reads them); docs/trace-format.md is its prose twin.  It
imports nothing but the standard library so that either side can use it
without pulling in the other's dependencies.

Rules that hold for every version ``synctrace/1.x``:

* One JSON object a line.  Every line has the fields in ``COMMON_FIELDS``.
* ``seq`` is strictly increasing in file order, and ``ts`` never decreases.
* A blocking operation is two lines, ``<op>.begin`` and ``<op>.end``; the end
  line carries ``begin_seq``, the ``seq`` of its begin line.  A begin with no
  end means the thread was still blocked when the trace ended.
* A container operation moves one item a line.  Items are numbered per
  container (``item``), so the same value added twice is two items.
"""

from __future__ import annotations

from typing import Final

#: Written in ``trace.start``'s ``schema`` field.  Readers accept any
#: ``synctrace/1`` trace and refuse other major versions.
SCHEMA: Final = "synctrace/1"
SCHEMA_MAJOR: Final = "synctrace/1"

# --- event names -------------------------------------------------------------

TRACE_START: Final = "trace.start"
TRACE_END: Final = "trace.end"

THREAD_START: Final = "thread.start"
THREAD_END: Final = "thread.end"
THREAD_EXCEPTION: Final = "thread.exception"

EVENT_SET: Final = "event.set"
EVENT_CLEAR: Final = "event.clear"
EVENT_IS_SET: Final = "event.is_set"
EVENT_WAIT_BEGIN: Final = "event.wait.begin"
EVENT_WAIT_END: Final = "event.wait.end"

COND_NOTIFY: Final = "cond.notify"
COND_WAIT_BEGIN: Final = "cond.wait.begin"
COND_WAIT_END: Final = "cond.wait.end"

# Locks (Lock, RLock) and semaphores (Semaphore, BoundedSemaphore).  An
# acquire that succeeds or fails at once is one line (``lock.acquire``); one
# that has to wait is a begin/end pair.
LOCK_ACQUIRE: Final = "lock.acquire"
LOCK_ACQUIRE_BEGIN: Final = "lock.acquire.begin"
LOCK_ACQUIRE_END: Final = "lock.acquire.end"
LOCK_RELEASE: Final = "lock.release"
SEM_ACQUIRE: Final = "sem.acquire"
SEM_ACQUIRE_BEGIN: Final = "sem.acquire.begin"
SEM_ACQUIRE_END: Final = "sem.acquire.end"
SEM_RELEASE: Final = "sem.release"

BARRIER_WAIT_BEGIN: Final = "barrier.wait.begin"
BARRIER_WAIT_END: Final = "barrier.wait.end"

# Thread.join(): ``obj`` is the joined thread's name.
THREAD_JOIN_BEGIN: Final = "thread.join.begin"
THREAD_JOIN_END: Final = "thread.join.end"

# queue.Queue, LifoQueue, PriorityQueue, SimpleQueue.  ``queue.put`` and
# ``queue.get`` move one item, like list lines; a put or get that has to wait
# for room or for an item is also wrapped in a begin/end pair.
QUEUE_PUT: Final = "queue.put"
QUEUE_GET: Final = "queue.get"
QUEUE_PUT_BEGIN: Final = "queue.put.begin"
QUEUE_PUT_END: Final = "queue.put.end"
QUEUE_GET_BEGIN: Final = "queue.get.begin"
QUEUE_GET_END: Final = "queue.get.end"
QUEUE_TASK_DONE: Final = "queue.task_done"
QUEUE_JOIN_BEGIN: Final = "queue.join.begin"
QUEUE_JOIN_END: Final = "queue.join.end"
# empty(), qsize() and full(): what the queue answered, and its real depth
# at that instant.  The answer is true only until another thread's put or
# get; these lines let the analyzer see a thread act on a stale one.
QUEUE_EMPTY: Final = "queue.empty"
QUEUE_QSIZE: Final = "queue.qsize"
QUEUE_FULL: Final = "queue.full"

LIST_APPEND: Final = "list.append"
LIST_INSERT: Final = "list.insert"
LIST_EXTEND: Final = "list.extend"
LIST_POP: Final = "list.pop"
LIST_REMOVE: Final = "list.remove"
LIST_DEL: Final = "list.del"
LIST_CLEAR: Final = "list.clear"

# time.sleep() called from the program's code: a blocking pair on no object.
# A sleeping thread is alive and waits for nobody, which is what tells a
# slow program from a hung one.
SLEEP_BEGIN: Final = "sleep.begin"
SLEEP_END: Final = "sleep.end"

# A record the program logged through ``logging`` or structlog while it was
# recorded: on no object, with its thread and site, in ``seq`` order with
# everything else, so a person sees what the program said next to what its
# threads did.
LOG: Final = "log"

# --- what the analyzer needs to know about each event -------------------------

#: Lines that put one item into a container.
CONTAINER_ADDS: Final = frozenset({LIST_APPEND, LIST_INSERT, LIST_EXTEND, QUEUE_PUT})
#: Lines that take one chosen item out of a container (a consumer's take).
#: A take that raised has ``error`` set and no ``item``.
CONTAINER_TAKES: Final = frozenset({LIST_POP, LIST_REMOVE, LIST_DEL, QUEUE_GET})
#: Lines that drop items in bulk: the item leaves, but nobody consumed it.
#: Bulk drops are written newest item first.
CONTAINER_DISCARDS: Final = frozenset({LIST_CLEAR})

#: Blocking operations: begin event -> end event.
BLOCKING: Final = {
    EVENT_WAIT_BEGIN: EVENT_WAIT_END,
    COND_WAIT_BEGIN: COND_WAIT_END,
    LOCK_ACQUIRE_BEGIN: LOCK_ACQUIRE_END,
    SEM_ACQUIRE_BEGIN: SEM_ACQUIRE_END,
    BARRIER_WAIT_BEGIN: BARRIER_WAIT_END,
    THREAD_JOIN_BEGIN: THREAD_JOIN_END,
    QUEUE_PUT_BEGIN: QUEUE_PUT_END,
    QUEUE_GET_BEGIN: QUEUE_GET_END,
    QUEUE_JOIN_BEGIN: QUEUE_JOIN_END,
    SLEEP_BEGIN: SLEEP_END,
}

# --- fields -------------------------------------------------------------------

#: Fields on every line.
COMMON_FIELDS: Final = ("event", "ts", "seq", "thread", "thread_id")
#: Fields on every operation line (an operation on a named object).
OPERATION_FIELDS: Final = ("obj", "site")

#: Every field that may appear on a line other than trace.start/trace.end,
#: with its JSON type (``None`` in a field means "not known" or "not given").
FIELD_TYPES: Final[dict[str, type]] = {
    "event": str,
    "ts": int,  # nanoseconds of one monotonic clock shared by all threads
    "seq": int,
    "thread": str,  # threading's name for the thread, as the program sees it
    "thread_id": int,  # threading.get_ident()
    "obj": str,  # the primitive's or container's name
    "site": str,  # "file.py:LINE" of the program's code that made the call
    # signals
    "waiters": int,  # threads blocked in wait() on the object at that instant
    "woken": int,  # cond.notify: how many waiters it released
    "all": bool,  # cond.notify: notify_all()
    "flag": bool,  # an Event's flag when the operation began
    "timeout": float,  # seconds; None for no timeout
    "begin_seq": int,  # on an ``.end`` line: the seq of its ``.begin`` line
    "result": bool,  # what the call returned (empty()/full(): their answer)
    "timed_out": bool,
    "woken_by": int,  # seq of the set()/notify() that released the waiter
    # containers
    "item": int,  # per-container item number, 1, 2, 3... in order of adding
    "index": int,  # position the item was put at or taken from
    "depth": int,  # items in the container after the operation
    "value": str,  # repr() of the value, cut short
    # failures and threads
    "error": str,  # exception type name when the operation raised
    "exc_type": str,
    "exc_msg": str,
    "parent": str,  # thread.start: the thread that called start()
    "daemon": bool,
    # locks, semaphores, barriers, queues
    "count": int,  # a semaphore's counter after the operation
    "parties": int,  # a barrier's number of parties
    "maxsize": int,  # a queue's bound, 0 for none
    "size": int,  # queue.qsize: the size it returned
    # sleeps
    "seconds": float,  # sleep.begin: the seconds asked for
    # the program's own log records
    "level": str,  # "debug", "info", "warning", "error", "critical"
    "logger": str,  # the logger's name ("root" for the root logger)
    "message": str,  # the formatted message (structlog: its event), cut short
    "fields": dict,  # structlog's key-value pairs (values JSON or repr()), absent when none
}

#: Fields each event carries beyond the common (and, for operations, the
#: operation) fields.  Listed fields may hold None where documented.
EVENT_FIELDS: Final[dict[str, tuple[str, ...]]] = {
    THREAD_START: ("parent", "daemon", "site"),
    THREAD_END: (),
    THREAD_EXCEPTION: ("exc_type", "exc_msg", "site"),
    EVENT_SET: ("waiters", "flag"),
    EVENT_CLEAR: ("flag",),
    EVENT_IS_SET: ("result",),
    EVENT_WAIT_BEGIN: ("flag", "timeout"),
    EVENT_WAIT_END: ("begin_seq", "result", "timed_out", "woken_by", "error"),
    COND_NOTIFY: ("waiters", "woken", "all"),
    COND_WAIT_BEGIN: ("timeout",),
    COND_WAIT_END: ("begin_seq", "result", "timed_out", "woken_by", "error"),
    LOCK_ACQUIRE: ("result",),
    LOCK_ACQUIRE_BEGIN: ("timeout",),
    LOCK_ACQUIRE_END: ("begin_seq", "result", "timed_out", "error"),
    LOCK_RELEASE: ("error",),
    SEM_ACQUIRE: ("result", "count"),
    SEM_ACQUIRE_BEGIN: ("timeout", "count"),
    SEM_ACQUIRE_END: ("begin_seq", "result", "timed_out", "count", "error"),
    SEM_RELEASE: ("count", "error"),
    BARRIER_WAIT_BEGIN: ("parties", "timeout"),
    BARRIER_WAIT_END: ("begin_seq", "index", "error"),
    THREAD_JOIN_BEGIN: ("timeout",),
    THREAD_JOIN_END: ("begin_seq", "result", "timed_out", "error"),
    QUEUE_PUT_BEGIN: ("timeout", "maxsize"),
    QUEUE_PUT_END: ("begin_seq", "result", "timed_out", "error"),
    QUEUE_GET_BEGIN: ("timeout",),
    QUEUE_GET_END: ("begin_seq", "result", "timed_out", "error"),
    QUEUE_TASK_DONE: ("error",),
    QUEUE_JOIN_BEGIN: (),
    QUEUE_JOIN_END: ("begin_seq", "error"),
    QUEUE_EMPTY: ("result", "depth"),
    QUEUE_QSIZE: ("size", "depth"),
    QUEUE_FULL: ("result", "depth"),
    SLEEP_BEGIN: ("seconds", "site"),
    SLEEP_END: ("begin_seq", "site", "error"),
    LOG: ("level", "logger", "message", "fields", "site"),
    **{
        name: ("item", "index", "depth", "value", "error")
        for name in CONTAINER_ADDS | CONTAINER_TAKES | CONTAINER_DISCARDS
    },
}

#: Events that are operations on an object (they carry ``obj`` and ``site``).
#: A sleep has a site but no object.
OPERATIONS: Final = frozenset(EVENT_FIELDS) - {
    THREAD_START,
    THREAD_END,
    THREAD_EXCEPTION,
    SLEEP_BEGIN,
    SLEEP_END,
    LOG,
}

#: Where a failed take's ``error`` names the container being empty (as
#: opposed to, say, a TypeError from a bad index): list pops and queue gets.
EMPTY_ERRORS: Final = frozenset({"IndexError", "Empty", "ValueError"})

# --- trace.start / trace.end ----------------------------------------------------

#: trace.start: the schema, run id, process and the wall-clock time (ISO 8601,
#: UTC) that corresponds to this line's ``ts``; ``time_scale`` (absent when 1)
#: is ``tracer run --time-scale``: the program's clock ran 1/time_scale times
#: as fast as ``ts``; ``redacted`` (absent unless true): the program's data
#: was written as salted hashes (``synctrace.redact``).
START_FIELDS: Final = (
    "schema",
    "run_id",
    "pid",
    "host",
    "python",
    "argv",
    "wall_time",
    "native",
    "time_scale",
    "redacted",
)
#: trace.end: why the run ended, how many lines were written before this one
#: and how many events could not be written, and the threads still blocked.
END_FIELDS: Final = ("reason", "detail", "exit_code", "events_written", "events_dropped", "blocked")
#: Each entry of trace.end's ``blocked`` list.
BLOCKED_FIELDS: Final = ("thread", "thread_id", "event", "obj", "site", "begin_seq", "ts")

#: Why a run ended (trace.end ``reason``).
END_REASONS: Final = (
    "completed",  # the recorded block or program finished normally
    "exception",  # it ended by an uncaught exception (``detail`` names it)
    "exit",  # sys.exit() (``exit_code`` holds the status)
    "interrupt",  # SIGINT / KeyboardInterrupt
    "sigterm",
    "timeout",  # tracer run --timeout expired
    "stopped",  # the recorder was stopped while threads still ran (tracer demo)
)

#: Longest ``value`` repr written; longer ones are cut and end in "...".
VALUE_REPR_LIMIT: Final = 80
#: Longest ``message`` written on a ``log`` line; longer ones end in "...".
LOG_MESSAGE_LIMIT: Final = 500
