"""Builds docs/cli.md from the commands' own --help, so the reference never goes stale.

    python -m tests.cli_reference      # rewrite docs/cli.md

tests/test_cli_reference.py fails when the file and the --help texts differ.
"""

from __future__ import annotations

from pathlib import Path

import click
from click.testing import CliRunner

from analyze.cli import main as analyze_cli
from tracer.cli import cli as tracer_cli

DOC = Path(__file__).parent.parent / "docs" / "cli.md"


def _help(group: click.Group, name: str, args: list[str]) -> str:
    result = CliRunner().invoke(group, [*args, "--help"], prog_name=name, terminal_width=80)
    assert result.exit_code == 0, result.output
    return result.output.rstrip()


def render() -> str:
    parts = [
        "# Command reference",
        "",
        "Generated from each command's `--help` by `python -m tests.cli_reference`;",
        "a test fails when this file and the commands disagree.",
    ]
    for name, group in (("tracer", tracer_cli), ("analyze", analyze_cli)):
        assert isinstance(group, click.Group)
        for args in ([], *([c] for c in sorted(group.commands))):
            parts += [
                "",
                f"## `{' '.join([name, *args])}`",
                "",
                "```",
                _help(group, name, args),
                "```",
            ]
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    DOC.write_text(render(), encoding="utf-8")
    print(f"wrote {DOC}")
