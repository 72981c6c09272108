"""The report in a notebook: ``analyze.load`` and the report's HTML display.

``load`` is ``build_report(load_traces(...))`` for one path or several; the
Report it returns shows itself in Jupyter through ``_repr_markdown_`` (the
Markdown report) and ``_repr_html_`` (``report_html`` below).

The HTML is built from the report's frames rather than converted from the
Markdown: names, values and messages come from the traced program, and
building each element here means every one of them passes through
``html.escape`` on its way in, with no Markdown parser in between that could
let a ``<script>`` through.
"""

from __future__ import annotations

import html
import os
from collections.abc import Iterable, Sequence

from analyze.reading import load_traces
from analyze.render._common import (
    CONTAINER_CAPTION,
    CONTAINER_HEADER,
    THREAD_HEADER,
    cause_blocks,
    cause_span,
    cause_title,
    container_rows,
    ending,
    header_facts,
    kind_summary,
    severity_summary,
    thread_rows,
)
from analyze.report import Report, build_report

Paths = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]

#: Severity colours, muted enough for light and dark notebook themes.
_SEVERITY_COLOURS = {"error": "#c62828", "warning": "#b26a00", "info": "#546e7a"}


def load(paths: Paths, *, contention_ms: float | None = None) -> Report:
    """The report on one trace file (a path) or several (a list of paths).

    Every format ``analyze report`` reads is accepted (``.jsonl``, ``.gz``,
    ``.zst``, Parquet); ``contention_ms`` is ``--contention-ms``.  Raises
    ``analyze.TraceError`` with a one-line message when a file is unusable.
    """
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    return build_report(load_traces(list(paths)), contention_ms=contention_ms)


def _e(text: object) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def _table(header: Sequence[str], rows: Iterable[Sequence[object]]) -> list[str]:
    out = ["<table>", "<thead><tr>", *(f"<th>{_e(h)}</th>" for h in header), "</tr></thead>"]
    out.append("<tbody>")
    for row in rows:
        out.append("<tr>" + "".join(f"<td>{_e(cell)}</td>" for cell in row) + "</tr>")
    out.append("</tbody></table>")
    return out


def _severity(severity: str) -> str:
    colour = _SEVERITY_COLOURS.get(severity, "inherit")
    return f'<strong style="color:{colour}">{_e(severity)}</strong>'


def report_html(report: Report) -> str:
    """The report as one self-contained HTML fragment (no scripts, no external styles).

    Same parts as the Markdown report: the header, the causes worst first
    with their explanation and fix, the first findings of each cause, the
    container and thread tables, and the trace's warnings.
    """
    files = ", ".join(f"<code>{_e(f)}</code>" for f in report.trace.files)
    ended = ending(report)
    facts = [*header_facts(report), *([ended] if ended else [])]
    n = report.findings.height
    out = [
        '<div class="synctrace-report">',
        "<h3>synctrace report</h3>",
        f"<p>Trace {files}: {_e(', '.join(facts))}.</p>",
        f"<p><strong>{n} finding{'' if n == 1 else 's'}:</strong> "
        f"{_e(severity_summary(report))} ({_e(kind_summary(report))}).</p>",
    ]
    if report.causes.height:
        out.extend(["<h4>Causes</h4>", "<ol>"])
        for cause in report.causes.iter_rows(named=True):
            out.append(
                f"<li>{_severity(cause['severity'])} · <strong>{_e(cause_title(cause))}</strong>"
                f" ({_e(cause_span(cause))}): {_e(cause['explanation'])}"
                f" <em>Fix:</em> {_e(cause['fix'])}</li>"
            )
        out.append("</ol>")
        multi = len(report.trace.files) > 1
        header = ["cause", "time (s)", "severity", "kind", "thread", "object", "site", "message"]
        rows = [
            [
                block.number,
                f"{f['ts_s']:.3f}",
                f["severity"],
                f["kind"],
                f["thread"],
                f["obj"],
                f["site"],
                f["message"],
                *([f["file"]] if multi else []),
            ]
            for block in cause_blocks(report, show_all=False)
            for f in block.findings.iter_rows(named=True)
        ]
        hidden = sum(block.hidden for block in cause_blocks(report, show_all=False))
        out.extend(["<h4>Findings</h4>", *_table(header + (["file"] if multi else []), rows)])
        if hidden:
            out.append(
                f"<p>The first findings of each cause; {hidden} more in"
                " <code>report.findings</code>.</p>"
            )
    if report.containers.height:
        out.extend(["<h4>Containers</h4>", f"<p>{_e(CONTAINER_CAPTION.capitalize())}.</p>"])
        out.extend(_table(CONTAINER_HEADER, container_rows(report)))
    if report.threads.height:
        out.extend(["<h4>Threads</h4>", *_table(THREAD_HEADER, thread_rows(report))])
    if report.trace.warnings:
        out.extend(["<h4>Trace warnings</h4>", "<ul>"])
        out.extend(f"<li>{_e(w)}</li>" for w in report.trace.warnings)
        out.append("</ul>")
    out.append("</div>")
    return "\n".join(out) + "\n"
