"""The trace file: no null fields, compressed traces, and a writer that falls behind."""

from __future__ import annotations

import gzip
import io
import json
import threading
from pathlib import Path

import pytest
import zstandard

import tracer
from tracer.recording import recorder as _recorder
from tracer.recording.capture import NATIVE


def decoded(path: Path) -> list[dict[str, object]]:
    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        raw = gzip.decompress(raw)
    elif path.name.endswith(".zst"):
        raw = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(raw)).read()
    return [json.loads(line) for line in raw.decode().splitlines()]


def record_some(path: Path) -> None:
    items = tracer.List(name="items")
    ready = tracer.Event(name="ready")
    with tracer.record(path):
        for i in range(50):
            items.append(i)
            ready.set()
            ready.wait()
            ready.clear()
            items.pop()


def test_no_line_carries_a_null_field(tmp_path: Path) -> None:
    """A field without a value is left out of the line, metadata lines included."""
    path = tmp_path / "t.jsonl"
    record_some(path)
    lines = decoded(path)
    assert len(lines) == 2 + 50 * 6
    for line in lines:
        assert None not in line.values(), line
    wait_begin = next(line for line in lines if line["event"] == "event.wait.begin")
    assert "timeout" not in wait_begin  # wait() with no timeout
    assert lines[0]["native"] is NATIVE


@pytest.mark.parametrize("suffix", [".jsonl.gz", ".jsonl.zst"])
def test_compressed_trace_holds_the_same_lines(tmp_path: Path, suffix: str) -> None:
    """A trace named .gz or .zst is written compressed and decodes to the plain trace's lines."""
    plain, packed = tmp_path / "t.jsonl", tmp_path / f"t{suffix}"
    record_some(plain)
    record_some(packed)
    ignore = {"ts", "run_id", "wall_time", "argv", "thread_id", "pid"}

    def comparable(lines: list[dict[str, object]]) -> list[dict[str, object]]:
        return [{k: v for k, v in line.items() if k not in ignore} for line in lines]

    assert comparable(decoded(packed)) == comparable(decoded(plain))
    assert packed.stat().st_size < plain.stat().st_size / 5


def test_a_compressed_trace_is_readable_while_the_run_goes_on(tmp_path: Path) -> None:
    """Every heartbeat leaves the compressed stream decodable, as a killed run would leave it."""
    path = tmp_path / "t.jsonl.gz"
    ready = tracer.Event(name="ready")
    with tracer.record(path) as rec:
        ready.set()
        deadline = threading.Event()
        while rec.events_written < 2 and not deadline.wait(0.01):
            pass
        # The stream has no gzip trailer yet; what is there decodes to whole lines.
        partial = zlib_prefix(path.read_bytes())
    lines = partial.decode().splitlines()
    assert [json.loads(line)["event"] for line in lines] == ["trace.start", "event.set"]


def zlib_prefix(data: bytes) -> bytes:
    import zlib

    return zlib.decompressobj(31).decompress(data)


def test_the_program_waits_for_a_writer_that_falls_behind(tmp_path: Path) -> None:
    """With room for only a few events, nothing is dropped: emitting threads wait for the writer."""
    path = tmp_path / "t.jsonl"
    items = tracer.List(name="items")
    rec = _recorder.Recorder(path, max_pending=8, flush_interval=0.01)
    with rec:
        workers = [
            threading.Thread(target=lambda: [items.append(i) for i in range(300)]) for _ in range(3)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    lines = decoded(path)
    assert lines[-1]["events_dropped"] == 0
    assert sum(1 for line in lines if line["event"] == "list.append") == 900
    assert [line["seq"] for line in lines] == list(range(len(lines)))


def test_a_writer_that_dies_turns_later_events_away_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A bug of ours that kills the writer is said once on stderr, and the program never
    waits for room nobody will make: later events are turned away at once."""
    items = tracer.List(name="items")
    rec = _recorder.Recorder(tmp_path / "t.jsonl", max_pending=4, flush_interval=0.01)

    def broken() -> None:
        raise RuntimeError("boom")

    with rec:
        # sync() ends every turn of the writer's loop, whichever way it
        # writes (the native sink's pump, or drain_lines and write).
        monkeypatch.setattr(rec._writer, "sync", broken)
        items.append(0)
        tick = threading.Event()
        while rec._done.locked():  # free once the writer thread has ended
            tick.wait(0.01)
        for i in range(200):  # far more than the room left: none may wait 5 s
            items.append(i)
    assert "the trace writer stopped (RuntimeError: boom)" in capsys.readouterr().err
    assert list(items) == [0, *range(200)]
