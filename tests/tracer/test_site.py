"""Call sites as the trace writes them: file base names, and notebook cells by number."""

from __future__ import annotations

import sys
import types

import pytest

from tracer.recording.site import site_name

KERNEL_FILE = "/tmp/ipykernel_4242/2843752941.py"


def fake_ipython(monkeypatch: pytest.MonkeyPatch, cells: dict[str, int]) -> None:
    """Make IPython's shell look as if it compiled ``cells`` (file name -> In [N])."""
    shell = types.SimpleNamespace(compile=types.SimpleNamespace(_filename_map=cells))
    module = types.ModuleType("IPython")
    module.get_ipython = lambda: shell  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "IPython", module)


def test_a_file_is_its_base_name() -> None:
    """A program's file is named by its base name and line."""
    assert site_name(("/home/me/project/pipeline.py", 12)) == "pipeline.py:12"


def test_an_ipython_console_input_is_its_cell() -> None:
    """IPython's <ipython-input-N-hash> is cell[N]."""
    assert site_name(("<ipython-input-7-0a1b2c3d4e5f>", 2)) == "cell[7]:2"


def test_a_jupyter_cell_is_its_execution_count(monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernel's hashed file of a cell is cell[N], N the cell's In [N]."""
    fake_ipython(monkeypatch, {KERNEL_FILE: 4})
    assert site_name((KERNEL_FILE, 3)) == "cell[4]:3"


def test_an_unknown_kernel_file_is_a_cell_without_number(monkeypatch: pytest.MonkeyPatch) -> None:
    """A kernel file IPython does not know, or an IPython whose internals differ, is "cell"."""
    fake_ipython(monkeypatch, {})
    assert site_name((KERNEL_FILE, 3)) == "cell:3"
    monkeypatch.setitem(sys.modules, "IPython", types.ModuleType("IPython"))
    assert site_name((KERNEL_FILE, 3)) == "cell:3"


def test_a_kernel_like_path_outside_ipython_keeps_its_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without IPython loaded, a directory that only looks like the kernel's changes nothing."""
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    assert site_name((KERNEL_FILE, 3)) == "2843752941.py:3"
