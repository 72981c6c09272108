"""A small hand-written run with one of everything the timeline and the export draw."""

from __future__ import annotations

from tracebuild import Recorder

from synctrace import schema


def story() -> tuple[Recorder, dict[str, int]]:
    """A producer (Thread-1) and a consumer (Thread-2) around Event ``ready`` and list ``jobs``.

    Thread-2 waits and is woken by a set (a wake-up); Thread-1 holds lock
    ``guard``, sleeps, logs a warning, then sets and clears with nobody
    waiting (a lost signal) and ends; Thread-2 waits again and never
    returns (a hang), leaving item 1 of ``jobs`` stranded.  Returns the
    recorder and the seq of the lines the tests name.
    """
    rec = Recorder()
    seqs: dict[str, int] = {}
    rec.line(
        schema.THREAD_START, thread="Thread-1", parent="MainThread", daemon=False, site="app.py:5"
    )
    rec.line(
        schema.THREAD_START, thread="Thread-2", parent="MainThread", daemon=True, site="app.py:6"
    )
    seqs["wait1"] = rec.wait(thread="Thread-2", site="app.py:20")
    seqs["set1"] = rec.set(thread="Thread-1", waiters=1, site="app.py:10")
    seqs["woke1"] = rec.woke(
        seqs["wait1"], thread="Thread-2", woken_by=seqs["set1"], site="app.py:20"
    )
    rec.append(2, depth=1, thread="Thread-1", site="app.py:11")
    rec.pop(2, depth=0, thread="Thread-2", site="app.py:21")
    seqs["hold"] = rec.op(schema.LOCK_ACQUIRE, "guard", thread="Thread-1", result=True)
    seqs["sleep"] = rec.line(schema.SLEEP_BEGIN, thread="Thread-1", seconds=0.002, site="app.py:12")
    rec.line(schema.SLEEP_END, thread="Thread-1", begin_seq=seqs["sleep"], site="app.py:12")
    rec.op(schema.LOCK_RELEASE, "guard", thread="Thread-1")
    seqs["log"] = rec.line(
        schema.LOG, thread="Thread-1", level="warning", logger="app", message="queue is slow",
        site="app.py:13",
    )  # fmt: skip
    seqs["add1"] = rec.append(1, depth=1, thread="Thread-1", site="app.py:11")
    seqs["lost"] = rec.set(thread="Thread-1", site="app.py:10")
    rec.clear(thread="Thread-1", site="app.py:14")
    rec.line(schema.THREAD_END, thread="Thread-1")
    seqs["wait2"] = rec.wait(thread="Thread-2", site="app.py:20")
    rec.end(reason="timeout")
    return rec, seqs
