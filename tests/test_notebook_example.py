"""examples/synctrace.ipynb, executed in a real Jupyter kernel as a person would run it."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).parents[1] / "examples" / "synctrace.ipynb"


def test_the_notebook_is_checked_in_without_outputs() -> None:
    """No cell of the example carries outputs or execution counts (they would go stale)."""
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    code = [cell for cell in cells if cell["cell_type"] == "code"]
    assert code
    assert all(cell["outputs"] == [] and cell["execution_count"] is None for cell in code)


@pytest.mark.slow
def test_the_notebook_runs_and_shows_the_report(tmp_path: Path) -> None:
    """Every cell runs; the report displays as HTML and Markdown, the recorded cell's sites are
    cell[N]:LINE, and the buggy run's counts show its lost signals while the fixed run has none."""
    nbclient = pytest.importorskip("nbclient")
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    ).execute()
    outputs = {
        "".join(cell.source): [out for out in cell.outputs]
        for cell in notebook.cells
        if cell.cell_type == "code"
    }

    [shown] = outputs["report = analyze.load(buggy)\nreport"]
    assert shown["data"]["text/html"].startswith('<div class="synctrace-report">')
    markdown = shown["data"]["text/markdown"]
    assert markdown.startswith("## synctrace report")
    assert re.search(r"lost-signal \(\d+\) · event · cell\[\d+\]:\d+", markdown)
    assert shown["data"]["text/plain"].startswith("<Report on ")

    [counts] = outputs["report.counts"]
    assert ast.literal_eval(counts["data"]["text/plain"])["lost-signal"] >= 1

    fixed = next(outs for source, outs in outputs.items() if source.startswith("jobs = "))
    assert fixed[0]["text"] == "consumed 6 of 6 jobs; worst finding: None\n"
