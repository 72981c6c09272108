"""Programs that are only slow: cut by --timeout they raise no error; scaled, nothing at all."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_end_to_end import PROGRAMS, record, report

SLOW = PROGRAMS / "slow"
#: (program, blocked threads when cut at 2 s): every one of them could still
#: be woken by a live thread that was sleeping or running.
PROGRAMS_CUT = [
    ("lock_turns.py", 8),  # eight wait for the lock; the ninth sleeps holding it
    ("semaphore_pool.py", 3),  # three wait for a connection; two sleep holding them
    ("condition_pipeline.py", 1),  # the consumer waits; the producer sleeps between items
]


@pytest.mark.slow
@pytest.mark.parametrize(("program", "waiting"), PROGRAMS_CUT)
def test_a_slow_program_cut_by_the_timeout_has_no_error(
    tmp_path: Path, program: str, waiting: int
) -> None:
    """Cut mid-run, every blocked thread is blocked-at-end (info), naming who could wake it."""
    trace, _, status = record(tmp_path, "--timeout", "2", str(SLOW / program))
    assert status == 124
    rep = report(trace)
    severities = {f["severity"] for f in rep["findings"]}
    assert severities <= {"info"}, rep["findings"]
    blocked = [f for f in rep["findings"] if f["kind"] == "blocked-at-end"]
    # Each waiting worker's message names the sleeping thread that will let it go.
    assert sum(1 for f in blocked if "was sleeping at" in f["message"]) >= waiting
    assert rep["counts"]["hang"] == 0 and rep["counts"]["stranded-item"] == 0


@pytest.mark.slow
@pytest.mark.parametrize("program", [name for name, _ in PROGRAMS_CUT])
def test_a_slow_program_replayed_fast_raises_nothing(tmp_path: Path, program: str) -> None:
    """With --time-scale 0.01 the program finishes, correct as it is: no finding but info."""
    trace, out, status = record(
        tmp_path, "--time-scale", "0.01", "--timeout", "60", str(SLOW / program)
    )
    assert status == 0, out
    rep = report(trace)
    assert {f["severity"] for f in rep["findings"]} <= {"info"}, rep["findings"]
    assert rep["trace"]["complete"]
