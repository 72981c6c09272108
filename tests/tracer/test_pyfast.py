"""The pure sink's fast paths (pyfast): the reference's lines and state, one frame a call."""

from __future__ import annotations

import gc
import threading
from typing import Any

import pytest

import tracer
from tests.tracer import test_event_native, test_list_native
from tests.tracer.handshake import blocked_waiters, wait_until
from tracer.primitives import event as event_module
from tracer.primitives import lists
from tracer.recording import pyfast, recorder
from tracer.testing import capture


def both_ways(
    monkeypatch: pytest.MonkeyPatch, script: Any
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The script's lines with pyfast's methods in place, then with the reference's."""
    fast = script()
    gc.collect()  # the first run's objects (held by a traceback's frames) give up their names
    monkeypatch.setattr(lists, "_PYFAST", False)
    monkeypatch.setattr(event_module, "_PYFAST", False)
    return fast, script()


def test_list_fast_paths_write_the_references_lines(
    pure: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Appends and pops of every kind of value write the same lines with pyfast on and off."""
    fast, slow = both_ways(monkeypatch, test_list_native.script)
    assert [line["event"] for line in fast] == [line["event"] for line in slow]
    assert fast == slow
    assert [list(line) for line in fast] == [list(line) for line in slow]


def test_event_fast_paths_write_the_references_lines(
    pure: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sets, clears and waits of every kind write the same lines with pyfast on and off."""
    fast, slow = both_ways(monkeypatch, test_event_native.script)
    assert [line["event"] for line in fast] == [line["event"] for line in slow]
    assert fast == slow
    assert [list(line) for line in fast] == [list(line) for line in slow]


def test_the_fast_paths_are_in_place_only_while_recording(pure: None) -> None:
    """A pure recording puts pyfast's methods on List and Event, and its end takes them off."""
    with capture():
        assert tracer.List.append.__module__ == pyfast.__name__
        assert tracer.List.pop.__module__ == pyfast.__name__
        assert tracer.Event.set.__module__ == pyfast.__name__
        assert tracer.Event.wait.__module__ == pyfast.__name__
    assert tracer.List.append is list.append
    assert tracer.Event.set is event_module._TRACED["set"]


def test_a_set_names_itself_to_the_waiter_it_released(pure: None) -> None:
    """A waiter blocked in the reference's wait() is released by a fast set() that it names."""
    ev = tracer.Event(name="ev")
    with capture() as trace:
        waiter = threading.Thread(target=ev.wait, name="waiter")
        waiter.start()
        wait_until(lambda: blocked_waiters(ev) == 1)
        ev.set()
        waiter.join()
    (set_line,) = trace.events("event.set")
    (end,) = trace.events("event.wait.end")
    assert set_line["waiters"] == 1 and end["woken_by"] == set_line["seq"]
    assert ev._waiting == {} and ev._seen is True


def first(items: tracer.List[int]) -> None:
    items.append(1)


def second(items: tracer.List[int]) -> None:
    items.append(2)


def test_codes_sharing_an_offset_each_get_their_own_line(pure: None) -> None:
    """Two functions whose calls sit at the same bytecode offset take turns in the site
    cache, and each line names its own function's line."""
    assert first.__code__.co_code == second.__code__.co_code  # the same f_lasti
    items: tracer.List[int] = tracer.List()
    with capture() as trace:
        items.append(0)  # numbers the list for this recording
        for call in (first, second, first, second):
            call(items)
    lines = [e["site"] for e in trace.events("list.append")][1:]
    one = f"test_pyfast.py:{first.__code__.co_firstlineno + 1}"
    two = f"test_pyfast.py:{second.__code__.co_firstlineno + 1}"
    assert lines == [one, two, one, two]


def test_a_call_from_a_frame_of_ours_is_placed_at_the_programs_line(pure: None) -> None:
    """An append reached through a frame of the tracer (a Condition's wait_for predicate is
    not, but List.__iadd__ is) names the program's line, not ours."""
    items: tracer.List[int] = tracer.List()
    with capture() as trace:
        items.append(0)
        items += [1]  # List.extend: the reference, itself calling list.append
    sites = [e["site"] for e in trace.events("list.append", "list.extend")]
    assert all(site.startswith("test_pyfast.py:") for site in sites)


def test_a_wait_that_may_block_is_the_references(pure: None) -> None:
    """wait() on a cleared flag, or with an int timeout, goes the reference's way and
    writes its lines."""
    ev = tracer.Event(name="ev")
    with capture() as trace:
        assert ev.wait(0.0) is False
        ev.set()
        assert ev.wait(1) is True
    ends = trace.events("event.wait.end")
    assert [(e["result"], e["timed_out"]) for e in ends] == [(False, True), (True, False)]
    assert recorder.current is None
