"""End to end on the sample traces shipped in traces/: the bug and its fix."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from analyze.cli import main

TRACES = Path(__file__).resolve().parents[2] / "traces"


def report(name: str, *options: str) -> tuple[int, dict[str, object]]:
    result = CliRunner().invoke(main, ["report", str(TRACES / name), "--format", "json", *options])
    return result.exit_code, json.loads(result.stdout)


def test_cookbook_loses_signals_and_strands_items() -> None:
    """The cookbook's consumer misses set()s and pops newest-first, stranding half the items."""
    code, data = report("cookbook.jsonl", "--fail-on", "error")
    assert code == 1
    counts = data["counts"]
    assert isinstance(counts, dict)
    assert counts["lost-signal"] > 0
    assert counts["stranded-item"] == 5
    containers = data["containers"]
    assert isinstance(containers, dict)
    assert containers["items"]["order"] == "LIFO"


def test_cookbook_consumer_hangs_on_the_event() -> None:
    """The consumer is left in wait() on the event when the demo stops: one hang, an error."""
    _, data = report("cookbook.jsonl")
    findings = data["findings"]
    assert isinstance(findings, list)
    hangs = [(f["severity"], f["thread"], f["object"]) for f in findings if f["kind"] == "hang"]
    assert hangs == [("error", "consumer-1", "event")]


def test_fixed_cookbook_is_clean() -> None:
    """The fixed version loses nothing, strands nothing and consumes in FIFO order."""
    code, data = report("fixed.jsonl", "--fail-on", "warning")
    assert code == 0
    containers = data["containers"]
    assert isinstance(containers, dict)
    assert containers["items"]["order"] == "FIFO"
    counts = data["counts"]
    assert isinstance(counts, dict)
    # Notifies nobody heard are all that is left: correct code, whose waiters
    # check their condition first, produces them all the time.
    assert {kind for kind, n in counts.items() if n} == {"unheard-notify"}
    findings = data["findings"]
    assert isinstance(findings, list)
    assert {f["severity"] for f in findings} == {"info"}


def test_cookbook_report_is_led_by_four_causes() -> None:
    """The cookbook's 17 findings come down to four causes, the lost signal first."""
    _, data = report("cookbook.jsonl")
    causes = data["causes"]
    assert isinstance(causes, list)
    assert [(c["kind"], c["severity"], c["object"], c["site"], c["count"]) for c in causes] == [
        ("lost-signal", "error", "event", "demo.py:87", 5),
        ("hang", "error", "event", "demo.py:94", 1),
        ("cleared-wait", "warning", "event", "demo.py:94", 6),
        ("stranded-item", "warning", "items", "demo.py:86", 5),
    ]
    assert causes[0]["threads"] == ["producer-1"]
    assert (
        "set() followed by clear() wakes only threads already inside wait()"
        in (causes[0]["explanation"])
    )
    assert causes[0]["fix"].startswith("Let the consumer clear the flag after it wakes")
