"""analyze: read synctrace traces and report what went wrong between threads.

Layers, each using only those above it:

* ``load`` reads trace files into one lazy polars frame (``Trace``) and turns
  unusable input into ``TraceError`` with a one-line message;
* ``findings`` (one module per kind), ``containers`` and ``threads`` are pure
  functions from that frame to lazy frames, and never collect;
* ``report`` composes them and collects everything once into a ``Report``;
* ``render`` turns a Report into text, Markdown or JSON;
* ``cli`` is a thin Click layer over the above.

Only the names re-exported here are public.  They are imported on first
use (PEP 562), so that ``analyze --help`` does not wait for polars.

``analyze.load(paths)`` (the report, for a notebook: ``analyze.notebook``)
shares its name with the module ``analyze.load``, which Python binds to this
package's ``load`` attribute whenever it is imported.  So that both hold,
that module is made callable: calling it is calling ``analyze.notebook.load``.
"""

from __future__ import annotations

import importlib
import os
import sys
import types
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from analyze.errors import TraceError
    from analyze.load import Trace, load_traces
    from analyze.render import render, render_json, render_markdown, render_text
    from analyze.report import Report, TraceInfo, build_report

_HOMES = {
    "Report": "analyze.report",
    "Trace": "analyze.load",
    "TraceError": "analyze.errors",
    "TraceInfo": "analyze.report",
    "build_report": "analyze.report",
    "load_traces": "analyze.load",
    "render": "analyze.render",
    "render_json": "analyze.render",
    "render_markdown": "analyze.render",
    "render_text": "analyze.render",
}


class _CallableLoad(types.ModuleType):
    """The module ``analyze.load``, which is also the function ``analyze.load(paths)``."""

    def __call__(
        self,
        paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
        *,
        contention_ms: float | None = None,
    ) -> Report:
        """The report on one trace file or several: see ``analyze.notebook.load``."""
        from analyze.notebook import load

        return load(paths, contention_ms=contention_ms)


class _Package(types.ModuleType):
    def __setattr__(self, name: str, value: Any) -> None:
        # The import system binds each submodule here as it loads it: this is
        # the one moment every route to ``analyze.load`` passes through.
        if name == "load" and type(value) is types.ModuleType:
            value.__class__ = _CallableLoad
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> Any:
    if name == "load":
        return importlib.import_module("analyze.load")
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'analyze' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)


__all__ = [
    "Report",
    "Trace",
    "TraceError",
    "TraceInfo",
    "build_report",
    "load",
    "load_traces",
    "render",
    "render_json",
    "render_markdown",
    "render_text",
]
