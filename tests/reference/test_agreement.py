"""The report agrees with the reference model on random schedules a real run could produce."""

from __future__ import annotations

import json
import math
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from hypothesis import event, given
from model import SEVERITY_RANK, Cause, ContainerRow, Finding, Line, Reference, ThreadRow, reference
from schedules import batches

from analyze import Report, build_report, load_traces
from analyze.findings import KINDS


def report_of(files: list[list[Line]]) -> Report:
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for n, lines in enumerate(files):
            path = Path(folder) / f"run{n}.jsonl"
            path.write_text("".join(json.dumps(line) + "\n" for line in lines))
            paths.append(path)
        return build_report(load_traces(paths))


def observed(report: Report) -> Reference:
    """The report's findings, causes and tables in the reference's shapes."""
    findings = [
        Finding(
            r["run"], r["kind"], r["severity"], r["ts"], r["seq"], r["thread"], r["obj"], r["site"]
        )
        for r in report.findings.iter_rows(named=True)
    ]
    causes = [
        Cause(
            c["kind"],
            c["severity"],
            c["obj"],
            c["site"],
            c["count"],
            c["first_ts_s"],
            c["last_ts_s"],
            tuple(c["threads"]),
        )
        for c in report.causes.iter_rows(named=True)
    ]
    boxes = {
        c["obj"]: ContainerRow(
            c["added"],
            c["taken"],
            c["discarded"],
            c["stranded"],
            c["left"],
            c["failed_takes"],
            c["order"],
            tuple(c[f"residency_{q}_ms"] for q in ("min", "p50", "p95", "max")),
        )
        for c in report.containers.iter_rows(named=True)
    }
    people = {
        t["thread"]: ThreadRow(t["waits"], t["blocked_s"])
        for t in report.threads.iter_rows(named=True)
    }
    return Reference(findings, dict(report.counts), causes, boxes, people)


def _exact(value: Any) -> Any:
    """``value`` with every float replaced by a marker: floats are compared apart, closely."""
    if isinstance(value, float):
        return float
    if isinstance(value, tuple | list):
        return tuple(_exact(v) for v in value)
    if hasattr(value, "__dataclass_fields__"):
        return (type(value).__name__, *(_exact(v) for v in value.__dict__.values()))
    return value


def _floats(value: Any) -> list[float]:
    if isinstance(value, float):
        return [value]
    if isinstance(value, tuple | list):
        return [f for v in value for f in _floats(v)]
    if hasattr(value, "__dataclass_fields__"):
        return _floats(list(value.__dict__.values()))
    return []


def same(got: Any, want: Any) -> bool:
    """Equal, floats to within a nanosecond's worth (sums of ns in s, or in ms)."""
    return _exact(got) == _exact(want) and all(
        math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
        for a, b in zip(_floats(got), _floats(want), strict=True)
    )


def by_key(rows: list[Cause]) -> list[Cause]:
    return sorted(rows, key=lambda c: repr(_exact(c)) + repr(_floats(c)))


def assert_agree(files: list[list[Line]]) -> None:
    got = observed(report_of(files))
    want = reference(files, KINDS)
    # Findings tied on (run, ts, seq) may come in either order: compare them as multisets, and check
    # the report's order separately.
    assert Counter(got.findings) == Counter(want.findings)
    order = [(f.run, f.ts, f.seq) for f in got.findings]
    assert order == sorted(order)
    assert got.counts == want.counts
    # Causes tied on severity, hang or not, count and first time have no set order.
    assert same(by_key(got.causes), by_key(want.causes)), (got.causes, want.causes)
    ranks = [
        (SEVERITY_RANK[c.severity], c.kind == "hang", -c.count, c.first_ts_s) for c in got.causes
    ]
    assert ranks == sorted(ranks)
    assert got.containers.keys() == want.containers.keys()
    for obj, row in got.containers.items():
        assert same(row, want.containers[obj]), (obj, row, want.containers[obj])
    assert got.threads.keys() == want.threads.keys()
    for name, person in got.threads.items():
        assert same(person, want.threads[name]), (name, person, want.threads[name])


@pytest.mark.slow  # 2,000 traces, about 30 s: CI runs it, `-m 'not slow'` skips it
@given(batches())
def test_report_agrees_with_the_reference(files: list[list[Line]]) -> None:
    """Findings, counts, causes and both tables equal the reference's on batches of schedules."""
    # Which kinds the schedules reach (pytest --hypothesis-show-statistics).
    for kind in {f.kind for f in reference(files, KINDS).findings}:
        event(kind)
    assert_agree(files)
