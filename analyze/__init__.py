"""analyze: read synctrace traces and report what went wrong between threads.

Layers, each using only those above it:

* ``load`` reads trace files into one lazy polars frame (``Trace``) and turns
  unusable input into ``TraceError`` with a one-line message;
* ``findings`` (one module per kind), ``containers`` and ``threads`` are pure
  functions from that frame to lazy frames, and never collect;
* ``report`` composes them and collects everything once into a ``Report``;
* ``render`` turns a Report into text, Markdown or JSON;
* ``cli`` is a thin Click layer over the above.

Only the names re-exported here are public.
"""

from analyze.load import Trace, TraceError, load_traces
from analyze.render import render, render_json, render_markdown, render_text
from analyze.report import Report, TraceInfo, build_report

__all__ = [
    "Report",
    "Trace",
    "TraceError",
    "TraceInfo",
    "build_report",
    "load_traces",
    "render",
    "render_json",
    "render_markdown",
    "render_text",
]
