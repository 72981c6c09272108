"""Turning a Report into text for a person, Markdown for a bug report, or JSON for CI.

The output format is chosen here, in one place, after the report is built.
"""

from __future__ import annotations

from typing import Final, Protocol

from analyze.render.json import render_json
from analyze.render.markdown import render_markdown
from analyze.render.text import render_text
from analyze.report import Report


class Renderer(Protocol):
    def __call__(self, report: Report, *, show_all: bool = False) -> str: ...


RENDERERS: Final[dict[str, Renderer]] = {
    "text": render_text,
    "markdown": render_markdown,
    "json": render_json,
}


def render(report: Report, fmt: str, *, show_all: bool = False, color: bool = False) -> str:
    """The report in format ``fmt`` (one of RENDERERS), ending in a newline.

    ``show_all`` lists every finding of each cause (JSON always does);
    ``color`` paints the text format for a terminal (the others are for
    files and programs, and stay plain).
    """
    if fmt == "text":
        return render_text(report, show_all=show_all, color=color)
    return RENDERERS[fmt](report, show_all=show_all)


__all__ = ["RENDERERS", "render", "render_json", "render_markdown", "render_text"]
