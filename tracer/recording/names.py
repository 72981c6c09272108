"""Names of traced objects: the one given, else ``Kind#n``; unique while alive.

The analyzer keys everything on ``obj``, so two live objects must never
share a name: a second object asking for a name already taken gets
``name#2``.  A name is given back when its object is collected, so a program
(or a test suite) that builds the same objects again in a later recording
gets the same names again.
"""

from __future__ import annotations

import _thread
import itertools
import weakref
from collections import defaultdict
from collections.abc import Iterator

_lock = _thread.allocate_lock()
_taken: set[str] = set()
_defaults: set[str] = set()  # names made up as Kind#n, which rebind() may replace
_counters: defaultdict[str, Iterator[int]] = defaultdict(lambda: itertools.count(1))
# A repeated name's first copy is ``name#2``: the original is copy 1.
_copies: defaultdict[str, Iterator[int]] = defaultdict(lambda: itertools.count(2))


def claim(kind: str, name: str | None = None, *, owner: object = None) -> str:
    """Reserve and return a unique name for ``owner``, a new object of ``kind``."""
    chosen = _reserve(kind, name)
    if owner is not None:
        weakref.finalize(owner, _release, chosen)
    return chosen


def _release(name: str) -> None:
    with _lock:
        _taken.discard(name)
        _defaults.discard(name)


def _reserve(kind: str, name: str | None) -> str:
    with _lock:
        base = name if name else kind
        candidate = name if name else f"{kind}#{next(_counters[kind])}"
        while candidate in _taken:
            candidate = f"{base}#{next(_copies[base])}"
        _taken.add(candidate)
        if not name:
            _defaults.add(candidate)
        return candidate


def rebind(obj: object, name: str) -> None:
    """Give a traced object the name the program bound it to.

    Only an object still wearing its default ``Kind#n`` name is renamed: a
    name the program chose itself (``Event(name=...)``) wins.
    """
    current = getattr(obj, "name", None)
    if not isinstance(current, str) or "#" not in current:
        return
    with _lock:
        if current not in _defaults:
            return
        _defaults.discard(current)
        _taken.discard(current)
    obj.name = claim("", name, owner=obj)  # type: ignore[attr-defined]
