"""Wording and tables shared by the text and Markdown renderers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import polars as pl

from analyze.columns import SEVERITIES, severity_rank
from analyze.report import Report

#: Findings listed per cause unless --all asks for every one.
PER_CAUSE: Final = 3

#: The last four columns are residency in ms: how long taken items had waited.
CONTAINER_HEADER = (
    "container",
    "added",
    "taken",
    "stranded",
    "left",
    "failed",
    "order",
    "min",
    "p50",
    "p95",
    "max",
)
CONTAINER_CAPTION = "residency of taken items in ms: min, p50, p95, max"
THREAD_HEADER = ("thread", "waits", "blocked s")


def number(value: Any, places: int = 3) -> str:
    """A table cell: "-" for a missing value, floats rounded."""
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{places}f}"
    return str(value)


def severity_summary(report: Report) -> str:
    """E.g. "1 error, 2 warnings, 0 info"."""
    column = report.findings["severity"].to_list()
    parts = []
    for severity in SEVERITIES:
        n = column.count(severity)
        noun = severity if n == 1 or severity == "info" else f"{severity}s"
        parts.append(f"{n} {noun}")
    return ", ".join(parts)


def kind_summary(report: Report) -> str:
    """E.g. "lost-signal 1, cleared-wait 2, ..." over every kind, zeros included."""
    return ", ".join(f"{kind} {n}" for kind, n in report.counts.items())


def header_facts(report: Report) -> list[str]:
    """Short facts about the trace, in the order they are shown."""
    info = report.trace
    facts = []
    if info.started:
        facts.append(f"started {info.started.replace('T', ' ')[:19]} UTC")
    facts.append(f"{info.duration_s:.3f} s recorded")
    facts.append(f"{info.events:,} event{'' if info.events == 1 else 's'}")
    total = len(info.runs)
    scaled = [scale for scale in info.time_scales if scale != 1.0]
    if scaled:
        # The report's times are the program's; say how they relate to the wall clock.
        factors = ", ".join(f"{scale:g}" for scale in sorted(set(scaled)))
        facts.append(
            f"time-scaled x{factors}{_of_runs(len(scaled), total)}: times are the program's"
            " own seconds"
        )
    if info.redacted:
        hashed = _of_runs(sum(r.redacted for r in info.runs), total)
        facts.append(f"redacted{hashed}: values, argv and host are salted hashes")
    if total > 1:
        facts.append(f"{total} runs")
    if info.complete:
        facts.append("complete")
    else:
        cut = sum(not r.complete for r in info.runs)
        where = f" in {cut} of {total} runs" if cut < total else ""
        facts.append(f"INCOMPLETE (no trace.end{where})")
    return facts


def _of_runs(count: int, total: int) -> str:
    """Say "(1 of 3 runs)" after a header fact that holds for some of the runs only."""
    return f" ({count} of {total} runs)" if 0 < count < total else ""


def ending(report: Report) -> str | None:
    """How the runs ended, unless simply completed: "ended: exit (code 3)".

    Shown after the header facts, joined to the last ("complete") by a comma.
    """
    info = report.trace
    out = []
    for reason, detail, code in zip(info.reasons, info.details, info.exit_codes, strict=True):
        if reason is None or reason == "completed":
            continue
        more = [detail] if detail else []
        if reason == "exit" and code is not None:
            more.append(f"code {code}")
        out.append(f"{reason} ({', '.join(more)})" if more else reason)
    return "ended: " + "; ".join(dict.fromkeys(out)) if out else None


def container_rows(report: Report) -> list[tuple[str, ...]]:
    return [
        (
            row["obj"],
            number(row["added"]),
            number(row["taken"]),
            number(row["stranded"]),
            number(row["left"]),
            number(row["failed_takes"]),
            number(row["order"]),
            # 0.1 ms is as fine as a person reads residency; JSON has it all.
            number(row["residency_min_ms"], 1),
            number(row["residency_p50_ms"], 1),
            number(row["residency_p95_ms"], 1),
            number(row["residency_max_ms"], 1),
        )
        for row in report.containers.iter_rows(named=True)
    ]


def thread_rows(report: Report) -> list[tuple[str, ...]]:
    return [
        (row["thread"], number(row["waits"]), number(row["blocked_s"]))
        for row in report.threads.iter_rows(named=True)
    ]


def file_label(report: Report, run: int) -> str:
    """Which run a finding is from (its file, or file:line of its start), when there are several."""
    return f" [{report.trace.runs[run].label}]" if len(report.trace.runs) > 1 else ""


def run_table(report: Report) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """The table across runs: each run, how it ended, and its findings by kind.

    Only kinds found in some run get a column; empty when there is one run.
    """
    runs = report.trace.runs
    if len(runs) < 2:
        return (), []
    kinds = [k for k in report.counts if any(k in r.counts for r in runs)]
    header = ("run", "ended", *kinds)
    rows = [
        (
            r.label,
            r.reason or "INCOMPLETE",
            *(number(r.counts.get(k, 0)) for k in kinds),
        )
        for r in runs
    ]
    return header, rows


@dataclass(frozen=True)
class CauseBlock:
    """One cause as the text and Markdown reports show it, with the findings listed."""

    number: int  # 1 for the worst
    cause: dict[str, Any]
    findings: pl.DataFrame
    hidden: int  # findings of the cause not listed


def cause_blocks(report: Report, *, show_all: bool) -> Iterator[CauseBlock]:
    """The causes worst first, each with its findings (all of them with show_all).

    Otherwise PER_CAUSE of them, the most severe chosen first and shown in
    time order: a warning cause whose first waits were harmless shows the
    wait that makes it a warning, not three info ones and "1 more".
    """
    rank = severity_rank()
    for row in report.causes.iter_rows(named=True):
        mine = report.findings.filter(pl.col("cause") == row["cause"])
        shown = mine
        if not show_all:
            shown = (
                mine.with_row_index("_at").sort(rank, "_at").head(PER_CAUSE).sort("_at").drop("_at")
            )
        yield CauseBlock(row["cause"] + 1, row, shown, mine.height - shown.height)


def cause_title(cause: dict[str, Any]) -> str:
    """E.g. "lost-signal (5) · event · demo.py:87"."""
    where = " · ".join(x for x in (cause["obj"], cause["site"]) if x)
    return f"{cause['kind']} ({cause['count']})" + (f" · {where}" if where else "")


def cause_span(cause: dict[str, Any]) -> str:
    """When it struck: "at 0.101 s", or "0.101 to 0.906 s" when first and last differ."""
    first, last = f"{cause['first_ts_s']:.3f}", f"{cause['last_ts_s']:.3f}"
    return f"at {first} s" if first == last else f"{first} to {last} s"
