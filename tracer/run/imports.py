"""``tracer run``: rewrite the program's other modules as they are imported.

``run`` rewrites the main module (see ``_rewrite``); a program split into
files keeps shared lists and primitives in its other modules too.  A module
whose file lies under the program's own directory, and not among the
libraries, is loaded by a loader that parses, rewrites and compiles it.
That loader never reads or writes cached bytecode: the cache holds the
program's code as written, and must not come to hold ours.
"""

from __future__ import annotations

import ast
import importlib.abc
import importlib.machinery
import os
import sys
import types
from collections.abc import Sequence

from tracer.run import patch as _patch
from tracer.run import rewrite as _rewrite


class _RewritingLoader(importlib.machinery.SourceFileLoader):
    def get_code(self, fullname: str) -> types.CodeType:
        path = self.get_filename(fullname)
        tree = ast.parse(self.get_data(path), path)
        return compile(_rewrite.rewrite(tree), path, "exec", dont_inherit=True)

    def exec_module(self, module: types.ModuleType) -> None:
        module.__dict__[_rewrite.HELPER] = _rewrite.Helper
        super().exec_module(module)


class _ProgramFinder(importlib.abc.MetaPathFinder):
    """Finds modules as the path finder does, and gives the program's ours."""

    def __init__(self, homes: tuple[str, ...]) -> None:
        self._homes = homes

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if (
            spec is None
            or spec.origin is None
            or type(spec.loader) is not importlib.machinery.SourceFileLoader
        ):
            return None
        origin = os.path.realpath(spec.origin)
        if not origin.startswith(self._homes) or _patch._is_library(spec.origin):
            return None
        spec.loader = _RewritingLoader(fullname, spec.origin)
        return spec


_finder: _ProgramFinder | None = None


def install(homes: tuple[str, ...]) -> None:
    """Rewrite modules imported from ``homes`` (directories ending in a separator)."""
    global _finder
    if _finder is None and homes:
        _finder = _ProgramFinder(homes)
        sys.meta_path.insert(0, _finder)


def uninstall() -> None:
    global _finder
    if _finder is not None:
        sys.meta_path.remove(_finder)
        _finder = None
