"""Exceptions the drop-ins pass on to the program, without our frames.

A traced ``pop()`` on an empty list raises the IndexError ``list.pop``
raised, but by the time it leaves, Python has added a traceback entry for
every frame of ours it went through, so the program's traceback ends in
synctrace's files instead of at its own call.  ``hand_over`` cuts those
entries; it must be followed by a bare ``raise`` in the same ``except``
block: a bare re-raise takes the exception's ``__traceback__`` as it is now
and, unlike ``raise exc``, adds no entry for the frame it runs in.  Frames
deeper than ours (the standard library's ``queue.py``, a value's
``__eq__``) stay, as they would without us.
"""

from __future__ import annotations

import os

_here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
#: The tracer package's directory, as code objects may spell it.
_OURS = tuple({os.path.join(_here, ""), os.path.join(os.path.realpath(_here), "")})


def hand_over(exc: BaseException) -> None:
    """Cut the leading traceback entries that are frames of synctrace's own code."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_OURS):
        tb = tb.tb_next
    exc.__traceback__ = tb
