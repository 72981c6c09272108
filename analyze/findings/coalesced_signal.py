"""Coalesced signals: a ``set()`` on an Event whose flag was already up.

Exactly the ``event.set`` lines with ``flag`` true (the flag before the
call), all info.  The second set() changes nothing: two events to announce,
one wake-up.  Harmless when the flag means "there is work" and the waiter
drains everything it finds; a lost item count when each set() was meant to
stand for one item.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from analyze.columns import RUN
from analyze.findings._explain import Explanation
from analyze.frames import finding, lines_of
from synctrace import schema

KIND: Final = "coalesced-signal"

#: Lines the trace must have, one of each group, for this detector to find anything.
NEEDS: Final = (frozenset({schema.EVENT_SET}),)

EXPLAIN: Final = {
    "info": Explanation(
        what=(
            "set() on {obj} at {site} ({threads}) found the flag already up, {times}: an"
            " Event does not count, so two signals made one wake-up."
        ),
        fix=(
            "Nothing to fix if the waiter takes all the work it finds; if each set() stands"
            " for one item, hand the items over with queue.Queue or count them with a"
            " Semaphore."
        ),
    ),
}


def detect(events: pl.LazyFrame) -> pl.LazyFrame:
    """A set() on a flag already set: merged into the earlier one, one wake-up for two signals."""
    message = pl.lit("set() found the flag already set: it merged with the earlier set()")
    return (
        lines_of(events, {schema.EVENT_SET})
        .filter(pl.col("flag").fill_null(False))
        .sort(RUN, "seq")
        .select(finding(KIND, "info", message))
    )
