"""Locks held across a blocking call while another thread waited for them.

Exactly, per run: a *blocking call* is a begin line of ``schema.BLOCKING``
(a sleep, or a wait on another thread) other than a lock acquire (holding
one lock while waiting for another is ordinary nested locking: its danger,
a cycle, is ``deadlock``'s) and other than an ``event.wait.begin`` whose
``flag`` was up (it returns at once), with its end line (``begin_seq``) if
it has one.  For each hold of a lock L by thread H (``_holds.lock_holds``,
from ``taken_seq`` to ``released_seq``) and each blocking call B of H
whose begin seq is after ``taken_seq`` and whose end seq is before
``released_seq`` (an unended call counts only for a hold never released;
so a ``Condition.wait()`` on L itself, which releases L inside the call, is
never one), the pair is a finding when some other thread's
``lock.acquire.begin`` on L was waiting during B: its begin seq before B's
end and its end seq (if any) after B's begin, a missing end being later
than everything.  It is a warning when B waits on another thread (it can
take part in a hang: if what B waits for needs L, neither goes on), and
info when B is a sleep: a sleep ends by itself, so holding L across it only
makes the waiters slow, never stuck (nine workers taking turns under one
lock, each sleeping in it, are slow and correct).  The finding is placed
at B's begin line (ts, seq, thread H, site), with ``obj`` L; its message
says what B was, how long it lasted, the first such waiter (earliest begin
seq) and how many others there were.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from analyze.columns import NS_PER_S, RUN
from analyze.findings._explain import Explanation
from analyze.findings._holds import lock_holds
from analyze.frames import duration, finding, lines_of
from synctrace import schema

KIND: Final = "lock-held-while-blocked"

EXPLAIN: Final = {
    "info": Explanation(
        what=(
            "{threads} held {obj} while sleeping at {site}, {times}, while other threads"
            " waited for {obj}: the sleep ends by itself, so they were slowed, not stuck;"
            " the lock turns the sleeps of all its users into one queue."
        ),
        fix=(
            "If the sleep stands for work that does not need {obj} (I/O, pacing), release"
            " {obj} before it and take it again after; keep it only if the sleep really"
            " must exclude the others."
        ),
    ),
    "warning": Explanation(
        what=(
            "{threads} held {obj} while blocked at {site} (asleep, or waiting for another"
            " thread), {times}, while other threads waited for {obj}: they could not go on"
            " until the call returned, and if the call waits for one of them it never will."
        ),
        fix=(
            "Release {obj} before sleeping or waiting: copy what you need under the lock,"
            " then block outside it; to wait for a state guarded by {obj}, wait on a"
            " Condition built on {obj}, which releases it while waiting."
        ),
    ),
}

#: What each blocking call but a sleep was doing, as in "while waiting on event ready".
_DOING: Final[dict[str, str]] = {
    schema.EVENT_WAIT_BEGIN: "waiting on event",
    schema.COND_WAIT_BEGIN: "waiting on condition",
    schema.SEM_ACQUIRE_BEGIN: "acquiring semaphore",
    schema.BARRIER_WAIT_BEGIN: "waiting at barrier",
    schema.THREAD_JOIN_BEGIN: "joining",
    schema.QUEUE_PUT_BEGIN: "waiting to put into queue",
    schema.QUEUE_GET_BEGIN: "waiting to get from queue",
    schema.QUEUE_JOIN_BEGIN: "joining queue",
}
assert set(_DOING) | {schema.SLEEP_BEGIN, schema.LOCK_ACQUIRE_BEGIN} == set(schema.BLOCKING), (
    "lock_held_while_blocked._DOING is out of step with schema.BLOCKING"
)

#: Lines the trace must have, one of each group, for this detector to find anything.
NEEDS: Final = (
    frozenset({schema.LOCK_ACQUIRE, schema.LOCK_ACQUIRE_END}),
    frozenset(set(_DOING) | {schema.SLEEP_BEGIN}),
)

_THREAD: Final = [RUN, "thread", "thread_id"]


def _ends(events: pl.LazyFrame, begins: set[str], prefix: str) -> pl.LazyFrame:
    """End lines of ``begins``' calls keyed by run and ``seq`` (their begin's), with
    ``<prefix>_end_seq`` and ``<prefix>_end_ts``."""
    return lines_of(events, {schema.BLOCKING[b] for b in begins}).select(
        RUN,
        pl.col("begin_seq").alias("seq"),
        pl.col("seq").alias(f"{prefix}_end_seq"),
        pl.col("ts").alias(f"{prefix}_end_ts"),
    )


def detect(events: pl.LazyFrame) -> pl.LazyFrame:
    """A lock held across a sleep or a wait for another thread while a third party waited for it."""
    kinds = set(_DOING) | {schema.SLEEP_BEGIN}
    calls = (
        lines_of(events, kinds)
        .filter((pl.col("event") != schema.EVENT_WAIT_BEGIN) | ~pl.col("flag").fill_null(False))
        .select(
            *_THREAD,
            "seq",
            "ts",
            "site",
            "event",
            pl.col("obj").alias("on"),
            "seconds",
        )
        .join(_ends(events, kinds, "call"), on=[RUN, "seq"], how="left")
        .sort(RUN, "seq")
        .with_columns(call=pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over(_THREAD))
    )
    holds = lock_holds(events).sort(RUN, "taken_seq")
    numbered = calls.select(*_THREAD, "seq", "call")
    # A thread's calls inside a hold are consecutive in its own order: from
    # its first call begun after the hold was taken to its last begun before
    # the release; each pair is then checked to have ended inside the hold.
    spans = (
        holds.join_asof(
            numbered.rename({"seq": "first_seq", "call": "lo"}),
            left_on="taken_seq",
            right_on="first_seq",
            by=_THREAD,
            strategy="forward",
            allow_exact_matches=False,
            check_sortedness=False,
        )
        .with_columns(until=pl.col("released_seq").fill_null(pl.lit(2**31 - 1)))
        .sort(RUN, "until")
        .join_asof(
            numbered.rename({"seq": "last_seq", "call": "hi"}),
            left_on="until",
            right_on="last_seq",
            by=_THREAD,
            strategy="backward",
            allow_exact_matches=False,
            check_sortedness=False,
        )
        .filter(pl.col("lo").is_not_null() & (pl.col("hi") >= pl.col("lo")))
    )
    pairs = (
        spans.select(
            *_THREAD,
            "obj",
            "released_seq",
            call=pl.int_ranges("lo", pl.col("hi") + 1, dtype=pl.Int64),
        )
        .explode("call")
        .join(calls, on=[*_THREAD, "call"])
        .filter(
            pl.col("released_seq").is_null()
            | (
                pl.col("call_end_seq").is_not_null()
                & (pl.col("call_end_seq") < pl.col("released_seq"))
            )
        )
    )
    waiters = (
        lines_of(events, {schema.LOCK_ACQUIRE_BEGIN})
        .select(
            RUN,
            "obj",
            "seq",
            pl.col("thread").alias("waiter"),
            pl.col("thread_id").alias("waiter_id"),
        )
        .join(_ends(events, {schema.LOCK_ACQUIRE_BEGIN}, "wait"), on=[RUN, "seq"], how="left")
        .rename({"seq": "wait_seq"})
        # Only locks some blocking call was made under: the join below pairs
        # each such call with every wait for its lock.
        .join(pairs.select(RUN, "obj").unique(), on=[RUN, "obj"], how="semi")
    )
    during = (
        pairs.join(waiters, on=[RUN, "obj"])
        .filter(
            ((pl.col("waiter") != pl.col("thread")) | (pl.col("waiter_id") != pl.col("thread_id")))
            & (pl.col("call_end_seq").is_null() | (pl.col("wait_seq") < pl.col("call_end_seq")))
            & (pl.col("wait_end_seq").is_null() | (pl.col("wait_end_seq") > pl.col("seq")))
        )
        .sort(RUN, "seq", "obj", "wait_seq")
        .group_by(RUN, "seq", "obj", maintain_order=True)
        .agg(
            pl.col("ts", "thread", "site", "event", "on", "seconds", "call_end_ts").first(),
            pl.col("waiter").first(),
            others=pl.col("waiter").n_unique() - 1,
        )
    )
    last_ts = events.group_by(RUN).agg(last_ts=pl.col("ts").max())
    return (
        during.join(last_ts, on=RUN, how="left")
        .sort(RUN, "seq", "obj")
        .select(
            finding(
                KIND,
                pl.when(pl.col("event") == schema.SLEEP_BEGIN)
                .then(pl.lit("info"))
                .otherwise(pl.lit("warning")),
                _message(),
            )
        )
    )


def _message() -> pl.Expr:
    doing = pl.col("event").replace_strict(_DOING, default=None, return_dtype=pl.String)
    asked = (pl.col("seconds") * NS_PER_S).round().cast(pl.Int64)
    what = (
        pl.when(pl.col("event") == schema.SLEEP_BEGIN)
        .then(pl.format("sleeping (asked for {})", duration(asked)))
        .otherwise(pl.format("{} {}", doing, pl.col("on")))
    )
    lasted = (
        pl.when(pl.col("call_end_ts").is_null())
        .then(
            pl.format(
                "still at it after {} when the trace ended",
                duration(pl.col("last_ts") - pl.col("ts")),
            )
        )
        .otherwise(pl.format("for {}", duration(pl.col("call_end_ts") - pl.col("ts"))))
    )
    others = (
        pl.when(pl.col("others") == 0)
        .then(pl.lit(""))
        .when(pl.col("others") == 1)
        .then(pl.lit(" and 1 other thread"))
        .otherwise(pl.format(" and {} other threads", pl.col("others")))
    )
    return pl.format(
        "held {} while {}, {}; {}{} waited for {} meanwhile",
        pl.col("obj"),
        what,
        lasted,
        pl.col("waiter"),
        others,
        pl.col("obj"),
    )
