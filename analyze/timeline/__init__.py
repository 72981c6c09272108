"""Pictures of a run: its threads side by side over time.

``model`` turns a run into lanes, spans and marks (polars only); ``dense``
thins them to what a picture of a given width can show; ``figure`` draws
them with matplotlib, which only it imports, and only when called.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from analyze.timeline.model import RunView

#: Picture formats the timeline writes, chosen by the output's suffix.
FORMATS = (".png", ".svg", ".pdf")


class EmptyWindow(ValueError):
    """The window asked for holds no time of the run; the message names the file and the fix."""


def view_of(
    paths: Iterable[str | os.PathLike[str]],
    run: int = 0,
    *,
    stage: Callable[[str], None] | None = None,
) -> RunView:
    """Load trace files, build their report and return run ``run`` (0 is the first) to draw.

    ``stage``, when given, is told what is being done once the files are
    open (a progress line's text).  Raises TraceError for unusable input and
    IndexError for a run the files do not have.
    """
    from analyze.reading import load_traces
    from analyze.report import build_report
    from analyze.timeline.model import run_view

    trace = load_traces(paths)
    runs = len(trace.files)
    if not 0 <= run < runs:
        files = sorted({f.path for f in trace.files})
        where = files[0] if len(files) == 1 else f"the {len(files)} files"
        held = "1 run" if runs == 1 else f"{runs} runs"
        raise IndexError(
            f"there is no run {run + 1}: {where} {'holds' if len(files) == 1 else 'hold'} {held};"
            f" give --run {'1' if runs == 1 else f'1 to {runs}'}"
        )
    if stage is not None:
        noun = "trace" if len(trace.files) == 1 else "traces"
        stage(f"reading and analyzing {len(trace.files)} {noun}")
    return run_view(trace, build_report(trace), run)


def draw(
    view: RunView,
    *,
    window: tuple[float | None, float | None] = (None, None),
    width_px: int | None = None,
) -> Figure:
    """The timeline figure of ``view``; a bound left None takes the default window's.

    Raises EmptyWindow, naming the file, when the window holds no time (a
    start past the run's end, an end before its start).
    """
    from analyze.timeline.figure import WIDTH, timeline_figure
    from analyze.timeline.model import default_window

    auto = default_window(view)
    start = auto[0] if window[0] is None else window[0]
    end = auto[1] if window[1] is None else window[1]
    if end <= start:
        raise EmptyWindow(
            f"{view.file}: nothing to draw from {start:.4g} s to {end:.4g} s (run {view.run + 1}"
            f" lasts {view.duration_s:.4g} s); give --start and --end within it"
        )
    return timeline_figure(view, window=(start, end), width_px=width_px or WIDTH)


def write_timeline(
    paths: Iterable[str | os.PathLike[str]],
    output: str | os.PathLike[str],
    *,
    run: int = 0,
    window: tuple[float | None, float | None] = (None, None),
    width_px: int | None = None,
    stage: Callable[[str], None] | None = None,
) -> RunView:
    """Draw run ``run`` of the trace files into ``output`` (.png, .svg or .pdf).

    Returns the view drawn.  matplotlib is imported here, with its Agg
    backend, so that no display is ever needed.  Raises ValueError for an
    output it cannot write, EmptyWindow for a window with no time in it.
    ``stage`` is told each step as it begins, for a progress line.
    """
    suffix = Path(output).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(
            f"cannot write {suffix or 'a file without a suffix'}; name it .png, .svg or .pdf"
        )
    import matplotlib

    matplotlib.use("Agg")
    from analyze.timeline.figure import write_figure

    view = view_of(paths, run, stage=stage)
    if stage is not None:
        stage(f"drawing run {view.run + 1} into {Path(output).name}")
    write_figure(draw(view, window=window, width_px=width_px), output)
    return view
