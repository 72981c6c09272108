"""Names from the caller's bytecode: ``ready = Event()`` names the Event ``ready``.

``tracer run`` names objects by rewriting the program's source before it
runs (see ``rewrite``).  Code that was compiled before the recording began
(a test module pytest imported, with its own assertion rewriting) cannot be
rewritten; but while a constructor runs, its caller's frame stands on the
call instruction, and the instruction after it says where the new object
goes: ``STORE_FAST ready`` (or ``STORE_NAME``, ``STORE_GLOBAL``,
``STORE_DEREF``), or ``LOAD_FAST self`` then ``STORE_ATTR jobs``.  Anything
else (an argument, a return value, a container) leaves the default name.
"""

from __future__ import annotations

import dis
from types import CodeType, FrameType

from tracer.recording import site as _site

_STORES = frozenset({"STORE_FAST", "STORE_NAME", "STORE_GLOBAL", "STORE_DEREF"})
#: (code, offset of the call) -> the name bound, or None.  Few call sites
#: construct primitives, so this stays small.
_bound: dict[tuple[CodeType, int], str | None] = {}


def bound_name(frame: FrameType) -> str | None:
    """The name ``frame`` binds the result of the call it is making to, if it binds one."""
    key = (frame.f_code, frame.f_lasti)
    try:
        return _bound[key]
    except KeyError:
        pass
    name = _read(frame.f_code, frame.f_lasti)
    _bound[key] = name
    return name


def _read(code: CodeType, offset: int) -> str | None:
    instructions = list(dis.get_instructions(code))
    # The frame's offset is its call instruction's, or (when the callee is
    # Python code, which the interpreter enters inline) that of the call's
    # last inline cache entry, which dis leaves out: the call is the last
    # instruction at or before it.
    at = [i for i, instruction in enumerate(instructions) if instruction.offset <= offset]
    if not at or not instructions[at[-1]].opname.startswith("CALL"):
        return None
    following = instructions[at[-1] + 1 : at[-1] + 3]
    if following and following[0].opname in _STORES:
        return str(following[0].argval)
    if (
        len(following) == 2
        and following[0].opname.startswith("LOAD_")
        and following[1].opname == "STORE_ATTR"
    ):
        return str(following[1].argval)
    return None


_site.internal(__file__)
