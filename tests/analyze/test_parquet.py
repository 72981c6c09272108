"""analyze convert writes a trace as Parquet, and report reads it (or a folder) the same."""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
import zstandard
from click.testing import CliRunner, Result
from tracebuild import Recorder, found

from analyze import Report, build_report, load_traces
from analyze.cli import main

TRACES = Path(__file__).resolve().parents[2] / "traces"
COOKBOOK = TRACES / "cookbook.jsonl"

WriteTrace = Callable[..., Path]


def _cli(*args: object) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


def _report(*paths: Path) -> Report:
    return build_report(load_traces(paths))


def _same(a: Report, b: Report) -> None:
    assert found(a) == found(b)
    assert a.findings.drop("file").equals(b.findings.drop("file"))
    assert a.containers.equals(b.containers)
    assert a.threads.equals(b.threads)
    assert a.counts == b.counts
    info_a, info_b = a.trace, b.trace
    assert (info_a.events, info_a.duration_s, info_a.complete) == (
        info_b.events,
        info_b.duration_s,
        info_b.complete,
    )
    assert (info_a.started, info_a.reasons, info_a.exit_codes) == (
        info_b.started,
        info_b.reasons,
        info_b.exit_codes,
    )


def test_parquet_reports_like_the_trace(tmp_path: Path) -> None:
    """The cookbook trace converted to Parquet gives the same report, file names aside."""
    result = _cli("convert", COOKBOOK, "-o", tmp_path / "cookbook.parquet")
    assert result.exit_code == 0, result.output
    assert result.stderr == f"wrote {tmp_path / 'cookbook.parquet'}\n"
    _same(_report(tmp_path / "cookbook.parquet"), _report(COOKBOOK))


@pytest.mark.parametrize("suffix", ["gz", "zst"])
def test_convert_reads_compressed_traces(tmp_path: Path, suffix: str) -> None:
    """convert takes .jsonl.gz and .jsonl.zst, and by default names the output after the trace."""
    compress = gzip.compress if suffix == "gz" else zstandard.ZstdCompressor().compress
    source = tmp_path / f"cookbook.jsonl.{suffix}"
    source.write_bytes(compress(COOKBOOK.read_bytes()))
    assert _cli("convert", source).exit_code == 0
    _same(_report(tmp_path / "cookbook.parquet"), _report(COOKBOOK))


def test_every_field_is_a_typed_column(tmp_path: Path) -> None:
    """The Parquet file keeps every line and every field of the format, typed."""
    target = tmp_path / "t.parquet"
    _cli("convert", COOKBOOK, "-o", target)
    frame = pl.read_parquet(target)
    assert frame.height == len(COOKBOOK.read_text().splitlines())
    assert frame.schema["seq"] == pl.Int64 and frame.schema["value"] == pl.String
    assert frame["event"][0] == "trace.start" and frame["event"][-1] == "trace.end"


def test_a_folder_is_its_parquet_files_one_run_each(
    tmp_path: Path, write_trace: WriteTrace
) -> None:
    """A folder of Parquet files reports like its files given in name order."""
    first, second = Recorder(), Recorder()
    first.set()
    first.clear()
    second.append(1)
    second.pop(None, error="IndexError")
    folder = tmp_path / "runs"
    folder.mkdir()
    for name, rec in (("a", first), ("b", second)):
        _cli("convert", write_trace(rec, name=f"{name}.jsonl"), "-o", folder / f"{name}.parquet")
    (folder / "notes.txt").write_text("not a trace")
    by_folder = _report(folder)
    assert by_folder.trace.files == [str(folder / "a.parquet"), str(folder / "b.parquet")]
    _same(by_folder, _report(tmp_path / "a.jsonl", tmp_path / "b.jsonl"))
    assert [(kind, seq) for kind, _, seq, _, _ in found(by_folder)] == [
        ("lost-signal", 1),
        ("stranded-item", 1),
        ("failed-take", 2),
    ]


def test_missing_trace_end_survives_conversion(tmp_path: Path, write_trace: WriteTrace) -> None:
    """A run without trace.end is still reported incomplete from its Parquet file."""
    rec = Recorder()
    rec.set()
    source = write_trace(rec, end=False)
    _cli("convert", source, "-o", tmp_path / "t.parquet")
    info = _report(tmp_path / "t.parquet").trace
    assert not info.complete
    assert info.warnings == [
        f"trace {tmp_path / 't.parquet'} has no trace.end: the run was killed or is still"
        " running, so findings may be incomplete"
    ]


def test_bad_line_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    """Converting a trace with a bad line names the line, exits 2 and leaves no file behind."""
    lines = COOKBOOK.read_text().splitlines(keepends=True)
    lines[4] = '{"event": "event.set", "ts": 1, "seq": "five"}\n'
    source = tmp_path / "bad.jsonl"
    source.write_text("".join(lines))
    result = _cli("convert", source)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {source}:5: ")
    assert result.stderr.count("\n") == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.jsonl"]


def test_parquet_without_trace_metadata_is_refused(tmp_path: Path) -> None:
    """A Parquet file that convert did not write is one line saying how to make one."""
    path = tmp_path / "other.parquet"
    pl.DataFrame({"a": [1]}).write_parquet(path)
    result = _cli("report", path)
    assert result.exit_code == 2
    assert result.stderr == (
        f"Error: {path}: a Parquet file without synctrace metadata; write it from a trace with"
        " `analyze convert TRACE -o other.parquet`\n"
    )


def test_converting_parquet_is_refused(tmp_path: Path) -> None:
    """convert on a Parquet file says to report on it directly."""
    target = tmp_path / "t.parquet"
    _cli("convert", COOKBOOK, "-o", target)
    result = _cli("convert", target, "-o", tmp_path / "u.parquet")
    assert result.exit_code == 2
    assert "is already Parquet" in result.stderr


def test_copy_of_a_parquet_trace_is_read_by_content(tmp_path: Path) -> None:
    """A Parquet trace renamed to .jsonl is still read as Parquet (kind comes from the bytes)."""
    _cli("convert", COOKBOOK, "-o", tmp_path / "t.parquet")
    shutil.copy(tmp_path / "t.parquet", tmp_path / "t.jsonl")
    _same(_report(tmp_path / "t.jsonl"), _report(COOKBOOK))


def test_parquet_with_an_unknown_event_is_analyzed_with_a_warning(
    tmp_path: Path, recorder: Recorder, write_trace: WriteTrace
) -> None:
    """A converted trace of a newer 1.x (an unknown event) is reported, saying so."""
    recorder.set()
    recorder.op("queue.peek", "q")
    parquet = tmp_path / "t.parquet"
    assert _cli("convert", write_trace(recorder), "-o", parquet).exit_code == 0
    report = _report(parquet)
    assert report.counts["unwaited-signal"] == 1
    assert report.trace.warnings == [
        f"{parquet}: some lines break the format's rules (an unknown event, ts going back, or"
        " an end that does not match its begin); analyzed as they are (`analyze validate`"
        " the trace it was converted from names them)"
    ]


def test_converting_runs_joined_with_cat_is_refused(
    tmp_path: Path, recorder: Recorder, write_trace: WriteTrace
) -> None:
    """A file of two runs is not one Parquet trace: one line, exit 2, nothing written."""
    recorder.set()
    path = write_trace(recorder)
    path.write_text(path.read_text() * 2)
    parquet = tmp_path / "t.parquet"
    result = _cli("convert", path, "-o", parquet)
    assert (result.exit_code, result.stderr) == (
        2,
        f"Error: {path}: holds 2 runs (traces joined with cat), and a Parquet file holds one;"
        " convert each run's own trace, or report on this file as it is\n",
    )
    assert not parquet.exists() and not Path(f"{parquet}.partial").exists()


def test_converting_a_damaged_trace_points_to_validate(
    tmp_path: Path, recorder: Recorder, write_trace: WriteTrace
) -> None:
    """A garbled line inside a trace is named with `analyze validate`, not as 'not a trace'."""
    recorder.set()
    path = write_trace(recorder)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join([*lines[:2], "\x00garbage\n", *lines[2:]]))
    result = _cli("convert", path, "-o", tmp_path / "t.parquet")
    assert (result.exit_code, result.stderr) == (
        2,
        f"Error: {path}:3: not a JSON object (`analyze validate {path}` lists every problem)\n",
    )
