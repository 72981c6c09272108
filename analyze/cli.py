"""The ``analyze`` command: a thin layer over load_traces, build_report and render."""

from __future__ import annotations

import click

from analyze.columns import SEVERITIES
from analyze.load import TraceError, load_traces
from analyze.render import RENDERERS, render
from analyze.report import build_report


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
    type=click.Choice(list(RENDERERS)),
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
def report(files: tuple[str, ...], fmt: str, fail_on: str, show_all: bool) -> None:
    """Analyze trace FILES (each one run) and print a report.

    Exit status: 0 when the report is made, 1 when a finding is at or above
    --fail-on, 2 when a file is not a usable trace.
    """
    try:
        result = build_report(load_traces(files))
    except TraceError as exc:
        raise UnusableTrace(str(exc)) from None
    click.echo(render(result, fmt, show_all=show_all), nl=False)
    if result.fails(fail_on):
        raise SystemExit(1)
