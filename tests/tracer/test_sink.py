"""tracer.recording's event sinks: the native one and its pure-Python twin, same tests."""

from __future__ import annotations

import _thread
import errno
import gc
import json
import os
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import orjson
import pytest

from tracer.recording import pysink, site
from tracer.recording.site import site_name

from .handshake import wait_until

try:
    from tracer.recording import _csink
except ImportError:  # no compiler where this was installed: the pure sink alone
    _csink = None  # type: ignore[assignment]

NOT_BUILT = "the native sink (tracer.recording._csink) is not built here"


@pytest.fixture(params=["pure", "native"])
def impl(request: pytest.FixtureRequest) -> ModuleType:
    """The sink module under test: pysink, or _csink when it is built."""
    if request.param == "native":
        if _csink is None:
            pytest.skip(NOT_BUILT)
        return _csink
    return pysink


def native() -> ModuleType:
    if _csink is None:
        pytest.skip(NOT_BUILT)
    return _csink


def lines(out: bytes) -> list[dict[str, Any]]:
    assert out == b"" or out.endswith(b"\n")
    return [json.loads(line) for line in out.splitlines()]


def test_seq_counts_from_first_seq_and_ts_is_the_monotonic_clock(impl: ModuleType) -> None:
    """Each emit returns the next seq; lines carry it, the thread and a monotonic_ns ts."""
    sink = impl.Sink(first_seq=7)
    before = time.monotonic_ns()
    seqs = [sink.emit("e", None, None, {"i": i}) for i in range(3)]
    after = time.monotonic_ns()
    assert seqs == [7, 8, 9] and sink.pending == 3
    got = lines(sink.drain(10, site_name))
    assert [line["seq"] for line in got] == seqs
    assert [line["i"] for line in got] == [0, 1, 2]
    assert all(before <= line["ts"] <= after for line in got)
    assert [line["ts"] for line in got] == sorted(line["ts"] for line in got)
    assert {(line["thread"], line["thread_id"]) for line in got} == {
        ("MainThread", threading.get_ident())
    }
    assert list(got[0]) == ["event", "ts", "seq", "thread", "thread_id", "i"]


def test_lines_name_the_emitting_thread(impl: ModuleType) -> None:
    """An emit from another thread carries that thread's current name and ident."""
    sink = impl.Sink()
    idents: list[int] = []

    def work() -> None:
        idents.append(threading.get_ident())
        sink.emit("e", None, None)
        threading.current_thread().name = "renamed"
        sink.emit("e", None, None)

    worker = threading.Thread(target=work, name="worker")
    worker.start()
    worker.join()
    got = lines(sink.drain(10, site_name))
    assert [(line["thread"], line["thread_id"]) for line in got] == [
        ("worker", idents[0]),
        ("renamed", idents[0]),
    ]


def test_a_thread_after_an_ended_one_has_its_own_name(impl: ModuleType) -> None:
    """Threads one after another (idents may be reused) each write their own name."""
    sink = impl.Sink()
    for name in ("first", "second", "third"):
        worker = threading.Thread(target=sink.emit, args=("e", None, None), name=name)
        worker.start()
        worker.join()
    got = lines(sink.drain(10, site_name))
    assert [line["thread"] for line in got] == ["first", "second", "third"]


def test_a_thread_threading_did_not_start_keeps_its_dummy_name(impl: ModuleType) -> None:
    """A raw _thread thread is named as threading.current_thread() names it, every time."""
    sink = impl.Sink()
    names: list[str] = []
    done = threading.Event()

    def work() -> None:
        sink.emit("e", None, None)
        names.append(threading.current_thread().name)
        sink.emit("e", None, None)
        done.set()

    _thread.start_new_thread(work, ())
    assert done.wait(10)
    got = lines(sink.drain(10, site_name))
    assert [line["thread"] for line in got] == names * 2


def test_emit_as_writes_the_given_thread(impl: ModuleType) -> None:
    """emit_as stamps the thread it is told, not the calling one."""
    sink = impl.Sink()
    assert sink.emit_as("thread.start", None, None, {"name": "w"}, "w", 42) == 0
    (line,) = lines(sink.drain(10, site_name))
    assert (line["thread"], line["thread_id"], line["name"]) == ("w", 42, "w")


def test_fields_are_encoded_as_json_values(impl: ModuleType) -> None:
    """Fields keep their order; None is left out; scalars, big ints and nested values survive."""
    text = 'say "hi"\\ \n\r\t\b\f \x01\x1f\x7f é ☃ 😀'
    fields: dict[str, Any] = {
        "none": None,
        "t": True,
        "f": False,
        "zero": 0,
        "neg": -(2**63),
        "u64": 2**64 - 1,
        "big": 2**100,
        "negbig": -(2**80),
        "pi": 3.14159,
        "tenth": 0.1,
        "huge": 1e300,
        "minus_zero": -0.0,
        "nan": float("nan"),
        "inf": float("inf"),
        "text": text,
        "empty": "",
        "surrogate": "a\ud800b",
        "list": [1, "two", None, [3.5]],
        "tuple": (1, 2),
        "dict": {"a": {"b": [True]}},
        "object": object,
    }
    sink = impl.Sink()
    sink.emit("e", None, None, fields)
    sink.emit("e", None, None, {"text": text})
    out = sink.drain(10, site_name)
    line, _ = lines(out)
    expected = {k: v for k, v in fields.items() if v is not None}
    expected.update(nan=None, inf=None, tuple=[1, 2], object=repr(object))
    got = {k: line[k] for k in expected}
    assert got == expected
    assert list(line) == ["event", "ts", "seq", "thread", "thread_id", *expected]
    assert out.splitlines()[1].endswith(b'"text":' + orjson.dumps(text) + b"}")


def test_obj_and_site_are_left_out_when_none(impl: ModuleType) -> None:
    """obj and site appear only when given, the site as site_name renders it."""
    sink = impl.Sink()
    sink.emit("a", None, None)
    sink.emit("b", "Lock-1", ("/src/app/main.py", 12), {})
    a, b = lines(sink.drain(10, site_name))
    assert "obj" not in a and "site" not in a
    assert (b["obj"], b["site"]) == ("Lock-1", "main.py:12")
    assert list(b) == ["event", "ts", "seq", "thread", "thread_id", "obj", "site"]


def test_site_name_renders_each_site(impl: ModuleType) -> None:
    """Every line gets its own site's name; the native sink asks once per distinct site."""
    calls: list[Any] = []

    def name(s: tuple[str, int]) -> str:
        calls.append(s)
        return site_name(s)

    if impl is not pysink:  # the native sink names sites at capture, with the module's namer
        impl.set_site_name(name)
    try:
        sink = impl.Sink()
        for i in range(6):
            sink.emit("e", None, ("/x/f.py", i % 2))
        got = lines(sink.drain(10, name))
    finally:
        if impl is not pysink:
            impl.set_site_name(site_name)
    assert [line["site"] for line in got] == ["f.py:0", "f.py:1"] * 3
    if impl is not pysink:
        assert calls == [("/x/f.py", 0), ("/x/f.py", 1)]


def test_native_sink_names_sites_without_a_namer() -> None:
    """With no namer handed over, the native sink writes file.py:LINE as site.site_name does."""
    impl = native()
    impl.set_site_name(None)
    try:
        sink = impl.Sink()
        sink.emit("e", None, ("/x/y/f.py", 7))
        sink.emit("e", None, ("f.py", 8))
        sink.emit("e", None, "somewhere")
        got = lines(sink.drain(10, site_name))
    finally:
        impl.set_site_name(site_name)
    assert [line["site"] for line in got] == ["f.py:7", "f.py:8", "somewhere"]


def test_blocked_holds_a_begin_until_its_end(impl: ModuleType) -> None:
    """begin remembers the call in blocked; end forgets it and writes begin_seq first."""
    sink = impl.Sink()
    here = ("/src/app.py", 3)
    begin = sink.begin("queue.get", "Queue-1", here, {"timeout": 1.5})
    name, ident, event, obj, where, ts = sink.blocked[begin]
    assert (name, ident, event, obj, where) == (
        "MainThread",
        threading.get_ident(),
        "queue.get",
        "Queue-1",
        here,
    )
    end = sink.end(begin, "queue.got", "Queue-1", here, {"item": 4, "error": None})
    assert end == begin + 1 and sink.blocked == {}
    first, last = lines(sink.drain(10, site_name))
    assert ts >= first["ts"]
    assert list(last)[5:] == ["obj", "site", "begin_seq", "item"]
    assert (last["begin_seq"], last["item"]) == (begin, 4)
    assert sink.end(12345, "queue.got", None, None, {}) == end + 1  # unknown begins are fine


def test_close_returns_the_next_seq_and_refuses_later_events(impl: ModuleType) -> None:
    """close hands out the next seq; every later capture returns -1 and keeps nothing."""
    sink = impl.Sink(first_seq=3)
    sink.emit("e", None, None)
    assert sink.close() == 4
    assert sink.emit("e", None, None) == -1
    assert sink.emit_as("e", None, None, None, "t", 1) == -1
    assert sink.begin("e", None, None) == -1 and sink.blocked == {}
    assert sink.end(3, "e", None, None, {}) == -1
    assert sink.pending == 1 and sink.dropped == 0
    assert [line["seq"] for line in lines(sink.drain(10, site_name, final=True))] == [3]


def test_drain_hands_out_at_most_limit_oldest_first(impl: ModuleType) -> None:
    """drain(limit) encodes the oldest events and leaves the rest pending."""
    sink = impl.Sink()
    for i in range(5):
        sink.emit("e", None, None, {"i": i})
    assert [line["i"] for line in lines(sink.drain(2, site_name))] == [0, 1]
    assert sink.pending == 3
    assert [line["i"] for line in lines(sink.drain(10, site_name))] == [2, 3, 4]
    assert sink.pending == 0 and sink.drain(10, site_name) == b""


def test_drain_lines_counts_the_lines_it_hands_out(impl: ModuleType) -> None:
    """drain_lines gives drain's bytes and how many lines they hold; nothing left, (b"", 0)."""
    sink = impl.Sink()
    for i in range(5):
        sink.emit("e", None, None, {"s": "a\nb", "i": i})
    data, n = sink.drain_lines(3, site_name)
    text = bytes(data)
    assert n == 3 == text.count(b"\n") and [line["i"] for line in lines(text)] == [0, 1, 2]
    data, n = sink.drain_lines(10, site_name)
    assert n == 2 and [line["i"] for line in lines(bytes(data))] == [3, 4]
    assert sink.drain_lines(10, site_name) == (b"", 0)


def test_lines_still_held_are_never_written_over(impl: ModuleType) -> None:
    """A drain's lines stay as they were while held (or viewed), whatever later drains encode."""
    sink = impl.Sink()
    sink.emit("e", None, None, {"i": 0})
    first, _ = sink.drain_lines(10, site_name)
    view = memoryview(first)
    before = bytes(first)
    for i in range(1, 4):
        sink.emit("e", None, None, {"i": i, "pad": "x" * 1000})
        later, _ = sink.drain_lines(10, site_name)
        assert [line["i"] for line in lines(bytes(later))] == [i]
        del later
    assert bytes(first) == before == bytes(view)
    assert [line["i"] for line in lines(before)] == [0]


def test_pump_writes_what_drain_would_have_handed_out(tmp_path: Path) -> None:
    """pump() writes every event, in batches of limit, as the lines drain() gives, and
    counts them; an empty sink writes nothing."""
    made = []
    for _ in range(2):
        sink = native().Sink()
        for i in range(10):
            sink.emit_as("e", "obj", None, {"i": i, "s": "x\ny"}, "t", 1)
        made.append(sink)
    expected = made[0].drain(100, site_name)
    fd = os.open(tmp_path / "t.jsonl", os.O_WRONLY | os.O_CREAT)
    try:
        assert made[1].pump(fd, 3) == (10, 0, 0)
        assert made[1].pending == 0 and made[1].pump(fd, 3) == (0, 0, 0)
    finally:
        os.close(fd)
    # Each sink stamped its own clock: the lines are the same but for ts.
    pumped = lines((tmp_path / "t.jsonl").read_bytes())
    assert [{**line, "ts": 0} for line in pumped] == [{**line, "ts": 0} for line in lines(expected)]


def test_pump_says_why_a_write_failed_and_what_it_lost() -> None:
    """A failing write (a full disk) stops pump at once: the lines written before it, the
    batch it failed on as lost, and the errno; the rest stay in the sink."""
    sink = native().Sink()
    for i in range(10):
        sink.emit("e", None, None, {"i": i})
    fd = os.open("/dev/full", os.O_WRONLY)
    try:
        written, lost, err = sink.pump(fd, 4)
    finally:
        os.close(fd)
    assert (written, lost, err) == (0, 4, errno.ENOSPC)
    assert sink.pending == 6


def test_ts_never_goes_back_across_drains(impl: ModuleType) -> None:
    """A line's ts is never below the ts of a line drained before it."""
    sink = impl.Sink()
    sink.emit_as("e", None, None, None, "t", 1)
    first = lines(sink.drain(10, site_name))[0]["ts"]
    sink.emit("e", None, None)
    assert lines(sink.drain(10, site_name))[0]["ts"] >= first


def test_a_writer_draining_makes_room(impl: ModuleType) -> None:
    """With a tiny max_pending and a writer draining, emits wait for room and none is lost."""
    sink = impl.Sink(max_pending=4)
    out: list[bytes] = []
    done = threading.Event()

    def writer() -> None:
        while not done.is_set() or sink.pending:
            sink.wait(0.01, 4)
            out.append(sink.drain(3, site_name))

    thread = threading.Thread(target=writer)
    thread.start()
    seqs = [sink.emit("e", None, None, {"i": i}) for i in range(500)]
    done.set()
    thread.join()
    assert seqs == list(range(500)) and sink.dropped == 0
    assert [line["i"] for line in lines(b"".join(out))] == list(range(500))


def test_no_writer_means_dropped_after_the_patience(
    impl: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no room and no writer, an emit gives up after ROOM_PATIENCE_S and counts a drop."""
    monkeypatch.setattr(impl, "ROOM_PATIENCE_S", 0.05)
    sink = impl.Sink(max_pending=2)
    assert [sink.emit("e", None, None) for _ in range(2)] == [0, 1]
    assert sink.emit("e", None, None) == -1
    assert sink.dropped == 1 and sink.pending == 2
    assert sink.emit("e", None, None) == -1 and sink.dropped == 2
    assert [line["seq"] for line in lines(sink.drain(10, site_name))] == [0, 1]
    assert sink.emit("e", None, None) == 2  # room again: the seq skipped nothing


def test_close_frees_an_emit_waiting_for_room(
    impl: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An emit waiting for room returns -1 when the sink closes, not after its patience."""
    monkeypatch.setattr(impl, "ROOM_PATIENCE_S", 600.0)
    sink = impl.Sink(max_pending=1)
    sink.emit("e", None, None)
    result: list[int] = []
    waiter = threading.Thread(target=lambda: result.append(sink.emit("e", None, None)))
    waiter.start()
    sink.close()
    waiter.join(timeout=60)
    assert not waiter.is_alive() and result == [-1]


def test_wait_returns_on_threshold_timeout_or_close(impl: ModuleType) -> None:
    """wait returns once threshold events are pending, after its timeout, or when closed."""
    sink = impl.Sink()
    sink.wait(0.01, 1)  # nothing pending: the timeout ends it
    sink.emit("e", None, None)
    sink.wait(60, 1)  # already there
    sink.close()
    sink.wait(60, 100)  # closed


def test_dropping_the_sink_releases_its_events(impl: ModuleType) -> None:
    """Undrained events are let go with the sink, not leaked."""

    class Item:
        pass

    item = Item()
    alive = weakref.ref(item)
    sink = impl.Sink()
    sink.emit("e", item, None, {"item": item})
    sink.begin("e", item, None)
    del item, sink
    gc.collect()
    assert alive() is None


def test_written_values_are_let_go_by_reuse_or_trim() -> None:
    """The native sink lets a written record's references go when its slot is reused or
    trim() runs, never while the record is pending."""
    impl = native()
    value = "".join(["held ", "by the record"])  # made here: only this test refers to it
    before = sys.getrefcount(value)
    sink = impl.Sink(0, 1024)
    sink.emit("e", None, None, {"value": value})
    assert sys.getrefcount(value) == before + 1
    assert b"held by the record" in sink.drain(10, site_name)
    assert sys.getrefcount(value) == before + 1  # written; let go lazily
    sink.trim()
    assert sys.getrefcount(value) == before
    sink.emit("e", None, None, {"value": value})
    sink.drain(10, site_name)
    for _ in range(2048):  # past the ring's 1,024 slots: the record's slot is reused
        sink.emit("e", None, None, None)
        sink.drain(10, site_name)
    assert sys.getrefcount(value) == before


def test_numbers_are_written_exactly_at_every_digit_count(impl: ModuleType) -> None:
    """Integers around each power of ten, both signs, and thread ids are written digit for
    digit."""
    numbers = [0, 1, 9, 10, 99, 100, 12345, 10**8 - 1, 10**8, 10**8 + 1, 10**15 + 7]
    numbers += [2**63 - 1, 10**18, 10**19 - 1, -1, -(10**8), -(2**63)]
    numbers += [10**k + d for k in range(1, 19) for d in (-1, 0)]
    sink = impl.Sink()
    for n in numbers:
        sink.emit_as("e", None, None, {"n": n}, "T", abs(n) + 10**14)
    got = lines(sink.drain(len(numbers), site_name))
    assert [line["n"] for line in got] == numbers
    assert [line["thread_id"] for line in got] == [abs(n) + 10**14 for n in numbers]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="os.fork is POSIX only")
def test_a_forked_child_keeps_a_working_sink(impl: ModuleType) -> None:
    """After os.fork the child's sink holds the parent's events and still emits and drains."""
    sink = impl.Sink()
    sink.emit("before", None, None)
    pid = os.fork()
    if pid == 0:  # the child: report through the exit code only
        ok = sink.emit("child", None, None) == 1 and len(lines(sink.drain(10, site_name))) == 2
        sink.close()
        os._exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert sink.emit("parent", None, None) == 1


# --- caller_site ----------------------------------------------------------------

INTERNAL_FILE = "<synctrace test: internal>"
_through: dict[str, Any] = {}
exec(compile("def through(f, *args):\n    return f(*args)\n", INTERNAL_FILE, "exec"), _through)
through: Callable[..., Any] = _through["through"]


@pytest.fixture(params=["pure", "native"])
def caller_site(request: pytest.FixtureRequest) -> Iterator[Callable[..., Any]]:
    """site.caller_site, or _csink's, reading the same live set of internal files."""
    if request.param == "native":
        native().set_internal(site._internal)
        found = native().caller_site
    else:
        found = site.caller_site
    site._internal.add(INTERNAL_FILE)
    try:
        yield found
    finally:
        site._internal.discard(INTERNAL_FILE)


def test_caller_site_skips_internal_frames(caller_site: Callable[..., Any]) -> None:
    """caller_site returns the first frame at or above depth outside internal files."""
    line = sys._getframe().f_lineno
    assert through(caller_site, 2) == (__file__, line + 1)
    assert through(through, caller_site, 1) == (__file__, line + 2)
    assert caller_site(1) == (__file__, line + 3)
    assert caller_site(10_000) is None


def test_caller_site_names_each_line_every_time(caller_site: Callable[..., Any]) -> None:
    """Two calls on two lines of a loop are named by their own line, every round."""
    line = sys._getframe().f_lineno
    found = []
    for _ in range(3):
        found.append(caller_site(1))
        found.append(caller_site(1))
    assert found == [(__file__, line + 3), (__file__, line + 4)] * 3


def test_caller_site_is_the_same_in_both(caller_site: Callable[..., Any]) -> None:
    """The native caller_site answers as site.caller_site does at every depth."""
    site_internal = site._internal
    for depth in range(6):
        # One line: both calls must see the same line number.
        assert through(caller_site, depth) == through(site.caller_site, depth)
        assert site._internal is site_internal


# --- the two sinks together ---------------------------------------------------------


def run_script(sink: Any) -> bytes:
    """The same events into a sink, as a recording would send them."""
    here = ("/src/app.py", 10)
    sink.emit_as("thread.start", None, None, {"name": "MainThread"}, "MainThread", 1)
    sink.emit("lock.acquire", "Lock-1", here, {"blocking": True, "timeout": -1.0})
    begin = sink.begin("queue.get", "Queue-1", here, {"timeout": None})
    sink.end(begin, "queue.got", "Queue-1", here, {"item": 3, "value": "'x'", "error": None})
    sink.emit("list.append", "List-1", ("/src/b.py", 2), {"item": 1, "index": 0, "depth": 1})
    sink.emit("odd", {"k": [1, 2]}, None, {"big": 2**70, "s": "é\n\ud800", "f": 1e-7})
    sink.close()
    return sink.drain(100, site_name, final=True)  # type: ignore[no-any-return]


def test_both_sinks_write_the_same_lines() -> None:
    """For the same events the two sinks' lines decode to the same dicts, in the same order."""
    pure, fast = lines(run_script(pysink.Sink())), lines(run_script(native().Sink()))
    for line in pure + fast:
        line.pop("ts")
    assert fast == pure
    assert [list(line) for line in fast] == [list(line) for line in pure]


# --- stress ------------------------------------------------------------------------

THREADS = 16


@pytest.mark.slow
def test_many_threads_lose_nothing(impl: ModuleType) -> None:
    """16 threads x 100,000 emits into one sink with a writer draining (pure: ~9 s, native: ~3 s).

    Nothing is lost, no line is torn, seq strictly increases down the output and
    each thread's (and each object's) events keep their order.
    """
    per_thread = 100_000
    sink = impl.Sink(max_pending=1 << 14)
    done = threading.Event()
    state = {"lines": 0, "last_seq": -1}
    errors: list[BaseException] = []
    next_i = [0] * THREADS

    def check(out: bytes) -> None:
        assert out == b"" or out.endswith(b"\n")
        for raw in out.splitlines():
            line = orjson.loads(raw)  # a torn line would not parse
            assert line["seq"] > state["last_seq"]
            state["last_seq"] = line["seq"]
            t = line["t"]
            assert line["obj"] == f"obj-{t}" and line["i"] == next_i[t]
            next_i[t] += 1
            state["lines"] += 1

    def writer() -> None:
        while not done.is_set():
            sink.wait(0.005, 4096)
            out = sink.drain(8192, site_name)
            if not errors:  # after a failure, keep draining so the workers finish
                try:
                    check(out)
                except AssertionError as error:  # handed to the test's thread below
                    errors.append(error)

    def work(t: int) -> None:
        emit, obj = sink.emit, f"obj-{t}"
        for i in range(per_thread):
            emit("e", obj, None, {"t": t, "i": i})

    drainer = threading.Thread(target=writer)
    drainer.start()
    workers = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    wait_until(lambda: sink.pending == 0, timeout=120)
    done.set()
    drainer.join()
    assert not errors, errors[0]
    sink.close()
    check(sink.drain(1 << 30, site_name, final=True))
    assert sink.dropped == 0
    assert state["lines"] == THREADS * per_thread
    assert next_i == [per_thread] * THREADS
