"""The ``tracer`` command: a thin layer over the ``tracer`` API."""

from __future__ import annotations

import click

import tracer
from tracer import demo as demo_module


class TracerUsageError(click.ClickException):
    """Bad input or an unwritable trace: one line, exit status 2."""

    exit_code = 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="synctrace")
def main() -> None:
    """Record what the threads of a Python run did to each other."""


@main.command()
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
@click.option("--producers", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--consumers", type=click.IntRange(min=1), default=1, show_default=True)
@click.option(
    "--time-scale",
    type=click.FloatRange(min=0),
    default=0.1,
    show_default=True,
    help="Multiplies the book's sleeps (2 s per item produced, 3 s per item "
    "consumed); 1 is the book's own timing.",
)
@click.option("--seed", type=int, default=None, help="Seed for the random item values.")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    default="trace.jsonl",
    show_default=True,
    help="Where to write the trace.",
)
def demo(
    variant: str,
    items: int,
    producers: int,
    consumers: int,
    time_scale: float,
    seed: int | None,
    output: str,
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
        )
    except tracer.TraceFileError as exc:
        raise TracerUsageError(f"{exc} (choose another path with -o)") from None
    click.echo(result.summary(variant))
    click.echo(f"next: analyze report {result.path}")
