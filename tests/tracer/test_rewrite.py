"""tracer run's source rewrite: which bindings get names and which lists get traced."""

from __future__ import annotations

import ast
from typing import Any

import pytest

from tracer.run import patch as _patch
from tracer.run import rewrite as _rewrite
from tracer.testing import capture


def rewritten(source: str) -> str:
    return ast.unparse(_rewrite.rewrite(ast.parse(source)))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("event = Event()", "event = __synctrace__.bind('event', Event())"),
        ("q = queue.Queue(3)", "q = __synctrace__.bind('q', queue.Queue(3))"),
        (
            "def f():\n    lock = threading.Lock()",
            "def f():\n    lock = __synctrace__.bind('lock', threading.Lock())",
        ),
        (
            "class C:\n    def __init__(self):\n        self.cv = Condition()",
            "class C:\n\n    def __init__(self):\n"
            "        self.cv = __synctrace__.bind('cv', Condition())",
        ),
        ("pipeline = Pipeline()", "pipeline = __synctrace__.bind('pipeline', Pipeline())"),
        ("items = []", "items = __synctrace__.shared_list('items', [])"),
        (
            "items: list[int] = list()",
            "items: list[int] = __synctrace__.shared_list('items', list())",
        ),
        (
            "class B:\n    pending = []",
            "class B:\n    pending = __synctrace__.shared_list('pending', [])",
        ),
        (
            "def f(self):\n    self.buf = [1]",
            "def f(self):\n    self.buf = __synctrace__.shared_list('buf', [1])",
        ),
    ],
)
def test_named_and_shared(source: str, expected: str) -> None:
    """Primitive (and CapWords) constructors get the bound name; shared lists are traced."""
    assert rewritten(source) == expected


@pytest.mark.parametrize(
    "source",
    [
        "def f():\n    local = []",  # private to one call
        "x = make()",  # not a primitive
        "a = b = Event()",  # two names: keep the default
        "items[0] = []",  # not a binding
        "total = sum([1, 2])",
    ],
)
def test_left_alone(source: str) -> None:
    """Function-local lists, other calls and ambiguous targets are not rewritten."""
    assert rewritten(source) == ast.unparse(ast.parse(source))


def test_line_numbers_are_kept() -> None:
    """Rewritten code keeps the program's line numbers, so sites and tracebacks match."""
    tree = _rewrite.rewrite(ast.parse("\n\nitems = []\n"))
    assign = tree.body[0]
    assert isinstance(assign, ast.Assign) and assign.value.lineno == 3


def test_shared_list_helper_returns_a_traced_list_with_the_name() -> None:
    """The helper wraps a plain list into a tracer.List named as the binding."""
    from tracer import List

    value = _rewrite.Helper.shared_list("rewrite-test-items", [1, 2])
    assert isinstance(value, List) and value == [1, 2] and value.name == "rewrite-test-items"
    odd = (1, 2)
    assert _rewrite.Helper.shared_list("x", odd) is odd


def test_bind_names_only_traced_objects() -> None:
    """A CapWords call that makes something else is handed back as it was, name and all."""

    class Named:
        name = "Queue#1"

    thing = Named()
    assert _rewrite.Helper.bind("thing", thing) is thing and thing.name == "Queue#1"


def test_a_programs_subclass_of_a_patched_queue_gets_its_bound_name() -> None:
    """Under tracer run, ``pipeline = Pipeline()`` with Pipeline(queue.Queue) is named pipeline."""
    source = (
        "import queue\n"
        "class Pipeline(queue.Queue):\n"
        "    pass\n"
        "pipeline = Pipeline()\n"
        "pipeline.put(1)\n"
    )
    code = compile(_rewrite.rewrite(ast.parse(source)), "program.py", "exec")
    namespace: dict[str, Any] = {_rewrite.HELPER: _rewrite.Helper}
    with capture() as trace:
        _patch.install()
        try:
            exec(code, namespace)
        finally:
            _patch.uninstall()
    (put,) = trace.events("queue.put")
    assert put["obj"] == "pipeline" and put["site"] == "program.py:5"
