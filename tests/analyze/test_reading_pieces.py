"""Reading JSON lines a piece at a time: the same lines whatever the pieces, held narrow."""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from tracebuild import Recorder

from analyze import build_report, load_traces, reading
from analyze.columns import ANALYZED, NAME, RUN

WriteTrace = Callable[..., Path]


def busy(recorder: Recorder) -> Recorder:
    """A run with container, Event and log lines, and a value far longer than a tiny piece."""
    for item in range(1, 6):
        recorder.append(item, value="x" * 300 if item == 3 else str(item))
        recorder.set()
        recorder.pop(item)
    recorder.line("log", level="INFO", logger="app", message='a "quoted"\nmessage')
    return recorder


def lines_of(path: Path) -> pl.DataFrame:
    return load_traces([path]).events.collect()


def test_tiny_pieces_read_the_same_lines(
    recorder: Recorder, write_trace: WriteTrace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pieces smaller than a line (lines glued across reads) give the frame one piece gives."""
    path = write_trace(busy(recorder))
    whole = lines_of(path)
    monkeypatch.setattr(reading, "_PARSE_PIECE", 64)
    assert_frame_equal(lines_of(path), whole)
    assert whole.height == len(recorder.lines)
    assert whole["value"].str.len_chars().max() == 300


def test_pieces_of_decompressed_bytes_read_the_same_lines(
    recorder: Recorder, write_trace: WriteTrace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A gzip trace, cut into pieces of its decompressed bytes, reads as the plain file does."""
    plain = write_trace(busy(recorder))
    monkeypatch.setattr(reading, "_PARSE_PIECE", 100)
    assert_frame_equal(lines_of(packed(plain)), lines_of(plain))


def packed(path: Path) -> Path:
    """The trace gzipped beside it."""
    out = path.with_suffix(".jsonl.gz")
    out.write_bytes(gzip.compress(path.read_bytes()))
    return out


@pytest.mark.parametrize("piece", [64, 1 << 20])
@pytest.mark.parametrize("kind", ["plain", "gzip"])
def test_a_last_line_without_newline_is_read_and_a_torn_one_left_out(
    recorder: Recorder,
    write_trace: WriteTrace,
    monkeypatch: pytest.MonkeyPatch,
    piece: int,
    kind: str,
) -> None:
    """trace.end with no newline after it is a line; a cut-short last line is not."""
    monkeypatch.setattr(reading, "_PARSE_PIECE", piece)
    ended = write_trace(busy(Recorder()))
    ended.write_text(ended.read_text().rstrip("\n"))
    torn = write_trace(busy(recorder), end=False, tail='{"event":"event.cle')
    if kind == "gzip":
        ended, torn = packed(ended), packed(torn)
    assert lines_of(ended)["event"].cast(pl.String).to_list()[-1] == "trace.end"
    assert lines_of(torn).height == len(recorder.lines)


def test_the_lines_are_held_in_the_analysed_dtypes(
    recorder: Recorder, write_trace: WriteTrace
) -> None:
    """Names are categories, numbers narrowed, and a field no line has is a typed null column."""
    lines = lines_of(write_trace(busy(recorder)))
    assert dict(lines.schema) == {RUN: pl.Int64(), **ANALYZED}
    assert lines.schema["obj"] == NAME
    assert lines["exc_type"].null_count() == lines.height


def test_the_streaming_engine_finds_what_the_in_memory_one_does(
    recorder: Recorder, write_trace: WriteTrace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The report of a big trace (streamed) equals that of a small one (in memory)."""
    path = Path(__file__).parents[2] / "traces" / "cookbook.jsonl"
    in_memory = build_report(load_traces([path]))
    monkeypatch.setattr("analyze.report.STREAMED_FROM", 0)
    streamed = build_report(load_traces([path]))
    assert in_memory.findings.height > 0
    assert_frame_equal(streamed.findings, in_memory.findings)
    assert_frame_equal(streamed.containers, in_memory.containers)
    assert_frame_equal(streamed.threads, in_memory.threads)
    assert_frame_equal(streamed.causes, in_memory.causes)


def test_sound_runs_read_together_have_no_problems(write_trace: WriteTrace) -> None:
    """The check compares a line with the one before it in its own run, not the last of another."""
    first, second = write_trace(busy(Recorder())), write_trace(busy(Recorder()))
    trace = load_traces([first, second])
    assert reading.problems(trace).collect().height == 0
    lines = second.read_text().splitlines(keepends=True)
    lines[3], lines[4] = lines[4], lines[3]
    second.write_text("".join(lines))
    assert reading.problems(load_traces([first, second])).collect()[RUN].to_list() == [1]
