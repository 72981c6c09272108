"""The JSON report: a contract for CI scripts, so keys are only ever added."""

from __future__ import annotations

from typing import Any, Final

import orjson
import polars as pl

from analyze.report import Report
from synctrace import schema


def _rounded(value: float | None, places: int) -> float | None:
    return None if value is None else round(value, places)


#: JSON key -> Report.findings column, in the order the keys are written.
_FINDING_KEYS: Final = {
    "kind": "kind",
    "severity": "severity",
    "ts_s": "ts_s",
    "thread": "thread",
    "object": "obj",
    "site": "site",
    "message": "message",
    "file": "file",
    # The finding's index in "runs" (several runs may share a file).
    "run": "run",
    "seq": "seq",
    # The finding's index in "causes".
    "cause": "cause",
}


def _findings(found: pl.DataFrame) -> list[dict[str, Any]]:
    """One dict per finding, built column-wise.

    A busy trace has a finding per round (124k on the benchmark's 1M lines):
    ``iter_rows(named=True)`` built a dict per row through polars' row
    access at 2.7 us a row, zipping the columns' lists costs a third of it.
    Rounding stays Python's ``round``, which is correctly rounded (polars'
    ``round`` scales and can land one ulp away, which prints differently).
    """
    columns = [found.get_column(name).to_list() for name in _FINDING_KEYS.values()]
    at = list(_FINDING_KEYS).index("ts_s")
    columns[at] = [round(ts, 9) for ts in columns[at]]
    keys = tuple(_FINDING_KEYS)
    return [dict(zip(keys, row, strict=True)) for row in zip(*columns, strict=True)]


def _findings_json(found: pl.DataFrame) -> orjson.Fragment:
    """The findings as the JSON text ``orjson.dumps(_findings(found), OPT_INDENT_2)`` writes,
    indented for their place in the report, built a column at a time.

    A busy trace has a finding per round, and a dict per finding cost more
    than the rest of the report (0.27 s of 0.4 s on 124k findings).  Each
    value is encoded by orjson as the dicts' would be: every distinct name
    once, messages and times one by one; polars then lays out the lines.
    """
    if found.height == 0:
        return orjson.Fragment(b"[]")
    times = orjson.dumps([round(ts, 9) for ts in found.get_column("ts_s").to_list()])
    encoded = {"ts_s": pl.Series(times[1:-1].decode().split(","))}
    for key in ("kind", "severity", "thread", "obj", "site", "file", "message"):
        encoded[key] = _strings(found.get_column(key), few=key != "message")
    for key in ("run", "seq", "cause"):
        encoded[key] = found.get_column(key).cast(pl.String).fill_null("null")
    # Each finding as orjson indents it, two levels down: the key lines
    # are text, the values the encoded columns.
    parts: list[pl.Expr] = []
    for n, (key, column) in enumerate(_FINDING_KEYS.items()):
        head = "    {\n" if n == 0 else ",\n"
        parts += [pl.lit(f"{head}      {orjson.dumps(key).decode()}: "), pl.col(column)]
    parts.append(pl.lit("\n    }"))
    # A slice at a time: the text of every finding is the report's bulk
    # (47 MB for 124k), and held as polars' rows, their join and its copy
    # in Python at once, it raised the report's peak by three times that.
    rows = pl.DataFrame(encoded).select(pl.concat_str(parts).alias("row"))
    pieces = [s.select(pl.col("row").str.join(",\n")).item() for s in rows.iter_slices(16_384)]
    del rows
    pieces[0] = "[\n" + pieces[0]
    pieces[-1] += "\n  ]"
    return orjson.Fragment(",\n".join(pieces))


#: What JSON escapes in a string: a quote, a backslash, control characters.
_ESCAPED: Final = r'["\\\x00-\x1f]'


def _strings(column: pl.Series, *, few: bool) -> pl.Series:
    """A text column as JSON strings (null as ``null``), each as orjson writes it.

    ``few``: the column repeats a few names, each encoded once.  Otherwise
    only the values JSON escapes something in go through orjson; the rest
    (nearly every message) are written between quotes as they are, which
    is what orjson writes for them (it leaves non-ASCII text unescaped).
    """
    odd = column.filter(column.str.contains(_ESCAPED)) if not few else column.drop_nulls()
    spelled = {text: orjson.dumps(text).decode() for text in odd.unique().to_list()}
    quoted = pl.concat_str([pl.lit('"'), pl.col("text"), pl.lit('"')])
    return (
        pl.DataFrame({"text": column})
        .select(
            pl.when(pl.col("text").is_null())
            .then(pl.lit("null"))
            .otherwise(
                pl.col("text").replace_strict(spelled, default=quoted, return_dtype=pl.String)
                if spelled
                else quoted
            )
        )
        .to_series()
    )


def report_dict(report: Report) -> dict[str, Any]:
    """The report as plain JSON-ready data."""
    return _document(report, _findings(report.findings))


def _document(report: Report, findings: Any) -> dict[str, Any]:
    """The report's JSON document, with ``findings`` as its findings."""
    info = report.trace
    return {
        "report": schema.SCHEMA_MAJOR,
        "trace": {
            "files": info.files,
            "events": info.events,
            "duration_s": round(info.duration_s, 9),
            "complete": info.complete,
            "warnings": info.warnings,
            "started": info.started,
            "reasons": info.reasons,
            "details": info.details,
            "exit_codes": info.exit_codes,
            "time_scales": info.time_scales,
            "runs": len(info.runs),
            "redacted": info.redacted,
        },
        "runs": [
            {
                "run": r.run,
                "file": r.file,
                "first_line": r.first_line,
                "label": r.label,
                "events": r.events,
                "complete": r.complete,
                "reason": r.reason,
                "redacted": r.redacted,
                "counts": r.counts,
            }
            for r in info.runs
        ],
        "counts": report.counts,
        "causes": [
            {
                "kind": c["kind"],
                "severity": c["severity"],
                "object": c["obj"],
                "site": c["site"],
                "count": c["count"],
                "first_ts_s": round(c["first_ts_s"], 9),
                "last_ts_s": round(c["last_ts_s"], 9),
                "threads": c["threads"],
                "explanation": c["explanation"],
                "fix": c["fix"],
            }
            for c in report.causes.iter_rows(named=True)
        ],
        "findings": findings,
        "containers": {
            c["obj"]: {
                "added": c["added"],
                "taken": c["taken"],
                "discarded": c["discarded"],
                "stranded": c["stranded"],
                # Still there at the end, but a consumer could still take them.
                "left": c["left"],
                "failed_takes": c["failed_takes"],
                "order": c["order"],
                "residency_ms": {
                    q: _rounded(c[f"residency_{q}_ms"], 6) for q in ("min", "p50", "p95", "max")
                },
            }
            for c in report.containers.iter_rows(named=True)
        },
        "threads": {
            t["thread"]: {"waits": t["waits"], "blocked_s": round(t["blocked_s"], 9)}
            for t in report.threads.iter_rows(named=True)
        },
    }


def render_json(report: Report, *, show_all: bool = False) -> str:
    """The report as indented JSON, every finding listed (``show_all`` changes nothing)."""
    document = _document(report, _findings_json(report.findings))
    text = orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)
    # The findings' text is in the bytes now: let it go before decoding them.
    del document
    return text.decode()
