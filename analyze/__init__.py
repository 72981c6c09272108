"""analyze: read synctrace traces and report what went wrong between threads.

Layers, each using only those above it:

* ``reading`` reads trace files into one lazy polars frame (``Trace``) and turns
  unusable input into ``TraceError`` with a one-line message;
* ``findings`` (one module per kind), ``containers`` and ``threads`` are pure
  functions from that frame to lazy frames, and never collect;
* ``report`` composes them and collects everything once into a ``Report``;
* ``render`` turns a Report into text, Markdown or JSON;
* ``cli`` is a thin Click layer over the above.

Only the names re-exported here are public.  They are imported on first
use (PEP 562), so that ``analyze --help`` does not wait for polars.

``load(paths)`` (from ``notebook``) is the report in one call, which a
notebook displays as the report itself.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from analyze.errors import TraceError
    from analyze.notebook import load
    from analyze.reading import Trace, load_traces
    from analyze.render import render, render_json, render_markdown, render_text
    from analyze.report import Report, TraceInfo, build_report

_HOMES = {
    "Report": "analyze.report",
    "Trace": "analyze.reading",
    "TraceError": "analyze.errors",
    "TraceInfo": "analyze.report",
    "build_report": "analyze.report",
    "load": "analyze.notebook",
    "load_traces": "analyze.reading",
    "render": "analyze.render",
    "render_json": "analyze.render",
    "render_markdown": "analyze.render",
    "render_text": "analyze.render",
}


def __getattr__(name: str) -> Any:
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
