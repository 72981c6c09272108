"""gzip- and zstd-compressed traces are read directly, cut ones in part, damaged ones refused."""

from __future__ import annotations

import gzip
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
import zstandard
from click.testing import CliRunner
from tracebuild import Recorder, found

from analyze import Report, TraceError, build_report, load_traces
from analyze.cli import main
from analyze.validate import validate_file

TRACES = Path(__file__).resolve().parents[2] / "traces"
COOKBOOK = TRACES / "cookbook.jsonl"

Compress = Callable[[bytes], bytes]
COMPRESSORS: dict[str, Compress] = {
    "gz": gzip.compress,
    "zst": zstandard.ZstdCompressor(write_checksum=True).compress,
}


def _report(path: Path) -> Report:
    return build_report(load_traces([path]))


def _written(tmp_path: Path, suffix: str, data: bytes) -> Path:
    path = tmp_path / f"trace.jsonl.{suffix}"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("suffix", COMPRESSORS)
def test_compressed_trace_reports_like_the_plain_one(tmp_path: Path, suffix: str) -> None:
    """The cookbook trace compressed gives the same findings, tables and counts as plain."""
    path = _written(tmp_path, suffix, COMPRESSORS[suffix](COOKBOOK.read_bytes()))
    plain, packed = _report(COOKBOOK), _report(path)
    assert found(packed) == found(plain)
    assert packed.containers.equals(plain.containers)
    assert packed.threads.equals(plain.threads)
    assert (packed.counts, packed.trace.events) == (plain.counts, plain.trace.events)
    assert packed.trace.files == [str(path)]


def test_kind_is_told_by_content_not_name(tmp_path: Path) -> None:
    """A gzip trace named .jsonl is still decompressed."""
    path = tmp_path / "renamed.jsonl"
    path.write_bytes(gzip.compress(COOKBOOK.read_bytes()))
    assert _report(path).counts == _report(COOKBOOK).counts


def test_gzip_of_several_members_is_read_whole(tmp_path: Path) -> None:
    """Two gzip members one after the other (a writer that restarts its stream) are one file."""
    text = COOKBOOK.read_bytes()
    half = text.index(b"\n", len(text) // 2) + 1
    path = _written(tmp_path, "gz", gzip.compress(text[:half]) + gzip.compress(text[half:]))
    assert _report(path).trace.events == _report(COOKBOOK).trace.events


def _long_run(rounds: int) -> bytes:
    """A run of ``rounds`` set/clear pairs: a lost signal each, well over one zstd block."""
    rec = Recorder()
    for _ in range(rounds):
        rec.set()
        rec.clear()
    rec.end()
    return rec.text().encode()


@pytest.mark.parametrize("suffix", COMPRESSORS)
def test_cut_stream_is_read_up_to_the_cut(tmp_path: Path, suffix: str) -> None:
    """A compressed trace cut short (a killed run) is analysed up to its last whole line."""
    text = _long_run(3000)
    packed = COMPRESSORS[suffix](text)
    path = _written(tmp_path, suffix, packed[: len(packed) * 2 // 3])
    report = _report(path)
    whole = report.trace.events
    assert 0 < whole < text.count(b"\n") - 1
    assert report.counts["lost-signal"] == (whole - 1) // 2
    assert report.trace.warnings == [
        f"{path}:{whole + 1}: the last line is cut short (the run was killed while writing it);"
        " it was skipped",
        f"trace {path} has no trace.end: the run was killed or is still running, so findings"
        " may be incomplete",
    ]


def test_stream_cut_before_any_line_is_one_line(tmp_path: Path) -> None:
    """A zstd trace cut inside its first block holds no line yet: one line says so."""
    packed = COMPRESSORS["zst"](_long_run(10))
    path = _written(tmp_path, "zst", packed[: len(packed) // 2])
    with pytest.raises(TraceError) as caught:
        _report(path)
    assert str(caught.value) == (
        f"{path}: the zstd data ends before its first line (the run was killed while writing"
        " it); nothing to analyse"
    )


@pytest.mark.parametrize("suffix", COMPRESSORS)
def test_damaged_stream_is_one_line_naming_the_file(tmp_path: Path, suffix: str) -> None:
    """A flipped byte inside the compressed data is refused with the file and what to do."""
    packed = bytearray(COMPRESSORS[suffix](COOKBOOK.read_bytes()))
    packed[len(packed) // 2] ^= 0xFF
    path = _written(tmp_path, suffix, bytes(packed))
    kind = {"gz": "gzip", "zst": "zstd"}[suffix]
    with pytest.raises(TraceError, match=rf"^{path}: the {kind} data is damaged \(") as caught:
        _report(path)
    assert str(caught.value).endswith("so record the run again")
    assert "\n" not in str(caught.value)

    result = CliRunner().invoke(main, ["report", str(path)])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {path}: the {kind} data is damaged")
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize("suffix", COMPRESSORS)
def test_bad_line_inside_a_compressed_trace_is_named(tmp_path: Path, suffix: str) -> None:
    """A line breaking the format inside a compressed trace is skipped and named, as in plain."""
    lines = COOKBOOK.read_bytes().splitlines(keepends=True)
    lines[3] = b'{"event": "event.set", "ts": "soon"}\n'
    path = _written(tmp_path, suffix, COMPRESSORS[suffix](b"".join(lines)))
    report = _report(path)
    assert report.trace.warnings[0] == (
        f"{path}:4: required field 'seq' is missing (every line needs event, ts, seq, thread,"
        " thread_id); the line was skipped"
    )
    assert report.trace.events == len(lines) - 1


@pytest.mark.parametrize("suffix", COMPRESSORS)
def test_concatenated_compressed_runs_are_two_runs(tmp_path: Path, suffix: str) -> None:
    """Two compressed runs joined with cat are read as two runs, like plain ones."""
    one = COMPRESSORS[suffix](COOKBOOK.read_bytes())
    path = _written(tmp_path, suffix, one + one)
    report = _report(path)
    assert [r.first_line for r in report.trace.runs] == [1, COOKBOOK.read_text().count("\n") + 1]
    assert report.counts == {k: 2 * n for k, n in _report(COOKBOOK).counts.items()}
    assert report.trace.warnings == []


@pytest.mark.parametrize("suffix", COMPRESSORS)
def test_a_small_file_inflating_to_one_huge_line_is_read_in_bounded_memory(
    tmp_path: Path, suffix: str
) -> None:
    """Kilobytes inflating to a 32 MiB line: report refuses it, validate names it, both small."""
    line = b'{"event": "trace.start", "argv": ["' + b"a" * (32 << 20) + b'"]}\n'
    path = _written(tmp_path, suffix, COMPRESSORS[suffix](line))
    assert path.stat().st_size < 4 << 20
    tracemalloc.start()
    try:
        with pytest.raises(TraceError, match="the first line is longer than 1,048,576 bytes"):
            load_traces([path])
        verdict = validate_file(str(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert [p.message for p in verdict.problems] == [
        f"a line of {len(line):,} bytes, longer than any trace line"
    ]
    assert peak < 8 << 20
