"""The tracer command: help for every command, demo output, one-line usage errors."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from tracer.cli import cli


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_has_help(command: str) -> None:
    """Each subcommand answers --help with its usage and a description."""
    result = CliRunner().invoke(cli, [command, "--help"])
    assert result.exit_code == 0
    assert f"Usage: cli {command}" in result.output or f"Usage: tracer {command}" in result.output
    command_obj = cli.commands[command]
    assert isinstance(command_obj, click.Command) and command_obj.help


def test_demo_prints_the_path_and_a_one_line_summary(tmp_path: Path) -> None:
    """tracer demo writes the trace and says what happened in one line, then what to run next."""
    out = tmp_path / "d.jsonl"
    result = CliRunner().invoke(
        cli, ["demo", "--variant", "fixed", "--items", "3", "--time-scale", "0", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    summary, hint = result.output.strip().splitlines()
    assert summary.startswith("fixed: 3 items produced, 3 consumed, 0 left in the list;")
    assert summary.endswith(f"written to {out}")
    assert hint == f"next: analyze report {out}"
    assert out.read_text().splitlines()[-1].startswith('{"event":"trace.end"')


def test_demo_to_an_unwritable_path_is_a_one_line_error(tmp_path: Path) -> None:
    """An -o that cannot be written exits 2 with one line naming the path and the fix."""
    result = CliRunner().invoke(cli, ["demo", "-o", str(tmp_path / "no" / "t.jsonl")])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1
    assert "no/t.jsonl" in result.output and "-o" in result.output


def test_run_with_nothing_to_run_is_a_usage_error() -> None:
    """tracer run without a script or -m says what to give it, exit 2."""
    result = CliRunner().invoke(cli, ["run"])
    assert result.exit_code == 2
    assert "nothing to run" in result.output


@pytest.mark.parametrize("scale", ["0", "-1"])
def test_run_refuses_a_time_scale_that_is_not_above_zero(scale: str) -> None:
    """--time-scale must be above 0: anything else is a usage error, exit 2."""
    result = CliRunner().invoke(cli, ["run", "--time-scale", scale, "x.py"])
    assert result.exit_code == 2
    assert "--time-scale" in result.output
