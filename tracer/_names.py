"""Names of traced objects: the one given, else ``Kind#n``; unique per process.

The analyzer keys everything on ``obj``, so two objects must never share a
name: a second object asking for a name already taken gets ``name#2``.
"""

from __future__ import annotations

import _thread
import itertools
from collections import defaultdict
from collections.abc import Iterator

_lock = _thread.allocate_lock()
_taken: set[str] = set()
_counters: defaultdict[str, Iterator[int]] = defaultdict(lambda: itertools.count(1))
# A repeated name's first copy is ``name#2``: the original is copy 1.
_copies: defaultdict[str, Iterator[int]] = defaultdict(lambda: itertools.count(2))


def claim(kind: str, name: str | None = None) -> str:
    """Reserve and return a unique name for a new object of ``kind``."""
    with _lock:
        base = name if name else kind
        candidate = name if name else f"{kind}#{next(_counters[kind])}"
        while candidate in _taken:
            candidate = f"{base}#{next(_copies[base])}"
        _taken.add(candidate)
        return candidate
