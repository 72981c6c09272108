"""tracer.run.scope: threading and queue traced for chosen code only, for a block."""

from __future__ import annotations

import os
import queue
import sysconfig
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import tracer
from tracer.run import patch as _patch
from tracer.run import scope
from tracer.testing import CapturedTrace

HERE = Path(__file__)


def made_elsewhere(filename: str) -> Any:
    """An Event made by code whose file is ``filename``."""
    namespace: dict[str, Any] = {"threading": threading}
    exec(compile("made = threading.Event()", filename, "exec"), namespace)
    return namespace["made"]


def test_only_the_named_code_gets_traced_primitives(tmp_path: Path) -> None:
    """Inside the block this file's primitives are traced; other files' and <string>'s are not."""
    before = threading.Event()
    with tracer.record(tmp_path / "t.jsonl"), scope.traced_code([HERE]):
        assert isinstance(threading.Event(), tracer.Event)
        assert isinstance(queue.Queue(), tracer.Queue)
        assert not isinstance(made_elsewhere(str(tmp_path / "other.py")), tracer.Event)
        assert not isinstance(made_elsewhere("<string>"), tracer.Event)
        # The standard library's own primitives stay original.
        assert not isinstance(queue.Queue().not_empty, tracer.Condition)
    assert not isinstance(before, tracer.Event)


def test_directories_count_and_exclude_wins(tmp_path: Path) -> None:
    """A directory takes in the files under it; exclude takes them out again."""
    inside = str(tmp_path / "pkg" / "mod.py")
    (tmp_path / "pkg").mkdir()
    with tracer.record(tmp_path / "t.jsonl"):
        with scope.traced_code([tmp_path]):
            assert isinstance(made_elsewhere(inside), tracer.Event)
        with scope.traced_code([tmp_path], exclude=[tmp_path / "pkg"]):
            assert not isinstance(made_elsewhere(inside), tracer.Event)


def test_installed_packages_are_never_the_program(monkeypatch: pytest.MonkeyPatch) -> None:
    """A venv's site-packages inside the named directory stays library code."""
    project = os.path.join(os.path.realpath("/project"), "")
    monkeypatch.setattr(_patch, "_only", (project,))
    monkeypatch.setattr(_patch, "_verdicts", {})
    assert not _patch._is_library("/project/app/work.py")
    assert _patch._is_library("/project/.venv/lib/python3.11/site-packages/lib/x.py")
    assert _patch._is_library("/elsewhere/work.py")
    purelib = sysconfig.get_paths()["purelib"]
    assert _patch._is_library(os.path.join(purelib, "somepkg", "x.py"))


def test_the_block_undoes_everything(tmp_path: Path) -> None:
    """After the block threading, queue and time.sleep are the originals, and the
    verdicts are tracer run's again (a file outside the libraries is the program's)."""
    originals = (threading.Event, queue.Queue, time.sleep)
    with tracer.record(tmp_path / "t.jsonl"), scope.traced_code([HERE]):
        assert threading.Event is not originals[0]
    assert (threading.Event, queue.Queue, time.sleep) == originals
    assert not _patch.installed()
    assert _patch._only is None
    assert not _patch._is_library(str(tmp_path / "other.py"))


def test_a_recording_must_run_and_patches_do_not_nest(tmp_path: Path) -> None:
    """Without a recording, or under another patching (tracer run), the block refuses to start."""
    with pytest.raises(tracer.RecordingError, match="start a recording"), scope.traced_code([HERE]):
        pass
    with tracer.record(tmp_path / "t.jsonl"):
        _patch.install()
        try:
            with (
                pytest.raises(tracer.RecordingError, match="already patched"),
                scope.traced_code([HERE]),
            ):
                pass
        finally:
            _patch.uninstall()


def test_record_writes_the_named_codes_operations(tmp_path: Path) -> None:
    """scope.record traces this file's Event and sleep, with sites in this file."""
    path = tmp_path / "t.jsonl"
    with scope.record(path, [HERE]):
        flag = threading.Event()
        flag.set()
        time.sleep(0)
    trace = CapturedTrace(path)
    trace.load()
    [line] = trace.events("event.set")
    assert line["site"].startswith(f"{HERE.name}:")
    assert trace.events("sleep.begin")
    assert trace.end["reason"] == "completed"
    assert threading.Event is not type(flag)


def test_record_ends_the_trace_when_the_block_raises(tmp_path: Path) -> None:
    """An exception leaving the block ends the trace with its name and undoes the patches."""
    path = tmp_path / "t.jsonl"
    with pytest.raises(ValueError), scope.record(path, [HERE]):
        raise ValueError("boom")
    trace = CapturedTrace(path)
    trace.load()
    assert (trace.end["reason"], trace.end["detail"]) == ("exception", "ValueError")
    assert not _patch.installed()
