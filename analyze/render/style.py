"""Colour for the text report on a terminal: paint laid over plain text, never a change to it.

The text renderer lays its lines out plain first, because wrapping counts
characters and an escape code is none; a ``Style`` then paints words that
are already in place.  Stripped of its escape codes, a painted report is
byte for byte the plain one, and an unpainted ``Style`` returns every line
as it was given, which is what a pipe gets.  Colour comes from click (a
dependency already): ``click.style`` writes the codes and ``click.echo``
strips them again from a stream that is not a terminal unless told not to.
"""

from __future__ import annotations

import os
import re
from typing import Any, Final, TextIO

import click

#: How each severity word is painted; the worst is the loudest.
SEVERITY_STYLES: Final[dict[str, dict[str, Any]]] = {
    "error": {"fg": "red", "bold": True},
    "warning": {"fg": "yellow", "bold": True},
    "info": {"fg": "cyan"},
}
_PLURALS: Final = {"errors": "error", "warnings": "warning"}
#: "kind N" in the summary of counts; a kind that never struck is dimmed.
_ZERO_COUNT: Final = re.compile(r"(?<![\w-])([a-z]+(?:-[a-z]+)*) 0(?=,|$)", re.MULTILINE)
_SEVERITY_COUNT: Final = re.compile(r"(?<![\w-])([1-9]\d*) (errors?|warnings?|info)(?![\w-])")


def wants_color(flag: bool | None, stream: TextIO) -> bool:
    """Whether to paint output for ``stream``: as ``--color/--no-color`` says when given,
    else only on a terminal, and never when ``NO_COLOR`` is set (no-color.org) or the
    terminal is ``dumb``."""
    if flag is not None:
        return flag
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a replaced or closed stream
        return False


class Style:
    """Paints the report's headings, severity words, kind names and fixes, if ``color``."""

    def __init__(self, color: bool = False) -> None:
        self.color = color

    def heading(self, line: str) -> str:
        """A title or section heading, in bold."""
        return click.style(line, bold=True) if self.color and line else line

    def severity(self, line: str, severity: str) -> str:
        """The first ``severity`` word of ``line`` in its colour."""
        return self._first(line, severity, **SEVERITY_STYLES.get(severity, {}))

    def kind(self, line: str, kind: str) -> str:
        """The first mention of a finding kind in ``line``, in bold."""
        return self._first(line, kind, bold=True)

    def fix(self, text: str) -> str:
        """The "Fix:" that opens a cause's advice, in green."""
        return self._first(text, "Fix:", fg="green", bold=True)

    def warning(self, text: str) -> str:
        """The "warning:" that opens a note about the trace itself, in yellow."""
        return self._first(text, "warning:", fg="yellow", bold=True)

    def counts(self, text: str) -> str:
        """Summary counts: severities that struck in their colour, kinds that never did dimmed."""
        if not self.color:
            return text

        def severity(match: re.Match[str]) -> str:
            word = match.group(2)
            styles = SEVERITY_STYLES[_PLURALS.get(word, word)]
            return f"{match.group(1)} {click.style(word, **styles)}"

        text = _SEVERITY_COUNT.sub(severity, text)
        return _ZERO_COUNT.sub(lambda m: click.style(m.group(0), dim=True), text)

    def _first(self, line: str, word: str, **styles: Any) -> str:
        if not self.color:
            return line
        match = re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", line)
        if match is None:
            return line
        start, end = match.span()
        return line[:start] + click.style(word, **styles) + line[end:]
