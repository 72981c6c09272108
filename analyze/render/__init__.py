"""Turning a Report into text for a person, Markdown for a bug report, or JSON for CI.

The output format is chosen here, in one place, after the report is built.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from analyze.render.json import render_json
from analyze.render.markdown import render_markdown
from analyze.render.text import render_text
from analyze.report import Report

RENDERERS: Final[dict[str, Callable[[Report], str]]] = {
    "text": render_text,
    "markdown": render_markdown,
    "json": render_json,
}


def render(report: Report, fmt: str) -> str:
    """The report in format ``fmt`` (one of RENDERERS), ending in a newline."""
    return RENDERERS[fmt](report)


__all__ = ["RENDERERS", "render", "render_json", "render_markdown", "render_text"]
