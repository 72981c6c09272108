"""synctrace: record what the threads of a run did to each other, then analyze it.

Layout: ``synctrace.schema`` is the trace format, the one contract between the
two halves.  ``tracer`` records traces (it never imports polars nor
``analyze``); ``analyze`` reads them with polars and reports findings.
"""

from synctrace.schema import SCHEMA

__all__ = ["SCHEMA"]
__version__ = "0.1.0"
