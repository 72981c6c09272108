"""A reference analyzer in plain Python: every finding, cause and table value, line by line.

Written from the documented semantics only (the detector modules' docstrings,
``analyze/liveness.py``, ``analyze/causes.py``, the container and thread
tables' docstrings and docs/trace-format.md), never from the polars code, so
that the property tests in this folder compare two independent readings of
the same rules.  It favours being obviously right over being fast: most
questions are answered by scanning a run's lines again.

Input is what a trace file holds: per run (one file), its lines as dicts,
with absent fields read as null (``line.get``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from synctrace import schema

Line = dict[str, Any]
#: A thread is its name and its ident (the liveness docstring's definition).
ThreadKey = tuple[str, int]

SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}
#: trace.end reasons after which the thread that started the trace had finished.
MAIN_FINISHED = frozenset({"completed", "exit", "exception"})
#: trace.end reasons of a normal exit, at which Python abandons daemon threads.
NORMAL_EXIT = frozenset({"completed", "exit"})
WAIT_BEGINS = frozenset(schema.BLOCKING) - {schema.SLEEP_BEGIN}


@dataclass(frozen=True, order=True)
class Finding:
    run: int
    kind: str
    severity: str
    ts: int
    seq: int
    thread: str | None
    obj: str | None
    site: str | None


@dataclass(frozen=True)
class Cause:
    kind: str
    severity: str
    obj: str | None
    site: str | None
    count: int
    first_ts_s: float
    last_ts_s: float
    threads: tuple[str, ...]


@dataclass(frozen=True)
class ContainerRow:
    added: int
    taken: int
    discarded: int
    stranded: int
    left: int
    failed_takes: int
    order: str | None
    residency_ms: tuple[float | None, float | None, float | None, float | None]


@dataclass(frozen=True)
class ThreadRow:
    waits: int
    blocked_s: float


@dataclass
class Reference:
    findings: list[Finding]
    counts: dict[str, int]
    causes: list[Cause]
    containers: dict[str, ContainerRow]
    threads: dict[str, ThreadRow]


def key(line: Line) -> ThreadKey:
    return (line["thread"], line["thread_id"])


# --- one run ----------------------------------------------------------------------


@dataclass
class Run:
    """One file's lines, with the facts every rule needs looked up once."""

    index: int
    lines: list[Line]
    by_seq: dict[int, Line] = field(init=False)
    end: Line | None = field(init=False)
    ended_begins: set[int] = field(init=False)

    def __post_init__(self) -> None:
        self.by_seq = {line["seq"]: line for line in self.lines}
        last = self.lines[-1]
        self.end = last if last["event"] == schema.TRACE_END else None
        self.ended_begins = {
            line["begin_seq"]
            for line in self.lines
            if line["event"] in schema.BLOCKING.values() and line.get("begin_seq") is not None
        }

    @property
    def start(self) -> Line:
        return self.lines[0]

    @property
    def reason(self) -> str | None:
        return None if self.end is None else self.end.get("reason")

    @property
    def last_ts(self) -> int:
        return max(int(line["ts"]) for line in self.lines)

    def ops(self, *events: str, obj: str | None = None) -> list[Line]:
        """Lines of these events (on ``obj`` when given), in seq order."""
        return [
            line
            for line in self.lines
            if line["event"] in events and (obj is None or line.get("obj") == obj)
        ]

    def unended(self, begins: Iterable[str]) -> list[Line]:
        """Begin lines of these events that no end line answers."""
        names = set(begins)
        return [
            line
            for line in self.lines
            if line["event"] in names and line["seq"] not in self.ended_begins
        ]


def in_program_time(lines: Sequence[Line]) -> list[Line]:
    """Under ``time_scale`` F a program second lasted F real ones: ts from the start / F."""
    scale = lines[0].get("time_scale") or 1
    origin = lines[0]["ts"]
    return [{**x, "ts": origin + round((x["ts"] - origin) / scale)} for x in lines]


def runs_of(files: Sequence[Sequence[Line]]) -> list[Run]:
    return [Run(i, in_program_time(lines)) for i, lines in enumerate(files)]


def at(run: Run, line: Line, kind: str, severity: str) -> Finding:
    """A finding placed at ``line``."""
    return Finding(
        run.index,
        kind,
        severity,
        line["ts"],
        line["seq"],
        line.get("thread"),
        line.get("obj"),
        line.get("site"),
    )


# --- liveness ------------------------------------------------------------------------


@dataclass
class Liveness:
    """What every thread of a run was doing at the end, and who could wake whom."""

    threads: list[ThreadKey]
    daemon: dict[ThreadKey, bool]
    state: dict[ThreadKey, str]
    current: dict[ThreadKey, Line]  # a thread's latest wait, when it has one
    wakers: dict[int, set[ThreadKey]]  # wait seq -> wakers
    can_go: set[ThreadKey]
    waits: list[Line]

    def hung(self, wait: Line) -> bool:
        return self.state[key(wait)] == "blocked" and not (self.wakers[wait["seq"]] & self.can_go)


def lock_holders(run: Run) -> dict[str, ThreadKey]:
    """Per lock still held at the end: the thread holding it.

    Held when acquired more often than released (a release that raised does
    not count); of the threads with acquires to spare, the latest acquirer.
    """
    acquired: dict[str, dict[ThreadKey, int]] = defaultdict(lambda: defaultdict(int))
    released: dict[str, dict[ThreadKey, int]] = defaultdict(lambda: defaultdict(int))
    last_acquire: dict[tuple[str, ThreadKey], int] = {}
    for line in run.lines:
        ev, obj = line["event"], str(line.get("obj"))
        if ev in (schema.LOCK_ACQUIRE, schema.LOCK_ACQUIRE_END) and line.get("result"):
            acquired[obj][key(line)] += 1
            last_acquire[(obj, key(line))] = line["seq"]
        elif ev == schema.LOCK_RELEASE and line.get("error") is None:
            released[obj][key(line)] += 1
    holders = {}
    for obj, per_thread in acquired.items():
        if sum(per_thread.values()) <= sum(released[obj].values()):
            continue
        spare = [t for t, n in per_thread.items() if n > released[obj][t]]
        holders[obj] = max(spare, key=lambda t: last_acquire[(obj, t)])
    return holders


def _wakers(run: Run, wait: Line, threads: list[ThreadKey]) -> set[ThreadKey]:
    """The threads other than the waiter that could end ``wait`` (everyone, if none)."""
    ev, obj, me = wait["event"], str(wait.get("obj")), key(wait)
    found: set[ThreadKey] = set()
    if ev == schema.EVENT_WAIT_BEGIN:
        found = {key(x) for x in run.ops(schema.EVENT_SET, obj=obj)}
    elif ev == schema.COND_WAIT_BEGIN:
        found = {key(x) for x in run.ops(schema.COND_NOTIFY, obj=obj)}
    elif ev == schema.LOCK_ACQUIRE_BEGIN:
        holder = lock_holders(run).get(obj)
        found = set() if holder is None else {holder}
    elif ev == schema.SEM_ACQUIRE_BEGIN:
        found = {key(x) for x in run.ops(schema.SEM_RELEASE, obj=obj)}
        balance: dict[ThreadKey, int] = defaultdict(int)
        for x in run.ops(schema.SEM_ACQUIRE, schema.SEM_ACQUIRE_END, obj=obj):
            if x.get("result"):
                balance[key(x)] += 1
        for x in run.ops(schema.SEM_RELEASE, obj=obj):
            if x.get("error") is None:
                balance[key(x)] -= 1
        found |= {t for t, n in balance.items() if n > 0}
    elif ev == schema.BARRIER_WAIT_BEGIN:
        found = {key(x) for x in run.ops(schema.BARRIER_WAIT_BEGIN, obj=obj)}
    elif ev == schema.THREAD_JOIN_BEGIN:
        found = {t for t in threads if t[0] == obj}
    elif ev == schema.QUEUE_GET_BEGIN:
        found = {key(x) for x in run.ops(schema.QUEUE_PUT, obj=obj)}
    elif ev == schema.QUEUE_PUT_BEGIN:
        found = {key(x) for x in run.ops(schema.QUEUE_GET, obj=obj)}
    elif ev == schema.QUEUE_JOIN_BEGIN:
        found = {key(x) for x in run.ops(schema.QUEUE_GET, schema.QUEUE_TASK_DONE, obj=obj)}
    found.discard(me)
    return found or {t for t in threads if t != me}


def liveness(run: Run) -> Liveness:
    threads: list[ThreadKey] = []
    for line in run.lines:
        if line["event"] != schema.TRACE_END and key(line) not in threads:
            threads.append(key(line))
    daemon = {key(x): bool(x.get("daemon")) for x in run.ops(schema.THREAD_START)}
    waits = run.unended(WAIT_BEGINS)
    current = {}
    for w in waits:  # in seq order, so the latest wins
        current[key(w)] = w
    sleeping = {key(x) for x in run.unended([schema.SLEEP_BEGIN])}
    ended = {key(x) for x in run.ops(schema.THREAD_END, schema.THREAD_EXCEPTION)}
    state = {}
    for t in threads:
        if t in ended:
            state[t] = "ended"
        elif t in current:
            state[t] = "blocked" if current[t].get("timeout") is None else "timed"
        elif t in sleeping:
            state[t] = "sleeping"
        elif t == key(run.start) and run.reason in MAIN_FINISHED:
            state[t] = "ended"
        else:
            state[t] = "running"
    wakers = {w["seq"]: _wakers(run, w, threads) for w in waits}
    can_go = {t for t in threads if state[t] in ("running", "sleeping", "timed")}
    changed = True
    while changed:  # the least fixed point: only what some free thread reaches
        changed = False
        for t in threads:
            if t not in can_go and state[t] == "blocked" and wakers[current[t]["seq"]] & can_go:
                can_go.add(t)
                changed = True
    return Liveness(threads, daemon, state, current, wakers, can_go, waits)


def served(run: Run, live: Liveness, obj: str) -> bool:
    """Some thread that ever took from ``obj`` (or waited in its get) can still go."""
    takers = {key(x) for x in run.ops(*schema.CONTAINER_TAKES, schema.QUEUE_GET_BEGIN, obj=obj)}
    return bool(takers & live.can_go)


# --- detectors ------------------------------------------------------------------------


def signal_fates(run: Run) -> dict[int, bool]:
    """Per event.set with no waiter (seq): True when lost (cleared before anyone looked)."""
    fates = {}
    for s in run.ops(schema.EVENT_SET):
        if s.get("waiters"):
            continue
        later = [x for x in run.lines if x["seq"] > s["seq"] and x.get("obj") == s["obj"]]
        clear = next((x for x in later if x["event"] == schema.EVENT_CLEAR), None)
        look = next(
            (
                x
                for x in later
                if x["event"] == schema.EVENT_IS_SET
                or (x["event"] == schema.EVENT_WAIT_BEGIN and x.get("flag"))
            ),
            None,
        )
        fates[s["seq"]] = clear is not None and (look is None or look["seq"] > clear["seq"])
    return fates


def signals(run: Run) -> list[Finding]:
    """Each set() with no waiter: lost (error) if cleared before a look, else unwaited (info)."""
    return [
        at(run, run.by_seq[seq], "lost-signal", "error")
        if lost
        else at(run, run.by_seq[seq], "unwaited-signal", "info")
        for seq, lost in signal_fates(run).items()
    ]


def cleared_waits(run: Run) -> list[Finding]:
    lost = [seq for seq, is_lost in signal_fates(run).items() if is_lost]
    out = []
    for w in run.ops(schema.EVENT_WAIT_BEGIN):
        if w.get("flag"):
            continue
        obj, me = w["obj"], key(w)
        # "since this thread last woke from it": its previous return from a
        # wait() on the same Event, whatever ended that wait.
        woke = [
            x["seq"]
            for x in run.ops(schema.EVENT_WAIT_END, obj=obj)
            if key(x) == me and x["seq"] < w["seq"]
        ]
        since = max(woke, default=-1)
        missed = sum(1 for seq in lost if run.by_seq[seq]["obj"] == obj and since < seq < w["seq"])
        # Only a missed signal makes it a warning: a timed-out wait is
        # polling, and one still blocked at the end is a hang of its own.
        out.append(at(run, w, "cleared-wait", "warning" if missed else "info"))
    return out


def coalesced(run: Run) -> list[Finding]:
    return [
        at(run, s, "coalesced-signal", "info") for s in run.ops(schema.EVENT_SET) if s.get("flag")
    ]


def unheard_notifies(run: Run) -> list[Finding]:
    out = []
    objs = dict.fromkeys(x["obj"] for x in run.ops(schema.COND_NOTIFY))
    hung_waits = run.unended([schema.COND_WAIT_BEGIN])
    for obj in objs:
        unheard = [x for x in run.ops(schema.COND_NOTIFY, obj=obj) if x.get("waiters") == 0]
        if not unheard:
            continue
        first = unheard[0]
        later = any(w["obj"] == obj and w["seq"] > first["seq"] for w in hung_waits)
        out.append(at(run, first, "unheard-notify", "warning" if later else "info"))
    return out


def thread_exceptions(run: Run) -> list[Finding]:
    return [at(run, x, "thread-exception", "error") for x in run.ops(schema.THREAD_EXCEPTION)]


def failed_takes(run: Run) -> list[Finding]:
    out = []
    for take in run.ops(*schema.CONTAINER_TAKES):
        error = take.get("error")
        if error is None:
            continue
        me = key(take)
        # The thread's next line, past the end of the blocking get the take was in.
        after = [
            x
            for x in run.lines
            if x["seq"] > take["seq"]
            and x["event"] != schema.TRACE_END
            and key(x) == me
            and not (
                x["event"] in schema.BLOCKING.values()
                and x.get("begin_seq") is not None
                and x["begin_seq"] < take["seq"]
            )
        ]
        fatal = False
        if after:
            nxt = after[0]
            fatal = nxt["event"] == schema.THREAD_EXCEPTION and nxt.get("exc_type") == error
        elif me == key(run.start) and run.end is not None:
            fatal = run.reason == "exception" and run.end.get("detail") == error
        out.append(at(run, take, "failed-take", "error" if fatal else "info"))
    return out


def items(run: Run) -> dict[str, dict[int, dict[str, Line]]]:
    """Per container and item: its ``add`` line and the line it ``left`` by, where written."""
    boxes: dict[str, dict[int, dict[str, Line]]] = defaultdict(lambda: defaultdict(dict))
    for line in run.lines:
        ev, item = line["event"], line.get("item")
        if item is None or line.get("error") is not None:
            continue
        if ev in schema.CONTAINER_ADDS:
            boxes[line["obj"]][item]["add"] = line
        elif ev in schema.CONTAINER_TAKES or ev in schema.CONTAINER_DISCARDS:
            boxes[line["obj"]][item]["left"] = line
    return boxes


def is_buffer(run: Run, obj: str) -> bool:
    """A queue, or a container something was taken from (a failed take counts)."""
    lines = run.ops(*schema.CONTAINER_ADDS, *schema.CONTAINER_TAKES, *schema.CONTAINER_DISCARDS)
    mine = [x for x in lines if x["obj"] == obj]
    return any(x["event"].startswith("queue.") for x in mine) or any(
        x["event"] in schema.CONTAINER_TAKES for x in mine
    )


def stranded_items(run: Run, live: Liveness) -> list[Finding]:
    out = []
    for obj, per_item in items(run).items():
        if not is_buffer(run, obj) or served(run, live, obj):
            continue
        for item in per_item.values():
            if "add" in item and "left" not in item:
                out.append(at(run, item["add"], "stranded-item", "warning"))
    return out


def waits_at_end(run: Run, live: Liveness) -> list[Finding]:
    out = []
    on_cycles = {w["seq"] for cycle in deadlock_cycles(run, live) for w in cycle}
    for w in live.waits:
        at_exit = live.daemon.get(key(w), False) and run.reason in NORMAL_EXIT
        if live.hung(w) and not at_exit:
            # A thread on a deadlock cycle is told by the deadlock finding.
            if w["seq"] not in on_cycles:
                out.append(at(run, w, "hang", "error"))
        else:
            out.append(at(run, w, "blocked-at-end", "info"))
    return out


def deadlocks(run: Run, live: Liveness) -> list[Finding]:
    """One finding per cycle of blocked threads each waiting for the next (lock or join)."""
    return [
        at(run, max(cycle, key=lambda w: w["seq"]), "deadlock", "error")
        for cycle in deadlock_cycles(run, live)
    ]


def deadlock_cycles(run: Run, live: Liveness) -> list[list[Line]]:
    """The blocked begin lines of the threads of each deadlock cycle."""
    holders = lock_holders(run)
    blocked = {t: live.current[t] for t in live.threads if live.state[t] == "blocked"}
    waits_for: dict[ThreadKey, ThreadKey] = {}
    for t, w in blocked.items():
        if w["event"] == schema.LOCK_ACQUIRE_BEGIN:
            other = holders.get(w["obj"])
        elif w["event"] == schema.THREAD_JOIN_BEGIN:
            other = next((u for u in live.threads if u[0] == w["obj"]), None)
        else:
            other = None
        if other is not None and other in blocked:
            waits_for[t] = other
    cycles: set[frozenset[ThreadKey]] = set()
    for start in waits_for:
        path, t = [start], waits_for[start]
        while t in waits_for and t not in path:
            path.append(t)
            t = waits_for[t]
        if t == start:
            cycles.add(frozenset(path))
    return [[blocked[t] for t in cycle] for cycle in cycles]


# --- the lock, wake-up and queue-check findings ---------------------------------------


def stolen_wakeups(run: Run, fatal_takes: set[int]) -> list[Finding]:
    """A wait() returned and the thread's next take found the container empty, taken."""
    out = []
    wait_ends = (schema.EVENT_WAIT_END, schema.COND_WAIT_END)
    for ret in run.ops(*wait_ends):
        if not ret.get("result") or ret.get("error") is not None:
            continue
        me = key(ret)
        nxt = next(
            (
                x
                for x in run.lines
                if x["seq"] > ret["seq"]
                and x["event"] != schema.TRACE_END
                and key(x) == me
                and (x["event"] in schema.CONTAINER_TAKES or x["event"] in wait_ends)
            ),
            None,
        )
        if nxt is None or nxt["event"] not in schema.CONTAINER_TAKES:
            continue
        if nxt.get("error") not in schema.EMPTY_ERRORS:
            continue
        # Inside its own get(timeout=...): polling, not trusting the wake-up.
        gets = [
            x for x in run.ops(schema.QUEUE_GET_BEGIN) if key(x) == me and x["seq"] < nxt["seq"]
        ]
        if gets and not any(
            x["event"] == schema.QUEUE_GET_END and x.get("begin_seq") == gets[-1]["seq"]
            for x in run.lines
            if x["seq"] < nxt["seq"]
        ):
            continue
        begin = run.by_seq[ret["begin_seq"]]
        signal = ret.get("woken_by")
        if signal is None and begin["event"] == schema.EVENT_WAIT_BEGIN and begin.get("flag"):
            sets = [x["seq"] for x in run.ops(schema.EVENT_SET, obj=begin["obj"])]
            signal = max((q for q in sets if q < begin["seq"]), default=None)
        if signal is None:
            signal = begin["seq"]
        stolen = any(
            x["obj"] == nxt["obj"] and x.get("item") is not None and signal < x["seq"] < nxt["seq"]
            for x in run.ops(*schema.CONTAINER_TAKES)
        )
        if stolen:
            severity = "error" if nxt["seq"] in fatal_takes else "warning"
            out.append(
                Finding(
                    run.index,
                    "stolen-wakeup",
                    severity,
                    nxt["ts"],
                    nxt["seq"],
                    nxt["thread"],
                    begin.get("obj"),
                    begin.get("site"),
                )
            )
    return out


def lock_contention(run: Run, contention_ms: float = 20.0) -> list[Finding]:
    """Per lock, one info finding at the longest acquire that waited contention_ms or more."""
    ends = {x["begin_seq"]: x for x in run.ops(schema.LOCK_ACQUIRE_END)}
    longest: dict[str, tuple[int, Line]] = {}
    for begin in run.ops(schema.LOCK_ACQUIRE_BEGIN):
        end = ends.get(begin["seq"])
        if end is None:
            continue
        waited = end["ts"] - begin["ts"]
        if waited < contention_ms * 1e6:
            continue
        best = longest.get(begin["obj"])
        if best is None or waited > best[0]:  # the earliest wins a tie
            longest[begin["obj"]] = (waited, begin)
    return [at(run, begin, "lock-contention", "info") for _, begin in longest.values()]


@dataclass(frozen=True)
class Hold:
    obj: str
    holder: ThreadKey
    taken: int
    released: int | None


def lock_holds(run: Run) -> list[Hold]:
    """Every hold of a lock: the depth going 0 -> 1 starts one, 1 -> 0 ends it."""
    depth: dict[str, int] = defaultdict(int)
    open_holds: dict[str, tuple[ThreadKey, int]] = {}
    holds = []
    for x in run.ops(schema.LOCK_ACQUIRE, schema.LOCK_ACQUIRE_END, schema.LOCK_RELEASE):
        obj = x["obj"]
        if x["event"] != schema.LOCK_RELEASE and x.get("result"):
            depth[obj] += 1
            if depth[obj] == 1:
                open_holds[obj] = (key(x), x["seq"])
        elif x["event"] == schema.LOCK_RELEASE and x.get("error") is None and depth[obj] > 0:
            depth[obj] -= 1
            if depth[obj] == 0:
                holder, taken = open_holds.pop(obj)
                holds.append(Hold(obj, holder, taken, x["seq"]))
    holds += [Hold(obj, holder, taken, None) for obj, (holder, taken) in open_holds.items()]
    return holds


def locks_held_while_blocked(run: Run) -> list[Finding]:
    """A lock held across a sleep or a wait on another thread while another thread waited for it."""
    ends = {
        x["begin_seq"]: x["seq"]
        for x in run.lines
        if x["event"] in schema.BLOCKING.values() and x.get("begin_seq") is not None
    }
    calls = [
        x
        for x in run.lines
        if x["event"] in schema.BLOCKING
        and x["event"] != schema.LOCK_ACQUIRE_BEGIN
        and not (x["event"] == schema.EVENT_WAIT_BEGIN and x.get("flag"))
    ]
    never = len(run.lines) + 1  # a missing end is later than everything
    out = []
    for hold in lock_holds(run):
        acquirers = [x for x in run.ops(schema.LOCK_ACQUIRE_BEGIN, obj=hold.obj)]
        for b in calls:
            if key(b) != hold.holder or b["seq"] <= hold.taken:
                continue
            b_end = ends.get(b["seq"])
            if hold.released is not None and (b_end is None or b_end >= hold.released):
                continue
            waited = any(
                key(a) != hold.holder
                and a["seq"] < (b_end if b_end is not None else never)
                and ends.get(a["seq"], never) > b["seq"]
                for a in acquirers
            )
            if waited:
                # A sleep ends by itself: the waiters are slowed, never stuck.
                slept = b["event"] == schema.SLEEP_BEGIN
                out.append(
                    Finding(
                        run.index,
                        "lock-held-while-blocked",
                        "info" if slept else "warning",
                        b["ts"],
                        b["seq"],
                        b["thread"],
                        hold.obj,
                        b.get("site"),
                    )
                )
    return out


CHECKS = (schema.QUEUE_EMPTY, schema.QUEUE_QSIZE, schema.QUEUE_FULL)
QUEUE_ACTS = (
    schema.QUEUE_PUT,
    schema.QUEUE_GET,
    schema.QUEUE_PUT_BEGIN,
    schema.QUEUE_GET_BEGIN,
    schema.QUEUE_TASK_DONE,
    schema.QUEUE_JOIN_BEGIN,
)


def _claim(check: Line) -> str:
    if check["event"] == schema.QUEUE_EMPTY:
        return "empty" if check.get("result") else "not empty"
    if check["event"] == schema.QUEUE_QSIZE:
        return "empty" if check.get("size") == 0 else "not empty"
    return "full" if check.get("result") else "room"


def racy_checks(run: Run) -> list[Finding]:
    """A queue check whose answer had gone wrong by the time its thread acted on it."""
    out = []
    for check in run.ops(*CHECKS):
        me, obj = key(check), check["obj"]
        later = [
            x
            for x in run.lines
            if x["seq"] > check["seq"]
            and key(x) == me
            and x.get("obj") == obj
            and x["event"] in (*CHECKS, *QUEUE_ACTS)
        ]
        if later and later[0]["event"] in CHECKS:
            continue  # superseded by the thread's next check
        act: Line | None = later[0] if later else None
        ending = False
        if act is None:
            moved = any(
                x.get("item") is not None and key(x) == me and x["seq"] < check["seq"]
                for x in run.ops(schema.QUEUE_PUT, schema.QUEUE_GET, obj=obj)
            )
            if not moved:
                continue
            act = next(
                (
                    x
                    for x in run.ops(schema.THREAD_END, schema.THREAD_EXCEPTION)
                    if key(x) == me and x["seq"] > check["seq"]
                ),
                None,
            )
            if act is None and me == key(run.start) and run.reason in MAIN_FINISHED:
                act = run.end
            if act is None:
                continue
            ending = True
        depth = next(
            (
                x["depth"]
                for x in reversed(run.lines)
                if x["seq"] < act["seq"] and x.get("obj") == obj and x.get("depth") is not None
            ),
            None,
        )
        claim = _claim(check)
        if claim == "empty":
            racy = ending and depth is not None and depth > 0
        elif claim == "not empty":
            racy = act["event"] in (schema.QUEUE_GET, schema.QUEUE_GET_BEGIN) and depth == 0
        elif claim == "full":
            racy = ending and depth is not None and depth < check["depth"]
        else:
            racy = act["event"] == schema.QUEUE_PUT_BEGIN or (
                act["event"] == schema.QUEUE_PUT and act.get("error") == "Full"
            )
        if racy:
            out.append(at(run, check, "racy-check", "warning"))
    return out


# --- tables ---------------------------------------------------------------------------


def _quantile(values: list[float], q: float) -> float:
    """Linear interpolation between the closest ranks."""
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def _order(run: Run, obj: str) -> tuple[bool, bool] | None:
    """(every take took the oldest item present, every take took the newest), or None."""
    present: list[int] = []
    fifo = lifo = True
    took = False
    for line in run.lines:
        if line.get("obj") != obj or line.get("item") is None or line.get("error") is not None:
            continue
        ev, item = line["event"], line["item"]
        if ev in schema.CONTAINER_ADDS:
            present.append(item)
        elif ev in schema.CONTAINER_TAKES or ev in schema.CONTAINER_DISCARDS:
            if ev in schema.CONTAINER_TAKES:
                took = True
                fifo = fifo and item == min(present)
                lifo = lifo and item == max(present)
            present.remove(item)
    return (fifo, lifo) if took else None


def containers(runs: list[Run], lives: list[Liveness]) -> dict[str, ContainerRow]:
    movers = (*schema.CONTAINER_ADDS, *schema.CONTAINER_TAKES, *schema.CONTAINER_DISCARDS)
    names = dict.fromkeys(x["obj"] for run in runs for x in run.ops(*movers))
    table = {}
    for obj in names:
        counts: dict[str, int] = defaultdict(int)
        residency: list[float] = []
        orders = []
        for run, live in zip(runs, lives, strict=True):
            mine = [x for x in run.ops(*movers) if x["obj"] == obj]
            if not mine:
                continue
            for x in mine:
                ok = x.get("error") is None
                if x["event"] in schema.CONTAINER_ADDS and ok:
                    counts["added"] += 1
                elif x["event"] in schema.CONTAINER_TAKES:
                    counts["taken" if ok else "failed_takes"] += 1
                elif x["event"] in schema.CONTAINER_DISCARDS:
                    counts["discarded"] += 1
            keep = is_buffer(run, obj) and served(run, live, obj)
            for item in items(run)[obj].values():
                if "add" in item and "left" not in item:
                    counts["left" if keep else "stranded"] += 1
                left = item.get("left")
                if "add" in item and left is not None and left["event"] in schema.CONTAINER_TAKES:
                    residency.append((left["ts"] - item["add"]["ts"]) / 1e6)
            order = _order(run, obj)
            if order is not None:
                orders.append(order)
        if not orders:
            order_name = None
        elif all(f for f, _ in orders):
            order_name = "FIFO"
        elif all(lifo for _, lifo in orders):
            order_name = "LIFO"
        else:
            order_name = "mixed"
        res: tuple[float | None, ...] = (
            (min(residency), _quantile(residency, 0.5), _quantile(residency, 0.95), max(residency))
            if residency
            else (None, None, None, None)
        )
        table[obj] = ContainerRow(
            added=counts["added"],
            taken=counts["taken"],
            discarded=counts["discarded"],
            stranded=counts["stranded"],
            left=counts["left"],
            failed_takes=counts["failed_takes"],
            order=order_name,
            residency_ms=res,  # type: ignore[arg-type]
        )
    return table


def threads(runs: list[Run]) -> dict[str, ThreadRow]:
    waits: dict[str, int] = defaultdict(int)
    blocked_ns: dict[str, int] = defaultdict(int)
    for run in runs:
        ends = {
            x["begin_seq"]: x
            for x in run.lines
            if x["event"] in schema.BLOCKING.values() and x.get("begin_seq") is not None
        }
        for line in run.lines:
            # The run's own start and end lines are not the thread's doing.
            if line["event"] in (schema.TRACE_START, schema.TRACE_END):
                continue
            name = line["thread"]
            waits[name] += 0
            if line["event"] in WAIT_BEGINS:
                waits[name] += 1
                end = ends.get(line["seq"])
                blocked_ns[name] += (end["ts"] if end else run.last_ts) - line["ts"]
    return {name: ThreadRow(waits[name], blocked_ns[name] / 1e9) for name in waits}


# --- causes and the whole report ----------------------------------------------------


def causes(runs: list[Run], findings: list[Finding]) -> list[Cause]:
    groups: dict[tuple[str, str | None, str | None], list[Finding]] = defaultdict(list)
    for f in findings:
        groups[(f.kind, f.obj, f.site)].append(f)
    out = []
    for (kind, obj, site), group in groups.items():
        times = [(f.ts - runs[f.run].start["ts"]) / 1e9 for f in group]
        out.append(
            Cause(
                kind=kind,
                severity=min((f.severity for f in group), key=SEVERITY_RANK.__getitem__),
                obj=obj,
                site=site,
                count=len(group),
                first_ts_s=min(times),
                last_ts_s=max(times),
                threads=tuple(sorted({f.thread for f in group if f.thread is not None})),
            )
        )
    out.sort(key=lambda c: (SEVERITY_RANK[c.severity], c.kind == "hang", -c.count, c.first_ts_s))
    return out


def reference(files: Sequence[Sequence[Line]], kinds: Sequence[str]) -> Reference:
    """Everything ``analyze report`` states about these runs (one list of lines a file)."""
    runs = runs_of(files)
    lives = [liveness(run) for run in runs]
    findings: list[Finding] = []
    for run, live in zip(runs, lives, strict=True):
        findings += signals(run)
        findings += cleared_waits(run)
        findings += stranded_items(run, live)
        findings += waits_at_end(run, live)
        findings += deadlocks(run, live)
        taken = failed_takes(run)
        findings += taken
        fatal = {f.seq for f in taken if f.severity == "error"}
        findings += stolen_wakeups(run, fatal)
        findings += lock_contention(run)
        findings += locks_held_while_blocked(run)
        findings += racy_checks(run)
        findings += thread_exceptions(run)
        findings += unheard_notifies(run)
        findings += coalesced(run)
    counts = dict.fromkeys(kinds, 0)
    for f in findings:
        counts[f.kind] += 1
    return Reference(
        findings=sorted(findings, key=lambda f: (f.run, f.ts, f.seq)),
        counts=counts,
        causes=causes(runs, findings),
        containers=containers(runs, lives),
        threads=threads(runs),
    )
