"""`tracer demo` then `analyze report`, both through click, on real timed runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from analyze.cli import main as analyze_main
from tracer.cli import cli as tracer_cli


def demo_report(tmp_path: Path, variant: str, *extra: str) -> dict[str, Any]:
    trace = tmp_path / f"{variant}.jsonl"
    runner = CliRunner()
    made = runner.invoke(
        tracer_cli,
        [
            "demo",
            "--variant",
            variant,
            "--time-scale",
            "0.05",
            "--seed",
            "3",
            "-o",
            str(trace),
            *extra,
        ],
    )
    assert made.exit_code == 0, made.output
    result = runner.invoke(analyze_main, ["report", str(trace), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


@pytest.mark.slow
def test_cookbook_variant_shows_its_bugs(tmp_path: Path) -> None:
    """The book's program: lost signals, cleared waits, stranded items, LIFO order, a hang."""
    rep = demo_report(tmp_path, "cookbook")
    counts = rep["counts"]
    assert counts["lost-signal"] > 0 and counts["cleared-wait"] > 0
    assert counts["stranded-item"] > 0 and counts["hang"] == 1
    items = rep["containers"]["items"]
    assert items["order"] == "LIFO" and items["added"] == 10
    assert items["taken"] + items["stranded"] == 10


@pytest.mark.slow
def test_fixed_variant_shows_none_of_them(tmp_path: Path) -> None:
    """The correct version, with two producers and two consumers: nothing above info, FIFO."""
    rep = demo_report(tmp_path, "fixed", "--producers", "2", "--consumers", "2")
    assert [f for f in rep["findings"] if f["severity"] != "info"] == []
    items = rep["containers"]["items"]
    assert (items["added"], items["taken"], items["stranded"], items["order"]) == (
        10,
        10,
        0,
        "FIFO",
    )
