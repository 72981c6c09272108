"""The JSON report's text: the findings laid out a column at a time, as orjson writes them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import orjson
import polars as pl
from tracebuild import Recorder

from analyze import Report, render_json
from analyze.render.json import report_dict

BuildReport = Callable[..., Report]


def dumped(report: Report) -> str:
    """The report as orjson writes its plain data: what render_json must equal."""
    return orjson.dumps(report_dict(report), option=orjson.OPT_INDENT_2).decode() + "\n"


def test_findings_text_is_orjsons_of_the_findings(
    recorder: Recorder, report_of: BuildReport
) -> None:
    """Names with quotes, newlines and accents, and times, read as orjson writes each value."""
    for n, name in enumerate(['dé"jà', "line\nbreak", "tab\there\\", "ready"]):
        recorder.set(name, site=f'app "{n}".py:{n}')
        recorder.set(name, thread="Wörker ✓-1")
    report = report_of(recorder)
    assert report.findings.height == 8
    assert render_json(report) == dumped(report)


def test_null_fields_and_odd_numbers_are_written_as_orjson_does(
    recorder: Recorder, report_of: BuildReport
) -> None:
    """A finding without object, site, thread or cause, and times that round, read the same."""
    recorder.set()
    report = report_of(recorder)
    row = report.findings.row(0, named=True)
    odd = pl.DataFrame(
        [
            row,
            {**row, "obj": None, "site": None, "thread": None, "cause": None, "ts_s": 1e-05},
            {**row, "ts_s": 123456.1234567891, "message": '\x00\x1f\u2028 é\x7f \\ "'},
            {**row, "message": 'only "quoted"'},
            {**row, "message": "only back\\slashed"},
        ],
        schema=report.findings.schema,
    )
    report = replace(report, findings=odd)
    assert render_json(report) == dumped(report)


def test_no_findings_is_an_empty_list(report_of: BuildReport) -> None:
    """A report with no findings writes ``"findings": []`` as orjson would."""
    report = report_of(Recorder())
    assert report.findings.height == 0
    assert render_json(report) == dumped(report)
    assert '"findings": []' in render_json(report)


def test_findings_written_in_several_slices_join_up(
    recorder: Recorder, report_of: BuildReport
) -> None:
    """More findings than one slice of text holds read as one list, commas and brackets right."""
    recorder.set()
    report = report_of(recorder)
    many = pl.concat([report.findings] * 40_000).with_columns(seq=pl.int_range(40_000))
    report = replace(report, findings=many)
    assert render_json(report) == dumped(report)
