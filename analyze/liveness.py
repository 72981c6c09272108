"""Who could still act when the trace ended, and who could still wake whom.

A trace often ends in the middle of a run (``tracer run --timeout``, a
demo stopped, a kill), so a thread still blocked at the end is not hung by
that alone: it is hung only when no thread that could wake it could still
run.  This module states, per run, what every thread was doing at the end
and which blocked calls some live thread could still end.  The hang,
blocked-at-end and stranded-item findings and the container table are read
off it.

Definitions, all per run (a thread is its ``thread`` name and ``thread_id``):

* The threads of a run are those that wrote any line, the one that wrote
  trace.start included (trace.end's writer is not counted for that line).
* A *wait* is a begin line of a blocking call other than a sleep with no
  end line (``hang.unended``).  A thread's *current* wait is its latest one.
* A thread's *state* at the end, the first that applies:
  ``ended`` (it wrote thread.end or thread.exception); ``blocked`` (its
  current wait has no timeout); ``timed`` (its current wait has a
  timeout, so it returns by itself); ``sleeping`` (a sleep.begin with no
  sleep.end); ``ended`` again for the trace.start thread of a run whose
  trace.end reason is ``completed``, ``exit`` or ``exception`` (it ran the
  program or the recorded block to its end); otherwise ``running``.
* The *wakers* of a wait on object O by thread T are the threads other than
  T that could end it, each with how it relates to O:
  event wait: those that ever ``set()`` O; condition wait: those that ever
  notified O; lock acquire: the thread holding O at the end
  (``_holds.lock_holders``); semaphore acquire: those that ever released
  O, and those that acquired it more often than they released it; barrier
  wait: those that ever waited at O; thread join: the thread named O;
  queue get: those that ever put to O; queue put: those that ever took
  from O; queue join: those that ever took from O or called task_done().
  When a wait has no such thread (nobody has yet done what would end it),
  every other thread of the run is a waker: any of them might be the first.
* A thread *can go* when its state is ``running``, ``sleeping`` or
  ``timed``, or it is ``blocked`` and a waker of its current wait can go
  (the least fixed point of that rule: threads blocked on each other in a
  ring, with no way out to a thread that can go, cannot).
* A wait is *hung* when its thread's state is ``blocked`` and none of the
  wait's wakers can go.  (When every live thread is blocked, nothing can
  go, so every wait is hung.)
* A wait is *at exit* when its thread is a daemon (thread.start's
  ``daemon``) and the run's trace.end reason is ``completed`` or ``exit``:
  the program ended normally, and Python stops daemon threads without
  waiting for them, so such a wait is no hang whatever it waited for.
"""

from __future__ import annotations

from typing import Final

import polars as pl

from analyze.columns import NAME, RUN, name_lit
from analyze.findings._holds import lock_holders
from analyze.frames import lines_of, run_endings, shared
from analyze.waits import unended
from synctrace import schema

#: trace.end reasons after which the trace.start thread has nothing left to do.
FINISHED: Final = ("completed", "exit", "exception")

#: trace.end reasons of a program that ended normally.
NORMAL_ENDS: Final = ("completed", "exit")

#: The relation of every other thread to a wait that nobody had yet done
#: anything to end.
ANYONE: Final = "had not acted on it yet"

THREAD: Final = [RUN, "thread", "thread_id"]
_WAKER: Final = [RUN, "waker", "waker_id"]


@shared
def thread_states(events: pl.LazyFrame) -> pl.LazyFrame:
    """Per thread: run, thread, thread_id, daemon, state, where (the site of what it was
    doing: its wait, its sleep, else its last line with a site) and wait_seq (its current
    wait's seq, when it has one)."""
    body = events.filter(~pl.col("event").is_in([schema.TRACE_START, schema.TRACE_END]))
    starters = (
        lines_of(events, {schema.TRACE_START}).select(*THREAD).with_columns(starter=pl.lit(True))
    )
    seen = (
        body.group_by(THREAD)
        .agg(
            ended=pl.col("event").is_in([schema.THREAD_END, schema.THREAD_EXCEPTION]).any(),
            daemon=pl.col("daemon").filter(pl.col("event") == schema.THREAD_START).first(),
            last_site=pl.col("site").drop_nulls().last(),
        )
        .join(starters, on=THREAD, how="full", coalesce=True)
    )
    current = (
        unended(events)
        .sort(RUN, "seq")
        .group_by(THREAD)
        .agg(
            wait_seq=pl.col("seq").last(),
            wait_site=pl.col("site").last(),
            timed=pl.col("timeout").last().is_not_null(),
        )
    )
    asleep = (
        unended(events, {schema.SLEEP_BEGIN: schema.SLEEP_END})
        .sort(RUN, "seq")
        .group_by(THREAD)
        .agg(sleep_site=pl.col("site").last())
    )
    finished = run_endings(events).select(RUN, done=pl.col("end_reason").is_in(FINISHED))
    state = (
        pl.when(pl.col("ended").fill_null(False))
        .then(pl.lit("ended"))
        .when(pl.col("wait_seq").is_not_null() & ~pl.col("timed"))
        .then(pl.lit("blocked"))
        .when(pl.col("wait_seq").is_not_null())
        .then(pl.lit("timed"))
        .when(pl.col("sleep_site").is_not_null() | pl.col("sleep_seen"))
        .then(pl.lit("sleeping"))
        .when(pl.col("starter").fill_null(False) & pl.col("done").fill_null(False))
        .then(pl.lit("ended"))
        .otherwise(pl.lit("running"))
    )
    return (
        seen.join(current, on=THREAD, how="left")
        .join(asleep.with_columns(sleep_seen=pl.lit(True)), on=THREAD, how="left")
        .join(finished, on=RUN, how="left")
        .with_columns(pl.col("sleep_seen").fill_null(False))
        .select(
            *THREAD,
            pl.col("daemon").fill_null(False),
            state.alias("state"),
            pl.coalesce("wait_site", "sleep_site", "last_site").alias("where"),
            "wait_seq",
        )
    )


@shared
def wakers(events: pl.LazyFrame) -> pl.LazyFrame:
    """Per wait (run, seq) and waker: waker, waker_id and ``relation`` ("holds lock",
    "has set event before", ...; ANYONE for the every-thread case)."""
    waits = unended(events).select(RUN, "seq", "event", "obj", "thread", "thread_id")
    acts = _acts(events)
    known = (
        waits.join(acts, on=[RUN, "obj", "event"])
        .filter((pl.col("waker") != pl.col("thread")) | (pl.col("waker_id") != pl.col("thread_id")))
        .sort(RUN, "seq", "rank", "waker")
        .group_by(RUN, "seq", "waker", "waker_id", maintain_order=True)
        .agg(pl.col("relation").first())
    )
    threads = thread_states(events).select(
        RUN, pl.col("thread").alias("waker"), pl.col("thread_id").alias("waker_id")
    )
    joined = (
        waits.filter(pl.col("event") == schema.THREAD_JOIN_BEGIN)
        .join(threads, left_on=[RUN, "obj"], right_on=[RUN, "waker"])
        .select(
            RUN,
            "seq",
            pl.col("obj").alias("waker"),
            "waker_id",
            pl.lit("is the thread being joined").alias("relation"),
        )
    )
    anyone = (
        waits.join(pl.concat([known, joined]).select(RUN, "seq"), on=[RUN, "seq"], how="anti")
        .join(threads, on=RUN)
        .filter((pl.col("waker") != pl.col("thread")) | (pl.col("waker_id") != pl.col("thread_id")))
        .select(
            RUN,
            "seq",
            "waker",
            "waker_id",
            pl.lit(ANYONE).alias("relation"),
        )
    )
    return pl.concat([known, joined, anyone], how="vertical")


def can_go(states: pl.LazyFrame, waking: pl.LazyFrame) -> pl.LazyFrame:
    """Per thread: run, thread, thread_id and ``can_go`` (see the module's definitions).

    ``states`` and ``waking`` are ``thread_states()`` and ``wakers()`` of the events.
    """
    edges = (
        states.filter(pl.col("state") == "blocked")
        .join(waking, left_on=[RUN, "wait_seq"], right_on=[RUN, "seq"])
        .select(*THREAD, "waker", "waker_id")
    )
    graph = states.select(
        *THREAD, pl.col("state").is_in(["running", "sleeping", "timed"]).alias("free")
    ).join(edges, on=THREAD, how="left")
    # The fixed point is reached in as many rounds as the longest chain of
    # blocked threads, unknown when the plan is made.  Written as lazy
    # joins, each round would repeat the whole plan above it (polars
    # planned the trace's analysis once per round: 0.2 s a report for 16
    # rounds), so the rounds run inside one node, on the few rows of this
    # graph, until nothing changes.
    return graph.map_batches(
        _settle,
        schema={
            RUN: pl.Int64(),
            "thread": NAME,
            "thread_id": pl.Int64(),
            "can_go": pl.Boolean(),
        },
    )


def _settle(graph: pl.DataFrame) -> pl.DataFrame:
    """The least fixed point of "free, or some waker can go", one row per thread."""
    going = graph.group_by(THREAD).agg(pl.col("free").any().alias("can_go"))
    while True:
        step = (
            graph.join(
                going.rename({"thread": "waker", "thread_id": "waker_id"}), on=_WAKER, how="left"
            )
            .group_by(THREAD)
            .agg((pl.col("free").any() | pl.col("can_go").fill_null(False).any()).alias("can_go"))
        )
        # Monotone: a thread that can go stays so, so an unchanged count is
        # an unchanged set.
        if step["can_go"].sum() == going["can_go"].sum():
            return step.select(*THREAD, "can_go").sort(THREAD)
        going = step


@shared
def going(events: pl.LazyFrame) -> pl.LazyFrame:
    """``can_go`` of the events' threads."""
    return can_go(thread_states(events), wakers(events))


@shared
def waits_at_end(events: pl.LazyFrame) -> pl.LazyFrame:
    """Every wait with its thread's ``state`` and ``daemon``, ``hung``, ``at_exit``, and ``helper``,
    ``helper_relation``, ``helper_state``, ``helper_where``: the waker that can go that
    the report names (one that is itself running, sleeping or timed first, then by name)."""
    states = thread_states(events)
    helpers = (
        wakers(events)
        .join(
            going(events).rename({"thread": "waker", "thread_id": "waker_id"}).filter("can_go"),
            on=_WAKER,
        )
        .join(
            states.select(
                RUN,
                pl.col("thread").alias("waker"),
                pl.col("thread_id").alias("waker_id"),
                pl.col("state").alias("helper_state"),
                pl.col("where").alias("helper_where"),
            ),
            on=_WAKER,
            how="left",
        )
        .with_columns(indirect=pl.col("helper_state") == "blocked")
        .sort(RUN, "seq", "indirect", "waker")
        .group_by(RUN, "seq", maintain_order=True)
        .agg(
            pl.col("waker").first().alias("helper"),
            pl.col("relation").first().alias("helper_relation"),
            pl.col("helper_state").first(),
            pl.col("helper_where").first(),
        )
    )
    normal = run_endings(events).select(RUN, normal_end=pl.col("end_reason").is_in(NORMAL_ENDS))
    return (
        unended(events)
        .select(RUN, "seq", "ts", "thread", "thread_id", "event", "obj", "site", "timeout")
        .join(states.select(*THREAD, "state", "daemon"), on=THREAD, how="left")
        .join(helpers, on=[RUN, "seq"], how="left")
        .join(normal, on=RUN, how="left")
        .with_columns(
            hung=(pl.col("state") == "blocked") & pl.col("helper").is_null(),
            at_exit=pl.col("daemon").fill_null(False) & pl.col("normal_end").fill_null(False),
        )
        .drop("normal_end")
    )


def _acts(events: pl.LazyFrame) -> pl.LazyFrame:
    """Lines that show a thread able to end a kind of wait on an object.

    Columns: run, obj, ``event`` (the begin event of the wait it can end),
    waker, waker_id, ``relation`` and ``rank`` (lower is named first).
    """

    def act(names: set[str], ends: str, relation: str, rank: int) -> pl.LazyFrame:
        return lines_of(events, names).select(
            RUN,
            "obj",
            name_lit(ends).alias("event"),
            pl.col("thread").alias("waker"),
            pl.col("thread_id").alias("waker_id"),
            pl.format(relation, pl.col("obj")).alias("relation"),
            pl.lit(rank).alias("rank"),
        )

    sem_moves = lines_of(
        events, {schema.SEM_ACQUIRE, schema.SEM_ACQUIRE_END, schema.SEM_RELEASE}
    ).filter(pl.col("result").fill_null(True) & pl.col("error").is_null())
    sem_holders = (
        sem_moves.group_by(RUN, "obj", "thread", "thread_id")
        .agg(
            (pl.when(pl.col("event") == schema.SEM_RELEASE).then(-1).otherwise(1).sum() > 0).alias(
                "holds"
            )
        )
        .filter("holds")
        .select(
            RUN,
            "obj",
            name_lit(schema.SEM_ACQUIRE_BEGIN).alias("event"),
            pl.col("thread").alias("waker"),
            pl.col("thread_id").alias("waker_id"),
            pl.format("holds {}", pl.col("obj")).alias("relation"),
            pl.lit(0).alias("rank"),
        )
    )
    lock_holder = lock_holders(events).select(
        RUN,
        "obj",
        name_lit(schema.LOCK_ACQUIRE_BEGIN).alias("event"),
        pl.col("holder").alias("waker"),
        pl.col("holder_id").alias("waker_id"),
        pl.format("holds {}", pl.col("obj")).alias("relation"),
        pl.lit(0).alias("rank"),
    )
    return pl.concat(
        [
            lock_holder,
            sem_holders,
            act({schema.EVENT_SET}, schema.EVENT_WAIT_BEGIN, "has set {} before", 1),
            act({schema.COND_NOTIFY}, schema.COND_WAIT_BEGIN, "has notified {} before", 1),
            act({schema.SEM_RELEASE}, schema.SEM_ACQUIRE_BEGIN, "has released {} before", 1),
            act({schema.BARRIER_WAIT_BEGIN}, schema.BARRIER_WAIT_BEGIN, "has waited at {} too", 1),
            act({schema.QUEUE_PUT}, schema.QUEUE_GET_BEGIN, "has put to {} before", 1),
            act({schema.QUEUE_GET}, schema.QUEUE_PUT_BEGIN, "has taken from {} before", 1),
            act({schema.QUEUE_GET}, schema.QUEUE_JOIN_BEGIN, "has taken from {} before", 1),
            act(
                {schema.QUEUE_TASK_DONE},
                schema.QUEUE_JOIN_BEGIN,
                "has called task_done() on {} before",
                1,
            ),
        ],
        how="vertical",
    )


@shared
def served(events: pl.LazyFrame) -> pl.LazyFrame:
    """run and obj of every container that a thread that can go has taken from.

    A taker is a thread that ever took from the container (a take line,
    failed or not, or a queue get that waited): while one of them can still
    go, items left in the container may yet be taken.
    """
    able = going(events).filter("can_go")
    return (
        lines_of(events, schema.CONTAINER_TAKES | {schema.QUEUE_GET_BEGIN})
        .select(RUN, "obj", "thread", "thread_id")
        .unique()
        .join(able, on=THREAD, how="semi")
        .select(RUN, "obj")
        .unique()
    )
