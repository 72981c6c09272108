"""The program's own log records, written into the trace as ``log`` lines.

While a recording runs, every record a ``logging`` logger handles and every
structlog call that gets through its processor chain is also captured
through the recording's sink, like any other event: with the calling
thread, ``seq`` and the trace's clock, so a person reads what the program
said beside what its threads did.  The program's handlers, formatters and
processors see exactly what they saw before; no handler is added.

Where we hook, and why there:

* ``logging.Logger.callHandlers``: ``Logger.handle`` calls it once per
  record, after the logger's level and filters have let the record through
  and before the handlers run, for any logger (``propagate=False`` ones
  too).  A handler would have to be added to every logger, and the program
  would see it in ``logging.root.handlers``.
* structlog's ``BoundLoggerBase._process_event`` and ``_proxy_to_logger``,
  the two methods its documentation hands to custom wrapper classes.  Every
  bound logger calls them, whatever the configuration: cached loggers
  (``cache_logger_on_first_use``), loggers built with ``wrap_logger`` and
  their own chain, and chains configured while the recording runs, which a
  processor inserted into the configured chain would all miss.  The
  key-value pairs are the program's (bound context and call keywords), taken
  before the chain adds its own or renders them; a call the chain drops
  (``DropEvent``) is not written.  A call routed into ``logging`` is written
  once, when its stdlib logger handles the record (so a stdlib level that
  drops it drops it here too), with structlog's pairs and call site.

The tracer itself renders ``trace.start``/``trace.end`` with structlog's
renderer alone, never through a bound logger, and records logged from
synctrace's own files are skipped.  Nothing raised in here reaches the
program: a record we cannot take is simply not written.

Invariants:
* At most one set of hooks is live: each ``start`` makes new wrappers that
  capture only while their generation is the current one, so a wrapper the
  program wrapped in turn (and ``stop`` therefore left in place) only
  passes calls through.
* ``_local.busy`` is set while this thread captures: a ``__repr__`` that
  logs cannot recurse into the capture.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import threading
from collections.abc import Callable
from typing import Any, Final

import structlog
from structlog._base import BoundLoggerBase

from synctrace import schema
from tracer.recording import site as _site
from tracer.recording.site import RawSite

#: The sink's ``emit`` of the running recording, or None.
_emit: Callable[..., int] | None = None
#: Which hooks capture: those made by the latest ``start``.
_generation = 0
#: (owner, attribute, original, wrapper) of every hook in place.
_installed: list[tuple[type, str, Any, Any]] = []
_local = threading.local()

_LIMIT: Final = schema.LOG_MESSAGE_LIMIT
#: Levels are written as the five of the format: a custom level counts as
#: the standard one at or below it (NOTICE at 25 is "info").
_LEVELS: Final = (
    (logging.CRITICAL, "critical"),
    (logging.ERROR, "error"),
    (logging.WARNING, "warning"),
    (logging.INFO, "info"),
)
#: structlog's method names (stdlib, native, twisted wrappers) -> level.
_METHOD_LEVELS: Final = {
    "debug": "debug",
    "info": "info",
    "msg": "info",
    "warning": "warning",
    "warn": "warning",
    "error": "error",
    "err": "error",
    "exception": "error",
    "critical": "critical",
    "fatal": "critical",
}
#: Nested values deeper than this, or containers longer, are written as repr().
_MAX_DEPTH: Final = 4
_MAX_ITEMS: Final = 50

#: synctrace's own files (``tracer`` and ``synctrace``): their records are never the program's.
_OURS: Final = (
    os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), ""),
    os.path.join(os.path.dirname(os.path.abspath(schema.__file__)), ""),
)
_STRUCTLOG: Final = os.path.join(os.path.dirname(os.path.abspath(structlog.__file__)), "")


def start(emit: Callable[..., int]) -> None:
    """Capture log records into ``emit`` (the recording sink's) until ``stop()``."""
    global _emit, _generation
    stop()  # a recording that never stopped (its process forked) leaves no hooks behind
    _generation += 1
    generation = _generation
    _install(logging.Logger, "callHandlers", lambda f: _hook_call_handlers(f, generation))
    _install(BoundLoggerBase, "_process_event", lambda f: _hook_process_event(f, generation))
    _install(BoundLoggerBase, "_proxy_to_logger", lambda f: _hook_proxy(f, generation))
    _emit = emit


def stop() -> None:
    """Stop capturing and put back what ``start()`` replaced.

    A hook the program has since wrapped in its own function stays where it
    is, so its wrapper keeps working; it no longer captures anything.
    """
    global _emit
    _emit = None
    while _installed:
        owner, name, original, wrapper = _installed.pop()
        if owner.__dict__.get(name) is wrapper:
            setattr(owner, name, original)


def _install(owner: type, name: str, hook: Callable[[Any], Any]) -> None:
    original = owner.__dict__.get(name)
    if original is None:  # a version without this method: its records are not captured
        return
    wrapper = hook(original)
    wrapper.__wrapped__ = original
    setattr(owner, name, wrapper)
    _installed.append((owner, name, original, wrapper))


def _live(generation: int) -> bool:
    return _emit is not None and generation == _generation and not getattr(_local, "busy", False)


# --- logging ------------------------------------------------------------------


def _hook_call_handlers(original: Any, generation: int) -> Callable[..., Any]:
    def callHandlers(self: logging.Logger, record: logging.LogRecord) -> Any:
        if _live(generation):
            _capture_record(record)
        return original(self, record)

    return callHandlers


def _capture_record(record: logging.LogRecord) -> None:
    _local.busy = True
    try:
        if getattr(_local, "depth", 0):
            # The record of a structlog call: written once, with its pairs,
            # now that a stdlib logger has let it through.
            pending, _local.pending = getattr(_local, "pending", None), None
            if pending is not None:
                _write(*pending)
            return
        path = record.pathname
        if path.startswith(_OURS):
            return
        site = None if path.startswith("(") else (path, record.lineno)
        _write(level_of(record.levelno), record.name, _message_of(record), None, site)
    except Exception:  # the program's logging must never fail for us
        pass
    finally:
        _local.busy = False


def level_of(levelno: int) -> str:
    """The trace's level for a ``logging`` level number."""
    for floor, name in _LEVELS:
        if levelno >= floor:
            return name
    return "debug"


def _message_of(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:  # bad %-arguments: logging reports it to stderr itself
        return str(record.msg)


# --- structlog ----------------------------------------------------------------


def _hook_proxy(original: Any, generation: int) -> Callable[..., Any]:
    def _proxy_to_logger(self: Any, *args: Any, **kwargs: Any) -> Any:
        if not _live(generation):
            return original(self, *args, **kwargs)
        # Marks the thread as inside a structlog call until the wrapped
        # logger has written it: a stdlib record made meanwhile is this call.
        depth = getattr(_local, "depth", 0)
        saved = getattr(_local, "pending", None)
        _local.depth, _local.pending = depth + 1, None
        try:
            return original(self, *args, **kwargs)
        finally:
            _local.depth, _local.pending = depth, saved

    return _proxy_to_logger


def _hook_process_event(original: Any, generation: int) -> Callable[..., Any]:
    def _process_event(self: Any, method_name: str, event: Any, event_kw: Any) -> Any:
        if not _live(generation):
            return original(self, method_name, event, event_kw)
        pairs = _pairs_of(self, event_kw)
        # Raises DropEvent when the chain drops the call: nothing is written.
        result = original(self, method_name, event, event_kw)
        if pairs is not None and _live(generation):
            _capture_structlog(self, method_name, event, pairs)
        return result

    return _process_event


def _pairs_of(bound: Any, event_kw: Any) -> dict[str, Any] | None:
    """The program's pairs: its bound context and the call's keywords."""
    try:
        pairs = dict(bound._context)
        pairs.update(event_kw)
        return pairs
    except Exception:
        return None


def _capture_structlog(bound: Any, method_name: str, event: Any, pairs: dict[str, Any]) -> None:
    _local.busy = True
    try:
        site = _structlog_site()
        if site is not None and site[0].startswith(_OURS):
            return
        if event is None:
            event = pairs.pop("event", "")
        wrapped = bound._logger
        name = pairs.get("logger")
        if not isinstance(name, str):
            name = getattr(wrapped, "name", None)
        if not isinstance(name, str):
            name = "structlog"
        message = _structlog_message(event, pairs.pop("positional_args", None))
        fields = {str(key): jsonable(value) for key, value in pairs.items()}
        line = (_METHOD_LEVELS.get(method_name, "info"), name, message, fields or None, site)
        if getattr(_local, "depth", 0) and isinstance(wrapped, logging.Logger):
            _local.pending = line  # written by the stdlib logger's callHandlers, if it handles it
        else:
            _write(*line)
    except Exception:  # the program's logging must never fail for us
        pass
    finally:
        _local.busy = False


def _structlog_message(event: Any, args: Any) -> str:
    """The event as text, %-formatted with the stdlib BoundLogger's positional arguments."""
    text = event if isinstance(event, str) else str(event)
    if args:
        try:
            return text % tuple(args)
        except Exception:  # the program's own mistake: keep the event as given
            return text
    return text


def _structlog_site() -> RawSite | None:
    """The first frame outside structlog and synctrace: where the program logged."""
    frame = sys._getframe(2)
    internal = _site._internal
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_STRUCTLOG) and filename not in internal:
            return (filename, frame.f_lineno)
        frame = frame.f_back  # type: ignore[assignment]
    return None


# --- the line -----------------------------------------------------------------


def _write(
    level: str, logger: str, message: str, fields: dict[str, Any] | None, site: RawSite | None
) -> None:
    emit = _emit
    if emit is None:  # the recording stopped meanwhile
        return
    line: dict[str, Any] = {"level": level, "logger": logger, "message": cut(message)}
    if fields:
        line["fields"] = fields
    emit(schema.LOG, None, site, line)


def cut(text: str) -> str:
    """``text`` cut to LOG_MESSAGE_LIMIT characters, ending in "..." when cut."""
    return text if len(text) <= _LIMIT else text[: _LIMIT - 3] + "..."


def jsonable(value: Any, depth: int = 0) -> Any:
    """``value`` as JSON the same on both sinks: JSON's own types as they are
    (lists and tuples as lists, dicts with str keys as objects), anything else
    as its ``repr()``, cut short.  Never raises."""
    if value is None or value is True or value is False:
        return value
    if isinstance(value, str):
        return cut(str.__str__(value))
    if isinstance(value, int):
        number = int(value)
        return number if -(1 << 63) <= number < (1 << 63) else cut(repr(number))
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else repr(float(value))
    if depth < _MAX_DEPTH:
        if isinstance(value, list | tuple) and len(value) <= _MAX_ITEMS:
            return [jsonable(v, depth + 1) for v in value]
        if (
            isinstance(value, dict)
            and len(value) <= _MAX_ITEMS
            and all(isinstance(k, str) for k in value)
        ):
            return {str.__str__(k): jsonable(v, depth + 1) for k, v in value.items()}
    try:
        return cut(repr(value))
    except Exception:
        return f"<{type(value).__name__} with a failing repr>"


_site.internal(__file__)
