"""The report on a terminal: colour laid over the same text, and progress only where a person
watches."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner
from tracebuild import Recorder

from analyze import build_report, load_traces
from analyze.cli import main
from analyze.progress import Progress, size_label
from analyze.render import render
from analyze.render.style import Style, wants_color

WriteTrace = Callable[..., Path]
ANSI = re.compile(r"\x1b\[[0-9;]*m")


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def _troubled(write_trace: WriteTrace) -> Path:
    """An error (lost signal), a warning (stranded item) and info (an unwaited set)."""
    rec = Recorder()
    rec.set(thread="Thread-1", site="cook.py:40")
    rec.clear(thread="Thread-2", site="cook.py:52")
    rec.put(1, "jobs", thread="Thread-1", site="cook.py:60")
    rec.set("done", thread="Thread-1", site="cook.py:70")
    return write_trace(rec, name="cook.jsonl")


def test_painted_text_is_the_plain_text_with_escape_codes_only(write_trace: WriteTrace) -> None:
    """Colour adds escape codes around headings, severities, kinds and fixes, and nothing
    else: stripped of them, the painted report is byte for byte the plain one."""
    report = build_report(load_traces([_troubled(write_trace)]))
    plain, painted = (render(report, "text", color=c) for c in (False, True))
    assert ANSI.sub("", painted) == plain
    assert "\x1b[" not in plain
    assert "\x1b[31m\x1b[1merror\x1b[0m  \x1b[1mlost-signal\x1b[0m (1)" in painted
    assert "\x1b[33m\x1b[1mwarning\x1b[0m  \x1b[1mstranded-item\x1b[0m (1)" in painted
    assert "\x1b[1mFindings by cause" in painted and "\x1b[1mThreads\x1b[0m" in painted
    assert "\x1b[32m\x1b[1mFix:\x1b[0m" in painted
    assert "\x1b[2mhang 0\x1b[0m" in painted  # a kind that never struck is dimmed


def test_the_cli_paints_only_when_asked_or_on_a_terminal(write_trace: WriteTrace) -> None:
    """Piped, the report is plain (no codes); --color paints it anyway, to the same text;
    --no-color and other formats stay plain."""
    trace = _troubled(write_trace)
    runner = CliRunner()
    piped = runner.invoke(main, ["report", str(trace)])
    forced = runner.invoke(main, ["report", "--color", str(trace)])
    refused = runner.invoke(main, ["report", "--no-color", str(trace)])
    markdown = runner.invoke(main, ["report", "--color", "--format", "markdown", str(trace)])
    assert piped.exit_code == forced.exit_code == 0
    assert "\x1b[" not in piped.stdout and "\x1b[" in forced.stdout
    assert ANSI.sub("", forced.stdout) == piped.stdout == refused.stdout
    assert "\x1b[" not in markdown.stdout
    assert piped.stderr == ""  # no progress on a stream that is not a terminal


def test_wants_color_follows_the_flag_then_no_color_then_the_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--color/--no-color win; otherwise a terminal gets colour unless NO_COLOR or TERM=dumb."""
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    assert wants_color(None, Terminal()) and not wants_color(None, io.StringIO())
    assert wants_color(True, io.StringIO()) and not wants_color(False, Terminal())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not wants_color(None, Terminal()) and wants_color(True, Terminal())
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("TERM", "dumb")
    assert not wants_color(None, Terminal())


def test_an_unpainted_style_gives_every_line_back_unchanged() -> None:
    """Style(False) is the identity on every kind of line it is handed."""
    plain = Style(False)
    line = "1. error  lost-signal (5) · event · demo.py:87"
    assert plain.heading(line) == plain.severity(line, "error") == plain.kind(line, "x") == line
    assert plain.counts("hang 0, deadlock 2") == "hang 0, deadlock 2"


def test_style_paints_whole_words_only() -> None:
    """A severity or kind inside a longer name (an object called error-log) is left alone."""
    painted = Style(True).severity("thread error-log · error here", "error")
    assert ANSI.sub("", painted) == "thread error-log · error here"
    assert painted.startswith("thread error-log · \x1b[")


def test_progress_draws_a_status_line_and_erases_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a terminal, the line names the stage and the file being opened, and the command
    erases it before it ends."""
    monkeypatch.setenv("TERM", "xterm")
    screen = Terminal()
    with Progress(screen, delay=3600) as progress:  # the ticker never draws: the test does
        assert progress.enabled
        handed = list(progress.over(["/tmp/a.jsonl", "/tmp/runs/"], "opening"))
        progress.draw()
        progress.stage("reading and analyzing 2 traces (3.0 MB)")
        progress.draw()
    assert handed == ["/tmp/a.jsonl", "/tmp/runs/"]
    frames = screen.getvalue().split("\r\x1b[K")
    assert frames[0] == "" and frames[-1] == ""
    assert re.fullmatch(r"analyze: opening 2/2: runs · \d+\.\d s", frames[1])
    assert frames[2].startswith("analyze: reading and analyzing 2 traces (3.0 MB) · ")


def test_progress_writes_nothing_off_a_terminal_or_when_quick() -> None:
    """A stream that is not a terminal gets nothing; nor does a command quicker than the delay."""
    piped, screen = io.StringIO(), Terminal()
    with Progress(piped, delay=0) as progress:
        progress.stage("opening")
    assert not progress.enabled and piped.getvalue() == ""
    with Progress(screen, enabled=True, delay=3600) as progress:
        progress.stage("opening")
    assert screen.getvalue() == ""


def test_size_label_reads_like_a_person_would_say_it(tmp_path: Path) -> None:
    """Sizes in bytes, kB, MB; a path that cannot be sized counts nothing."""
    small, big = tmp_path / "s", tmp_path / "b"
    small.write_bytes(b"x" * 500)
    big.write_bytes(b"x" * 1_500_000)
    assert size_label([str(small)]) == "500 bytes"
    assert size_label([str(small), str(big), str(tmp_path / "missing")]) == "1.5 MB"


class _Stages(Progress):
    """A Progress that keeps every stage it is told, in order, and never draws."""

    told: ClassVar[list[str]] = []

    def __init__(self, stream: object) -> None:
        super().__init__(io.StringIO(), enabled=False)

    def stage(self, text: str) -> None:
        _Stages.told.append(text)
        super().stage(text)


@pytest.mark.parametrize(
    ("command", "output", "last"),
    [
        ("timeline", "t.png", "drawing run 1 into t.png"),
        ("export", "t.json", "writing t.json"),
    ],
)
def test_timeline_and_export_say_each_stage_as_report_does(
    write_trace: WriteTrace,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    command: str,
    output: str,
    last: str,
) -> None:
    """The picture and the export tell their progress line each file opened, the analysis and
    the writing, so a long one on a terminal is not silent."""
    monkeypatch.setattr("analyze.progress.Progress", _Stages)
    _Stages.told = []
    trace = _troubled(write_trace)
    result = CliRunner().invoke(main, [command, str(trace), "-o", str(tmp_path / output)])
    assert result.exit_code == 0, result.output
    assert _Stages.told == ["opening 1/1: cook.jsonl", "reading and analyzing 1 trace", last]
