"""The program's own log records: ``log`` lines, with the program's logging left as it was."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

import tracer
from tracer.recording import logs, pysink
from tracer.recording.site import site_name
from tracer.testing import capture


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    """A logger ``app`` (and ``app.apart``, which does not propagate) printing to a buffer."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(threadName)s %(message)s"))
    app = logging.getLogger("app")
    apart = logging.getLogger("app.apart")
    app.addHandler(handler)
    app.setLevel(logging.INFO)
    apart.addHandler(handler)
    apart.propagate = False
    try:
        yield out
    finally:
        for logger in (app, apart):
            logger.removeHandler(handler)
        app.setLevel(logging.NOTSET)
        apart.propagate = True


@pytest.fixture
def plain_structlog() -> Iterator[io.StringIO]:
    """structlog printing key-value lines to a buffer, reset afterwards."""
    out = io.StringIO()
    structlog.configure(
        processors=[structlog.processors.KeyValueRenderer(sort_keys=True)],
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=True,
    )
    try:
        yield out
    finally:
        structlog.reset_defaults()


def _log_everything(stream_logger: logging.Logger) -> None:
    stream_logger.info("hello %s", "world")
    stream_logger.debug("below the level")
    logging.getLogger("app.apart").warning("apart")


def test_a_handled_record_is_a_log_line_with_level_logger_message_and_site(
    stream: io.StringIO,
) -> None:
    """logging.info writes a log line with getMessage(), the logger, its level and the call's
    site; a record below its logger's level writes none."""
    app = logging.getLogger("app")
    with capture() as trace:
        app.info("hello %s", "world")  # this call's site is pinned
        app.debug("below the level")
    (line,) = trace.events("log")
    assert line["level"] == "info" and line["logger"] == "app"
    assert line["message"] == "hello world"
    pinned = _line_of("this call's site is pinned")
    assert line["site"] == f"test_logs.py:{pinned}"
    assert line["fields"] is None and "fields" not in line and "obj" not in line


def test_the_programs_handlers_print_exactly_what_they_print_unrecorded(
    stream: io.StringIO,
) -> None:
    """The program's handlers write the same text recorded as unrecorded; no handler is added."""
    app = logging.getLogger("app")
    _log_everything(app)
    unrecorded = stream.getvalue()
    stream.seek(0)
    stream.truncate()
    handlers = (list(logging.root.handlers), list(app.handlers))
    with capture() as trace:
        _log_everything(app)
        assert (list(logging.root.handlers), list(app.handlers)) == handlers
    assert stream.getvalue() == unrecorded
    assert [line["message"] for line in trace.events("log")] == ["hello world", "apart"]


def test_a_logger_that_does_not_propagate_is_captured(stream: io.StringIO) -> None:
    """A record of a propagate=False logger, which never reaches the root, is a log line."""
    with capture() as trace:
        logging.getLogger("app.apart").error("kept apart")
    (line,) = trace.events("log")
    assert (line["logger"], line["level"], line["message"]) == ("app.apart", "error", "kept apart")


def test_log_lines_of_two_threads_land_with_their_thread_between_the_operations_around_them(
    stream: io.StringIO,
) -> None:
    """Each thread's log line carries that thread and sits in seq order between the traced
    operations the threads made before and after it."""
    app = logging.getLogger("app")
    go = tracer.Event(name="go")
    done = tracer.Event(name="done")

    def worker() -> None:
        go.wait()
        app.info("worker logs")
        done.set()

    with capture() as trace:
        t = threading.Thread(target=worker, name="worker")
        t.start()
        app.info("main logs")
        go.set()
        done.wait()
        app.info("main again")
        t.join()
    names = [
        (line["event"], line.get("message"), line["thread"])
        for line in trace.events("log", "event.set")
    ]
    assert names == [
        ("log", "main logs", "MainThread"),
        ("event.set", None, "MainThread"),
        ("log", "worker logs", "worker"),
        ("event.set", None, "worker"),
        ("log", "main again", "MainThread"),
    ]
    seqs = [line["seq"] for line in trace.lines]
    assert seqs == sorted(seqs)


def test_structlog_key_value_pairs_are_fields_and_other_values_their_repr(
    plain_structlog: io.StringIO,
) -> None:
    """A structlog call is a log line: its method's level, its event as message, its bound
    and call pairs as fields (JSON as is, tuples as lists, anything else as repr)."""

    class Opaque:
        def __repr__(self) -> str:
            return "<opaque>"

    log = structlog.get_logger().bind(request=7)
    with capture() as trace:
        log.warning("slow", ms=12.5, ok=True, parts=(1, "a"), thing=Opaque(), nothing=None)
    (line,) = trace.events("log")
    assert (line["level"], line["logger"], line["message"]) == ("warning", "structlog", "slow")
    assert line["fields"] == {
        "request": 7,
        "ms": 12.5,
        "ok": True,
        "parts": [1, "a"],
        "thing": "<opaque>",
        "nothing": None,
    }
    assert line["site"].startswith("test_logs.py:")
    assert "event='slow'" in plain_structlog.getvalue()  # the program's output as before


def test_structlog_calls_the_chain_drops_are_not_written(plain_structlog: io.StringIO) -> None:
    """A call a processor drops (DropEvent) writes no log line; the next one does."""

    def drop_debug(logger: object, method: str, event_dict: dict[str, object]) -> object:
        if method == "debug":
            raise structlog.DropEvent
        return event_dict

    structlog.configure(processors=[drop_debug, structlog.processors.KeyValueRenderer()])
    log = structlog.get_logger()
    with capture() as trace:
        log.debug("dropped")
        log.info("kept")
    assert [line["message"] for line in trace.events("log")] == ["kept"]


def test_structlog_routed_into_logging_is_written_once_and_only_when_logging_handles_it(
    stream: io.StringIO,
) -> None:
    """A structlog call through a stdlib logger is one log line with its pairs, and none when
    the stdlib logger's level drops it; a logger cached before the recording is captured too."""
    structlog.configure(
        processors=[
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.KeyValueRenderer(),
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    try:
        log = structlog.get_logger("app")
        log.info("warm")  # cached before recording
        with capture() as trace:
            log.info("routed %s", "here", k=2)
            log.debug("below app's level")
    finally:
        structlog.reset_defaults()
    (line,) = trace.events("log")
    assert (line["logger"], line["level"], line["message"]) == ("app", "info", "routed here")
    assert line["fields"] == {"k": 2}
    assert line["site"].startswith("test_logs.py:")
    assert "event='routed here'" in stream.getvalue()


def test_stop_puts_back_exactly_what_start_replaced() -> None:
    """After a recording the hooked methods are the originals again and nothing is captured."""
    before = (
        logging.Logger.__dict__["callHandlers"],
        structlog._base.BoundLoggerBase.__dict__["_process_event"],
        structlog._base.BoundLoggerBase.__dict__["_proxy_to_logger"],
    )
    with capture():
        assert logging.Logger.__dict__["callHandlers"] is not before[0]
    after = (
        logging.Logger.__dict__["callHandlers"],
        structlog._base.BoundLoggerBase.__dict__["_process_event"],
        structlog._base.BoundLoggerBase.__dict__["_proxy_to_logger"],
    )
    assert after == before


def test_a_program_that_wraps_our_hook_keeps_its_wrapper_and_is_captured_once_next_time(
    stream: io.StringIO,
) -> None:
    """When the program wraps callHandlers during a recording, stop leaves its wrapper (ours
    inside it only passes through), and the next recording writes each record once."""
    original = logging.Logger.__dict__["callHandlers"]
    seen: list[str] = []

    def program_wrapper(self: logging.Logger, record: logging.LogRecord) -> None:
        seen.append(record.getMessage())
        ours(self, record)

    try:
        with capture():
            ours = logging.Logger.__dict__["callHandlers"]
            logging.Logger.callHandlers = program_wrapper  # type: ignore[method-assign]
        assert logging.Logger.__dict__["callHandlers"] is program_wrapper
        with capture() as trace:
            logging.getLogger("app").info("once")
    finally:
        logging.Logger.callHandlers = original  # type: ignore[method-assign]
    assert [line["message"] for line in trace.events("log")] == ["once"]
    assert seen == ["once"]
    assert stream.getvalue().count("once") == 1


def test_a_failure_inside_the_capture_never_reaches_the_program(
    stream: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    """If writing the line raises, the program's call returns and its handlers still print."""

    def broken(*args: object) -> None:
        raise RuntimeError("a bug of ours")

    monkeypatch.setattr(logs, "_write", broken)
    with capture() as trace:
        logging.getLogger("app").info("still printed")
        structlog.get_logger().info("still returns")
    assert "still printed" in stream.getvalue()
    assert not trace.events("log")


def test_records_from_synctraces_own_files_are_not_captured(stream: io.StringIO) -> None:
    """A record whose call site is in synctrace's own code is never the program's."""
    ours = os.path.join(os.path.dirname(tracer.__file__), "recording", "writer.py")
    record = logging.getLogger("app").makeRecord("app", logging.INFO, ours, 1, "ours", (), None)
    with capture() as trace:
        logging.getLogger("app").handle(record)
        logging.getLogger("app").info("theirs")
    assert [line["message"] for line in trace.events("log")] == ["theirs"]


def test_a_record_logged_after_the_recording_stopped_is_not_written(
    stream: io.StringIO,
) -> None:
    """Logging between a recording's stop and the next start writes nothing anywhere."""
    with capture() as first:
        logging.getLogger("app").info("inside")
    logging.getLogger("app").info("outside")
    with capture() as second:
        pass
    assert [line["message"] for line in first.events("log")] == ["inside"]
    assert not second.events("log")
    assert "outside" in stream.getvalue()


def test_long_messages_are_cut_and_levels_map_to_the_five_names() -> None:
    """A message past LOG_MESSAGE_LIMIT ends in "..."; custom levels count as the one below."""
    assert logs.cut("x" * 600) == "x" * 497 + "..."
    assert [logs.level_of(n) for n in (5, 10, 15, 25, 35, 45, 55)] == [
        "debug",
        "debug",
        "debug",
        "info",
        "warning",
        "error",
        "critical",
    ]


def test_jsonable_keeps_json_and_writes_the_rest_as_repr() -> None:
    """Nested JSON stays JSON; big ints, NaN, non-str keys and failing reprs become text."""

    class Broken:
        def __repr__(self) -> str:
            raise ValueError("no")

    assert logs.jsonable({"a": [1, (2.5, None)], "b": {1: 2}}) == {
        "a": [1, [2.5, None]],
        "b": "{1: 2}",
    }
    assert logs.jsonable(1 << 70) == str(1 << 70)
    assert logs.jsonable(float("nan")) == "nan"
    assert logs.jsonable(Broken()) == "<Broken with a failing repr>"


def _line_of(text: str) -> int:
    """The line number of this file's first line containing ``text``."""
    with open(__file__, encoding="utf-8") as f:
        return next(n for n, line in enumerate(f, 1) if text in line)


def test_tracer_run_records_a_programs_logging_and_leaves_its_output_alone(
    tmp_path: Path,
) -> None:
    """Under tracer run, the program prints what it prints unrecorded, and each of its
    records is one log line with its thread, in order with the queue operations."""
    program = str(Path(__file__).parent.parent / "programs" / "logging_workers.py")
    trace = tmp_path / "t.jsonl"
    recorded = subprocess.run(
        [sys.executable, "-m", "tracer", "run", "-o", str(trace), program],
        capture_output=True,
        text=True,
        timeout=60,
    )
    plain = subprocess.run([sys.executable, program], capture_output=True, text=True, timeout=60)
    assert (recorded.stdout, recorded.stderr) == (plain.stdout, plain.stderr)
    assert recorded.returncode == plain.returncode == 0
    lines = [json.loads(line) for line in trace.read_text().splitlines()]
    seen = [
        (line["event"], line.get("logger"), line.get("message"), line["thread"])
        for line in lines
        if line["event"] in ("log", "queue.put", "queue.get")
    ]
    assert seen == [
        ("log", "main", "putting 7", "MainThread"),
        ("queue.put", None, None, "MainThread"),
        ("queue.get", None, None, "worker"),
        ("log", "worker", "got 7", "worker"),
        ("log", "worker", "done", "worker"),
    ]
    done = next(line for line in lines if line.get("message") == "done")
    assert done["fields"] == {"item": 7, "size": [1, 2]}
    assert done["level"] == "warning" and done["site"].startswith("logging_workers.py:")


def test_both_sinks_write_a_log_line_with_nested_fields_alike() -> None:
    """The native and the pure sink encode the same log line, object-valued fields included,
    to the same JSON (their clocks aside)."""
    native = pytest.importorskip("tracer.recording._csink")
    fields = {
        "level": "info",
        "logger": "app",
        "message": "m",
        "fields": logs.jsonable({"a": [1, 2.5, None, 'é"\n'], "b": {"c": (True,)}, "o": object}),
    }
    written = []
    for sink in (native.Sink(1, 100), pysink.Sink(1, 100)):
        sink.emit("log", None, ("/where/app.py", 3), fields)
        (line,) = [json.loads(text) for text in sink.drain(10, site_name, True).splitlines()]
        del line["ts"]
        written.append(line)
    assert written[0] == written[1]
    assert written[0]["fields"] == {
        "a": [1, 2.5, None, 'é"\n'],
        "b": {"c": [True]},
        "o": "<class 'object'>",
    }


def test_a_record_the_stopping_recorder_cannot_take_is_dropped_quietly(
    stream: io.StringIO, tmp_path: Path
) -> None:
    """Logging after the sink has closed (the recording is stopping) neither raises nor
    writes, and the program's handler still prints the record."""
    path = tmp_path / "t.jsonl"
    with tracer.record(path) as recorder:
        recorder.sink.close()  # as stop() does while other threads still log
        logging.getLogger("app").warning("late")
    assert "late" in stream.getvalue()
    assert '"log"' not in path.read_text()


def test_a_repr_that_logs_does_not_recurse_into_the_capture(
    plain_structlog: io.StringIO, stream: io.StringIO
) -> None:
    """A value whose repr() logs, met while a structlog call is captured, is written as its
    repr; the record its repr made is the program's output only, not a second line."""

    class Chatty:
        def __repr__(self) -> str:
            logging.getLogger("app").info("repr called")
            return "<chatty>"

    with capture() as trace:
        structlog.get_logger().info("outer", value=Chatty())
    assert [(line["message"], line["fields"]) for line in trace.events("log")] == [
        ("outer", {"value": "<chatty>"})
    ]
    assert "repr called" in stream.getvalue()
