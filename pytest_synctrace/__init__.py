"""synctrace in pytest: record a test's threads and fail it on what went wrong.

The one package that uses both ``tracer`` (to record) and ``analyze`` (to
report).  ``plugin`` holds pytest's hooks, the ``synctrace`` marker, fixture
and ``--synctrace-keep`` option, and is registered through the ``pytest11``
entry point; ``recording`` is what they share: one test's recordings, the
code they trace, and the files kept for a failing test.

Nothing here imports ``tracer``, ``analyze`` or polars until a test asks
for a recording: a suite that uses neither the marker nor the fixture pays
nothing for the plugin.
"""

from __future__ import annotations

from pytest_synctrace.recording import Synctrace

__all__ = ["Synctrace"]
