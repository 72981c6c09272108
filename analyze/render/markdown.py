"""The report as Markdown, to paste into a bug report."""

from __future__ import annotations

from collections.abc import Sequence

from analyze.render._common import (
    CONTAINER_CAPTION,
    CONTAINER_HEADER,
    PER_CAUSE,
    THREAD_HEADER,
    cause_blocks,
    cause_span,
    cause_title,
    container_rows,
    ending,
    header_facts,
    kind_summary,
    run_table,
    severity_summary,
    thread_rows,
)
from analyze.report import Report


def render_markdown(report: Report, *, show_all: bool = False) -> str:
    """Heading, summary, causes, findings table, container and thread tables, trace warnings.

    The findings table lists PER_CAUSE findings of each cause (the most
    severe first chosen, see cause_blocks), in
    the order of the causes, unless ``show_all``.
    """
    files = ", ".join(f"`{f}`" for f in report.trace.files)
    ended = ending(report)
    facts = [*header_facts(report), *([ended] if ended else [])]
    out = [
        "## synctrace report",
        "",
        f"Trace {files}: {', '.join(facts)}.",
        "",
        f"**{report.findings.height} finding{'' if report.findings.height == 1 else 's'}:**"
        f" {severity_summary(report)} "
        f"({kind_summary(report)}).",
    ]
    header, rows = run_table(report)
    if rows:
        out.extend(["", "### Runs", "", "Findings by kind in each run.", "", *_table(header, rows)])
    if report.causes.height:
        out.extend(["", "### Causes", ""])
        for cause in report.causes.iter_rows(named=True):
            out.append(
                f"{cause['cause'] + 1}. **{cause['severity']} · {_cell(cause_title(cause))}**"
                f" ({cause_span(cause)}): {_cell(cause['explanation'])}"
                f" *Fix:* {_cell(cause['fix'])}"
            )
    if report.findings.height:
        out.extend(["", "### Findings", "", *_findings(report, show_all=show_all)])
    if report.containers.height:
        caption = CONTAINER_CAPTION[0].upper() + CONTAINER_CAPTION[1:]
        table = _table(CONTAINER_HEADER, container_rows(report))
        out.extend(["", "### Containers", "", f"{caption}.", "", *table])
    if report.threads.height:
        out.extend(["", "### Threads", "", *_table(THREAD_HEADER, thread_rows(report))])
    if report.trace.warnings:
        out.extend(["", "### Trace warnings", ""])
        out.extend(f"- {_cell(w)}" for w in report.trace.warnings)
    return "\n".join(out) + "\n"


def _findings(report: Report, *, show_all: bool) -> list[str]:
    """The findings table, by cause, and a line saying how many were left out."""
    multi = len(report.trace.runs) > 1
    labels = [r.label for r in report.trace.runs]
    header = ["cause", "time (s)", "severity", "kind", "thread", "object", "site", "message"]
    rows: list[list[str | None]] = []
    hidden = 0
    for block in cause_blocks(report, show_all=show_all):
        hidden += block.hidden
        rows.extend(
            [
                str(block.number),
                f"{f['ts_s']:.3f}",
                f["severity"],
                f["kind"],
                f["thread"],
                f["obj"],
                f["site"],
                f["message"],
            ]
            + ([labels[f["run"]]] if multi else [])
            for f in block.findings.iter_rows(named=True)
        )
    out = _table(header + (["run"] if multi else []), rows)
    if hidden:
        out.extend(
            [
                "",
                f"{PER_CAUSE} findings of each cause, the most severe first;"
                f" {hidden} more: `analyze report --all` lists them.",
            ]
        )
    return out


def _cell(text: str | None) -> str:
    # A pipe would end the cell early; a newline would end the row.
    return (text or "").replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Sequence[Sequence[str | None]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines.extend("| " + " | ".join(_cell(c) for c in row) + " |" for row in rows)
    return lines
