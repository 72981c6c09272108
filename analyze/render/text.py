"""The report for a person in an 80-column terminal."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import Final

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
    file_label,
    header_facts,
    kind_summary,
    run_table,
    severity_summary,
    thread_rows,
)
from analyze.render.style import Style
from analyze.report import Report

WIDTH: Final = 80
_INDENT: Final = "    "


def render_text(report: Report, *, show_all: bool = False, color: bool = False) -> str:
    """The report as plain text lines at most 80 columns wide (long names aside).

    The causes come first, worst first; then each cause's findings, the
    first PER_CAUSE of them unless ``show_all``.  ``color`` paints headings,
    severities, kinds and fixes for a terminal (see ``style``); the text
    stays the same characters in the same places.
    """
    paint = Style(color)
    out: list[str] = []
    out.append(
        paint.heading(_wrap("synctrace report: " + ", ".join(report.trace.files), indent="  "))
    )
    out.extend(_header(report))
    out.extend(paint.warning(_wrap("warning: " + w, indent=_INDENT)) for w in report.trace.warnings)
    out.append("")
    total = report.findings.height
    noun = "finding" if total == 1 else "findings"
    out.append(paint.counts(_wrap(f"{total} {noun}: {severity_summary(report)}", indent="  ")))
    out.append(paint.counts(_wrap(kind_summary(report), indent="  ")))
    out.extend(_runs(report, paint))
    out.extend(_causes(report, paint))
    out.extend(_findings(report, paint, show_all=show_all))
    if report.containers.height:
        table = _table(CONTAINER_HEADER, container_rows(report))
        out.extend(["", paint.heading(f"Containers ({CONTAINER_CAPTION})"), *table])
    if report.threads.height:
        out.extend(["", paint.heading("Threads"), *_table(THREAD_HEADER, thread_rows(report))])
    return "\n".join(out) + "\n"


def _header(report: Report) -> list[str]:
    """The header facts, and how the run ended on a line of its own when both do not fit."""
    facts, ended = " · ".join(header_facts(report)), ending(report)
    if ended is None:
        return [_wrap(facts, indent="  ")]
    if len(facts) + 2 + len(ended) <= WIDTH:
        return [f"{facts}, {ended}"]
    return [_wrap(facts + ",", indent="  "), _wrap(ended, indent="  ", first="  ")]


def _runs(report: Report, paint: Style) -> list[str]:
    """The table across runs; as a list, a run a line, when the table is too wide for 80."""
    header, rows = run_table(report)
    if not rows:
        return []
    table = _table(header, rows, fit=False)
    if max(len(line) for line in table) <= WIDTH:
        return ["", paint.heading("Runs (findings by kind)"), *table]
    width = max(len(row[0]) for row in rows)
    ended = max(len(row[1]) for row in rows)
    out = ["", paint.heading("Runs (findings by kind)")]
    for label, reason, *counts in rows:
        # A kind and its count are joined by a no-break space while wrapping,
        # so that a line never ends in a kind whose count starts the next.
        found = ", ".join(
            f"{k}\N{NO-BREAK SPACE}{n}" for k, n in zip(header[2:], counts, strict=True) if n != "0"
        )
        first = f"  {label:<{width}}  {reason:<{ended}}  "
        wrapped = _wrap(first + (found or "no findings"), indent=" " * min(len(first), 40))
        out.append(wrapped.replace("\N{NO-BREAK SPACE}", " "))
    return out


def _causes(report: Report, paint: Style) -> list[str]:
    if not report.causes.height:
        return []
    noun = "cause" if report.causes.height == 1 else "causes"
    out = ["", paint.heading(f"{report.causes.height} {noun}, worst first")]
    for cause in report.causes.iter_rows(named=True):
        number = f"{cause['cause'] + 1}. "
        indent = " " * len(number)
        out.append("")
        title = _wrap(
            f"{number}{cause['severity']}  {cause_title(cause)}  {cause_span(cause)}",
            indent=indent + "  ",
        )
        out.append(paint.kind(paint.severity(title, cause["severity"]), cause["kind"]))
        out.append(_wrap(cause["explanation"], indent=indent, first=indent))
        out.append(paint.fix(_wrap("Fix: " + cause["fix"], indent=indent, first=indent)))
    return out


def _findings(report: Report, paint: Style, *, show_all: bool) -> list[str]:
    if not report.findings.height:
        return []
    listed = (
        "every one" if show_all else f"{PER_CAUSE} of each, the most severe first; --all lists all"
    )
    out = ["", paint.heading(f"Findings by cause ({listed})")]
    # Times right-aligned to the widest, so that severities line up past 10 s.
    width = max((len(f"{t:.3f}") for t in report.findings["ts_s"]), default=0)
    for block in cause_blocks(report, show_all=show_all):
        title = _wrap(f"{block.number}. {cause_title(block.cause)}", indent="   ")
        out.extend(["", paint.kind(title, block.cause["kind"])])
        for f in block.findings.iter_rows(named=True):
            where = " · ".join(str(x) for x in (f["thread"], f["obj"], f["site"]) if x)
            line = _wrap(
                f"{f['ts_s']:>{width}.3f} s  {f['severity']:<7} {f['kind']}  {where}"
                f"{file_label(report, f['run'])}",
                indent=_INDENT,
                first="  ",
            )
            out.append(paint.severity(line, f["severity"]))
            out.append(_wrap(f["message"], indent=_INDENT, first=_INDENT))
        if block.hidden:
            out.append(f"{_INDENT}... and {block.hidden} more (--all lists them)")
    return out


def _wrap(text: str, *, indent: str, first: str = "") -> str:
    return (
        "\n".join(
            textwrap.wrap(
                text,
                WIDTH,
                initial_indent=first,
                subsequent_indent=indent,
                break_on_hyphens=False,
                break_long_words=False,
            )
        )
        or first.rstrip()
    )


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], *, fit: bool = True) -> list[str]:
    """Columns left-aligned (first) or right-aligned (numbers), two spaces apart.

    With ``fit``, a first cell too long for 80 columns is cut short.
    """
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    if fit:
        # Long names would push the numbers off the screen: cut the first column.
        rest = WIDTH - 2 - sum(w + 2 for w in widths[1:])
        widths[0] = min(widths[0], max(len(header[0]), rest))

    def line(cells: Sequence[str]) -> str:
        name = cells[0]
        if len(name) > widths[0]:
            name = name[: widths[0] - 1] + "…"
        rest = (cell.rjust(w) for cell, w in zip(cells[1:], widths[1:], strict=True))
        return "  " + "  ".join([name.ljust(widths[0]), *rest]).rstrip()

    return [line(header), *(line(r) for r in rows)]
