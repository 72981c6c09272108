"""docs/cli.md is exactly what the commands print for --help."""

from __future__ import annotations

from tests.cli_reference import DOC, render


def test_cli_reference_is_up_to_date() -> None:
    """The checked-in command reference matches --help; regenerate it if this fails."""
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/cli.md is stale: run `python -m tests.cli_reference`"
    )
