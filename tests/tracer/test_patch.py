"""tracer run's substitutions: the program gets traced primitives, libraries the originals."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

import pytest

import tracer
from tracer.run import patch as _patch


@pytest.fixture
def patched() -> Iterator[None]:
    originals = (threading.Event, threading.Lock, queue.Queue)
    _patch.install()
    try:
        yield
    finally:
        _patch.uninstall()
    assert (threading.Event, threading.Lock, queue.Queue) == originals


def test_program_code_gets_traced_primitives(patched: None) -> None:
    """Constructed from code outside the library directories, each primitive is traced."""
    assert isinstance(threading.Event(), tracer.Event)
    assert isinstance(threading.Lock(), tracer.Lock)
    assert isinstance(threading.Condition(), tracer.Condition)
    assert isinstance(queue.Queue(), tracer.Queue)
    assert isinstance(queue.SimpleQueue(), tracer.SimpleQueue)


def test_replacements_stay_subclassable_and_isinstance_holds(patched: None) -> None:
    """A program may subclass the patched names, and isinstance checks keep working."""

    class Flag(threading.Event):
        pass

    flag = Flag()
    assert isinstance(flag, tracer.Event) and isinstance(flag, Flag)
    q = queue.Queue(maxsize=2)
    assert isinstance(q, queue.Queue) and q.maxsize == 2


def test_standard_library_internals_stay_original(patched: None) -> None:
    """A Thread's own started-Event and a Queue's Conditions are the originals, not traced."""
    t = threading.Thread(target=lambda: None)
    assert type(t._started) is not tracer.Event  # type: ignore[attr-defined]
    q = queue.Queue()
    assert not isinstance(q.not_empty, tracer.Condition)


def test_uninstall_restores_the_originals(patched: None) -> None:
    """After uninstall the modules hold exactly what they held before (checked by the fixture)."""
    assert threading.Event is not tracer.Event


def test_an_installed_program_run_with_m_counts_as_the_program(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Code under the program's own directory is the program's, even inside site-packages."""
    import os
    import sysconfig

    package = os.path.join(os.path.realpath(sysconfig.get_paths()["purelib"]), "mypkg", "")
    module = os.path.join(package, "__main__.py")
    assert _patch._is_library(module)
    monkeypatch.setattr(_patch, "_program_dirs", (package,))
    assert not _patch._is_library(module)
    # threading and queue stay library code whatever the program's directory.
    assert _patch._is_library(threading.__file__)
    assert _patch._is_library(os.path.join(os.path.dirname(threading.__file__), "logging", "x.py"))


def test_a_program_directory_holding_the_standard_library_is_refused() -> None:
    """install() never treats a directory that contains the libraries as the program's."""
    import os

    _patch.install(os.path.dirname(threading.__file__))
    try:
        assert _patch._program_dirs == ()
    finally:
        _patch.uninstall()
