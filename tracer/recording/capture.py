"""Which event sink records: the native one where it was built, else pure Python.

Picked once, at import, as msgpack picks its extension: the compiled
``_csink`` when it imports, ``pysink`` otherwise or when the environment
says ``SYNCTRACE_PURE=1`` (so the reference twin can be tested and measured
anywhere).  Nothing else in the tracer asks which one runs.
"""

from __future__ import annotations

import _thread
import os
from collections.abc import Callable
from typing import Any

from tracer.recording import site as _site

Sink: Any
#: tracer.List's reentrant lock: the native ListLock, whose holds the native
#: fast paths can see without taking it, or the plain ``_thread.RLock``.
ListLock: Callable[[], Any]
#: True when events are captured and encoded by the compiled extension.
NATIVE: bool

if os.environ.get("SYNCTRACE_PURE") == "1":
    NATIVE = False
else:
    try:
        from tracer.recording import _csink
    except ImportError:  # no compiler at install time: the pure twin records
        NATIVE = False
    else:
        NATIVE = True

if NATIVE:
    Sink = _csink.Sink
    ListLock = _csink.ListLock
    _csink.set_internal(_site._internal)
    # The native sink names a call site when it captures the event (once per
    # distinct site), so that its drain encodes without the GIL.
    _csink.set_site_name(_site.site_name)
    # The call-site walk runs on every traced operation: the native one
    # skips our frames without building Python frame lists.
    _site.caller_site = _csink.caller_site
else:
    from tracer.recording import pysink

    Sink = pysink.Sink
    ListLock = _thread.RLock
