"""The ``tracer`` command: a thin layer over the ``tracer`` API."""

from __future__ import annotations

import sys

import click

import tracer
from tracer import demo as demo_module
from tracer.run import program as run_module


class TracerUsageError(click.ClickException):
    """Bad input or an unwritable trace: one line, exit status 2."""

    exit_code = 2


def main(argv: list[str] | None = None) -> None:
    """Entry point: parse with click, then run a program outside click.

    ``tracer run`` hands back the program instead of running it inside the
    click command, so that the program's exceptions, KeyboardInterrupt and
    exit status reach Python untouched by click's own handling.
    """
    try:
        outcome = cli.main(args=argv, prog_name="tracer", standalone_mode=False)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("Aborted!", err=True)
        sys.exit(1)
    if isinstance(outcome, run_module.ProgramRun):
        outcome.execute()
    elif isinstance(outcome, int) and outcome:
        sys.exit(outcome)


#: Where a command writes its trace; the same for every command that records.
output_option = click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default="trace.jsonl",
    show_default=True,
    help="Where to write the trace.",
)
#: The same for every command that records.
redact_option = click.option(
    "--redact",
    is_flag=True,
    help="Write values, exception and log messages, argv and host as short salted "
    "hashes (equal values stay equal), to share the trace without its data.",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="synctrace")
def cli() -> None:
    """Record what the threads of a Python run did to each other."""


@cli.command(context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False})
@output_option
@redact_option
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="SECONDS",
    help="Stop the program after this long, write the trace's end and exit 124.  "
    "Wall-clock seconds, whatever --time-scale.",
)
@click.option(
    "--time-scale",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    metavar="F",
    help="Run the program's time F times as fast: its sleeps and the timeouts it "
    "gives take F times as long, and its clocks (time.time, monotonic, perf_counter) "
    "advance 1/F times as fast.  0.01 replays a 25 s sleep in 0.25 s.",
)
@click.option(
    "-m", "module", metavar="MODULE", default=None, help="Run a module as `python -m MODULE` would."
)
@click.argument("program", nargs=-1, type=click.UNPROCESSED)
def run(
    output: str,
    redact: bool,
    timeout: float | None,
    time_scale: float,
    module: str | None,
    program: tuple[str, ...],
) -> run_module.ProgramRun:
    """Run a program unmodified and record its trace.

    \b
      tracer run [-o FILE] [--redact] [--timeout SECONDS] [--time-scale F] script.py [ARGS...]
      tracer run [-o FILE] [--redact] [--timeout SECONDS] [--time-scale F] -m module [ARGS...]

    The program runs as `python script.py ARGS` would: same argv, path,
    streams and exit status.  Its threading and queue primitives, its
    time.sleep calls, and lists bound at module level, are traced.
    """
    if module is not None:
        target = run_module.Program(module, list(program), is_module=True)
    elif program:
        target = run_module.Program(program[0], list(program[1:]))
    else:
        raise TracerUsageError(
            "nothing to run: give a script (tracer run script.py) "
            "or a module (tracer run -m module)"
        )
    try:
        return run_module.ProgramRun(target, output, timeout, time_scale, redact=redact)
    except run_module.ProgramError as exc:
        raise TracerUsageError(str(exc)) from None
    except tracer.TraceFileError as exc:
        raise TracerUsageError(f"{exc} (choose another path with -o)") from None


@cli.command()
@click.option(
    "--variant",
    type=click.Choice(demo_module.VARIANTS),
    default="cookbook",
    show_default=True,
    help="cookbook: the book's program, bugs included; fixed: the correct version.",
)
@click.option(
    "--items",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="Items to produce in all.",
)
@click.option(
    "--producers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Producer threads; the items are shared out between them.",
)
@click.option(
    "--consumers",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Consumer threads.",
)
@click.option(
    "--time-scale",
    type=click.FloatRange(min=0),
    default=0.1,
    show_default=True,
    help="Multiplies the book's sleeps (2 s per item produced, 3 s per item "
    "consumed); 1 is the book's own timing.",
)
@click.option("--seed", type=int, default=None, help="Seed for the random item values.")
@output_option
@redact_option
def demo(
    variant: str,
    items: int,
    producers: int,
    consumers: int,
    time_scale: float,
    seed: int | None,
    output: str,
    redact: bool,
) -> None:
    """Run the cookbook producer/consumer instrumented, and record a trace."""
    try:
        result = demo_module.run(
            variant,
            items=items,
            producers=producers,
            consumers=consumers,
            time_scale=time_scale,
            seed=seed,
            output=output,
            redact=redact,
        )
    except tracer.TraceFileError as exc:
        raise TracerUsageError(f"{exc} (choose another path with -o)") from None
    click.echo(result.summary(variant))
    click.echo(f"next: analyze report {result.path}")
