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

Under ``--time-scale F`` the replacements are one subclass further down,
whose methods scale the timeouts the program passes (``wait(5)`` waits
``5 * F`` real seconds), as do ``Thread.join`` and a ``Timer``'s interval;
``_clock`` scales the
program's clocks and sleeps to match.  The begin lines record the timeout
actually waited, in real seconds like ``ts``.
"""

from __future__ import annotations

import functools
import os
import queue
import sys
import sysconfig
import threading
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any

import tracer
from tracer.primitives.unwind import hand_over
from tracer.recording import names as _names
from tracer.recording import site as _site
from tracer.run import binding as _binding

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
#: ``install(only=...)``: the program is exactly the code in these files and
#: directories (less ``_excluded``), and everything else, wherever it lives,
#: is library code.  None: the program is everything outside the libraries.
_only: tuple[str, ...] | None = None
_excluded: tuple[str, ...] = ()
_verdicts: dict[str, bool] = {}
#: Path parts that mark installed packages, in any environment (a venv
#: inside the project's directory is not the project's code).
_PACKAGE_DIRS = frozenset({"site-packages", "dist-packages"})


def _is_library(filename: str) -> bool:
    if filename.startswith("<"):  # <frozen ...>, <string>, <stdin>
        return filename.startswith("<frozen") or _only is not None
    path = os.path.realpath(filename)
    if path in _ALWAYS_LIBRARY:
        return True
    if _only is not None:
        return (
            not path.startswith(_only)
            or path.startswith(_excluded)
            or path.startswith(_LIBRARY_DIRS)
            or not _PACKAGE_DIRS.isdisjoint(path.split(os.sep))
        )
    if _program_dirs and path.startswith(_program_dirs):
        return False
    return path.startswith(_LIBRARY_DIRS)


def _as_prefix(path: str | os.PathLike[str]) -> str:
    """A file's real path, or a directory's with a trailing separator."""
    real = os.path.realpath(path)
    return os.path.join(real, "") if os.path.isdir(real) else real


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


def _name_after_binding(obj: Any, frame: FrameType) -> None:
    """Name a new traced object after what ``frame`` binds it to (``ready = Event()``)."""
    name = _binding.bound_name(frame)
    if name is not None:
        _names.rebind(obj, name)


def _substitute(
    module: Any, attr: str, traced: type, name_bindings: bool = False
) -> tuple[Any, str, Any, Any]:
    """A replacement for ``module.attr``: traced for the program, original for libraries.

    ``name_bindings``: name each traced object after the name its maker binds
    it to, read from the maker's bytecode (``binding``), for code that was
    compiled before it could be rewritten.
    """
    original = getattr(module, attr)
    if isinstance(original, type):
        make: Any = traced.__new__
        # object.__new__ refuses the constructor's arguments; C types want them.
        takes_args = make is not object.__new__

        def __new__(cls: type, *args: Any, **kwargs: Any) -> Any:
            if cls is replacement and _from_library(1):
                return original(*args, **kwargs)
            return make(cls, *args, **kwargs) if takes_args else make(cls)

        namespace: dict[str, Any] = {
            "__new__": __new__,
            "__module__": module.__name__,
            "__qualname__": attr,
        }
        if name_bindings:

            def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
                super(replacement, self).__init__(*args, **kwargs)
                if type(self) is replacement:  # a subclass's maker is its own __init__
                    _name_after_binding(self, sys._getframe(1))

            namespace["__init__"] = __init__
        replacement: Any = type(attr, (traced,), namespace)
    else:  # a factory function, as threading.Lock and RLock are before 3.13

        def replacement(*args: Any, **kwargs: Any) -> Any:
            if _from_library(1):
                return original(*args, **kwargs)
            made = traced(*args, **kwargs)
            if name_bindings:
                _name_after_binding(made, sys._getframe(1))
            return made

        replacement.__name__ = replacement.__qualname__ = attr
    return module, attr, original, replacement


#: ``--time-scale``: real seconds per second of the program's time.
_scale = 1.0


def _real_timeout(timeout: Any) -> Any:
    """The real seconds to wait for a timeout the program gave in its own seconds.

    Only a positive number is scaled: None, a Lock's -1 ("forever"), 0 and
    anything the primitive will refuse pass through as they came.
    """
    if type(timeout) not in (int, float) or not timeout > 0:
        return timeout
    return timeout * _scale


def _scaling(
    method: Callable[..., Any], position: int, keyword: str = "timeout"
) -> Callable[..., Any]:
    """``method`` with its timeout (argument ``position`` after self, or ``keyword=``)
    scaled when the program's own code calls it."""

    def scaled(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not _from_library(1):
            if len(args) > position:
                args = (*args[:position], _real_timeout(args[position]), *args[position + 1 :])
            elif keyword in kwargs:
                kwargs[keyword] = _real_timeout(kwargs[keyword])
        try:
            return method(self, *args, **kwargs)
        except BaseException as exc:  # Empty, Full, BrokenBarrierError...: the program's
            hand_over(exc)
            raise

    return functools.update_wrapper(scaled, method)


#: Where each traced primitive takes a timeout: method -> its position among
#: the arguments after self.  Condition.wait_for and Barrier's default are
#: scaled where the program gives them; the waits they make inside threading
#: are library calls, and so are not scaled twice.
_TIMEOUTS: dict[type, dict[str, int]] = {
    tracer.Event: {"wait": 0},
    tracer.Condition: {"wait": 0, "wait_for": 1},
    tracer.Lock: {"acquire": 1},
    tracer.RLock: {"acquire": 1},
    tracer.Semaphore: {"acquire": 1},
    tracer.BoundedSemaphore: {"acquire": 1},
    tracer.Barrier: {"__init__": 2, "wait": 0},
    tracer.Queue: {"put": 2, "get": 1},
    tracer.LifoQueue: {"put": 2, "get": 1},
    tracer.PriorityQueue: {"put": 2, "get": 1},
    tracer.SimpleQueue: {"get": 1},
}


def _scaled(traced: type) -> type:
    """A subclass of ``traced`` whose timeouts from the program are scaled."""
    namespace: dict[str, Any] = {
        name: _scaling(getattr(traced, name), position)
        for name, position in _TIMEOUTS[traced].items()
    }
    namespace.update(
        {"__module__": traced.__module__, "__qualname__": traced.__qualname__, "__slots__": ()}
    )
    return type(traced.__name__, (traced,), namespace)


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


def install(
    program_dir: str | None = None,
    time_scale: float = 1.0,
    *,
    only: Iterable[str | os.PathLike[str]] | None = None,
    exclude: Iterable[str | os.PathLike[str]] = (),
    name_bindings: bool = False,
) -> None:
    """Put the replacements in place (the recording must already be running).

    ``program_dir`` holds the program's own code (its script's directory, or
    the package run with ``-m``); it counts as the program's even inside a
    library directory, unless it would take in the standard library itself.
    ``time_scale`` scales the timeouts the program passes (see ``_scaled``).

    ``only`` (files and directories) narrows the program to the code they
    hold, less ``exclude`` and any installed package: code anywhere else,
    ``<string>`` included, keeps the originals.  That is how code outside
    ``tracer run`` (a test runner) chooses what is traced.  ``name_bindings``
    names each traced object after the variable or attribute its maker binds
    it to, where the maker's code could not be rewritten (see ``binding``).
    """
    global _program_dirs, _scale, _only, _excluded
    if _installed:
        return
    if only is not None:
        _only = tuple(_as_prefix(p) for p in only)
        _excluded = tuple(_as_prefix(p) for p in exclude)
        _verdicts.clear()
    if program_dir is not None:
        mine = os.path.join(os.path.realpath(program_dir), "")
        if not any(lib.startswith(mine) for lib in _LIBRARY_DIRS):
            _program_dirs = (mine,)
            _verdicts.clear()
    _scale = time_scale
    for module, attr, traced in _TABLE:
        entry = _substitute(
            module, attr, traced if time_scale == 1 else _scaled(traced), name_bindings
        )
        _installed.append(entry)
        setattr(module, attr, entry[3])
    if time_scale != 1:
        # The recording patched Thread.join to trace it; scale around that.
        # A Timer waits its interval inside threading (library code, never
        # scaled), so the interval is scaled where the program gives it.
        join, init = threading.Thread.join, threading.Timer.__init__
        for entry in (
            (threading.Thread, "join", join, _scaling(join, 0)),
            (threading.Timer, "__init__", init, _scaling(init, 0, "interval")),
        ):
            _installed.append(entry)
            setattr(entry[0], entry[1], entry[3])


def installed() -> bool:
    """Whether the replacements are in place (by ``tracer run``, or by anyone)."""
    return bool(_installed)


def uninstall() -> None:
    """Put the originals back; objects made meanwhile stay traced."""
    global _scale, _only, _excluded
    while _installed:
        module, attr, original, replacement = _installed.pop()
        # A recording that stopped first has put its own Thread.join back:
        # leave that be.
        if getattr(module, attr) is replacement:
            setattr(module, attr, original)
    _scale = 1.0
    if _only is not None:
        _only, _excluded = None, ()
        _verdicts.clear()


_site.internal(__file__)
