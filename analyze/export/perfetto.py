"""A run as Chrome Trace Event JSON, which ui.perfetto.dev and chrome://tracing open.

Each run is a process (``pid`` 1, 2, ... in the order of the files), each
thread a small ``tid`` (1, 2, ... in order of appearance: Perfetto drops
thread ids wider than 32 bits, and Python's idents are 48) named by
``thread_name`` metadata.  Waits, lock holds and sleeps are complete
slices (``X``); set, clear, notify, findings and log records are instant
events (``i``); each wake-up is a flow (``s`` to ``f``) from the set or
notify to the wait it ended; each container's depth is a counter (``C``).

Perfetto keeps a flow only when both ends fall inside a slice of their
thread, in time order, and keeps a thread's slices only when they nest.
So a set or notify that woke someone is also a short slice for the flow
to start in, the flow ends just inside the wait's last instant, and a
slice that would overlap another without nesting (a lock released while a
later one is held) goes to an extra track of its thread.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, Final

import orjson
import polars as pl

from analyze.errors import TraceError
from analyze.timeline.model import THREAD_KEY, RunView

#: Microseconds per second: Chrome trace ``ts`` and ``dur`` are in µs.
US: Final = 1_000_000
#: The longest a signalling slice lasts (µs); shorter when its wait ended sooner.
SIGNAL_US: Final = 1.0
#: Decimals kept on ``ts`` and ``dur``: nanoseconds, the trace's own resolution.
_NS_DIGITS: Final = 3

Event = dict[str, Any]


def perfetto_trace(views: Sequence[RunView]) -> dict[str, Any]:
    """The Chrome Trace Event document of the runs in ``views``: ``{"traceEvents": [...]}``."""
    events: list[Event] = []
    for view in views:
        events += run_events(view)
    return {
        "traceEvents": events,
        "displayTimeUnit": "ms",
        "otherData": {"source": "synctrace", "files": [v.file for v in views]},
    }


def write_perfetto(views: Sequence[RunView], output: str | Path) -> int:
    """Write the runs' Chrome Trace Event JSON to ``output``; returns the number of events.

    Raises TraceError when ``output`` is one of the traces read: a trace named
    ``trace.json`` and the default ``-o trace.json`` would otherwise be lost.
    """
    for view in views:
        if (
            os.path.exists(output)
            and os.path.exists(view.file)
            and os.path.samefile(view.file, output)
        ):
            raise TraceError(f"{output}: is a trace being exported; choose another -o")
    document = perfetto_trace(views)
    Path(output).write_bytes(orjson.dumps(document))
    return len(document["traceEvents"])


def run_events(view: RunView) -> list[Event]:
    """The events of one run, its ``pid`` being ``view.run + 1``."""
    pid = view.run + 1
    tids = {key: n for n, key in enumerate(view.threads.select(THREAD_KEY).iter_rows(), start=1)}
    names = dict(zip(tids.values(), view.threads["thread"].to_list(), strict=True))
    out: list[Event] = [
        _meta(pid, 0, "process_name", {"name": f"{Path(view.file).name} (run {pid})"}),
        _meta(pid, 0, "process_sort_index", {"sort_index": pid}),
    ]

    hung = set(view.findings.filter(pl.col("kind") == "hang")["seq"].to_list())
    rows = list(view.spans.iter_rows(named=True))
    slices = [_span_slice(row, hung) for row in rows]
    keys = [(row["thread"], row["thread_id"]) for row in rows]
    waits = {
        row["seq"]: (row, piece)
        for row, piece in zip(rows, slices, strict=True)
        if row["state"] == "blocked"
    }
    flows, signal_slices, signal_keys = _flows(view, waits)
    slices += signal_slices
    keys += signal_keys

    # Slices of one thread that do not nest go to extra tracks of that thread.
    layers = nesting_layers(
        [(k, s["ts"], s["ts"] + s["dur"]) for k, s in zip(keys, slices, strict=True)]
    )
    extra: dict[tuple[Any, int], int] = {}
    for key, layer, piece in zip(keys, layers, slices, strict=True):
        tid = tids[key]
        if layer:
            if (key, layer) not in extra:
                extra[(key, layer)] = len(tids) + len(extra) + 1
                names[extra[(key, layer)]] = f"{key[0]} (overlapping {layer})"
            tid = extra[(key, layer)]
        piece.update(pid=pid, tid=tid)
        out.append(piece)
    for tid, name in names.items():
        out.append(_meta(pid, tid, "thread_name", {"name": name}))
        out.append(_meta(pid, tid, "thread_sort_index", {"sort_index": tid}))

    # A flow's ends are on the tracks their slices landed on.
    where = {id(piece): piece["tid"] for piece in slices}
    for flow, start_slice, end_slice in flows:
        out.append({**flow[0], "pid": pid, "tid": where[id(start_slice)]})
        out.append({**flow[1], "pid": pid, "tid": where[id(end_slice)]})

    out += _instants(view, pid, tids)
    out += _counters(view, pid)
    return out


def nesting_layers(slices: Sequence[tuple[Any, float, float]]) -> list[int]:
    """For (track key, begin, end) slices, the layer each goes to so that every layer nests.

    Layer 0 is the thread's own track; a slice goes to the first layer where
    it fits inside the slice still open there (or where none is open).
    Slices that begin together are placed longest first, so that the outer
    one encloses the inner.
    """
    order = sorted(
        range(len(slices)), key=lambda i: (str(slices[i][0]), slices[i][1], -slices[i][2])
    )
    stacks: dict[Any, list[list[float]]] = {}
    layers = [0] * len(slices)
    for i in order:
        key, begin, end = slices[i]
        per_layer = stacks.setdefault(key, [])
        for layer, stack in enumerate([*per_layer, []]):
            while stack and stack[-1] <= begin:
                stack.pop()
            if not stack or end <= stack[-1]:
                if layer == len(per_layer):
                    per_layer.append(stack)
                stack.append(end)
                layers[i] = layer
                break
    return layers


# --- the pieces ---------------------------------------------------------------------


def _us(seconds: float) -> float:
    return round(seconds * US, _NS_DIGITS)


def _meta(pid: int, tid: int, name: str, args: dict[str, Any]) -> Event:
    return {"ph": "M", "pid": pid, "tid": tid, "name": name, "args": args}


def _span_slice(row: dict[str, Any], hung: set[int]) -> Event:
    """A wait, sleep or lock hold as an ``X`` slice."""
    call = row["call"]
    name = "sleep" if call == "sleep" else f"{call} {row['obj']}"
    args: dict[str, Any] = {"seq": row["seq"], "site": row["site"], "obj": row["obj"]}
    if not row["ended"]:
        args["ended"] = "not by the end of the trace"
    if row["timed_out"]:
        args["timed_out"] = True
    if row["seq"] in hung and row["state"] != "holding":
        args["finding"] = "hang"
    begin = _us(row["begin_s"])
    return {
        "ph": "X",
        "name": name,
        "cat": row["state"],
        "ts": begin,
        "dur": round(_us(row["end_s"]) - begin, _NS_DIGITS),
        "args": {k: v for k, v in args.items() if v is not None},
    }


def _flows(
    view: RunView, waits: dict[int, tuple[dict[str, Any], Event]]
) -> tuple[list[tuple[tuple[Event, Event], Event, Event]], list[Event], list[tuple[Any, int]]]:
    """Flows from each waking set or notify to the wait it ended, and the slices they bind to.

    ``waits`` maps a wait's seq to its span row and its slice.  Returns the
    flows (each with the slice its ``s`` and its ``f`` bind to), the
    signalling slices the flows start in, and their thread keys.
    """
    flows: list[tuple[tuple[Event, Event], Event, Event]] = []
    signal_slices: list[Event] = []
    keys: list[tuple[Any, int]] = []
    events = _events(view)
    grouped: dict[int, list[dict[str, Any]]] = {}
    for wake in view.wakes.iter_rows(named=True):
        if wake["wait_seq"] in waits:
            grouped.setdefault(wake["waker_seq"], []).append(wake)
    for waker_seq, woken in grouped.items():
        first = woken[0]
        begin = _us(first["from_s"])
        # The flow must start before it ends: the signalling slice is kept
        # shorter than half the gap to the earliest wait it ended.
        gap = min(_us(w["to_s"]) - begin for w in woken)
        dur = round(min(SIGNAL_US, gap / 2), _NS_DIGITS)
        if dur <= 0:
            continue
        signal = {
            "ph": "X",
            "name": f"{'set' if first['obj'] in events else 'notify'} {first['obj']}",
            "cat": "signal",
            "ts": begin,
            "dur": dur,
            "args": {"seq": waker_seq, "woke": len(woken)},
        }
        signal_slices.append(signal)
        keys.append((first["waker"], first["waker_id"]))
        for wake in woken:
            row, wait = waits[wake["wait_seq"]]
            end = _us(wake["to_s"])
            inset = min(dur / 2, (end - _us(row["begin_s"])) / 2)
            if inset <= 0:
                continue
            # Unique per flow within the file: the run in the high bits, the wait's seq below.
            flow_id = ((view.run + 1) << 32) | wake["wait_seq"]
            start = {"ph": "s", "id": flow_id, "name": "woke", "cat": "wake",
                     "ts": round(begin + dur / 2, _NS_DIGITS)}  # fmt: skip
            finish = {"ph": "f", "bp": "e", "id": flow_id, "name": "woke", "cat": "wake",
                      "ts": round(end - inset, _NS_DIGITS)}  # fmt: skip
            flows.append(((start, finish), signal, wait))
    return flows, signal_slices, keys


def _events(view: RunView) -> set[str]:
    return set(view.objects.filter(pl.col("kind") == "Event")["obj"].to_list())


def _instants(view: RunView, pid: int, tids: dict[tuple[Any, int], int]) -> list[Event]:
    """Set, clear and notify marks, findings and log records as thread-scoped instants."""
    out: list[Event] = []
    for row in view.signals.iter_rows(named=True):
        args = {"obj": row["obj"], "seq": row["seq"], "site": row["site"]}
        if row["waiters"] is not None:
            args["waiters"] = row["waiters"]
        out.append(_instant(pid, tids.get((row["thread"], row["thread_id"])),
                            f"{row['event'].split('.')[-1]} {row['obj']}", "signal",
                            row["t_s"], args))  # fmt: skip
    thread_of = {name: key for key in tids for name in [key[0]]}
    for row in view.findings.iter_rows(named=True):
        key = thread_of.get(row["thread"])
        args = {
            k: row[k] for k in ("severity", "message", "obj", "site", "seq") if row[k] is not None
        }
        out.append(_instant(pid, tids.get(key) if key else None, row["kind"], "finding",
                            row["t_s"], args))  # fmt: skip
    for row in view.logs.iter_rows(named=True):
        args = {
            k: row[k] for k in ("level", "logger", "message", "site", "seq") if row[k] is not None
        }
        if row["fields"] is not None:
            args["fields"] = _fields(row["fields"])
        message = row["message"] or ""
        out.append(_instant(pid, tids.get((row["thread"], row["thread_id"])),
                            message[:80], "log", row["t_s"], args))  # fmt: skip
    return out


def _fields(text: str) -> Any:
    """A log line's key-value pairs from their JSON text; the text itself if it is not JSON."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def _instant(
    pid: int, tid: int | None, name: str, cat: str, t_s: float, args: dict[str, Any]
) -> Event:
    """An ``i`` event on the thread's track, or on the process's when it has no thread."""
    scope = {"s": "t", "tid": tid} if tid is not None else {"s": "p", "tid": 0}
    return {"ph": "i", "pid": pid, **scope, "name": name, "cat": cat, "ts": _us(t_s), "args": args}


def _counters(view: RunView, pid: int) -> list[Event]:
    """Each container's depth after every line that moved an item: one counter per container."""
    return [
        {
            "ph": "C",
            "pid": pid,
            "tid": 0,
            "name": obj,
            "cat": "container",
            "ts": _us(t),
            "args": {"depth": depth},
        }
        for obj, t, depth in view.depths.select("obj", "t_s", "depth").iter_rows()
    ]


def runs_of(
    paths: Iterable[str],
    runs: Sequence[int] | None = None,
    *,
    stage: Callable[[str], None] | None = None,
) -> list[RunView]:
    """Load trace files, build their report once and return a view of each run (or of ``runs``).

    ``stage``, when given, is told what is being done once the files are open.
    """
    from analyze.reading import load_traces
    from analyze.report import build_report
    from analyze.timeline.model import run_view

    trace = load_traces(paths)
    if stage is not None:
        noun = "trace" if len(trace.files) == 1 else "traces"
        stage(f"reading and analyzing {len(trace.files)} {noun}")
    report = build_report(trace)
    chosen = range(len(trace.files)) if runs is None else runs
    return [run_view(trace, report, run) for run in chosen]
