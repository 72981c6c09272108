"""Objects named from the bytecode that binds them, for code that was not rewritten."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import tracer
from tracer.run import patch as _patch
from tracer.run import scope

HERE = Path(__file__)


@pytest.fixture
def named(tmp_path: Path) -> Iterator[None]:
    """This file's primitives traced and named by their bindings, for the test."""
    with tracer.record(tmp_path / "t.jsonl"), scope.traced_code([HERE]):
        yield


class Pipeline:
    def __init__(self) -> None:
        self.jobs = queue.Queue()
        self.guard = threading.Lock()


def test_a_local_and_a_closure_variable_name_their_objects(named: None) -> None:
    """``ready = Event()`` is ready; a variable a closure reads is named too."""
    ready = threading.Event()
    done = threading.Condition()

    def uses_done() -> Any:
        return done

    assert (ready.name, uses_done().name) == ("ready", "done")  # type: ignore[attr-defined]


def test_attributes_and_factory_functions_name_their_objects(named: None) -> None:
    """``self.jobs = Queue()`` is jobs, and a Lock (a factory function) is named as well."""
    pipeline = Pipeline()
    assert pipeline.jobs.name == "jobs"  # type: ignore[attr-defined]
    assert pipeline.guard.name == "guard"  # type: ignore[attr-defined]


def test_module_level_bindings_name_their_objects(named: None) -> None:
    """A module-level ``flag = Event()`` (STORE_NAME) is flag."""
    namespace: dict[str, Any] = {"threading": threading}
    exec(compile("flag = threading.Event()", str(HERE), "exec"), namespace)
    assert namespace["flag"].name == "flag"


def test_objects_not_bound_to_a_name_keep_their_default(named: None) -> None:
    """An object passed on, kept in a container, or made by a subclass keeps Kind#n."""

    class Flag(threading.Event):
        pass

    passed = [threading.Event()]
    flag = Flag()
    assert isinstance(passed[0], tracer.Event)
    assert passed[0].name.startswith("Event#")  # type: ignore[attr-defined]
    assert flag.name.startswith("Event#")  # type: ignore[attr-defined]


def test_a_name_given_by_the_program_wins(named: None) -> None:
    """tracer's own name= is kept: only a default name is replaced."""
    chosen = tracer.Event(name="chosen")
    renamed = chosen
    assert renamed.name == "chosen"


def test_tracer_run_replacements_do_not_name_by_bytecode() -> None:
    """Without name_bindings (tracer run, which rewrites instead), no __init__ is added."""
    _patch.install()
    try:
        assert "__init__" not in vars(threading.Event)
        assert "__init__" not in vars(queue.Queue)
    finally:
        _patch.uninstall()
