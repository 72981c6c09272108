"""Thread lifecycle: start, end, uncaught exceptions and joins of every thread.

While a recording runs, ``threading.Thread`` is patched at four points: its
``start`` (to note who started the thread and where), its private
``_bootstrap_inner`` (the first and last code the new thread runs),
``threading.excepthook`` (called with the exception that ended ``run()``) and
its ``join`` (a join that waits for a live thread is a begin/end pair).
The patches are removed when the recording stops; a thread already inside the
patched bootstrap keeps it, and finds no recording to write to.
"""

from __future__ import annotations

import _thread
import threading
from typing import Any

from synctrace import schema
from tracer.recording import recorder as _recorder
from tracer.recording import site as _site

_original_start = threading.Thread.start
_original_bootstrap_inner = threading.Thread._bootstrap_inner  # type: ignore[attr-defined]
_original_join = threading.Thread.join
_previous_excepthook: Any = None


def _start(self: threading.Thread) -> None:
    if _recorder.current is not None:
        self._synctrace_parent = threading.current_thread().name  # type: ignore[attr-defined]
        self._synctrace_site = _site.caller_site()  # type: ignore[attr-defined]
    _original_start(self)


def _bootstrap_inner(self: threading.Thread) -> None:
    # threading has not registered this thread yet, so current_thread()
    # would invent a dummy one: name it ourselves.
    ident = _thread.get_ident()
    rec = _recorder.current
    if rec is not None:
        rec.emit_as(
            schema.THREAD_START,
            None,
            getattr(self, "_synctrace_site", None),
            {"parent": getattr(self, "_synctrace_parent", None), "daemon": self.daemon},
            self.name,
            ident,
        )
    try:
        _original_bootstrap_inner(self)
    finally:
        rec = _recorder.current
        if rec is not None:
            rec.emit_as(schema.THREAD_END, None, None, None, self.name, ident)


def _excepthook(args: threading.ExceptHookArgs) -> None:
    rec = _recorder.current
    if rec is not None and args.thread is not None and args.exc_type is not SystemExit:
        try:
            message = str(args.exc_value)
        except Exception:  # a broken __str__ must not hide the real error
            message = "<exception message unavailable>"
        rec.emit_as(
            schema.THREAD_EXCEPTION,
            None,
            _site.site_of_traceback(args.exc_traceback),
            {"exc_type": args.exc_type.__name__, "exc_msg": message[:500]},
            args.thread.name,
            args.thread.ident or _thread.get_ident(),
        )
    (_previous_excepthook or threading.__excepthook__)(args)


def _join(self: threading.Thread, timeout: float | None = None) -> None:
    rec = _recorder.current
    if rec is None or not _waits_for(self):
        return _original_join(self, timeout)
    site = _site.caller_site()
    with rec.blocking(
        schema.THREAD_JOIN_BEGIN, self.name, site, {"timeout": _recorder.seconds(timeout)}
    ) as call:
        try:
            _original_join(self, timeout)
        finally:
            call.result = not self.is_alive()


def _waits_for(thread: threading.Thread) -> bool:
    """Would joining ``thread`` wait?  Not if it has ended, or join() will refuse."""
    try:
        return thread.is_alive() and thread is not threading.current_thread()
    except Exception:  # Thread.__init__ never ran: let join() say so
        return False


def install() -> None:
    global _previous_excepthook
    threading.Thread.start = _start  # type: ignore[method-assign]
    threading.Thread._bootstrap_inner = _bootstrap_inner  # type: ignore[attr-defined]
    threading.Thread.join = _join  # type: ignore[method-assign]
    if threading.excepthook is not _excepthook:
        _previous_excepthook = threading.excepthook
        threading.excepthook = _excepthook


def uninstall() -> None:
    threading.Thread.start = _original_start  # type: ignore[method-assign]
    threading.Thread._bootstrap_inner = _original_bootstrap_inner  # type: ignore[attr-defined]
    threading.Thread.join = _original_join  # type: ignore[method-assign]
    if threading.excepthook is _excepthook:
        threading.excepthook = _previous_excepthook or threading.__excepthook__


_site.internal(__file__)
