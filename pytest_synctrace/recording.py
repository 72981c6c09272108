"""One test's recordings: what they trace, where they go, and what is kept.

What is traced is ``tracer run``'s choice narrowed to the test: primitives
(``threading.Event``, ``Condition``, locks, semaphores, ``Barrier``,
``queue.*``) and ``time.sleep`` calls made, during the recorded block, by
code of the test's own file or under pytest's rootdir.  Code of the
standard library, of installed packages (any ``site-packages``, a venv
inside the project included) and of synctrace itself keeps the originals,
and so pytest, its plugins and everything they make are never traced.
Objects made before the block (a module-level ``Event()``, made when pytest
imported the test module) are not traced either.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from analyze.report import Report

#: ``fail_on`` values the marker takes: a severity, or never.
FAIL_ON = ("error", "warning", "info", "never")


def _synctrace_dirs() -> list[str]:
    """The directories of synctrace's own packages, never the program's code."""
    import analyze
    import synctrace
    import tracer

    return [
        os.path.dirname(os.path.realpath(package.__file__ or ""))
        for package in (analyze, synctrace, tracer)
    ] + [os.path.dirname(os.path.realpath(__file__))]


def sanitised(nodeid: str) -> str:
    """A test's node id as a file name: ``tests/test_a.py::test_b[x-1]`` ->
    ``tests_test_a.py__test_b_x-1_``."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", nodeid).strip(".") or "test"


class Synctrace:
    """The ``synctrace`` fixture: record blocks of the test, then report on them.

    ``with synctrace.record(): ...`` records the block (see the module's
    docstring for what is traced); ``synctrace.report()`` is the report on
    the last block, an ``analyze.Report`` (``counts``, ``findings``, ...).
    """

    def __init__(self, item: pytest.Item) -> None:
        self._item = item
        self._directory: Path | None = None
        self._recordings = 0
        self._recording = False
        self._report: Report | None = None
        #: The last recording's trace file, or None before the first.
        self.trace_path: Path | None = None

    def _next_path(self) -> Path:
        if self._directory is None:
            # pytest's own temporary directory (kept for the last few runs,
            # like tmp_path's); the factory is a config attribute pytest
            # sets for plugins that, like this hook, cannot ask for fixtures.
            factory = getattr(self._item.config, "_tmp_path_factory", None)
            if factory is not None:
                self._directory = factory.mktemp("synctrace", numbered=True)
            else:
                self._directory = Path(tempfile.mkdtemp(prefix="synctrace-"))
        self._recordings += 1
        return self._directory / f"trace-{self._recordings}.jsonl"

    def unavailable(self) -> str | None:
        """Why a recording cannot start now, or None when it can."""
        from tracer.recording import recorder
        from tracer.run import patch

        if self._recording and self._item.get_closest_marker("synctrace") is not None:
            return (
                "synctrace is already recording this test (the synctrace marker records"
                " the whole test body): drop the marker or the record() block"
            )
        if self._recording:
            return (
                "synctrace.record() blocks do not nest: this one is inside another;"
                " end the first block before starting the next"
            )
        running = recorder.current
        if running is not None or patch.installed():
            where = f" (writing {running.path})" if running is not None else ""
            return (
                f"synctrace cannot record this test: another recording is running{where};"
                " is the suite itself running under `tracer run`?"
            )
        return None

    @contextmanager
    def record(self) -> Iterator[None]:
        """Record the block: the test's and the project's threading and queue, traced.

        Raises RuntimeError, saying why, when a recording cannot start.
        """
        from tracer.run import scope

        problem = self.unavailable()
        if problem is not None:
            raise RuntimeError(problem)
        path = self._next_path()
        self.trace_path, self._report = path, None
        self._recording = True
        try:
            code = [self._item.path, self._item.config.rootpath]
            with scope.record(path, code, exclude=_synctrace_dirs()):
                yield
        finally:
            self._recording = False

    def report(self) -> Report:
        """The report on the last recorded block (built once, then kept)."""
        if self._recording:
            raise RuntimeError("synctrace.report() is ready once the record() block has ended")
        if self.trace_path is None:
            raise RuntimeError("nothing recorded yet: use `with synctrace.record(): ...` first")
        if self._report is None:
            from analyze.notebook import load

            self._report = load(self.trace_path)
        return self._report

    def markdown(self) -> str:
        """The last report as Markdown (the message of a test failed by the marker)."""
        from analyze.render import render_markdown

        return render_markdown(self.report())

    def keep(self, directory: Path) -> list[Path]:
        """Copy the last trace to ``directory`` with its Markdown report beside it.

        Files are named after the test's node id.  When no report can be
        made, the Markdown file says why; the trace is kept all the same.
        """
        if self.trace_path is None or self._recording:
            return []
        directory.mkdir(parents=True, exist_ok=True)
        stem = sanitised(self._item.nodeid)
        trace = directory / f"{stem}.jsonl"
        markdown = directory / f"{stem}.md"
        trace.write_bytes(self.trace_path.read_bytes())
        try:
            text = self.markdown()
        except Exception as exc:  # TraceError, or a bug: the trace is what matters
            text = f"## synctrace report\n\nNo report: {type(exc).__name__}: {exc}\n"
        markdown.write_text(text, encoding="utf-8")
        return [trace, markdown]
