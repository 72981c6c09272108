"""Call sites: where in the program's own code an operation was made.

A traced operation is reached through frames of ours (the drop-ins, the
recorder) and of the standard library's synchronisation modules (a
``Condition.wait_for`` calls ``wait``).  None of those is what the user wants
to see; the first frame outside them is the call site.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
from types import FrameType

#: A call site as captured on the hot path: (code filename, line number).
#: Rendering it as "file.py:LINE" is left to the writer.
RawSite = tuple[str, int]

# Files whose frames are never a call site.  Modules of ours register
# themselves at import (``internal(__file__)``).
_internal: set[str] = {threading.__file__, queue.__file__}


def internal(filename: str) -> None:
    """Mark a module's frames as ours, never a call site."""
    _internal.add(filename)


def caller_site(depth: int = 2) -> RawSite | None:
    """The first frame at or above ``depth`` that is the program's own code."""
    try:
        frame: FrameType | None = sys._getframe(depth)
    except ValueError:  # the stack is shallower than asked
        return None
    while frame is not None and frame.f_code.co_filename in _internal:
        frame = frame.f_back
    if frame is None:
        return None
    return (frame.f_code.co_filename, frame.f_lineno)


def site_name(site: RawSite) -> str:
    """A captured site as the trace writes it: ``file.py:LINE``, or ``cell[N]:LINE``
    for code typed into IPython or Jupyter."""
    return f"{file_label(site[0])}:{site[1]}"


def file_label(filename: str) -> str:
    """A code file's name as sites show it: its base name, or ``cell[N]`` for the
    code of the notebook cell (or IPython prompt) run as ``In [N]``."""
    base = os.path.basename(filename)
    if base.startswith("<ipython-input-"):  # IPython's console: <ipython-input-N-hash>
        typed = base.split("-")[2]
        return f"cell[{typed}]" if typed.isdigit() else "cell"
    parent = os.path.basename(os.path.dirname(filename))
    if parent.startswith("ipykernel_") and "IPython" in sys.modules:
        # Jupyter's kernel compiles each cell as a file named by the hash of
        # its code, which says nothing to a person; IPython's compiler keeps
        # which execution count each such name belongs to.
        number = _execution_count(filename)
        return "cell" if number is None else f"cell[{number}]"
    return base


def _execution_count(filename: str) -> int | None:
    """The ``In [N]`` of the cell IPython compiled as ``filename``, if it says."""
    try:
        shell = sys.modules["IPython"].get_ipython()
        number = shell.compile._filename_map.get(filename)
    except Exception:  # IPython's internals change; a site is never worth a crash
        return None
    return number if isinstance(number, int) else None


def site_of_traceback(tb: object) -> RawSite | None:
    """Where an exception was raised: its innermost frame of program code."""
    site: RawSite | None = None
    while tb is not None:
        code = tb.tb_frame.f_code  # type: ignore[attr-defined]
        if code.co_filename not in _internal:
            site = (code.co_filename, tb.tb_lineno)  # type: ignore[attr-defined]
        tb = tb.tb_next  # type: ignore[attr-defined]
    return site


internal(__file__)
