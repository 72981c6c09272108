"""The pure sink's encoder: the fast shapes' templates write what orjson writes for a dict."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest

from tracer.recording import jsonlines

HEAD: dict[str, Any] = {
    "ts": 100,
    "seq": 7,
    "thread": "worker-1",
    "thread_id": 140000000000001,
    "obj": "items",
    "site": "main.py:12",
}


def record(event: str, shape: int, *values: Any, **head: Any) -> tuple[Any, ...]:
    """One captured event in pysink's slots, the head fields from HEAD unless given."""
    h = {**HEAD, **head}
    padded = (*values, *(None,) * (4 - len(values)))
    head_slots = (h["seq"], h["ts"], event, h["thread"], h["thread_id"], h["obj"], h["site"])
    return (*head_slots, shape, *padded)


def as_orjson(rec: tuple[Any, ...]) -> bytes:
    """The line orjson writes for the event's fields as a dict, Nones left out."""
    seq, ts, event, thread, ident, obj, site, shape, *values = rec
    line: dict[str, Any] = {"event": event, "ts": ts, "seq": seq, "thread": thread}
    line["thread_id"] = ident
    line |= {"obj": obj, "site": site}
    if shape == jsonlines.LIST and type(values[3]) is int:
        values[3] = str(values[3])
    line |= dict(zip(jsonlines.SHAPES[shape], values, strict=False))
    return orjson.dumps({k: v for k, v in line.items() if v is not None}) + b"\n"


def encoded(*records: tuple[Any, ...], last_ts: int = 0) -> bytes:
    return jsonlines.encode(records, lambda site: f"{site[0]}:{site[1]}", last_ts)[0]


CASES = [
    record("list.append", jsonlines.LIST, 1, 0, 1, 5),
    record("list.pop", jsonlines.LIST, 3, 2, 2, -12),
    record("list.append", jsonlines.LIST, 4, 0, 1, "'a \"quoted\" \\ é\\n'"),
    record("event.set", jsonlines.SET, 2, False),
    record("event.set", jsonlines.SET, 0, True),
    record("event.clear", jsonlines.CLEAR, True),
    record("event.wait.begin", jsonlines.WAIT_BEGIN, True, None),
    record("event.wait.begin", jsonlines.WAIT_BEGIN, True, 2.5),
    record("event.wait.end", jsonlines.WAIT_END, 6, True, False),
    record("list.append", jsonlines.LIST, 1, 0, 1, 5, thread='naïve "one"'),
]


@pytest.mark.parametrize("rec", CASES, ids=lambda r: f"{r[2]}-{r[8]!r}-{r[9]!r}")
def test_each_shape_is_written_as_orjson_writes_it(rec: tuple[Any, ...]) -> None:
    """A fast record's line is byte for byte the line orjson writes for its fields."""
    assert encoded(rec) == as_orjson(rec)


def test_a_line_without_obj_or_site_leaves_them_out() -> None:
    """A fast record with no object or no site is written without those fields."""
    a, b = encoded(
        record("event.clear", jsonlines.CLEAR, False, obj=None),
        record("event.clear", jsonlines.CLEAR, False, site=None),
    ).splitlines()
    assert list(json.loads(a)) == ["event", "ts", "seq", "thread", "thread_id", "site", "flag"]
    assert list(json.loads(b)) == ["event", "ts", "seq", "thread", "thread_id", "obj", "flag"]


def test_a_site_left_unnamed_is_named_by_the_callers_namer() -> None:
    """A raw (file, line) site, from the generic emit, is named by site_of."""
    (line,) = encoded(
        record("event.clear", jsonlines.CLEAR, True, site=("/x/f.py", 3))
    ).splitlines()
    assert json.loads(line)["site"] == "/x/f.py:3"


def test_dict_fields_are_written_in_order_without_nones() -> None:
    """A generic record's fields dict is written in its order, None values left out."""
    rec = (
        1,
        5,
        "queue.put",
        "T",
        9,
        "q",
        None,
        {"item": 1, "error": None, "depth": 2},
        *(None,) * 4,
    )
    assert list(json.loads(encoded(rec))) == [
        "event",
        "ts",
        "seq",
        "thread",
        "thread_id",
        "obj",
        "item",
        "depth",
    ]


def test_the_clock_never_goes_back() -> None:
    """A record stamped before the last ts written is written with that ts."""
    data, last = jsonlines.encode(
        [record("event.clear", jsonlines.CLEAR, True, ts=50)], str, last_ts=80
    )
    assert json.loads(data)["ts"] == 80 and last == 80


def test_names_orjson_refuses_are_escaped_by_json() -> None:
    """A thread name with a lone surrogate is written escaped, and the line still parses."""
    rec = record("event.clear", jsonlines.CLEAR, True, thread="bad\udc80")
    data = encoded(rec)
    assert json.loads(data)["thread"] == "bad\udc80"
    data.decode("utf-8")  # valid UTF-8 throughout
