"""synctrace's benchmarks (issue 7): one table of medians, ratios within one run.

    python bench/run.py                 # the full run, for docs/performance.md
    python bench/run.py --quick         # small sizes, 3 rounds: what CI runs
    python bench/run.py --only analyzer --rounds 3 --markdown

Sections (``--only`` picks some):

* ``recording``: the 4-thread workload of ``bench/workload.py`` (8 trace
  lines a round) as ``bare``, ``drop-in``, ``recorded``, ``recorded-pure``
  (``SYNCTRACE_PURE=1``) and ``viztracer`` (when importable), each in a
  fresh process: the time inside the run, the whole process's time and its
  peak memory; every recorded trace is checked for completeness, and an
  incomplete one makes the command exit 1.
* ``analyzer``: ``analyze report --format json`` against polars'
  ``read_ndjson`` of the same file, at three sizes: time and peak memory.
* ``startup``: ``analyze report`` on a small trace against importing polars.
* ``size``: bytes per event, plain and compressed.

Each measurement runs in a subprocess of its own, so that its peak memory is
its own (``os.wait4`` gives that one child's ``ru_maxrss``) and no import or
heap of one mode is paid by the next.  The modes of a section take turns
within each round, in a rotating order, and ratios are taken within a round
before their median: on a shared two-core machine, drift between rounds is
larger than most differences being measured.  Progress goes to stderr, the
table to stdout.  The harness uses only the standard library.
"""

from __future__ import annotations

import argparse
import compileall
import gzip
import importlib.util
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Run as ``python bench/run.py``: bench/ is on sys.path, the repository is not.
import workload

HERE = Path(__file__).resolve().parent
SMALL_TRACE = HERE.parent / "traces" / "cookbook.jsonl"
WORKLOAD = str(HERE / "workload.py")
SECTIONS = ("recording", "analyzer", "startup", "size")
MB = 1024 * 1024


class BenchError(RuntimeError):
    """A measured command failed: the numbers would mean nothing."""


# --- running one measured process ---------------------------------------------


@dataclass
class Child:
    wall: float  # seconds, from spawn to exit
    peak_mb: float  # this child's ru_maxrss
    floored: bool  # at or below the harness's own peak: see run_child
    stdout: str


def run_child(
    argv: Sequence[str], env: dict[str, str] | None = None, *, capture: bool = False
) -> Child:
    """Run ``argv`` to completion; its wall time and its own peak memory.

    ``resource.getrusage(RUSAGE_CHILDREN)`` would give the largest peak of
    every child so far, so the child is reaped with ``os.wait4``, which
    reports the usage of that one process.  Linux counts in a child's peak
    the peak of the process that spawned it (the exec happens in the
    parent's memory, which subprocess shares through vfork), so the harness
    keeps its own memory small: a child's output is thrown away unless
    ``capture`` asks for it (the report of 4M events is hundreds of MB of
    JSON, which, read here once, would raise every later child's peak).  A
    child that used less than the harness (about 15 MB) is reported at the
    harness's peak, and marked ``floored``.
    """
    floor = own_peak_mb()
    sink = tempfile.TemporaryFile() if capture else open(os.devnull, "wb")  # noqa: SIM115
    with tempfile.TemporaryFile() as err, sink as out:
        start = time.perf_counter()
        proc = subprocess.Popen(list(argv), stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        # Popen did not reap it; tell it, or it would try again later.
        proc.returncode = os.waitstatus_to_exitcode(status)
        stdout = ""
        if capture:
            out.seek(0)
            stdout = out.read().decode(errors="replace")
        if proc.returncode != 0:
            err.seek(0)
            # The end of stderr is enough to see what failed, and stays small.
            err.seek(max(0, os.fstat(err.fileno()).st_size - 4000))
            tail = err.read().decode(errors="replace").strip()
            raise BenchError(f"{' '.join(argv)} exited {proc.returncode}:\n{tail}")
    # Linux reports ru_maxrss in KiB.
    peak = usage.ru_maxrss / 1024
    return Child(wall, peak, peak <= floor + 0.5, stdout)


def own_peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_env(pure: bool = False) -> dict[str, str]:
    """The environment for a child: SYNCTRACE_PURE only where asked for.

    Removed otherwise, so that running the bench with it set in the shell
    does not silently turn ``recorded`` into the pure path too.
    """
    env = dict(os.environ)
    env.pop("SYNCTRACE_PURE", None)
    if pure:
        env["SYNCTRACE_PURE"] = "1"
    return env


def analyze_command() -> list[str]:
    """The ``analyze`` console script of this interpreter's environment."""
    beside = Path(sys.executable).parent / "analyze"
    found = str(beside) if beside.exists() else shutil.which("analyze")
    if found is None:
        raise BenchError("no `analyze` command: pip install -e . first")
    return [found]


def compile_sources() -> None:
    """Write the bytecode of synctrace's own packages, as installing them does.

    pip compiles a package's modules when it installs it; an editable
    install runs from the sources instead, and where PYTHONDONTWRITEBYTECODE
    is set (the development machine sets it) Python compiles every module
    of analyze again at each start, some 40 ms of a 0.25 s report that no
    installed copy pays.  The bytecode goes to __pycache__ beside the
    sources, where Python itself would write it (git ignores it).
    """
    for name in ("synctrace", "tracer", "analyze"):
        spec = importlib.util.find_spec(name)
        for folder in (spec.submodule_search_locations or []) if spec else []:
            compileall.compile_dir(folder, quiet=1)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- the table -------------------------------------------------------------------


@dataclass
class Row:
    section: str
    what: str
    values: list[float] = field(default_factory=list)
    unit: str = ""  # "s", "x", "MB", "+MB", "B"
    limit: float | None = None  # the goal: the median must be <= this
    note: str = ""
    #: For rows that are a verdict rather than a number (the completeness check).
    passed: bool | None = None

    def goal(self) -> str:
        if self.passed is not None:
            return "complete"
        if self.limit is None:
            return ""
        return "<= " + fmt(self.limit, self.unit)

    def met(self) -> str:
        if self.passed is not None:
            return "yes" if self.passed else "NO"
        if self.limit is None or not self.values:
            return ""
        return "yes" if statistics.median(self.values) <= self.limit else "no"

    def cells(self) -> list[str]:
        if not self.values:
            stats = ["", "", ""]
        else:
            v = self.values
            stats = [fmt(statistics.median(v), self.unit), fmt(min(v), self.unit)]
            stats.append(fmt(max(v), self.unit))
        return [self.what, *stats, self.goal(), self.met(), self.note]


HEADER = ["measure", "median", "min", "max", "goal", "met", "note"]


def fmt(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value:.3f} s" if value < 10 else f"{value:.2f} s"
    if unit == "x":
        return f"{value:.2f}x"
    if unit == "MB":
        return f"{value:.0f} MB"
    if unit == "+MB":
        return f"{value:+.0f} MB"
    if unit == "B":
        return f"{value:.1f} B"
    return f"{value:g}"


def render(rows: list[Row], markdown: bool) -> str:
    """One table per section, columns aligned across all of them in text."""
    sections: dict[str, list[list[str]]] = {}
    for row in rows:
        sections.setdefault(row.section, []).append(row.cells())
    out: list[str] = []
    if markdown:
        for title, cells in sections.items():
            out += [f"### {title}", "", "| " + " | ".join(HEADER) + " |"]
            out.append("|" + "---|" * len(HEADER))
            out += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in cells]
            out.append("")
        return "\n".join(out).rstrip()
    every = [HEADER, *(r for cells in sections.values() for r in cells)]
    widths = [max(len(r[i]) for r in every) for i in range(len(HEADER))]

    def line(cells: list[str]) -> str:
        return "  " + "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    for title, cells in sections.items():
        out += [title, line(HEADER), line(["-" * w for w in widths]), *map(line, cells), ""]
    return "\n".join(out).rstrip()


# --- completeness of a recorded trace -------------------------------------------


def check_trace(path: str, rounds: int) -> list[str]:
    """What is wrong with the workload's trace at ``path``; empty when complete.

    Every line is JSON, ``seq`` strictly increases, the last line is
    ``trace.end`` with ``events_dropped`` 0 and ``events_written`` equal to
    the lines before it, and each of the workload's event names is there as
    many times as the workload's arithmetic says (threads start and end once
    each).  Joins are not counted: whether ``join()`` finds a thread still
    alive is up to the scheduler.
    """
    problems: list[str] = []
    counts: Counter[str] = Counter()
    last_seq = -1
    lines = 0
    end: dict[str, Any] | None = None
    end_line = 0

    def problem(text: str) -> None:
        if len(problems) < 5:
            problems.append(text)
        elif len(problems) == 5:
            problems.append("...")

    with open(path, "rb") as f:
        for lines, raw in enumerate(f, 1):
            try:
                line = json.loads(raw)
            except ValueError:
                problem(f"line {lines} is not JSON")
                continue
            if not isinstance(line, dict):
                problem(f"line {lines} is not an object")
                continue
            seq = line.get("seq")
            if not isinstance(seq, int) or seq <= last_seq:
                problem(f"line {lines}: seq {seq!r} after {last_seq}")
            else:
                last_seq = seq
            name = str(line.get("event"))
            counts[name] += 1
            if name == "trace.end":
                end, end_line = line, lines
    if end is None:
        problem("no trace.end line")
    else:
        if end_line != lines:
            problem(f"trace.end is line {end_line} of {lines}")
        if end.get("events_dropped") != 0:
            problem(f"trace.end says events_dropped {end.get('events_dropped')!r}")
        if end.get("events_written") != end_line - 1:
            problem(
                f"trace.end says events_written {end.get('events_written')!r}, "
                f"{end_line - 1} lines precede it"
            )
    expected = workload.expected_counts(rounds)
    expected.update({"trace.start": 1, "thread.start": workload.THREADS})
    expected["thread.end"] = workload.THREADS
    for name, n in expected.items():
        if counts[name] != n:
            problem(f"{counts[name]} {name} lines, expected {n}")
    return problems


# --- recording -------------------------------------------------------------------


@dataclass
class Mode:
    name: str
    argv_mode: str  # the mode bench/workload.py runs
    pure: bool = False
    suffix: str = ".jsonl"  # VizTracer saves only .json, .html or .gz
    checked: bool = False  # a synctrace trace whose completeness is checked


def recording(rounds: int, size: int, tmp: Path, failures: list[str]) -> list[Row]:
    modes = [
        Mode("bare", "bare"),
        Mode("drop-in", "drop-in"),
        Mode("recorded", "recorded", checked=True),
        Mode("recorded-pure", "recorded", pure=True, checked=True),
    ]
    have_viz = importlib.util.find_spec("viztracer") is not None
    if have_viz:
        modes.append(Mode("viztracer", "viztracer", suffix=".json"))
    in_run: dict[str, list[float]] = {m.name: [] for m in modes}
    whole: dict[str, list[float]] = {m.name: [] for m in modes}
    peak: dict[str, list[float]] = {m.name: [] for m in modes}
    problems: dict[str, list[str]] = {m.name: [] for m in modes if m.checked}
    floored: set[str] = set()
    lines: dict[str, int] = {}
    for r in range(rounds):
        # Rotate the order so that no mode always runs right after the
        # heaviest one (page cache, CPU frequency, the other tenant).
        for m in modes[r % len(modes) :] + modes[: r % len(modes)]:
            say(f"recording: round {r + 1}/{rounds}, {m.name}")
            trace = tmp / f"workload-{m.name}{m.suffix}"
            child = run_child(
                [sys.executable, WORKLOAD, m.argv_mode, str(size), str(trace)],
                env=child_env(m.pure),
                capture=True,
            )
            in_run[m.name].append(json.loads(child.stdout)["in_run"])
            whole[m.name].append(child.wall)
            peak[m.name].append(child.peak_mb)
            if child.floored:
                floored.add(m.name)
            if m.checked:
                found = check_trace(str(trace), size)
                problems[m.name] += [f"round {r + 1}: {p}" for p in found]
                lines[m.name] = count_lines(trace)
            trace.unlink(missing_ok=True)

    def ratio(name: str, of: dict[str, list[float]]) -> list[float]:
        return [a / b for a, b in zip(of[name], of["bare"], strict=True)]

    def above(name: str) -> list[float]:
        return [a - b for a, b in zip(peak[name], peak["bare"], strict=True)]

    events = sum(workload.expected_counts(size).values())
    sec = f"recording ({workload.THREADS}x{size:,} rounds, {events:,} events)"
    viz_note = "" if have_viz else "viztracer not importable: skipped"
    rows = [
        Row(sec, "bare, in-run", in_run["bare"], "s"),
        Row(sec, "drop-in (not recording), in-run", in_run["drop-in"], "s"),
        Row(sec, "recorded, in-run", in_run["recorded"], "s"),
        Row(sec, "recorded-pure, in-run", in_run["recorded-pure"], "s"),
        Row(sec, "drop-in / bare, in-run", ratio("drop-in", in_run), "x", 1.2),
        Row(sec, "recorded / bare, in-run", ratio("recorded", in_run), "x", 2.5),
        Row(sec, "recorded-pure / bare, in-run", ratio("recorded-pure", in_run), "x", 8.0),
    ]
    if have_viz:
        rows.append(Row(sec, "viztracer / bare, in-run", ratio("viztracer", in_run), "x"))
    else:
        rows.append(Row(sec, "viztracer / bare, in-run", note=viz_note))
    rows += [
        Row(sec, "bare, whole process", whole["bare"], "s"),
        Row(sec, "recorded, whole process", whole["recorded"], "s"),
        Row(sec, "recorded / bare, whole process", ratio("recorded", whole), "x", 3.5),
        Row(sec, "recorded-pure / bare, whole process", ratio("recorded-pure", whole), "x"),
    ]
    if have_viz:
        rows.append(Row(sec, "viztracer / bare, whole process", ratio("viztracer", whole), "x"))
    rows += [
        Row(
            sec,
            "bare, peak memory",
            peak["bare"],
            "MB",
            note="the harness's own peak: bare used at most this" if "bare" in floored else "",
        ),
        Row(sec, "recorded, peak memory", peak["recorded"], "MB"),
        Row(sec, "recorded - bare, peak memory", above("recorded"), "+MB", 64.0),
        Row(sec, "recorded-pure - bare, peak memory", above("recorded-pure"), "+MB", 64.0),
    ]
    if have_viz:
        rows.append(Row(sec, "viztracer - bare, peak memory", above("viztracer"), "+MB"))
    for name, found in problems.items():
        note = (
            f"{rounds} traces of {lines.get(name, 0):,} lines: all events, "
            "JSON, seq increasing, 0 dropped"
            if not found
            else "; ".join(found)
        )
        rows.append(Row(sec, f"{name}, trace complete", note=note, passed=not found))
        failures += [f"{name}: {p}" for p in found]
    return rows


# --- analyzer ----------------------------------------------------------------------

#: Trace lines repeated to make the analyzer's big traces: the workload's own.
ROUND_EVENTS = frozenset(workload.PER_ROUND)


def sentinel(key: str) -> str:
    return f"\x00{key}\x00"


def synthesize(base_path: Path, target: int, out_path: Path) -> int:
    """Write a trace of about ``target`` lines made from a recorded one; return its lines.

    Recording 4M events would take minutes and depend on the recorder's
    speed of the day; the analyzer only needs a valid trace of that size in
    the tracer's own format.  So the workload is recorded once, small, and
    its round lines (list and Event lines) are repeated as if the same four
    threads had run more rounds: ``seq`` renumbered from 0 in file order,
    ``ts`` shifted by the span of one copy (never decreasing), ``begin_seq``
    and ``woken_by`` pointing into the same copy, and the List's item numbers
    continued.  The recording's trace.start and thread.start lines come first,
    its thread.end, join and trace.end lines last (``events_written`` corrected).
    Lines are re-serialised by the json module, so the bytes may differ
    slightly from the tracer's (spacing, key order kept).
    """
    with open(base_path, "rb") as f:
        lines = [json.loads(raw) for raw in f]
    body = [d for d in lines if d["event"] in ROUND_EVENTS]
    head = [d for d in lines if d["event"] in ("trace.start", "thread.start")]
    tail = [d for d in lines if d["event"] not in ROUND_EVENTS and d not in head]
    if not body:
        raise BenchError(f"{base_path} has none of the workload's lines")
    n_body = len(body)
    copies = max(1, round((target - len(head) - len(tail)) / n_body))
    span = body[-1]["ts"] - body[0]["ts"] + 1
    at = {d["seq"]: i for i, d in enumerate(body)}
    step: Counter[str] = Counter()
    for d in body:
        if isinstance(d.get("item"), int):
            step[d["obj"]] = max(step[d["obj"]], d["item"])

    # One %-template per round line: json.dumps with sentinels where the
    # numbers change, the sentinels then turned into %(name)d fields.
    templates: list[tuple[str, int, int, int, int, int, int]] = []
    for i, d in enumerate(body):
        fields = dict(d, seq=sentinel("seq"), ts=sentinel("ts"))
        refs = {"begin_seq": 0, "woken_by": 0}
        for key in refs:
            if isinstance(d.get(key), int):
                fields[key] = sentinel(key)
                refs[key] = at[d[key]]
        item = d.get("item")
        if isinstance(item, int):
            fields["item"] = sentinel("item")
        text = json.dumps(fields, separators=(",", ":"), ensure_ascii=False).replace("%", "%%")
        for key in ("seq", "ts", "begin_seq", "woken_by", "item"):
            text = text.replace(json.dumps(sentinel(key)), f"%({key})d")
        templates.append(
            (
                text,
                i,
                d["ts"],
                refs["begin_seq"],
                refs["woken_by"],
                item if isinstance(item, int) else 0,
                step[d.get("obj") or ""],
            )
        )

    total = len(head) + copies * n_body + len(tail)
    first_ts = body[0]["ts"]
    with open(out_path, "w", encoding="utf-8") as out:
        for seq, d in enumerate(head):
            out.write(_dumps(dict(d, seq=seq, ts=min(d["ts"], first_ts))) + "\n")
        for k in range(copies):
            base, dt = len(head) + k * n_body, k * span
            out.write(
                "\n".join(
                    t
                    % {
                        "seq": base + i,
                        "ts": ts + dt,
                        "begin_seq": base + b,
                        "woken_by": base + w,
                        "item": item + k * st,
                    }
                    for t, i, ts, b, w, item, st in templates
                )
                + "\n"
            )
        # The tail's references: to itself, or to the last copy's lines.
        tail_base = len(head) + copies * n_body
        last = tail_base - n_body
        moved = {d["seq"]: tail_base + j for j, d in enumerate(tail)}
        moved.update({s: last + i for s, i in at.items()})
        last_ts = body[-1]["ts"] + (copies - 1) * span
        for j, d in enumerate(tail):
            line = dict(d, seq=tail_base + j, ts=max(d["ts"] + (copies - 1) * span, last_ts))
            last_ts = line["ts"]
            if isinstance(d.get("begin_seq"), int):
                line["begin_seq"] = moved.get(d["begin_seq"], d["begin_seq"])
            if d["event"] == "trace.end":
                line["events_written"] = total - 1
                line["blocked"] = [
                    dict(b, begin_seq=moved.get(b.get("begin_seq"), b.get("begin_seq")))
                    for b in d.get("blocked") or []
                ]
            out.write(_dumps(line) + "\n")
    return total


def _dumps(line: dict[str, Any]) -> str:
    return json.dumps(line, separators=(",", ":"), ensure_ascii=False)


def count_label(n: int) -> str:
    return f"{n / 1e6:.2f}M" if n >= 1_000_000 else f"{n / 1e3:.0f}k"


def analyzer(rounds: int, sizes: Sequence[int], tmp: Path) -> list[Row]:
    base = tmp / "analyzer-base.jsonl"
    say("analyzer: recording the base trace")
    run_child([sys.executable, WORKLOAD, "recorded", "100", str(base)], env=child_env())
    files: list[tuple[Path, int]] = []
    for size in sizes:
        path = tmp / f"analyzer-{size}.jsonl"
        say(f"analyzer: writing a trace of about {size:,} events")
        files.append((path, synthesize(base, size, path)))
    report = [*analyze_command(), "report", "--format", "json"]
    read = "import polars as pl, sys; pl.read_ndjson(sys.argv[1])"
    times: dict[tuple[int, str], list[float]] = {}
    peaks: dict[tuple[int, str], list[float]] = {}
    for r in range(rounds):
        for k, (path, _) in enumerate(files):
            runs = [
                ("report", [*report, str(path)]),
                ("read", [sys.executable, "-c", read, str(path)]),
            ]
            if (r + k) % 2:
                runs.reverse()
            for what, argv in runs:
                say(f"analyzer: round {r + 1}/{rounds}, {path.name}, {what}")
                child = run_child(argv, env=child_env())
                times.setdefault((k, what), []).append(child.wall)
                peaks.setdefault((k, what), []).append(child.peak_mb)
    rows: list[Row] = []
    middle, large = 1, 2  # the 1M and 4M
    for k, (path, n) in enumerate(files):
        sec = f"analyzer ({count_label(n)} events)"
        file_mb = path.stat().st_size / MB
        rep, rd = times[(k, "report")], times[(k, "read")]
        rows += [
            Row(sec, "analyze report --format json", rep, "s"),
            Row(sec, "polars read_ndjson", rd, "s"),
            Row(
                sec,
                "report / read_ndjson",
                [a / b for a, b in zip(rep, rd, strict=True)],
                "x",
                1.5 if k == middle else None,
            ),
            Row(
                sec,
                "report, peak memory",
                peaks[(k, "report")],
                "MB",
                None,
                f"file {file_mb:.0f} MB",
            ),
            Row(sec, "read_ndjson, peak memory", peaks[(k, "read")], "MB"),
            Row(
                sec,
                "report peak memory / file size",
                [p / file_mb for p in peaks[(k, "report")]],
                "x",
                1.5 if k in (middle, large) else None,
            ),
        ]
    if len(files) > large:
        n_mid, n_large = files[middle][1], files[large][1]
        rows.append(
            Row(
                f"analyzer ({count_label(n_large)} / {count_label(n_mid)} events)",
                "report time, larger / smaller",
                [
                    a / b
                    for a, b in zip(
                        times[(large, "report")], times[(middle, "report")], strict=True
                    )
                ],
                "x",
                4.4 * (n_large / n_mid) / 4,  # the goal is 4.4x for 4x the events
            )
        )
    for path, _ in files:
        path.unlink(missing_ok=True)
    return rows


# --- start-up ----------------------------------------------------------------------


def startup(rounds: int, repeat: int) -> list[Row]:
    runs = [
        ("report", [*analyze_command(), "report", str(SMALL_TRACE)]),
        ("polars", [sys.executable, "-c", "import polars"]),
    ]
    times: dict[str, list[float]] = {"report": [], "polars": []}
    # Start-up is short and noisy: several runs per round, alternating.
    for r in range(rounds * repeat):
        for what, argv in runs if r % 2 else runs[::-1]:
            times[what].append(run_child(argv, env=child_env()).wall)
    say("startup: done")
    sec = "start-up"
    return [
        Row(sec, f"analyze report {SMALL_TRACE.name}", times["report"], "s"),
        Row(sec, 'python -c "import polars"', times["polars"], "s"),
        Row(
            sec,
            "report / import polars",
            [a / b for a, b in zip(times["report"], times["polars"], strict=True)],
            "x",
            1.5,
        ),
    ]


# --- bytes per event -------------------------------------------------------------


GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


def compressed_size(path: Path, ext: str) -> int | None:
    """Bytes of ``path`` compressed as ``ext`` would be; None without zstandard.

    Streamed, so that the harness stays small (see run_child).
    """
    target = path.with_name(path.name + ".packed")
    with open(path, "rb") as src:
        if ext == "gz":
            with gzip.open(target, "wb", compresslevel=6) as gz:
                shutil.copyfileobj(src, gz)
        else:
            if importlib.util.find_spec("zstandard") is None:
                return None
            import zstandard  # type: ignore[import-untyped, import-not-found, unused-ignore]

            with open(target, "wb") as dst:
                zstandard.ZstdCompressor(level=3).copy_stream(src, dst)
    packed = target.stat().st_size
    target.unlink()
    return packed


def count_lines(path: Path) -> int:
    with open(path, "rb") as f:
        return sum(1 for _ in f)


def size(rounds: int, tmp: Path) -> list[Row]:
    plain = tmp / "size.jsonl"
    say(f"size: recording {rounds} rounds a thread")
    run_child([sys.executable, WORKLOAD, "recorded", str(rounds), str(plain)], env=child_env())
    events = count_lines(plain)
    sec = f"bytes per event ({events:,} events)"
    rows = [Row(sec, "plain .jsonl", [plain.stat().st_size / events], "B", 110.0)]
    levels = {"gz": "gzip -6", "zst": "zstandard -3"}
    magics = {"gz": GZIP_MAGIC, "zst": ZSTD_MAGIC}
    for ext, how in levels.items():
        what = f".jsonl.{ext}"
        # Once the tracer writes compressed traces itself, measure what it
        # writes; until then, the plain trace compressed here.
        direct = tmp / f"size.jsonl.{ext}"
        run_child([sys.executable, WORKLOAD, "recorded", str(rounds), str(direct)], env=child_env())
        with open(direct, "rb") as f:
            written = f.read(len(magics[ext])) == magics[ext]
        direct_size = direct.stat().st_size
        direct.unlink()
        if written:
            # Divided by the plain trace's lines: the same workload, whose
            # joins may differ by a line or two, noise at this size.
            rows.append(Row(sec, what, [direct_size / events], "B", 12.0, "written by the tracer"))
            continue
        packed = compressed_size(plain, ext)
        if packed is None:
            note = "tracer writes plain text here; zstandard not importable"
            rows.append(Row(sec, what, [], "B", 12.0, note))
        else:
            note = f"tracer writes plain text here: {how} of the plain trace"
            rows.append(Row(sec, what, [packed / events], "B", 12.0, note))
    plain.unlink()
    return rows


# --- the command -------------------------------------------------------------------


def main(argv: Iterable[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="synctrace's benchmarks: a table of medians, ratios measured in one run."
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, 3 rounds (for CI)")
    parser.add_argument("--rounds", type=int, help="rounds per measurement (default 5, quick 3)")
    parser.add_argument(
        "--only", action="append", choices=SECTIONS, help="run only this section (repeatable)"
    )
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument(
        "--size",
        type=int,
        help="workload rounds per thread for recording (default 20000, quick 2000)",
    )
    args = parser.parse_args(None if argv is None else list(argv))
    rounds = args.rounds or (3 if args.quick else 5)
    work = args.size or (2_000 if args.quick else 20_000)
    sizes = [5_000, 25_000, 100_000] if args.quick else [100_000, 1_000_000, 4_000_000]
    sections = args.only or list(SECTIONS)
    rows: list[Row] = []
    failures: list[str] = []
    started = time.perf_counter()
    compile_sources()
    try:
        with tempfile.TemporaryDirectory(prefix="synctrace-bench-") as tmp_dir:
            tmp = Path(tmp_dir)
            if "recording" in sections:
                rows += recording(rounds, work, tmp, failures)
            if "analyzer" in sections:
                rows += analyzer(rounds, sizes, tmp)
            if "startup" in sections:
                rows += startup(rounds, 2 if args.quick else 3)
            if "size" in sections:
                rows += size(min(work, 5_000), tmp)
    except BenchError as exc:
        say(f"bench: {exc}")
        return 2
    mode = "quick: small sizes, verdicts indicative only" if args.quick else "full"
    print(
        f"synctrace benchmarks ({mode}): {rounds} round(s), medians with min and max;"
        f" python {sys.version.split()[0]}, {os.cpu_count()} CPUs,"
        f" {time.perf_counter() - started:.0f} s"
    )
    print()
    print(render(rows, args.markdown))
    if failures:
        say("bench: failed checks:\n  " + "\n  ".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
