"""The report as Markdown, to paste into a bug report."""

from __future__ import annotations

from collections.abc import Sequence

from analyze.render._common import (
    CONTAINER_CAPTION,
    CONTAINER_HEADER,
    THREAD_HEADER,
    container_rows,
    ending,
    header_facts,
    kind_summary,
    severity_summary,
    thread_rows,
)
from analyze.report import Report


def render_markdown(report: Report) -> str:
    """Heading, summary, findings table, container and thread tables, trace warnings."""
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
    if report.findings.height:
        multi = len(report.trace.files) > 1
        header = ["time (s)", "severity", "kind", "thread", "object", "site", "message"]
        rows = [
            [
                f"{f['ts_s']:.3f}",
                f["severity"],
                f["kind"],
                f["thread"],
                f["obj"],
                f["site"] or "",
                f["message"],
            ]
            + ([f["file"]] if multi else [])
            for f in report.findings.iter_rows(named=True)
        ]
        out.extend(["", "### Findings", "", *_table(header + (["file"] if multi else []), rows)])
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


def _cell(text: str | None) -> str:
    # A pipe would end the cell early; a newline would end the row.
    return (text or "").replace("|", "\\|").replace("\n", " ")


def _table(header: Sequence[str], rows: Sequence[Sequence[str | None]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines.extend("| " + " | ".join(_cell(c) for c in row) + " |" for row in rows)
    return lines
