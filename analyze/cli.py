"""The ``analyze`` command: a thin layer over load_traces, build_report and render."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import TYPE_CHECKING, Final

import click

if TYPE_CHECKING:
    from analyze.validate import FileVerdict

# Spelled out rather than imported: importing analyze's modules imports
# polars, and `analyze --help` or a typo in an option should not wait for
# it.  A test checks these against columns.SEVERITIES and render.RENDERERS.
SEVERITIES: Final = ("error", "warning", "info")
FORMATS: Final = ("text", "markdown", "json")
#: lock_contention.DEFAULT_MS (JFR's default threshold), also checked by a test.
CONTENTION_MS: Final = 20.0


def _warn(notes: Iterable[str]) -> None:
    """Each note on stderr as ``warning: ...``, a line each."""
    for note in notes:
        click.echo(f"warning: {note}", err=True)


class UnusableTrace(click.ClickException):
    """A TraceError at the CLI edge: one line on stderr and exit status 2."""

    exit_code = 2


#: How long polars' allocator (jemalloc) keeps the pages it has freed before
#: handing them back: by default 10 s, and pages it has only marked free
#: count as the process's until the kernel takes them.  A report is a burst
#: of big short-lived frames, so its peak was the sum of its stages (1M
#: lines: 560-670 MB); returned after 0.1 s, it is near the largest stage
#: (410-450 MB) for 0.15 s of CPU in page faults.  Set before polars loads
#: (the commands import it), and only where the user has not set it.
_ALLOCATOR: Final = ("_RJEM_MALLOC_CONF", "dirty_decay_ms:100,muzzy_decay_ms:0")


@click.group()
@click.version_option(package_name="synctrace")
def main() -> None:
    """Report what went wrong between the threads of a recorded run."""
    os.environ.setdefault(*_ALLOCATOR)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="text",
    show_default=True,
    help="text for a terminal, markdown for a bug report, json for scripts.",
)
@click.option(
    "--fail-on",
    type=click.Choice([*SEVERITIES[:2], "never"]),
    default="never",
    show_default=True,
    help="Exit with status 1 when any finding is at least this severe.",
)
@click.option(
    "--all",
    "show_all",
    is_flag=True,
    help="List every finding of each cause, not only the first few (JSON always does).",
)
@click.option(
    "--contention-ms",
    type=click.FloatRange(min=0),
    default=CONTENTION_MS,
    show_default=True,
    help="lock-contention counts acquires that waited at least this long for their lock.",
)
@click.option(
    "--color/--no-color",
    default=None,
    help="Paint the text report [default: on a terminal, unless NO_COLOR is set].",
)
def report(
    files: tuple[str, ...],
    fmt: str,
    fail_on: str,
    show_all: bool,
    contention_ms: float,
    color: bool | None,
) -> None:
    """Analyze trace FILES and print a report.

    A file may be JSON lines, compressed (.jsonl.gz, .jsonl.zst) or Parquet
    written by `analyze convert`; a folder stands for the traces in it.
    Each trace.start begins a run (runs joined with cat are split again);
    with several runs the report ends its summary with a table of them.
    Damaged lines are skipped or kept as they are, and named in the
    report's warnings.

    Exit status: 0 when the report is made, 1 when a finding is at or above
    --fail-on, 2 when a file is not a usable trace.

    On a terminal, a command that takes a while says on stderr what it is
    doing (opening each file, then reading and analyzing them).
    """
    # Imported here: the heavy modules load only for the command that uses them.
    from analyze.errors import TraceError
    from analyze.progress import Progress, size_label
    from analyze.reading import load_traces
    from analyze.render import render
    from analyze.render.style import wants_color
    from analyze.report import build_report

    painted = fmt == "text" and wants_color(color, sys.stdout)
    try:
        with Progress(sys.stderr) as progress:
            trace = load_traces(progress.over(files, "opening"))
            noun = "trace" if len(trace.files) == 1 else "traces"
            size = size_label(f.path for f in trace.files)
            progress.stage(f"reading and analyzing {len(trace.files)} {noun} ({size})")
            result = build_report(trace, contention_ms=contention_ms)
    except TraceError as exc:
        raise UnusableTrace(str(exc)) from None
    # color=painted: click would strip the codes from a stream that is not
    # a terminal, and --color asks for them anyway.
    click.echo(render(result, fmt, show_all=show_all, color=painted), nl=False, color=painted)
    if result.fails(fail_on):
        raise SystemExit(1)


@main.command()
@click.argument("trace", type=click.Path())
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Where to write the Parquet file [default: TRACE with .parquet for .jsonl(.gz/.zst)].",
)
def convert(trace: str, output: str | None) -> None:
    """Write TRACE (.jsonl, .jsonl.gz or .jsonl.zst) as a Parquet file.

    `analyze report` reads the Parquet file (or a folder of them, one run
    each) lazily, column by column, with the same findings: convert a big
    trace once, then report on it as often as needed.

    Exit status: 0 when written, 2 when TRACE is not a usable trace.
    """
    from analyze.convert import convert as write_parquet
    from analyze.convert import default_output
    from analyze.errors import TraceError

    target = output or default_output(trace)
    try:
        f = write_parquet(trace, target)
    except TraceError as exc:
        raise UnusableTrace(str(exc)) from None
    _warn(f.warnings)
    click.echo(f"wrote {target}", err=True)


def _window(start: float | None, end: float | None) -> tuple[float | None, float | None]:
    if start is not None and end is not None and end <= start:
        raise click.BadParameter(
            f"--end {end:g} is not after --start {start:g}", param_hint="--end"
        )
    return (start, end)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default="timeline.png",
    show_default=True,
    help="The picture to write: .png, .svg or .pdf.",
)
@click.option(
    "--run",
    "run_number",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Which run to draw when FILES hold several (1 is the first file).",
)
@click.option("--start", type=float, help="Draw from this many seconds after the run started.")
@click.option(
    "--end",
    type=float,
    help="Draw up to this many seconds [default: the run's end, or a little after its last"
    " activity when a long idle tail follows it].",
)
@click.option(
    "--width",
    type=click.IntRange(min=800),
    default=1600,
    show_default=True,
    help="Width of the picture in pixels; its height follows from the number of lanes.",
)
def timeline(
    files: tuple[str, ...],
    output: str,
    run_number: int,
    start: float | None,
    end: float | None,
    width: int,
) -> None:
    """Draw one run of trace FILES as a timeline picture.

    One lane per thread (running, sleeping, blocked and on what, locks held,
    log records), one per Event or Condition (flag, set, clear, notify),
    an arrow from each set or notify to the wait it woke, and below them
    each container's depth.  Lost signals, hung waits and stranded items
    are red.  Times are the program's seconds since the run started.

    Exit status: 0 when written, 2 when a file is not a usable trace or the
    run or window does not exist.

    On a terminal, a command that takes a while says on stderr what it is
    doing (opening each file, reading and analyzing, drawing).
    """
    from pathlib import Path

    from analyze.errors import TraceError
    from analyze.progress import Progress
    from analyze.timeline import FORMATS, EmptyWindow, write_timeline

    if Path(output).suffix.lower() not in FORMATS:
        raise UnusableTrace(
            f"{output}: cannot write this format; name the picture .png, .svg or .pdf"
        )
    try:
        with Progress(sys.stderr) as progress:
            view = write_timeline(
                progress.over(files, "opening"),
                output,
                run=run_number - 1,
                window=_window(start, end),
                width_px=width,
                stage=progress.stage,
            )
    # IndexError: no such run (its message says how many the files hold).
    except (TraceError, IndexError, EmptyWindow) as exc:
        raise UnusableTrace(str(exc)) from None
    except OSError as exc:
        raise UnusableTrace(f"{output}: cannot write the picture ({exc.strerror})") from None
    _warn(view.warnings)
    click.echo(f"wrote {output} (run {view.run + 1} of {view.runs}: {view.file})", err=True)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["perfetto"]),
    default="perfetto",
    show_default=True,
    help="perfetto: Chrome Trace Event JSON for ui.perfetto.dev and chrome://tracing.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default="trace.json",
    show_default=True,
    help="Where to write the export.",
)
def export(files: tuple[str, ...], fmt: str, output: str) -> None:
    """Export trace FILES for another viewer; each run becomes one process.

    Threads are named tracks; waits, lock holds and sleeps are slices; set,
    clear, notify, findings and log records are instant events; an arrow
    (a flow) goes from each set or notify to the wait it woke; each
    container's depth is a counter.

    Exit status: 0 when written, 2 when a file is not a usable trace.

    On a terminal, a command that takes a while says on stderr what it is
    doing (opening each file, reading and analyzing, writing).
    """
    from pathlib import Path

    from analyze.errors import TraceError
    from analyze.export.perfetto import runs_of, write_perfetto
    from analyze.progress import Progress

    try:
        with Progress(sys.stderr) as progress:
            views = runs_of(progress.over(files, "opening"), stage=progress.stage)
            progress.stage(f"writing {Path(output).name}")
            count = write_perfetto(views, output)
    except TraceError as exc:
        raise UnusableTrace(str(exc)) from None
    except OSError as exc:
        raise UnusableTrace(f"{output}: cannot write the export ({exc.strerror})") from None
    for view in views:
        _warn(view.warnings)
    click.echo(f"wrote {output} ({count} events, {fmt})", err=True)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path())
@click.option(
    "--max-problems",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="List at most this many problems per file (all are counted).",
)
def validate(files: tuple[str, ...], max_problems: int) -> None:
    """Check trace FILES line by line against the format, synctrace/1.

    Lists each problem as FILE:LINE: what (a line that is not JSON, an
    unknown event, a required field missing or of the wrong type, seq not
    strictly increasing, ts going back, an end that does not match its
    begin), then a summary line per file.  A folder stands for the traces
    in it.

    Exit status: 0 when every file is valid, 1 when some file has a
    problem, 2 when a file cannot be read at all.
    """
    from analyze.errors import TraceError
    from analyze.validate import validate as check

    invalid = unreadable = False
    for path in files:
        try:
            for verdict in check([path], keep=max_problems):
                for problem in verdict.problems:
                    click.echo(str(problem))
                if verdict.count > len(verdict.problems):
                    more = verdict.count - len(verdict.problems)
                    click.echo(f"{verdict.path}: ... and {more} more problems")
                click.echo(_verdict_summary(verdict), err=True)
                invalid = invalid or not verdict.valid
        except TraceError as exc:
            click.echo(f"Error: {exc}", err=True)
            unreadable = True
    if unreadable:
        raise SystemExit(2)
    if invalid:
        raise SystemExit(1)


@main.command()
@click.argument("trace", type=click.Path())
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False),
    help="Where to write the redacted trace (.jsonl, .jsonl.gz or .jsonl.zst).",
)
def redact(trace: str, output: str) -> None:
    """Write TRACE with its data replaced by short salted hashes, to share it.

    Values, exception and log messages, argv and host become tokens such as
    h:3f9a2c1b4d5e; equal values stay equal within the trace, so every
    finding and table comes out the same.  Names of threads and objects and
    call sites are code, and are kept.  The salt is random and written
    nowhere.  OUTPUT is compressed as its name says, and is never TRACE.

    Exit status: 0 when written, 2 when TRACE is not a usable trace.
    """
    from analyze.errors import TraceError
    from analyze.redact import redact as rewrite

    try:
        result = rewrite(trace, output)
    except TraceError as exc:
        raise UnusableTrace(str(exc)) from None
    _warn(result.notes)
    if result.left_out > len(result.notes):
        click.echo(f"warning: {result.left_out - len(result.notes)} more lines left out", err=True)
    runs = "" if result.runs == 1 else f" in {result.runs} runs"
    click.echo(f"wrote {output}: {result.lines:,} lines{runs}, redacted", err=True)


def _verdict_summary(verdict: FileVerdict) -> str:
    """E.g. "run.jsonl: valid, 1,204 lines, 1 run, complete"."""
    lines = f"{verdict.lines:,} line{'' if verdict.lines == 1 else 's'}"
    runs = f"{verdict.runs} run{'' if verdict.runs == 1 else 's'}"
    ending = "complete" if verdict.complete else "no trace.end (killed, or still running)"
    if verdict.valid:
        return f"{verdict.path}: valid, {lines}, {runs}, {ending}"
    noun = "problem" if verdict.count == 1 else "problems"
    return f"{verdict.path}: {verdict.count:,} {noun} in {lines}"
