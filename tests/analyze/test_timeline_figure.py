"""The timeline picture: its lanes, marks, legend and size, and the PNG and SVG written."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from pictures import story
from tracebuild import Recorder

from analyze.cli import main
from analyze.timeline import draw, view_of, write_timeline
from analyze.timeline.figure import _shrink_to_fit
from synctrace import schema

WriteTrace = Callable[..., Path]
SAMPLE = Path(__file__).parent.parent.parent / "traces" / "cookbook.jsonl"


@pytest.fixture
def figure(write_trace: WriteTrace) -> Figure:
    rec, _ = story()
    return draw(view_of([write_trace(rec)]))


def lanes(fig: Figure) -> Axes:
    return next(ax for ax in fig.axes if ax.get_gid() == "lanes")


def with_gid(ax: Axes, gid: str) -> list[object]:
    return [a for a in ax.get_children() if getattr(a, "get_gid", lambda: None)() == gid]


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_one_lane_per_thread_then_per_signalled_object(figure: Figure) -> None:
    """The lanes are the threads in order of appearance, then the Event they signal."""
    labels = [t.get_text() for t in lanes(figure).get_yticklabels()]
    assert labels == ["MainThread", "Thread-1", "Thread-2", "ready (Event)"]


def test_the_findings_and_the_wake_up_are_drawn(figure: Figure) -> None:
    """The hung wait is a red span with words, the lost set is circled, the woken wait has its
    arrow, the log record is marked, and the stranded item is red under the container's depth."""
    ax = lanes(figure)
    assert len(with_gid(ax, "hang")) == 1
    assert len(with_gid(ax, "lost-signal")) == 1
    assert len(with_gid(ax, "wake")) == 1
    assert len(with_gid(ax, "log")) == 1
    assert "HUNG: wait ready never returned" in [t.get_text() for t in ax.texts]
    boxes = next(a for a in figure.axes if a.get_gid() == "containers")
    assert with_gid(boxes, "stranded:jobs") and with_gid(boxes, "depth:jobs")


def test_the_legend_names_what_is_drawn(figure: Figure) -> None:
    """The legend names each kind of mark once, the findings with their counts."""
    legend = lanes(figure).get_legend()
    assert legend is not None
    texts = [t.get_text() for t in legend.get_texts()]
    for entry in (
        "running",
        "sleeping",
        "blocked (wait, get, acquire, join)",
        "holding a lock",
        "set()",
        "clear()",
        "lost signal (1)",
        "woke a wait (1)",
        "hung wait (1)",
        "stranded items (1)",
        "log record (warning)",
        "cleared-wait (warning, 1)",
    ):
        assert entry in texts


def test_the_title_says_what_went_wrong(figure: Figure) -> None:
    """The title counts the errors and warnings by kind, errors first."""
    assert figure.get_suptitle().endswith(
        "1 hang · 1 lost signal · 1 cleared wait · 1 stranded item"
    )


def test_the_default_size_is_at_least_1200_by_600_and_grows_with_the_lanes(figure: Figure) -> None:
    """The picture is 1600 pixels wide and at least 600 high."""
    width, height = figure.get_size_inches() * figure.dpi
    assert (round(width), round(height)) == (1600, 600)


def test_write_timeline_writes_a_png_of_the_figures_size(
    write_trace: WriteTrace, tmp_path: Path
) -> None:
    """A .png output is a PNG of the figure's pixel size."""
    rec, _ = story()
    out = tmp_path / "t.png"
    write_timeline([write_trace(rec)], out, width_px=1200)
    assert png_size(out) == (1200, 600)


def test_the_cli_draws_the_sample_trace_as_png_and_svg(tmp_path: Path) -> None:
    """`analyze timeline` on traces/cookbook.jsonl writes a PNG and an SVG and says which run."""
    png, svg = tmp_path / "c.png", tmp_path / "c.svg"
    result = CliRunner().invoke(main, ["timeline", str(SAMPLE), "-o", str(png)])
    assert result.exit_code == 0, result.output
    assert "run 1 of 1" in result.stderr
    assert png_size(png)[0] == 1600
    result = CliRunner().invoke(main, ["timeline", str(SAMPLE), "-o", str(svg), "--end", "0.5"])
    assert result.exit_code == 0, result.output
    assert b"<svg" in svg.read_bytes()[:400]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--run", "2"], f"there is no run 2: {SAMPLE} holds 1 run; give --run 1"),
        (["-o", "x.gif"], "x.gif: cannot write this format"),
        (["--start", "2", "--end", "1"], "--end 1 is not after --start 2"),
    ],
)
def test_unusable_requests_are_one_line_and_exit_2(
    tmp_path: Path, args: list[str], message: str
) -> None:
    """A missing run, a format it cannot write or an empty window: one line and exit 2."""
    out = ["-o", str(tmp_path / "t.png")] if "-o" not in args else []
    result = CliRunner().invoke(main, ["timeline", str(SAMPLE), *out, *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_run_with_no_event_is_drawn(write_trace: WriteTrace) -> None:
    """A run that only uses a Queue (no Event, so no flag to draw) still draws its lanes."""
    rec = Recorder()
    rec.line(schema.THREAD_START, thread="Thread-1", parent="MainThread", daemon=False)
    rec.put(1, depth=1, thread="Thread-1")
    rec.get(1, depth=0)
    rec.line(schema.THREAD_END, thread="Thread-1")
    ax = lanes(draw(view_of([write_trace(rec)])))
    assert [t.get_text() for t in ax.get_yticklabels()] == ["MainThread", "Thread-1"]


@pytest.mark.parametrize("window", [["--start", "60"], ["--end", "-1"]])
def test_a_window_outside_the_run_is_one_line_and_exit_2(
    write_trace: WriteTrace, tmp_path: Path, window: list[str]
) -> None:
    """A --start past the run's end, or an --end before its start, is refused (not a blank
    picture with its axis running backwards), naming the file and how long the run lasts."""
    trace = write_trace(story()[0], name="story.jsonl")
    out = tmp_path / "t.png"
    result = CliRunner().invoke(main, ["timeline", str(trace), "-o", str(out), *window])
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: {trace}: nothing to draw from ")
    assert "(run 1 lasts 0.018 s); give --start and --end within it" in result.output
    assert len(result.output.splitlines()) == 1 and not out.exists()


def test_long_thread_names_are_not_cut_at_the_left_edge(write_trace: WriteTrace) -> None:
    """Lane names as Python makes them (``Thread-1 (consume_every_item)``) fit inside the picture,
    and a name past 32 characters is shortened with an ellipsis rather than squeeze the lanes."""
    # No hyphen: the test Recorder reads a thread id out of "Thread-N" names.
    long_name = "Thread 12 (drain_the_queue_of_pending_requests_forever)"
    rec = Recorder()
    for ident, name in enumerate(("Thread 1 (consume_every_item)", long_name), start=201):
        rec.line(
            schema.THREAD_START, thread=name, thread_id=ident, parent="MainThread", daemon=False
        )
        rec.line(schema.THREAD_END, thread=name, thread_id=ident)
    for width in (800, 1600):
        fig = draw(view_of([write_trace(rec)]), width_px=width)
        renderer = FigureCanvasAgg(fig).get_renderer()
        labels = lanes(fig).get_yticklabels()
        assert [t.get_text() for t in labels][1:] == [
            "Thread 1 (consume_every_item)",
            long_name[:31] + "…",
        ]
        assert min(t.get_window_extent(renderer).x0 for t in labels) >= 0


def test_a_containers_depth_axis_counts_whole_items(write_trace: WriteTrace) -> None:
    """A container that held one item at most has whole-number ticks (no 0.5 items)."""
    rec = Recorder()
    rec.put(1, depth=1)
    rec.get(1, depth=0)
    boxes = next(a for a in draw(view_of([write_trace(rec)])).axes if a.get_gid() == "containers")
    assert all(float(t).is_integer() for t in boxes.get_yticks())


def test_a_missing_run_says_how_many_the_files_hold(
    write_trace: WriteTrace, tmp_path: Path
) -> None:
    """--run past the last run names how many runs there are and which --run to give."""
    paths = [str(write_trace(story()[0], name=n)) for n in ("a.jsonl", "b.jsonl")]
    out = str(tmp_path / "t.png")
    result = CliRunner().invoke(main, ["timeline", *paths, "-o", out, "--run", "3"])
    assert result.exit_code == 2
    assert result.output == "Error: there is no run 3: the 2 files hold 2 runs; give --run 1 to 2\n"


@pytest.mark.parametrize("width", [800, 1200, 1600])
def test_the_legend_fits_inside_the_picture(write_trace: WriteTrace, width: int) -> None:
    """At any width --width allows, every legend entry and the subtitle end inside the picture."""
    rec, _ = story()
    rec.lines[-1]["ts"] += 500 * 10**9  # killed long after: the subtitle says so, at length
    fig = draw(view_of([write_trace(rec)]), width_px=width)
    renderer = FigureCanvasAgg(fig).get_renderer()
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is not None:
            assert legend.get_window_extent(renderer).x1 <= width
    [subtitle] = [t for t in fig.texts if t.get_text().startswith("run 1 of 1")]
    assert "· nothing happened after 0.017 s" in subtitle.get_text()
    assert subtitle.get_window_extent(renderer).x1 <= width


def test_a_subtitle_too_long_for_the_picture_is_made_smaller_until_it_fits() -> None:
    """Measured as drawn: a 9.5 pt line 130 characters long in an 800-pixel picture ends inside
    it, smaller; a line that fits keeps its size."""
    fig = Figure(figsize=(8, 6), dpi=100)
    long_line = fig.text(
        0.09, 0.95, "run 1 of 1 · 3 threads · 5.002 s recorded · " * 3, fontsize=9.5
    )
    short_line = fig.text(0.09, 0.90, "run 1 of 1 · 3 threads", fontsize=9.5)
    for line in (long_line, short_line):
        _shrink_to_fit(fig, line, 792)
    renderer = FigureCanvasAgg(fig).get_renderer()
    assert long_line.get_window_extent(renderer).x1 <= 792 and long_line.get_fontsize() < 9.5
    assert short_line.get_fontsize() == 9.5
