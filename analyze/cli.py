"""The ``analyze`` command: a thin layer over load_traces, build_report and render."""

from __future__ import annotations

import sys
from typing import Final

import click

# Spelled out rather than imported: importing analyze's modules imports
# polars, and `analyze --help` or a typo in an option should not wait for
# it.  A test checks these against columns.SEVERITIES and render.RENDERERS.
SEVERITIES: Final = ("error", "warning", "info")
FORMATS: Final = ("text", "markdown", "json")
#: lock_contention.DEFAULT_MS (JFR's default threshold), also checked by a test.
CONTENTION_MS: Final = 20.0


class UnusableTrace(click.ClickException):
    """A TraceError at the CLI edge: one line on stderr and exit status 2."""

    exit_code = 2


@click.group()
@click.version_option(package_name="synctrace")
def main() -> None:
    """Report what went wrong between the threads of a recorded run."""


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
    """Analyze trace FILES (each one run) and print a report.

    A file may be JSON lines, compressed (.jsonl.gz, .jsonl.zst) or Parquet
    written by `analyze convert`; a folder stands for the .parquet files in
    it.

    Exit status: 0 when the report is made, 1 when a finding is at or above
    --fail-on, 2 when a file is not a usable trace.

    On a terminal, a command that takes a while says on stderr what it is
    doing (opening each file, then reading and analyzing them).
    """
    # Imported here: the heavy modules load only for the command that uses them.
    from analyze.errors import TraceError
    from analyze.load import load_traces
    from analyze.progress import Progress, size_label
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
    for note in f.warnings:
        click.echo(f"warning: {note}", err=True)
    click.echo(f"wrote {target}", err=True)
