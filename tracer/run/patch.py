"""``tracer run``'s substitutions in ``threading`` and ``queue``.

The program's ``threading.Event()`` must become a traced Event, but the
standard library's own ``Event()`` (each Thread's "started" flag), a Queue's
internal Conditions, logging's RLocks and the like must not: they are not
the program's signalling, and recording them would bury it.  So each
replacement looks at who is constructing it: code of the standard library,
of installed packages or of synctrace gets the original primitive, anyone
else (the program) gets the traced one.

Replacements are subclasses where the original is a class, so that the
program may still subclass them and ``isinstance`` still holds.
"""

from __future__ import annotations

import os
import queue
import sys
import sysconfig
import threading
from typing import Any

import tracer

_LIBRARY_DIRS = tuple(
    sorted(
        {
            os.path.join(os.path.realpath(p), "")
            for key in ("stdlib", "platstdlib", "purelib", "platlib")
            if (p := sysconfig.get_paths().get(key))
        }
        | {os.path.join(os.path.dirname(os.path.realpath(tracer.__file__)), "")}
    )
)
#: The modules whose primitives are never the program's, wherever they live.
_ALWAYS_LIBRARY = frozenset(
    os.path.realpath(m.__file__) for m in (threading, queue) if m.__file__ is not None
)
#: Directories of the program's own code, even when they lie among the
#: libraries (a package installed in site-packages run with ``-m``).
_program_dirs: tuple[str, ...] = ()
_verdicts: dict[str, bool] = {}


def _is_library(filename: str) -> bool:
    if filename.startswith("<"):  # <frozen ...>, <string>, <stdin>
        return filename.startswith("<frozen")
    path = os.path.realpath(filename)
    if path in _ALWAYS_LIBRARY:
        return True
    if _program_dirs and path.startswith(_program_dirs):
        return False
    return path.startswith(_LIBRARY_DIRS)


def _from_library(depth: int) -> bool:
    """Is the frame ``depth`` levels above the caller library code?"""
    try:
        filename = sys._getframe(depth + 1).f_code.co_filename
    except ValueError:
        return True
    verdict = _verdicts.get(filename)
    if verdict is None:
        verdict = _verdicts[filename] = _is_library(filename)
    return verdict


def _substitute(module: Any, attr: str, traced: type) -> tuple[Any, str, Any, Any]:
    """A replacement for ``module.attr``: traced for the program, original for libraries."""
    original = getattr(module, attr)
    if isinstance(original, type):
        make: Any = traced.__new__
        # object.__new__ refuses the constructor's arguments; C types want them.
        takes_args = make is not object.__new__

        def __new__(cls: type, *args: Any, **kwargs: Any) -> Any:
            if cls is replacement and _from_library(1):
                return original(*args, **kwargs)
            return make(cls, *args, **kwargs) if takes_args else make(cls)

        namespace = {"__new__": __new__, "__module__": module.__name__, "__qualname__": attr}
        replacement: Any = type(attr, (traced,), namespace)
    else:  # a factory function, as threading.Lock and RLock are before 3.13

        def replacement(*args: Any, **kwargs: Any) -> Any:
            if _from_library(1):
                return original(*args, **kwargs)
            return traced(*args, **kwargs)

        replacement.__name__ = replacement.__qualname__ = attr
    return module, attr, original, replacement


_TABLE = (
    (threading, "Event", tracer.Event),
    (threading, "Condition", tracer.Condition),
    (threading, "Lock", tracer.Lock),
    (threading, "RLock", tracer.RLock),
    (threading, "Semaphore", tracer.Semaphore),
    (threading, "BoundedSemaphore", tracer.BoundedSemaphore),
    (threading, "Barrier", tracer.Barrier),
    (queue, "Queue", tracer.Queue),
    (queue, "LifoQueue", tracer.LifoQueue),
    (queue, "PriorityQueue", tracer.PriorityQueue),
    (queue, "SimpleQueue", tracer.SimpleQueue),
)
_installed: list[tuple[Any, str, Any, Any]] = []


def install(program_dir: str | None = None) -> None:
    """Put the replacements in place (the recording must already be running).

    ``program_dir`` holds the program's own code (its script's directory, or
    the package run with ``-m``); it counts as the program's even inside a
    library directory, unless it would take in the standard library itself.
    """
    global _program_dirs
    if _installed:
        return
    if program_dir is not None:
        mine = os.path.join(os.path.realpath(program_dir), "")
        if not any(lib.startswith(mine) for lib in _LIBRARY_DIRS):
            _program_dirs = (mine,)
            _verdicts.clear()
    for module, attr, traced in _TABLE:
        entry = _substitute(module, attr, traced)
        _installed.append(entry)
        setattr(module, attr, entry[3])


def uninstall() -> None:
    while _installed:
        module, attr, original, _ = _installed.pop()
        setattr(module, attr, original)
