"""What a cause of each kind means, and its usual fix, as templates.

Each detector module states these for every severity it reports, because
the words must be true of what that severity means (an info ``cleared-wait``
is an Event used as intended; a warning one is not).  ``analyze.causes``
fills the placeholders from a cause's own findings:

* ``{obj}``, ``{site}``: the cause's object and call site ("?" when absent);
* ``{threads}``: the threads involved, "a", "a and b" or "a, b and 3 more";
* ``{count}``: its number of findings; ``{times}``: "once", "twice", "5 times".
"""

from __future__ import annotations

from dataclasses import dataclass
from string import Formatter
from typing import Final

#: The only placeholders a template may use.
PLACEHOLDERS: Final = frozenset({"obj", "site", "threads", "count", "times"})


@dataclass(frozen=True)
class Explanation:
    #: One sentence: what happened, and why it is (or is not) a bug.
    what: str
    #: The usual fix, or why nothing needs fixing.
    fix: str

    def __post_init__(self) -> None:
        for template in (self.what, self.fix):
            used = {name for _, name, _, _ in Formatter().parse(template) if name is not None}
            assert used <= PLACEHOLDERS, f"unknown placeholders {used - PLACEHOLDERS}"
