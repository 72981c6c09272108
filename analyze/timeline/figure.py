"""Drawing a RunView with matplotlib: a lane per thread and per signalled object, depths below.

matplotlib is imported by this module only, and this module only by the
``timeline`` command (or a caller who wants a picture): ``analyze report``
never pays for it.  The figure is built on ``matplotlib.figure.Figure``
directly, never through pyplot, so no display, backend state or global
figure list is involved.  Artist groups carry a ``gid`` (``lanes``,
``hang``, ``lost-signal``, ``wake``...) so that tests, and SVG readers, can
find them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import polars as pl
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from analyze.timeline.dense import bin_marks, depth_columns, merge_spans
from analyze.timeline.model import BLOCKED, HOLDING, SLEEPING, THREAD_KEY, RunView

#: Pixels per inch of the figure: sizes are given in pixels.
DPI: Final = 100
#: The default width; the height follows from the number of lanes (at least MIN_HEIGHT).
WIDTH: Final = 1600
MIN_HEIGHT: Final = 600

# Calm colours for what threads normally do; red only for what went wrong,
# so that a glance finds the findings.
RUNNING: Final = "#d9d9d9"
SLEEP_COLOUR: Final = "#9ecae1"
BLOCKED_COLOUR: Final = "#fdd49e"
HOLD_COLOUR: Final = "#41ab5d"
FLAG_COLOUR: Final = "#c7e9c0"
SET_COLOUR: Final = "#08519c"
CLEAR_COLOUR: Final = "#737373"
NOTIFY_COLOUR: Final = "#6a51a3"
WAKE_COLOUR: Final = "#2171b5"
ERROR: Final = "#d62728"
WARNING: Final = "#e6550d"
LOG_COLOURS: Final = {
    "debug": "#969696",
    "info": "#525252",
    "warning": WARNING,
    "error": ERROR,
    "critical": ERROR,
}
#: Findings drawn on their own terms: the others are marks on their thread's lane.
_DRAWN_APART: Final = ("hang", "lost-signal", "stranded-item")
#: Arrows cost a patch each: past this many, wake-ups are drawn as plain lines.
MAX_ARROWS: Final = 300
#: Blocked spans at least this wide (in pixels) say what they wait for.
_LABEL_PX: Final = 70
#: Share of the width the lanes take; the rest is lane names and the legend.
_PLOT_SHARE: Final = 0.72
#: Where the lanes end (as a share of the width): the legend has the rest.
_PLOT_RIGHT: Final = 0.09 + _PLOT_SHARE
#: The lane names' margin, at least and at most (shares of the width).
_MIN_LEFT: Final = 0.09
_MAX_LEFT: Final = 0.35
#: A lane name longer than this is cut with an ellipsis rather than eat the lanes.
_LABEL_CHARS: Final = 32
#: Points of the lane names (matplotlib's "medium" tick labels).
_LABEL_PT: Final = 10.0
#: Points of the legend's words, and the pixels of its handles, gaps and the air after it.
_LEGEND_PT: Final = 9.0
_LEGEND_HANDLE_PX: Final = 70


@dataclass(frozen=True)
class Lane:
    """One row of the picture: a thread (``thread_id`` set) or a signalled object."""

    label: str
    y: int
    thread: str | None = None
    thread_id: int | None = None
    obj: str | None = None


def lanes_of(view: RunView) -> list[Lane]:
    """Threads in order of appearance, then the Events and Conditions they signal."""
    lanes: list[Lane] = []
    names = view.threads["thread"].to_list()
    for thread, ident in view.threads.select(THREAD_KEY).iter_rows():
        label = thread if names.count(thread) == 1 else f"{thread} ({ident})"
        lanes.append(Lane(label, len(lanes), thread=thread, thread_id=ident))
    for obj, kind in view.objects.iter_rows():
        lanes.append(Lane(f"{obj} ({kind})", len(lanes), obj=obj))
    return lanes


def timeline_figure(
    view: RunView,
    *,
    window: tuple[float, float],
    width_px: int = WIDTH,
) -> Figure:
    """The picture of one run between ``window`` (seconds since trace.start).

    One lane per thread (running, sleeping, blocked and on what, locks held,
    log records), one per Event or Condition (flag up, set, clear, notify,
    the lost signals circled in red), an arrow from each set or notify to
    the wait it woke, the hung waits in red, and under them each
    container's depth with its stranded items in red.
    """
    lanes = lanes_of(view)
    boxes = view.depths["obj"].unique(maintain_order=True).to_list()
    height_px = max(MIN_HEIGHT, 150 + 38 * len(lanes) + (200 if boxes else 0))
    fig = Figure(figsize=(width_px / DPI, height_px / DPI), dpi=DPI)
    labels = [_short(lane.label) for lane in lanes]
    left = _left_margin(labels, width_px)
    start, end = window
    pixel_s = (end - start) / (width_px * (_PLOT_RIGHT - left))
    if boxes:
        lane_px = height_px - 150 - 200
        grid = fig.add_gridspec(2, 1, height_ratios=[max(lane_px, 200), 150], hspace=0.08)
        ax = fig.add_subplot(grid[0])
        box_ax: Axes | None = fig.add_subplot(grid[1], sharex=ax)
    else:
        ax = fig.add_subplot()
        box_ax = None
    fig.subplots_adjust(left=left, right=_PLOT_RIGHT, top=1 - 70 / height_px, bottom=0.07)
    ax.set_gid("lanes")

    legend = _Legend()
    _draw_threads(ax, view, lanes, window, pixel_s, legend)
    _draw_objects(ax, view, lanes, window, pixel_s, legend)
    _draw_wakes(ax, view, lanes, window, pixel_s, legend)
    _draw_findings(ax, view, lanes, window, pixel_s, legend)

    ax.set_yticks([lane.y for lane in lanes], labels, fontsize=_LABEL_PT)
    ax.set_ylim(len(lanes) - 0.4, -0.6)
    ax.set_xlim(start, end)
    ax.grid(axis="x", color="#eeeeee", linewidth=0.8)
    ax.set_axisbelow(True)
    ax.tick_params(axis="y", length=0)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if box_ax is not None:
        _draw_containers(box_ax, view, boxes, window, pixel_s, legend)
        ax.tick_params(axis="x", labelbottom=False)
        bottom = box_ax
    else:
        bottom = ax
    scale = "" if view.time_scale == 1.0 else f" (recorded at x{view.time_scale:g} speed)"
    bottom.set_xlabel(f"seconds since the run started, in the program's time{scale}")
    ax.legend(
        handles=legend.handles,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        frameon=False,
        fontsize=_LEGEND_PT,
    )
    # The legend's entries are known only now; at a narrow width they need
    # more than the share left of the lanes, and the lanes give it up.
    entries = [h.get_label() for h in legend.handles]
    if box_ax is not None:
        entries += box_ax.get_legend_handles_labels()[1]
    legend_px = _text_width_px(entries, _LEGEND_PT) + _LEGEND_HANDLE_PX
    fig.subplots_adjust(right=max(min(_PLOT_RIGHT, 1 - legend_px / width_px), left + 0.3))
    fig.suptitle(_title(view), x=0.09, y=1 - 12 / height_px, ha="left", va="top", fontsize=13)
    subtitle = fig.text(
        0.09, 1 - 40 / height_px, _subtitle(view, window), ha="left", va="top", fontsize=9.5,
        color="#525252",
    )  # fmt: skip
    _shrink_to_fit(fig, subtitle, width_px - 8)
    return fig


def _shrink_to_fit(fig: Figure, text: Any, right_px: float) -> None:
    """Make ``text`` smaller until it ends before ``right_px``: a narrow picture's subtitle
    is smaller rather than cut at the edge.  Measured as drawn (glyph widths do not scale
    exactly with the size), so it takes a few tries."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    renderer = FigureCanvasAgg(fig).get_renderer()  # type: ignore[no-untyped-call]
    for _ in range(4):
        box = text.get_window_extent(renderer)
        if box.x1 <= right_px:
            return
        room = right_px - box.x0
        text.set_fontsize(text.get_fontsize() * room / box.width * 0.98)


def _short(label: str) -> str:
    return label if len(label) <= _LABEL_CHARS else label[: _LABEL_CHARS - 1] + "…"


def _left_margin(labels: list[str], width_px: int) -> float:
    """The share of the width the lane names need, so that none is cut at the picture's edge.

    Python names threads after their target (``Thread-1 (consumer)``), often
    wider than a fixed margin; the names are measured in the font they are
    drawn in, and the lanes give up what the names take.
    """
    needed = (_text_width_px(labels, _LABEL_PT) + 16) / width_px  # and a little air
    return min(max(needed, _MIN_LEFT), _MAX_LEFT)


def _text_width_px(texts: list[str], points: float) -> float:
    """The width in pixels of the widest of ``texts`` in matplotlib's font at ``points``."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    font = FontProperties(size=points)
    measure = TextToPath()
    widest_pt = max(
        (measure.get_text_width_height_descent(t, font, ismath=False)[0] for t in texts),
        default=0.0,
    )
    return float(widest_pt) * DPI / 72


def write_figure(fig: Figure, output: str | os.PathLike[str]) -> None:
    """Write the figure; its format follows ``output``'s suffix (.png, .svg, .pdf)."""
    fig.savefig(output, dpi=DPI)


# --- the parts --------------------------------------------------------------------


class _Legend:
    """Legend entries in the order they were first drawn, each once."""

    def __init__(self) -> None:
        self.handles: list[Any] = []
        self._seen: set[str] = set()

    def add(self, label: str, handle: Any) -> None:
        if label not in self._seen:
            self._seen.add(label)
            handle.set_label(label)
            self.handles.append(handle)


def _visible(frame: pl.DataFrame, window: tuple[float, float]) -> pl.DataFrame:
    """Spans that reach into the window, clipped to it."""
    start, end = window
    return frame.filter((pl.col("end_s") >= start) & (pl.col("begin_s") <= end)).with_columns(
        pl.col("begin_s").clip(lower_bound=start), pl.col("end_s").clip(upper_bound=end)
    )


def _in_window(
    frame: pl.DataFrame, window: tuple[float, float], column: str = "t_s"
) -> pl.DataFrame:
    return frame.filter(pl.col(column).is_between(*window))


def _thread_lane(lanes: list[Lane]) -> dict[tuple[str, int], int]:
    return {
        (ln.thread, ln.thread_id): ln.y
        for ln in lanes
        if ln.thread is not None and ln.thread_id is not None
    }


def _object_lane(lanes: list[Lane]) -> dict[str, int]:
    return {ln.obj: ln.y for ln in lanes if ln.obj is not None}


def _bars(
    ax: Axes,
    frame: pl.DataFrame,
    lane_of: dict[tuple[str, int], int],
    offset: float,
    height: float,
    gid: str,
    **style: Any,
) -> Any:
    """One broken_barh per lane of ``frame``'s spans; returns the last artist (for the legend)."""
    artist = None
    for (thread, ident), rows in frame.group_by(THREAD_KEY, maintain_order=True):
        y = lane_of.get((str(thread), int(str(ident))))
        if y is None:
            continue
        ranges = [(b, e - b) for b, e in rows.select("begin_s", "end_s").iter_rows()]
        artist = ax.broken_barh(ranges, (y + offset - height / 2, height), **style)
        artist.set_gid(gid)
    return artist


def _draw_threads(
    ax: Axes,
    view: RunView,
    lanes: list[Lane],
    window: tuple[float, float],
    pixel_s: float,
    legend: _Legend,
) -> None:
    lane_of = _thread_lane(lanes)
    alive = _visible(view.threads.rename({"first_s": "begin_s", "last_s": "end_s"}), window)
    if _bars(ax, alive, lane_of, 0, 0.14, "running", color=RUNNING):
        legend.add("running", Patch(color=RUNNING))
    spans = _visible(view.spans, window)
    for state, colour, offset, height, label in (
        (SLEEPING, SLEEP_COLOUR, 0, 0.34, "sleeping"),
        (BLOCKED, BLOCKED_COLOUR, 0, 0.52, "blocked (wait, get, acquire, join)"),
        (HOLDING, HOLD_COLOUR, 0.33, 0.08, "holding a lock"),
    ):
        merged = merge_spans(spans.filter(pl.col("state") == state), THREAD_KEY, pixel_s)
        if _bars(ax, merged, lane_of, offset, height, state, color=colour):
            legend.add(label, Patch(color=colour))
    # What each wide wait waits for, in words.
    hung = view.findings.filter(pl.col("kind") == "hang").select("seq")
    wide = spans.join(hung, on="seq", how="anti").filter(
        (pl.col("state") == BLOCKED) & ((pl.col("end_s") - pl.col("begin_s")) > _LABEL_PX * pixel_s)
    )
    for row in wide.head(80).iter_rows(named=True):
        y = lane_of.get((row["thread"], row["thread_id"]))
        if y is None:
            continue
        call = row["call"].split(".")[-1]
        ax.text(
            row["begin_s"] + 2 * pixel_s, y, f"{call} {row['obj']}", va="center", ha="left",
            fontsize=8, color="#7f2704", clip_on=True,
        )  # fmt: skip
    logs = _in_window(view.logs, window)
    for level, rows in bin_marks(logs, [*THREAD_KEY, "level"], pixel_s).group_by(
        "level", maintain_order=True
    ):
        colour = LOG_COLOURS.get(str(level[0]), LOG_COLOURS["info"])
        xs, ys = [], []
        for thread, ident, _, t, _ in rows.iter_rows():
            if (thread, ident) in lane_of:
                xs.append(t)
                ys.append(lane_of[(thread, ident)] - 0.36)
        if xs:
            ax.scatter(xs, ys, marker="v", s=22, color=colour, zorder=4, gid="log")
            legend.add(
                f"log record ({level[0]})",
                Line2D([], [], marker="v", linestyle="", color=colour, markersize=6),
            )


def _flag_up(signals: pl.DataFrame, end_s: float) -> pl.DataFrame:
    """An Event's flag from each set to the clear that lowered it: obj, begin_s, end_s."""
    rows: list[tuple[str, float, float]] = []
    raised: dict[str, float] = {}
    for obj, event, t in signals.select("obj", "event", "t_s").iter_rows():
        if event == "event.set":
            raised.setdefault(obj, t)
        elif event == "event.clear" and obj in raised:
            rows.append((obj, raised.pop(obj), t))
    rows += [(obj, t, end_s) for obj, t in raised.items()]
    # The dtypes are given: a run with no Event has no rows, and null columns cannot be clipped.
    schema = {"obj": pl.String, "begin_s": pl.Float64, "end_s": pl.Float64}
    return pl.DataFrame(rows, schema=schema, orient="row")


def _draw_objects(
    ax: Axes,
    view: RunView,
    lanes: list[Lane],
    window: tuple[float, float],
    pixel_s: float,
    legend: _Legend,
) -> None:
    lane_of = _object_lane(lanes)
    flags = _visible(_flag_up(view.signals, view.duration_s), window)
    for (obj,), rows in merge_spans(flags, ["obj"], pixel_s).group_by("obj", maintain_order=True):
        y = lane_of[str(obj)]
        ranges = [(b, e - b) for b, e in rows.select("begin_s", "end_s").iter_rows()]
        ax.broken_barh(ranges, (y - 0.2, 0.4), color=FLAG_COLOUR, gid="flag")
        legend.add("Event flag up", Patch(color=FLAG_COLOUR))
    marks = bin_marks(_in_window(view.signals, window), ["obj", "event"], pixel_s)
    for event, marker, colour, label in (
        ("event.set", "^", SET_COLOUR, "set()"),
        ("event.clear", "v", CLEAR_COLOUR, "clear()"),
        ("cond.notify", "D", NOTIFY_COLOUR, "notify()"),
    ):
        rows = marks.filter(pl.col("event") == event)
        if rows.height:
            ys = [lane_of[o] for o in rows["obj"]]
            ax.scatter(rows["t_s"], ys, marker=marker, s=40, color=colour, zorder=5, gid=event)
            legend.add(label, Line2D([], [], marker=marker, linestyle="", color=colour))
    lost = view.findings.filter(pl.col("kind") == "lost-signal")
    lost_marks = bin_marks(_in_window(lost, window), ["obj"], pixel_s)
    if lost_marks.height:
        ys = [lane_of.get(o, 0) for o in lost_marks["obj"]]
        ax.scatter(
            lost_marks["t_s"], ys, marker="o", s=260, facecolors="none", edgecolors=ERROR,
            linewidths=2.5, zorder=6, gid="lost-signal",
        )  # fmt: skip
        for t, y in zip(lost_marks["t_s"], ys, strict=True):
            ax.text(t, y - 0.3, "lost", color=ERROR, fontsize=8, ha="center", fontweight="bold")
        legend.add(
            f"lost signal ({lost.height})",
            Line2D([], [], marker="o", linestyle="", markerfacecolor="none",
                   markeredgecolor=ERROR, markeredgewidth=2.5, markersize=11),
        )  # fmt: skip


def _draw_wakes(
    ax: Axes,
    view: RunView,
    lanes: list[Lane],
    window: tuple[float, float],
    pixel_s: float,
    legend: _Legend,
) -> None:
    objects, threads = _object_lane(lanes), _thread_lane(lanes)
    wakes = _in_window(view.wakes, window, "to_s")
    if not wakes.height:
        return
    # One arrow per waker object, woken thread and pixel column.
    binned = (
        wakes.with_columns(column=(pl.col("to_s") / pixel_s).floor())
        .group_by("obj", *THREAD_KEY, "column", maintain_order=True)
        .agg(pl.col("from_s").first(), pl.col("to_s").first())
    )
    segments = [
        (
            (row["from_s"], objects[row["obj"]]),
            (row["to_s"], threads[(row["thread"], row["thread_id"])]),
        )
        for row in binned.iter_rows(named=True)
        if row["obj"] in objects and (row["thread"], row["thread_id"]) in threads
    ]
    if len(segments) <= MAX_ARROWS:
        for (x0, y0), (x1, y1) in segments:
            arrow = ax.annotate(
                "", xy=(x1, y1), xytext=(x0, y0),
                arrowprops={"arrowstyle": "-|>", "color": WAKE_COLOUR, "lw": 1.2,
                            "shrinkA": 4, "shrinkB": 4},
                zorder=3,
            )  # fmt: skip
            arrow.set_gid("wake")
    else:
        # Too many to tell apart: each woken wait's end becomes a tick on
        # its thread's lane, one per pixel column, instead of a line that
        # would cover every lane in between.
        ends = LineCollection(
            [((x1, y1 - 0.3), (x1, y1 - 0.12)) for _, (x1, y1) in segments],
            colors=WAKE_COLOUR, linewidths=0.6, alpha=0.5, zorder=3,
        )  # fmt: skip
        ends.set_gid("wake")
        ax.add_collection(ends)
        legend.add(
            f"woken ({view.wakes.height}, as ticks)",
            Line2D([], [], color=WAKE_COLOUR, lw=1.2),
        )
        return
    legend.add(
        f"woke a wait ({view.wakes.height})",
        Line2D([], [], color=WAKE_COLOUR, marker=">", markersize=5, lw=1.2),
    )


def _draw_findings(
    ax: Axes,
    view: RunView,
    lanes: list[Lane],
    window: tuple[float, float],
    pixel_s: float,
    legend: _Legend,
) -> None:
    threads = _thread_lane(lanes)
    hangs = view.findings.filter(pl.col("kind") == "hang")
    hung = _visible(view.spans.join(hangs.select("seq"), on="seq", how="semi"), window)
    end = window[1]
    if hung.height:
        _bars(ax, hung, threads, 0, 0.6, "hang", color=ERROR, hatch="//", edgecolor="white")
        for row in hung.iter_rows(named=True):
            y = threads.get((row["thread"], row["thread_id"]))
            if y is None:
                continue
            call = row["call"].split(".")[-1]
            words = f"HUNG: {call} {row['obj']} never returned"
            # Inside the bar when it fits (about 8 px a bold character), else above
            # it, ending at the window's edge where the bar does.
            fits = (row["end_s"] - row["begin_s"]) / pixel_s > 8 * len(words) + 10
            ax.text(
                row["begin_s"] + 2 * pixel_s if fits else end - 2 * pixel_s,
                y if fits else y - 0.34,
                words, va="center" if fits else "bottom", ha="left" if fits else "right",
                fontsize=9, color="white", fontweight="bold", clip_on=True,
                bbox={"facecolor": ERROR, "edgecolor": "none", "pad": 1.5}, gid="hang-label",
            )  # fmt: skip
        legend.add(f"hung wait ({hangs.height})", Patch(color=ERROR, hatch="//"))
    # Spans that go on past the window's right edge say until when.
    beyond = view.spans.filter((pl.col("end_s") > end) & (pl.col("begin_s") <= end))
    for thread, ident in beyond.select(THREAD_KEY).unique(maintain_order=True).iter_rows():
        y = threads.get((thread, ident))
        if y is not None:
            ax.text(
                end, y + 0.42, f"…until the end at {view.duration_s:.4g} s ", ha="right",
                va="bottom", fontsize=7.5, color="#525252",
            )  # fmt: skip
    others = _in_window(
        view.findings.filter(
            ~pl.col("kind").is_in(_DRAWN_APART) & pl.col("severity").is_in(["error", "warning"])
        ),
        window,
    )
    markers = iter(["X", "P", "*", "s", "h", "d", "p", "8"])
    for (kind, severity), rows in others.group_by("kind", "severity", maintain_order=True):
        colour = ERROR if severity == "error" else WARNING
        marker = next(markers, "o")
        placed = [
            (t, threads[(th, ident)] + 0.2)
            for t, th, ident in rows.join(view.threads.select(THREAD_KEY), on="thread", how="left")
            .select("t_s", "thread", "thread_id")
            .iter_rows()
            if (th, ident) in threads
        ]
        if not placed:
            continue
        xs, ys = zip(*placed, strict=True)
        ax.scatter(xs, ys, marker=marker, s=55, color=colour, zorder=6, gid=str(kind),
                   edgecolors="white", linewidths=0.5)  # fmt: skip
        legend.add(
            f"{kind} ({severity}, {rows.height})",
            Line2D([], [], marker=marker, linestyle="", color=colour, markersize=8),
        )


def _draw_containers(
    ax: Axes,
    view: RunView,
    boxes: list[str],
    window: tuple[float, float],
    pixel_s: float,
    legend: _Legend,
) -> None:
    start, end = window
    palette = ["#3182bd", "#756bb1", "#31a354", "#636363", "#8c6d31", "#17becf"]
    columns = depth_columns(view.depths, pixel_s)
    stranded = view.findings.filter(pl.col("kind") == "stranded-item")
    top = 1
    for i, obj in enumerate(boxes):
        rows = columns.filter(pl.col("obj") == obj)
        colour = palette[i % len(palette)]
        xs = [start, *rows["t_s"].to_list(), end]
        ys = [rows["before"][0], *rows["depth"].to_list(), rows["depth"][-1]]
        (line,) = ax.step(xs, ys, where="post", color=colour, lw=1.6, gid=f"depth:{obj}")
        # A column with several lines shows how far the depth moved within it.
        busy = rows.filter(pl.col("low") != pl.col("high"))
        if busy.height:
            ax.vlines(busy["t_s"], busy["low"], busy["high"], color=colour, lw=1, alpha=0.6)
        lost = stranded.filter(pl.col("obj") == obj).sort("t_s")
        label = f"{obj} (items in it)"
        if lost.height:
            # Stranded items never leave, so how many are in the container is
            # how many have been added so far.
            counts = list(range(1, lost.height + 1))
            ax.fill_between(
                [*lost["t_s"].to_list(), end], [*counts, counts[-1]], step="post", color=ERROR,
                alpha=0.35, linewidth=0, gid=f"stranded:{obj}",
            )  # fmt: skip
            ax.text(
                end, counts[-1], f"{obj}: {lost.height} stranded ", color=ERROR, ha="right",
                va="bottom", fontsize=9, fontweight="bold",
            )  # fmt: skip
            legend.add(
                f"stranded items ({lost.height})",
                Patch(color=ERROR, alpha=0.35),
            )
        line.set_label(label)
        top = max(top, rows.select(pl.col("high").max()).item() or 0)
    ax.set_ylim(0, top * 1.25 + 0.5)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # a depth is a count: no 0.5 items
    ax.set_ylabel("items in container")
    ax.grid(axis="x", color="#eeeeee", linewidth=0.8)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=_LEGEND_PT)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_gid("containers")


# --- words ------------------------------------------------------------------------


def _title(view: RunView) -> str:
    """The file and what went wrong in it, errors first: what a glance should take away."""
    serious = view.findings.filter(pl.col("severity").is_in(["error", "warning"]))
    if not serious.height:
        return f"{Path(view.file).name}: no errors or warnings"
    counts = (
        serious.group_by("kind", "severity")
        .len()
        .sort(pl.col("severity") != "error", -pl.col("len").cast(pl.Int64), "kind")
    )
    told = [f"{n} {_plural(kind.replace('-', ' '), n)}" for kind, _, n in counts.iter_rows()]
    return f"{Path(view.file).name}: " + " · ".join(told)


def _subtitle(view: RunView, window: tuple[float, float]) -> str:
    parts = [
        f"run {view.run + 1} of {view.runs}",
        f"{view.threads.height} threads",
        f"{view.duration_s:.4g} s recorded",
        f"ended: {view.end_reason or 'killed (no trace.end)'}",
    ]
    start, end = window
    if (start, end) != (0.0, view.duration_s):
        parts.append(f"showing {start:.4g} to {end:.4g} s")
        if end < view.duration_s and view.last_activity_s <= end:
            parts.append(f"nothing happened after {view.last_activity_s:.4g} s")
    return " · ".join(parts)


def _plural(words: str, n: int) -> str:
    return words if n == 1 else words + "s"
