"""Composing the detectors and tables into one report, read in a single pass.

Everything up to :func:`build_report` is a lazy plan over the lines; here
the lines are read into memory once (a Parquet trace stays a streamed
scan), the frames several detectors read are computed once
(``frames.sharing``), and each detector and table is collected in turn.
The causes are then grouped from the collected findings.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import Final

import polars as pl

from analyze import reading
from analyze.causes import cause_key, causes
from analyze.columns import FINDING_SCHEMA, NS_PER_S, RUN, SEVERITIES
from analyze.containers import containers
from analyze.findings import DETECTORS, KINDS, Settings
from analyze.frames import Engine, sharing
from analyze.reading import Trace, TraceError
from analyze.threads import threads

#: Lines from which the detectors run in polars' streaming engine even on
#: lines already in memory: on 1M lines its joins and group-bys took 0.25 s
#: less in all and held 50 MB less, while on a few hundred lines its start-up
#: per query made the report 10% slower.
STREAMED_FROM: Final = 100_000


@dataclass(frozen=True)
class RunInfo:
    """One run of the report: where it is, how it ended, and what was found in it."""

    #: Its index: the ``run`` of its findings.
    run: int
    file: str
    #: The line of its trace.start (runs concatenated in one file differ here).
    first_line: int
    #: How the report names it: the file, or ``file:LINE`` when the file holds several runs.
    label: str
    #: Lines read, trace.start and trace.end included.
    events: int
    complete: bool
    #: trace.end ``reason``, None where the run has no trace.end.
    reason: str | None
    #: Values, argv and host were replaced by salted hashes.
    redacted: bool
    #: Findings per kind, only the kinds found in this run.
    counts: dict[str, int]


@dataclass(frozen=True)
class TraceInfo:
    """What was analysed, and how far its findings can be trusted."""

    #: The trace files read, each once, in the order given (a folder: its traces).
    files: list[str]
    #: Lines read, trace.start and trace.end included.
    events: int
    #: Recorded time: the sum over runs of last ts - first ts (separate
    #: processes need not share a monotonic clock, so runs are not compared).
    duration_s: float
    #: Every file ended with trace.end.
    complete: bool
    warnings: list[str]
    #: trace.start ``wall_time`` of the first file (ISO 8601, UTC), if given.
    started: str | None
    #: trace.end ``reason`` per run (None where the run has no trace.end).
    reasons: list[str | None]
    #: trace.end ``detail`` and ``exit_code`` per run (None where not given).
    details: list[str | None]
    exit_codes: list[int | None]
    #: trace.start ``time_scale`` per run (1.0 for a run at full speed): times
    #: and durations in the report are the program's own seconds.
    time_scales: list[float]
    #: Every run, in order (``reasons``, ``details``... are per run too).
    runs: list[RunInfo]
    #: Some run was recorded (or rewritten) with ``--redact``: its values,
    #: argv and host are salted hashes, equal where the originals were.
    redacted: bool


@dataclass(frozen=True)
class Report:
    trace: TraceInfo
    #: Findings per kind, every known kind present (0 when none).
    counts: dict[str, int]
    #: FINDING_SCHEMA columns plus ``file``, ``ts_s`` (seconds since the
    #: file's trace.start) and ``cause`` (its row in ``causes``), sorted by
    #: run, ts, seq.
    findings: pl.DataFrame
    #: causes.causes() of the findings: worst first, ``cause`` numbering them.
    causes: pl.DataFrame
    #: containers.containers() collected.
    containers: pl.DataFrame
    #: threads.threads() collected.
    threads: pl.DataFrame

    def worst_severity(self) -> str | None:
        """The most severe severity among the findings, or None when there are none."""
        present = set(self.findings["severity"].to_list())
        return next((s for s in SEVERITIES if s in present), None)

    def fails(self, threshold: str) -> bool:
        """Whether any finding is at or above ``threshold`` ("never" never fails)."""
        worst = self.worst_severity()
        if threshold == "never" or worst is None:
            return False
        return SEVERITIES.index(worst) <= SEVERITIES.index(threshold)

    def __repr__(self) -> str:
        # The frames' own reprs would fill a console; this says what it is.
        n = self.findings.height
        worst = self.worst_severity()
        return f"<Report on {', '.join(self.trace.files)}: {n} finding{'' if n == 1 else 's'}" + (
            f", worst {worst}>" if worst else ">"
        )

    # A notebook shows the report itself (analyze.notebook); imported here,
    # since the renderers import this module.
    def _repr_markdown_(self) -> str:
        from analyze.render.markdown import render_markdown

        return render_markdown(self)

    def _repr_html_(self) -> str:
        from analyze.notebook import report_html

        return report_html(self)


def findings(
    trace: Trace,
    settings: Settings | None = None,
    engine: Engine = "in-memory",
    present: Collection[str] | None = None,
) -> pl.DataFrame:
    """Every detector's findings, with file and ts_s, sorted by run, ts, seq.

    ``present``: the event names the trace's lines have, when known; a
    detector that needs others (``Detector.needs``) is not run.  The
    detectors are collected one after another, not as one plan: run side
    by side, each holds its joins' intermediate frames at the same time as
    the others (on 1M lines, 590 MB at the peak against 460 MB), on two
    cores for no gain in time.  Call it inside ``frames.sharing()`` so that
    the frames several detectors read are computed once.
    """
    settings = settings or Settings()
    typed = [
        d.detect(trace.events, settings)
        .select(pl.col(n).cast(t) for n, t in FINDING_SCHEMA.items())
        .collect(engine=engine)
        if present is None or d.can_find(present)
        else pl.DataFrame(schema=FINDING_SCHEMA)
        for d in DETECTORS
    ]
    return (
        pl.concat(typed, how="vertical")
        .join(trace.runs(), on=RUN, how="left")
        .with_columns(ts_s=(pl.col("ts") - pl.col("start_ts")) / NS_PER_S)
        .drop("start_ts")
        .sort(RUN, "ts", "seq")
    )


def build_report(trace: Trace, *, contention_ms: float | None = None) -> Report:
    """Run every detector and table over the trace and collect them at once.

    ``contention_ms``: the shortest wait for a lock that ``lock-contention``
    counts (default ``Settings.contention_ms``, 20 ms).  Raises TraceError
    when a line of the trace turns out to be unusable.
    """
    settings = Settings() if contention_ms is None else Settings(contention_ms=contention_ms)
    # Parquet is the format for traces bigger than memory: it stays lazy and
    # runs in the streaming engine, which reads the row groups a batch at a
    # time.  JSON lines are read into memory once, before planning, so that
    # the detectors start from a DataFrame: from a cache node over the
    # files, polars ran the reading concurrently with ~40 joins and sorts,
    # and the whole cost twice the reading plus the detectors.
    engine: Engine = "streaming" if any(f.kind == "parquet" for f in trace.files) else "in-memory"
    # Checked before the detectors plan: the frames they share are computed
    # while planning, and should only ever see well-formed lines.  A trace
    # with damage (or several runs in a file) is walked line by line once,
    # and the report goes on with what could be read.
    try:
        trace, broken = _checked(trace, engine)
    except OSError as exc:
        raise TraceError(f"cannot read the trace: {exc}") from None
    if broken is None or broken:
        # The salvaged lines passed the line checker, which is stricter than
        # problems(); the lines it kept on purpose (ts going back, unknown
        # events) would show there again, so only reading them is checked.
        trace, again = _checked(reading.salvage(trace, broken), engine)
        if again is None:
            reading.diagnose(trace, "polars could not read the lines that passed the checks")
    try:
        # Which events the lines have: a detector with nothing to look at
        # (no lock line for the lock detectors, say) is not run, which on a
        # small trace is most of the report's time.
        names = trace.events.group_by("event").len().collect(engine=engine)
        present = set(names["event"].cast(pl.String).to_list())
        if engine == "in-memory" and names["len"].sum() >= STREAMED_FROM:
            engine = "streaming"
        with sharing(engine):
            plans = [
                trace.events.group_by(RUN).agg(
                    lines=pl.len(), first_ts=pl.col("ts").min(), last_ts=pl.col("ts").max()
                ),
                containers(trace.events),
                threads(trace.events),
            ]
            # One plan at a time: collected together, the detectors' plans
            # cost twice the CPU they cost one after another (3.3 s against
            # 1.7 s on 1M lines), the branches competing for two cores.
            per_run, boxes, people = (plan.collect(engine=engine) for plan in plans)
            found = findings(trace, settings, engine, present)
    except pl.exceptions.PolarsError as exc:
        reading.diagnose(trace, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    except OSError as exc:
        raise TraceError(f"cannot read the trace: {exc}") from None
    # Causes are grouped from the collected findings: planned together with
    # the detectors, polars would optimise the detectors' whole plan once
    # more for each use of it.
    told = causes(found)
    found = (
        found.with_columns(cause_key())
        .join(told.select("key", "cause"), on="key", how="left", maintain_order="left")
        .drop("key")
    )
    told = told.drop("key")

    counts = dict.fromkeys(KINDS, 0)
    for kind, n in found.group_by("kind").len().iter_rows():
        counts[kind] = n
    info = TraceInfo(
        files=list(dict.fromkeys(f.path for f in trace.files)),
        events=int(per_run["lines"].sum()),
        duration_s=float((per_run["last_ts"] - per_run["first_ts"]).sum()) / NS_PER_S,
        complete=trace.complete,
        warnings=trace.warnings + _count_warnings(trace, per_run),
        started=trace.files[0].start.get("wall_time"),
        reasons=[f.end.get("reason") if f.end else None for f in trace.files],
        details=[f.end.get("detail") if f.end else None for f in trace.files],
        exit_codes=[f.end.get("exit_code") if f.end else None for f in trace.files],
        time_scales=[reading.time_scale(f) for f in trace.files],
        runs=_runs(trace, per_run, found),
        redacted=any(f.redacted for f in trace.files),
    )
    return Report(
        trace=info,
        counts=counts,
        findings=found,
        causes=told,
        containers=boxes,
        threads=people,
    )


def _checked(trace: Trace, engine: Engine) -> tuple[Trace, dict[int, bool] | None]:
    """The trace read (into memory unless streamed), and its runs that need a slow look.

    Each such run says whether some line of it is unusable (reading.problems);
    none when every line is well formed; None when polars could not read
    some file at all, so that every run needs one.
    """
    try:
        if engine == "in-memory":
            trace = replace(trace, events=trace.events.collect().lazy())
        broken = reading.problems(trace).collect(engine=engine)
    except pl.exceptions.PolarsError:
        return trace, _unreadable(trace, engine)
    return trace, dict(broken.select(RUN, "unusable").iter_rows())


def _unreadable(trace: Trace, engine: Engine) -> dict[int, bool] | None:
    """The runs polars cannot read, each read again on its own (None: cannot tell)."""
    if len(trace.parts) != len(trace.files):
        return None
    failed = {}
    for run, part in enumerate(trace.parts):
        try:
            part.collect(engine=engine)
        except pl.exceptions.PolarsError:
            failed[run] = True
    return failed or None


def _runs(trace: Trace, per_run: pl.DataFrame, found: pl.DataFrame) -> list[RunInfo]:
    lines = dict(per_run.select(RUN, "lines").iter_rows())
    counts: dict[int, dict[str, int]] = {run: {} for run in range(len(trace.files))}
    for run, kind, n in found.group_by(RUN, "kind").len().sort(RUN, "kind").iter_rows():
        counts[run][kind] = n
    return [
        RunInfo(
            run=run,
            file=f.path,
            first_line=f.first_line,
            label=f.label,
            events=int(lines.get(run, 0)),
            complete=f.end is not None,
            reason=f.end.get("reason") if f.end else None,
            redacted=f.redacted,
            # In the report's order of kinds, not by name.
            counts={k: counts[run][k] for k in KINDS if k in counts[run]},
        )
        for run, f in enumerate(trace.files)
    ]


def _count_warnings(trace: Trace, per_run: pl.DataFrame) -> list[str]:
    """Files whose trace.end counts more lines than were read: lines went missing."""
    read = dict(per_run.select(RUN, "lines").iter_rows())
    notes = []
    for run, f in enumerate(trace.files):
        written = f.end.get("events_written") if f.end else None
        # events_written counts the lines before trace.end, trace.start
        # included; damaged lines skipped are already named on their own,
        # whether the tracer wrote them (garbled since) or not (pasted in).
        seen = read.get(run, 0) + f.skipped - 1
        if isinstance(written, int) and written not in (seen, seen - f.skipped):
            notes.append(
                f"trace {f.label}: trace.end counts {written} lines before it but"
                f" {seen} were read: the file was cut or edited, so findings"
                " may be incomplete"
            )
    return notes
