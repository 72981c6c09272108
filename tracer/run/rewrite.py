"""Source rewriting for ``tracer run``: name objects, trace shared lists.

Two small changes to the program's modules (the main one, and those it
imports from its own directory: see ``_imports``), made on their syntax tree
so that line numbers and tracebacks stay exactly the program's:

* ``NAME = Event()`` (or ``Queue(...)``, ``threading.Lock()``, ... any
  constructor of a primitive we trace, in any scope) and ``obj.NAME = ...``
  become ``__synctrace__.bind("NAME", <the call>)``: the object gets the name
  the program gave it, instead of ``Event#1``.  So does a call of any
  CapWords name (a class, by PEP 8), since the program's own subclass of a
  primitive (``pipeline = Pipeline()``) makes a traced object too; ``bind``
  names only traced objects and hands back everything else untouched.
* ``NAME = [...]`` or ``NAME = list(...)`` at module level, and
  ``obj.NAME = [...]`` anywhere, become a ``tracer.List`` named ``NAME``:
  such lists are the ones threads share as buffers.  Lists bound to local
  names inside functions are left alone: they are usually private to one
  call, and tracing every one would slow the program for nothing.
"""

from __future__ import annotations

import ast
from typing import Any

import tracer
from tracer.primitives.lists import List
from tracer.recording import names as _names

#: The global the rewritten code calls through; unlikely to clash.
HELPER = "__synctrace__"

#: Constructor names (last part of the called name) worth naming.
PRIMITIVES = frozenset(
    {
        "Event",
        "Condition",
        "Lock",
        "RLock",
        "Semaphore",
        "BoundedSemaphore",
        "Barrier",
        "Queue",
        "LifoQueue",
        "PriorityQueue",
        "SimpleQueue",
    }
)


#: What ``bind`` may name: the traced primitives, subclasses included.
_TRACED = (
    tracer.Event,
    tracer.Condition,
    tracer.Lock,
    tracer.RLock,
    tracer.Semaphore,
    tracer.Barrier,
    tracer.Queue,
    tracer.SimpleQueue,
    List,
)


class Helper:
    """What rewritten code calls: ``__synctrace__.bind`` and ``.shared_list``."""

    @staticmethod
    def bind(name: str, obj: Any) -> Any:
        # Any CapWords call comes here: only our objects may be renamed (a
        # program's own object could have a ``name`` that looks like ours).
        if isinstance(obj, _TRACED):
            _names.rebind(obj, name)
        return obj

    @staticmethod
    def shared_list(name: str, value: Any) -> Any:
        if type(value) is not list:  # list(...) of something odd: leave it be
            return value
        return List(value, name=name)


def _names_a_class(called: str | None) -> bool:
    """A primitive's constructor, or a CapWords name that may be its subclass."""
    return called is not None and (called in PRIMITIVES or called[:1].isupper())


def _called_name(node: ast.expr) -> str | None:
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _is_list_display(node: ast.expr) -> bool:
    """``[...]`` or ``list(...)`` (the builtin by its plain name)."""
    if isinstance(node, ast.List):
        return True
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "list"


def _target_name(target: ast.expr) -> str | None:
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    return None


class _Binder(ast.NodeTransformer):
    def __init__(self) -> None:
        self._depth = 0  # function nesting: 0 is module (or class body) level

    def _scoped(self, node: Any) -> Any:
        self._depth += 1
        self.generic_visit(node)
        self._depth -= 1
        return node

    # A class body's names live as long as the class, like module globals.
    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _scoped

    def _wrap(self, target: ast.expr, value: ast.expr) -> ast.expr:
        name = _target_name(target)
        if name is None:
            return value
        shared = self._depth == 0 or isinstance(target, ast.Attribute)
        if _names_a_class(_called_name(value)):
            helper = "bind"
        elif shared and _is_list_display(value):
            helper = "shared_list"
        else:
            return value
        call = ast.Call(
            func=ast.Attribute(
                value=ast.Name(id=HELPER, ctx=ast.Load()), attr=helper, ctx=ast.Load()
            ),
            args=[ast.Constant(value=name), value],
            keywords=[],
        )
        return ast.copy_location(call, value)

    def visit_Assign(self, node: ast.Assign) -> ast.Assign:
        self.generic_visit(node)
        if len(node.targets) == 1:
            node.value = self._wrap(node.targets[0], node.value)
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AnnAssign:
        self.generic_visit(node)
        if node.value is not None:
            node.value = self._wrap(node.target, node.value)
        return node


def rewrite(tree: ast.Module) -> ast.Module:
    """Return ``tree`` with bindings named and shared lists traced."""
    tree = _Binder().visit(tree)
    return ast.fix_missing_locations(tree)
