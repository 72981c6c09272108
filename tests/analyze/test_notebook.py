"""analyze.load and the report's notebook display (_repr_markdown_, _repr_html_)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from polars.testing import assert_frame_equal
from tracebuild import Recorder

import analyze
from analyze import TraceError, build_report, load_traces, render_markdown
from analyze.notebook import report_html
from synctrace import schema

WriteTrace = Callable[..., Path]

EVIL = "<script>alert('x')</script>"


def lost_signal(rec: Recorder, obj: str = "ready", thread: str = "producer-1") -> None:
    """A set() that reached no waiter, then a clear(): one lost-signal."""
    rec.set(obj, thread=thread)
    rec.clear(obj, thread=thread)


def test_load_is_the_report_of_one_path(recorder: Recorder, write_trace: WriteTrace) -> None:
    """analyze.load(path) is build_report(load_traces([path])), for a str and a Path alike."""
    lost_signal(recorder)
    path = write_trace(recorder)
    expected = build_report(load_traces([path]))
    for given in (path, str(path)):
        report = analyze.load(given)
        assert report.counts == expected.counts
        assert report.counts["lost-signal"] == 1
        assert_frame_equal(report.findings, expected.findings)
        assert report.trace.files == [str(path)]


def test_load_takes_a_list_of_paths(write_trace: WriteTrace) -> None:
    """analyze.load([a, b]) reports on both runs together."""
    first, second = Recorder(), Recorder()
    lost_signal(first)
    lost_signal(second)
    paths = [write_trace(first), str(write_trace(second))]
    report = analyze.load(paths)
    assert report.counts["lost-signal"] == 2
    assert report.trace.files == [str(p) for p in paths]


def test_load_passes_contention_ms(recorder: Recorder, write_trace: WriteTrace) -> None:
    """contention_ms reaches the lock-contention detector as --contention-ms does."""
    recorder.op(schema.LOCK_ACQUIRE, "mutex", thread="t-1", result=True)
    waited = recorder.begin(schema.LOCK_ACQUIRE_BEGIN, "mutex", thread="t-2", timeout=None)
    recorder.op(schema.LOCK_RELEASE, "mutex", thread="t-1", error=None, after=5_000_000)
    recorder.finish(waited, result=True, timed_out=False)
    path = write_trace(recorder)
    assert analyze.load(path).counts["lock-contention"] == 0
    assert analyze.load(path, contention_ms=1).counts["lock-contention"] == 1


def test_load_of_a_missing_file_raises_trace_error(tmp_path: Path) -> None:
    """An unusable path raises TraceError naming it, as analyze report says it."""
    missing = tmp_path / "nope.jsonl"
    with pytest.raises(TraceError, match=r"nope\.jsonl"):
        analyze.load(missing)


@pytest.mark.parametrize(
    "first",
    ["import analyze", "import analyze.reading", "from analyze.reading import load_traces"],
)
def test_load_is_callable_however_it_was_imported(first: str, tmp_path: Path) -> None:
    """In a fresh interpreter, analyze.load(path) works whichever import came first,
    and importing analyze alone does not import polars."""
    trace = Path(__file__).parents[2] / "traces" / "cookbook.jsonl"
    code = (
        f"{first}\n"
        "import sys, analyze\n"
        "print('polars' in sys.modules)\n"
        f"print(analyze.load({str(trace)!r}).counts['lost-signal'])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    ).stdout.split()
    assert out == ["False" if first == "import analyze" else "True", "5"]


def test_repr_markdown_is_the_markdown_report(recorder: Recorder, write_trace: WriteTrace) -> None:
    """A notebook's Markdown display of a report is render_markdown's report."""
    lost_signal(recorder)
    report = analyze.load(write_trace(recorder))
    assert report._repr_markdown_() == render_markdown(report)


def test_repr_html_shows_the_report(recorder: Recorder, write_trace: WriteTrace) -> None:
    """The HTML display has the header, each cause with its fix, and the findings table."""
    lost_signal(recorder)
    report = analyze.load(write_trace(recorder))
    shown = report._repr_html_()
    assert shown == report_html(report)
    assert shown.startswith('<div class="synctrace-report">')
    assert "<strong>1 finding:</strong> 1 error, 0 warnings, 0 info" in shown
    assert "lost-signal (1) · ready · app.py:1" in shown
    cause = report.causes.row(0, named=True)
    assert f"<em>Fix:</em> {cause['fix']}</li>" in shown
    assert "<td>producer-1</td>" in shown
    assert "<h4>Threads</h4>" in shown


def test_repr_html_escapes_what_the_program_wrote(
    recorder: Recorder, write_trace: WriteTrace
) -> None:
    """Names, values and sites from the trace are escaped: a <script> stays text."""
    lost_signal(recorder, obj=EVIL, thread=EVIL)
    recorder.append(1, obj=EVIL, value=EVIL, site=EVIL)
    report = analyze.load(write_trace(recorder, name=f"{EVIL.replace('/', '')}.jsonl"))
    assert report.counts["lost-signal"] == 1
    shown = report._repr_html_()
    assert "<script" not in shown
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in shown


def test_repr_is_one_line(recorder: Recorder, write_trace: WriteTrace) -> None:
    """A report's repr names its files, its findings and the worst severity, on one line."""
    lost_signal(recorder)
    path = write_trace(recorder)
    assert repr(analyze.load(path)) == f"<Report on {path}: 1 finding, worst error>"
    quiet = Recorder()
    assert repr(analyze.load(write_trace(quiet))).endswith(": 0 findings>")
