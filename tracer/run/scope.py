"""Tracing chosen code outside ``tracer run``: a test's body, say.

``tracer run`` owns a whole process and treats every file outside the
libraries as the program's.  A test runner cannot: pytest, its plugins and
the rest of the suite share the process, and must keep the originals.  Here
the caller names the program's code (files and directories); for the
block, ``threading``'s and ``queue``'s primitives made by that code are
traced, and so are its ``time.sleep`` calls, exactly as ``tracer run``
traces them.  Since that code was compiled before the block (it cannot be
rewritten as ``tracer run`` rewrites a program), objects are named from the
bytecode that binds them: ``ready = Event()`` is ``ready``.  Objects made
before the block (at import time, say) stay what they were; objects made
inside it stay traced after it, and record nothing once the recording has
stopped.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from tracer.recording import recorder as _recorder
from tracer.recording import site as _site
from tracer.recording.recorder import Recorder, RecordingError, end_reason
from tracer.run import clock as _clock
from tracer.run import patch as _patch

Paths = Iterable[str | os.PathLike[str]]


@contextmanager
def traced_code(code: Paths, *, exclude: Paths = ()) -> Iterator[None]:
    """For the block, the primitives and sleeps of ``code`` (files, directories) are traced.

    Code under ``exclude``, of the standard library, of installed packages
    (any ``site-packages``) and of synctrace is never traced.  A recording
    must be running.  Raises RecordingError when another caller (``tracer
    run``) has already patched ``threading``: the two cannot be nested.
    """
    if _recorder.current is None:
        raise RecordingError("start a recording before tracing code (tracer.record)")
    if _patch.installed():
        raise RecordingError(
            "threading and queue are already patched for another program (tracer run?);"
            " synctrace records one trace at a time"
        )
    _patch.install(only=code, exclude=exclude, name_bindings=True)
    _clock.install()
    try:
        yield
    finally:
        _clock.uninstall()
        _patch.uninstall()


@contextmanager
def record(path: str | os.PathLike[str], code: Paths, *, exclude: Paths = ()) -> Iterator[Recorder]:
    """``tracer.record(path)`` with ``traced_code(code, exclude=exclude)`` inside it.

    However the block ends, the patches are undone and the trace ends with
    a ``trace.end`` line saying why.
    """
    recorder = Recorder(path).start()
    try:
        with traced_code(code, exclude=exclude):
            yield recorder
    except BaseException as exc:
        recorder.stop(*end_reason(exc))
        raise
    recorder.stop()


_site.internal(__file__)
