"""Fields that are null may be left out of a line: absent reads exactly as null."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tracebuild import Recorder, found

from analyze import build_report, load_traces

WriteTrace = Callable[..., Path]


def _troubled_run() -> Recorder:
    """One run with a lost signal, a timed-out wait, a stranded item, a failed pop and a hang."""
    rec = Recorder()
    rec.set()
    rec.clear()
    waited = rec.wait(thread="Thread-1", timeout=0.5)
    rec.woke(waited, thread="Thread-1", result=False, timed_out=True)
    rec.append(1)
    rec.append(2, depth=2)
    rec.pop(2, depth=1)
    rec.pop(None, thread="Thread-2", error="IndexError", index=None, value=None)
    rec.raised("IndexError", "pop from empty list", thread="Thread-2")
    rec.wait(thread="Thread-3")
    rec.end()
    return rec


def _without_nulls(text: str) -> str:
    """The same lines with every null field left out, as the tracer now writes them."""
    lines = (json.loads(line) for line in text.splitlines())
    return "".join(
        json.dumps({k: v for k, v in line.items() if v is not None}) + "\n" for line in lines
    )


def test_absent_fields_give_the_same_report_as_null_ones(tmp_path: Path) -> None:
    """A trace written without null fields yields the same findings and tables as with them."""
    text = _troubled_run().text()
    assert '": null' in text
    with_nulls, without = tmp_path / "nulls.jsonl", tmp_path / "absent.jsonl"
    with_nulls.write_text(text)
    without.write_text(_without_nulls(text))
    assert "null" not in without.read_text()

    full, sparse = (build_report(load_traces([p])) for p in (with_nulls, without))
    assert [(kind, seq) for kind, _, seq, _, _ in found(sparse)] == [
        ("lost-signal", 1),
        ("cleared-wait", 3),
        ("stranded-item", 5),
        ("failed-take", 8),
        ("thread-exception", 9),
        ("cleared-wait", 10),
        ("hang", 10),
    ]
    assert found(sparse) == found(full)
    assert sparse.containers.equals(full.containers)
    assert sparse.threads.equals(full.threads)
    assert sparse.counts == full.counts


def test_a_field_no_line_has_is_null(tmp_path: Path) -> None:
    """A trace in which no line has a given field (here woken_by) still reads, as null."""
    rec = Recorder()
    waited = rec.wait(thread="Thread-1")
    rec.woke(waited, thread="Thread-1")
    rec.end()
    path = tmp_path / "sparse.jsonl"
    path.write_text(_without_nulls(rec.text()))
    assert "woken_by" not in path.read_text()
    report = build_report(load_traces([path]))
    assert [(kind, seq) for kind, _, seq, _, _ in found(report)] == [("cleared-wait", 1)]
