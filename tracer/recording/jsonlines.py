"""Captured events as JSON lines: the pure sink's encoder, and the process that runs it.

The pure sink encodes in one of two places: in the writer thread, or, for a
plain trace, in an encoding process of its own (``offload``), so that the
encoding does not share the program's GIL.  Both run ``encode`` below.  The
encoding process loads this file by its path, with nothing of synctrace
imported, so it imports only the standard library and orjson.

Frames from the program to the encoding process: a header (kind, length,
last ts) then the payload:

* ``RECORDS``: ``marshal.dumps`` of a flat list of captured events in seq
  order, ``WIDTH`` slots each (``pysink``'s layout), their sites named (the
  program's namer knows notebooks; this process does not);
* ``LINES``: lines already encoded, written as they are (a batch marshal
  would not take, encoded by the program);
* ``END``: write nothing more, and exit.

Answers, from the encoding process to the program, after each frame it
wrote and once more as it ends: (lines written, the file's offset after
them, errno of a failed write or 0).  A program that finds the process
gone cuts the file back to the last offset answered: a line the process
was writing as it died is never left torn.
"""

from __future__ import annotations

import contextlib
import json
import marshal
import math
import os
import signal
import struct
import sys
from collections.abc import Callable, Iterable
from typing import Any

import orjson

#: Slots an event takes: seq, ts, event, thread, thread_id, obj, site,
#: fields, then four values (see pysink).
WIDTH = 12
RECORDS, LINES, END = 1, 2, 3
#: kind, payload length, the latest ts written before this frame.
HEADER = struct.Struct("<BQq")
#: lines written, the file offset after them, errno of a failed write (0: none).
ANSWER = struct.Struct("<QqI")


#: The fast paths' records (``pyfast``) carry, in their fields slot, one of
#: these numbers, and their values in the slots after it, in this order: a
#: small int, cheaper to send to the encoding process and to compare there
#: than a tuple of names.
LIST, SET, CLEAR, WAIT_BEGIN, WAIT_END = 1, 2, 3, 4, 5
SHAPES: dict[int, tuple[str, ...]] = {
    LIST: ("item", "index", "depth", "value"),  # value: the repr, or a small int to write as one
    SET: ("waiters", "flag"),
    CLEAR: ("flag",),
    WAIT_BEGIN: ("flag", "timeout"),
    WAIT_END: ("begin_seq", "result", "timed_out"),
}
#: Strings as JSON, for names that repeat (events, threads, objects, sites).
_quoted: dict[str, str] = {}
_QUOTED_MAX = 1 << 14


def _quote(text: str) -> str:
    quoted = _quoted.get(text)
    if quoted is None:
        try:
            quoted = orjson.dumps(text).decode()
        except TypeError:  # a lone surrogate: json escapes it
            quoted = json.dumps(text)
        if len(_quoted) >= _QUOTED_MAX:  # a program naming objects without end
            _quoted.clear()
        _quoted[text] = quoted
    return quoted


#: The parts of a fast line around its ts and seq, by (event, thread,
#: thread_id, obj, site).
_heads: dict[tuple[Any, ...], tuple[str, str]] = {}


def _head(key: tuple[Any, ...]) -> tuple[str, str]:
    event, thread, ident, obj, site = key
    head = (
        f'{{"event":{_quote(event)},"ts":',
        f',"thread":{_quote(thread)},"thread_id":{ident},"obj":{_quote(obj)},"site":{_quote(site)}',
    )
    if len(_heads) >= _QUOTED_MAX:
        _heads.clear()
    _heads[key] = head
    return head


def encode(
    records: Iterable[Any], site_of: Callable[[Any], str], last_ts: int
) -> tuple[bytes, int]:
    """JSON lines of ``records`` (in seq order), and the last ts written.

    A record's ts is never written below the one before it.  ``site_of``
    names a site that was not named at capture.  Fields whose value is None
    are left out, as the native sink leaves them out.
    """
    # The fast paths' lines, the bulk of a busy trace, are laid out by
    # templates: what repeats (event, thread, object, site) is quoted and
    # joined once per combination; a line formats only its numbers: about
    # two thirds of the cost of a dict and orjson per line (600 against 950
    # ns on the benchmark's events), byte for byte the same line.  The rest
    # go through a dict to orjson, in the layout structlog's JSONRenderer
    # gives trace.start and trace.end.
    out: list[str] = []
    add = out.append
    heads = _heads
    for seq, ts, event, thread, ident, obj, site, fields, v0, v1, v2, v3 in records:
        if ts < last_ts:
            ts = last_ts
        last_ts = ts
        if type(fields) is int and type(obj) is str and type(site) is str:
            key = (event, thread, ident, obj, site)
            head = heads.get(key) or _head(key)
            if fields == LIST:
                value = f'"{v3}"' if type(v3) is int else _quote(v3)
                add(
                    f'{head[0]}{ts},"seq":{seq}{head[1]},"item":{v0},"index":{v1},'
                    f'"depth":{v2},"value":{value}}}\n'
                )
                continue
            if fields == SET:
                flag = "true" if v1 else "false"
                add(f'{head[0]}{ts},"seq":{seq}{head[1]},"waiters":{v0},"flag":{flag}}}\n')
                continue
            if fields == CLEAR or (fields == WAIT_BEGIN and v1 is None):
                flag = "true" if v0 else "false"
                add(f'{head[0]}{ts},"seq":{seq}{head[1]},"flag":{flag}}}\n')
                continue
            if fields == WAIT_END:
                result = "true" if v1 else "false"
                timed_out = "true" if v2 else "false"
                add(
                    f'{head[0]}{ts},"seq":{seq}{head[1]},"begin_seq":{v0},'
                    f'"result":{result},"timed_out":{timed_out}}}\n'
                )
                continue
        line: dict[str, Any] = {
            "event": event,
            "ts": ts,
            "seq": seq,
            "thread": thread,
            "thread_id": ident,
        }
        if obj is not None:
            line["obj"] = obj
        if site is not None:
            line["site"] = site if type(site) is str else site_of(site)
        if type(fields) is dict:
            for name, value in fields.items():
                if value is not None:
                    line[name] = value
        elif type(fields) is int:
            if fields == LIST and type(v3) is int:
                v3 = str(v3)
            for name, value in zip(SHAPES[fields], (v0, v1, v2, v3), strict=False):
                if value is not None:
                    line[name] = value
        try:
            add(orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE).decode())
        except TypeError:  # orjson refuses an int past 64 bits and a lone surrogate
            add(_render_refused(line) + "\n")
    # Every string went through orjson or json, which leave no lone
    # surrogate behind; should one slip through, it is written escaped.
    return "".join(out).encode("utf-8", "backslashreplace"), last_ts


def _render_refused(line: dict[str, Any]) -> str:
    # The batch has already left the sink: raising here would lose all of
    # it.  json writes big ints as digits and escapes surrogates; NaN and
    # infinities become null, as orjson writes them.
    finite = {
        key: None if isinstance(value, float) and not math.isfinite(value) else value
        for key, value in line.items()
    }
    return json.dumps(finite, default=repr, separators=(",", ":"))


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _unnamed(site: Any) -> str:
    # Sites come named; should one come raw, it is written as it is.
    return str(site)


def serve(frames: int, trace: int, answers: int) -> None:
    """The encoding process: read frames from fd ``frames``, write lines to fd ``trace``.

    Ends at END or when the program is gone (end of file), having written
    everything it was sent; answers on fd ``answers`` as it goes.
    """
    # A Ctrl-C in the terminal is the program's to handle; this process
    # must outlive it to write what it was sent.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    source = os.fdopen(frames, "rb")
    # Progress answers never wait: the next one says the same and more.
    os.set_blocking(answers, False)
    last_ts, written, failed = 0, 0, 0
    offset = os.lseek(trace, 0, os.SEEK_CUR)
    while True:
        header = source.read(HEADER.size)
        if len(header) < HEADER.size:
            break  # the program is gone: nothing more will come
        kind, size, before = HEADER.unpack(header)
        payload = source.read(size)
        if len(payload) < size or kind == END:
            break
        last_ts = max(last_ts, before)
        if kind == RECORDS:
            flat = marshal.loads(payload)
            records = zip(*[iter(flat)] * WIDTH, strict=True)
            data, last_ts = encode(records, _unnamed, last_ts)
            lines = len(flat) // WIDTH
        else:
            data, lines = payload, payload.count(b"\n")
        try:
            _write_all(trace, data)
        except OSError as exc:
            # Disk full or the file gone: say so and stop; the program's
            # next frame finds the pipe closed and reads this answer.
            failed = exc.errno or 5  # EIO when the OS gave no number
            break
        written += lines
        offset += len(data)
        # A full pipe (the program reads answers when it needs them) or a
        # closed one (the program is gone) is no reason to stop writing.
        with contextlib.suppress(OSError):
            os.write(answers, ANSWER.pack(written, offset, 0))
    with contextlib.suppress(OSError):
        os.set_blocking(answers, True)
        os.write(answers, ANSWER.pack(written, offset, failed))


if __name__ == "__main__":
    serve(*(int(fd) for fd in sys.argv[-3:]))
