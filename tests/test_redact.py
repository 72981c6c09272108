"""Redaction end to end: ``synctrace.redact``, ``tracer --redact`` and ``analyze redact``."""

from __future__ import annotations

import gzip
import json
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import zstandard
from click.testing import CliRunner, Result

import tracer
from analyze.cli import main as analyze_main
from synctrace.redact import Redactor

HERE = Path(__file__).resolve().parent
COOKBOOK = HERE.parent / "traces" / "cookbook.jsonl"
EXITS = HERE / "programs" / "exits.py"
TOKEN = re.compile(r"h:[0-9a-f]{12}")


def lines_of(path: Path) -> list[dict[str, Any]]:
    raw = path.read_bytes()
    if path.name.endswith(".gz"):
        raw = gzip.decompress(raw)
    elif path.name.endswith(".zst"):
        raw = zstandard.ZstdDecompressor().decompressobj().decompress(raw)
    return [json.loads(line) for line in raw.splitlines()]


def analyze(*args: str | Path) -> Result:
    return CliRunner().invoke(analyze_main, [str(a) for a in args])


# --- synctrace.redact -----------------------------------------------------------------


def test_equal_values_give_equal_tokens_under_one_salt_only() -> None:
    """A token is stable within one Redactor and differs under another salt."""
    one, other = Redactor(), Redactor()
    assert one.token("'apple'") == one.token("'apple'")
    assert one.token("'apple'") != one.token("'pear'")
    assert one.token("'apple'") != other.token("'apple'")
    assert TOKEN.fullmatch(one.token("'apple'"))


def test_data_is_hashed_and_code_is_kept() -> None:
    """Values, messages, log fields, host and argv are hashed; names, sites and types kept."""
    r = Redactor(salt=b"k")
    start = r.line({"event": "trace.start", "host": "alice-laptop", "argv": ["a.py", "--key", 3]})
    assert start == {
        "event": "trace.start",
        "host": r.token("alice-laptop"),
        "argv": [r.token("a.py"), r.token("--key"), r.token("3")],
        "redacted": True,
    }
    put = {"event": "queue.put", "obj": "jobs", "site": "a.py:3", "thread": "w-1", "value": "'x'"}
    assert r.line(dict(put)) == {**put, "value": r.token("'x'")}
    failed = {"event": "thread.exception", "exc_type": "KeyError", "exc_msg": "'secret'"}
    assert r.line(dict(failed)) == {**failed, "exc_msg": r.token("'secret'")}
    log = {"event": "log", "logger": "app", "message": "user 7", "fields": {"user": 7}}
    assert r.line(dict(log)) == {
        **log,
        "message": r.token("user 7"),
        "fields": {"user": r.token("7")},
    }


@pytest.mark.parametrize(
    ("reason", "detail", "kept"),
    [
        ("exception", "ValueError", True),
        ("exception", "bad password for alice", False),
        ("stopped", "the consumers were idle after the producers finished", True),
    ],
)
def test_trace_end_detail_is_hashed_only_where_it_may_quote_the_program(
    reason: str, detail: str, kept: bool
) -> None:
    """An exception's type name is kept; any other text after an exception is hashed."""
    r = Redactor()
    line = r.line({"event": "trace.end", "reason": reason, "detail": detail})
    assert line["detail"] == (detail if kept else r.token(detail))


# --- tracer ----------------------------------------------------------------------------


def test_record_with_redact_hashes_values_and_keeps_them_comparable(tmp_path: Path) -> None:
    """tracer.record(redact=True): equal values equal tokens, trace.start says redacted."""
    path = tmp_path / "t.jsonl"
    items = tracer.List(name="items")
    with tracer.record(path, redact=True):
        items.append("secret")
        items.append("other")
        items.append("secret")
        items.pop(0)
    lines = lines_of(path)
    start = lines[0]
    assert (start["redacted"], start["host"] == socket.gethostname()) == (True, False)
    assert all(TOKEN.fullmatch(arg) for arg in start["argv"])
    values = [line["value"] for line in lines if line["event"].startswith("list.")]
    assert len(values) == 4
    assert values[0] == values[2] == values[3] != values[1]
    assert all(TOKEN.fullmatch(v) for v in values)
    assert "secret" not in path.read_text()


def test_writer_redacts_escaped_strings_and_log_fields(tmp_path: Path) -> None:
    """Values with escaped quotes are hashed whole; a log line's message and field values too."""
    from tracer.recording.writer import TraceWriter

    path = tmp_path / "t.jsonl"
    writer = TraceWriter(str(path), redact=True)
    put = b'{"event":"queue.put","obj":"q","value":"\'a\\"b\'","depth":1}\n'
    log = b'{"event":"log","logger":"app","message":"hi \\"you\\"","fields":{"user":"bob"}}\n'
    assert writer.write(put + log + put) == 0
    writer.close()
    first, logged, again = lines_of(path)
    assert TOKEN.fullmatch(first["value"]) and first["value"] == again["value"]
    assert (first["obj"], first["depth"]) == ("q", 1)
    assert TOKEN.fullmatch(logged["message"]) and TOKEN.fullmatch(logged["fields"]["user"])
    assert (logged["logger"], list(logged["fields"])) == ("app", ["user"])
    assert b"bob" not in path.read_bytes() and b"you" not in path.read_bytes()


def test_record_without_redact_writes_values(tmp_path: Path) -> None:
    """Without redact nothing is hashed and trace.start has no redacted field."""
    path = tmp_path / "t.jsonl"
    items = tracer.List(name="items")
    with tracer.record(path):
        items.append("secret")
    lines = lines_of(path)
    assert "redacted" not in lines[0]
    assert lines[1]["value"] == "'secret'"


def test_tracer_run_redact_hashes_exception_messages_and_argv(tmp_path: Path) -> None:
    """tracer run --redact: the thread's exception message and argv are tokens, the type kept."""
    path = tmp_path / "t.jsonl.gz"
    subprocess.run(
        [sys.executable, "-m", "tracer", "run", "--redact", "-o", str(path), EXITS, "thread-raise"],
        capture_output=True,
        timeout=60,
        check=True,
    )
    lines = lines_of(path)
    failed = next(line for line in lines if line["event"] == "thread.exception")
    assert (failed["exc_type"], failed["thread"]) == ("KeyError", "failing")
    assert TOKEN.fullmatch(failed["exc_msg"])
    assert "thread-raise" not in json.dumps(lines[0])
    report = json.loads(analyze("report", path, "--format", "json").stdout)
    assert report["trace"]["redacted"] is True
    assert report["counts"]["thread-exception"] == 1


def test_tracer_demo_redact(tmp_path: Path) -> None:
    """tracer demo --redact writes a redacted trace that the report says is redacted."""
    from tracer.cli import cli

    path = tmp_path / "d.jsonl"
    args = ["demo", "--redact", "--variant", "fixed", "--items", "3", "--time-scale", "0"]
    assert CliRunner().invoke(cli, [*args, "-o", str(path)]).exit_code == 0
    assert lines_of(path)[0]["redacted"] is True
    text = analyze("report", path).stdout
    assert "redacted: values, argv and host are salted hashes" in " ".join(text.split())


def test_redacting_costs_the_writer_not_the_program(tmp_path: Path) -> None:
    """Threads record into a redacted trace as into a plain one; every line arrives hashed."""
    path = tmp_path / "t.jsonl"
    q = tracer.Queue(name="q")
    done = threading.Event()

    def consume() -> None:
        while q.get() is not None:
            pass
        done.set()

    with tracer.record(path, redact=True):
        worker = threading.Thread(target=consume)
        worker.start()
        for n in range(2000):
            q.put(n % 10)
        q.put(None)
        done.wait()
        worker.join()
    puts = [line["value"] for line in lines_of(path) if line["event"] == "queue.put"]
    assert len(puts) == 2001
    assert len(set(puts)) == 11


# --- analyze redact ------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["jsonl", "jsonl.gz", "jsonl.zst"])
def test_analyze_redact_keeps_every_finding(tmp_path: Path, suffix: str) -> None:
    """The cookbook trace redacted (any output compression) reports the same findings."""
    out = tmp_path / f"shared.{suffix}"
    result = analyze("redact", COOKBOOK, "-o", out)
    assert result.exit_code == 0
    assert result.stderr == f"wrote {out}: 51 lines, redacted\n"
    before = json.loads(analyze("report", COOKBOOK, "--format", "json").stdout)
    after = json.loads(analyze("report", out, "--format", "json").stdout)
    assert after["trace"]["redacted"] is True
    assert after["counts"] == before["counts"]
    assert after["containers"] == before["containers"]
    # Messages quote values, which are now tokens; everything else is the same.
    same = ("kind", "severity", "seq", "thread", "object", "site", "ts_s")
    assert [[f[k] for k in same] for f in after["findings"]] == [
        [f[k] for k in same] for f in before["findings"]
    ]
    original, redacted = lines_of(COOKBOOK), lines_of(out)
    assert [line["event"] for line in redacted] == [line["event"] for line in original]
    assert TOKEN.fullmatch(redacted[0]["host"])
    assert {line.get("value") for line in redacted} & {line.get("value") for line in original} == {
        None
    }


def test_analyze_redact_refuses_to_overwrite_its_input(tmp_path: Path) -> None:
    """-o naming the input itself is one line and exit 2; the input is untouched."""
    path = tmp_path / "t.jsonl"
    path.write_bytes(COOKBOOK.read_bytes())
    result = analyze("redact", path, "-o", path)
    assert (result.exit_code, result.stderr) == (
        2,
        f"Error: {path}: -o names the trace being redacted, which would be lost; write the"
        " redacted trace to another file (such as shared.jsonl.gz)\n",
    )
    assert path.read_bytes() == COOKBOOK.read_bytes()


def test_analyze_redact_leaves_out_what_it_cannot_redact(tmp_path: Path) -> None:
    """A garbled line may hold anything: it is left out, named, and the rest is written."""
    source = tmp_path / "t.jsonl"
    lines = COOKBOOK.read_text().splitlines(keepends=True)
    source.write_text("".join([*lines[:3], "password=hunter2\n", *lines[3:]]))
    out = tmp_path / "r.jsonl"
    result = analyze("redact", source, "-o", out)
    assert result.exit_code == 0
    assert result.stderr.splitlines() == [
        f"warning: {source}:4: not JSON; left out, as it cannot be redacted",
        f"wrote {out}: 51 lines, redacted",
    ]
    assert "hunter2" not in out.read_text()


def test_analyze_redact_hashes_what_the_format_does_not_define(tmp_path: Path) -> None:
    """A field synctrace/1 lacks, or a value that is not text, is hashed: it may be data."""
    lines = [json.loads(line) for line in COOKBOOK.read_text().splitlines()]
    put = next(n for n, line in enumerate(lines) if line.get("value"))
    lines[put]["password"] = "hunter2"
    lines[put + 1]["value"] = ["hunter2", {"b": 1, "a": 2}]
    source, out = tmp_path / "t.jsonl", tmp_path / "r.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert analyze("redact", source, "-o", out).exit_code == 0
    assert "hunter2" not in out.read_text()
    redacted = lines_of(out)
    assert TOKEN.fullmatch(redacted[put]["password"])
    assert TOKEN.fullmatch(redacted[put + 1]["value"])
    assert redacted[put]["obj"] == lines[put]["obj"]


def test_analyze_redact_names_a_huge_line_by_its_size(tmp_path: Path) -> None:
    """A line of megabytes is left out and named by its size, as report names it."""
    lines = COOKBOOK.read_text().splitlines(keepends=True)
    source, out = tmp_path / "t.jsonl", tmp_path / "r.jsonl"
    source.write_text("".join([*lines[:3], "x" * (2 << 20) + "\n", *lines[3:]]))
    result = analyze("redact", source, "-o", out)
    assert result.stderr.splitlines()[0] == (
        f"warning: {source}:4: a line of 2,097,153 bytes, longer than any trace line; left out,"
        " as it cannot be redacted"
    )


def test_analyze_redact_refuses_what_is_not_a_trace(tmp_path: Path) -> None:
    """A file that is not a trace is one line and exit 2, and nothing is written."""
    source = tmp_path / "notes.txt"
    source.write_text("hello\n")
    out = tmp_path / "r.jsonl"
    result = analyze("redact", source, "-o", out)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {source}:1: not a JSON object, so not a trace")
    assert not out.exists()
    assert not Path(f"{out}.partial").exists()
