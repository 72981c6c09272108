"""The one exception analyze raises for input it cannot use."""

from __future__ import annotations


class TraceError(Exception):
    """A trace file analyze cannot use; the message names the file, the line and the fix."""
