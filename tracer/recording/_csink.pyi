"""The native event sink (``_csink.c``): the twin of ``pysink``, which documents it."""

from collections.abc import Callable
from typing import Any

#: How long an emit waits for room before counting its event as dropped.
ROOM_PATIENCE_S: float

class Sink:
    """Events of one recording between capture and the writer."""

    #: Events that could not be kept (no room in time, no memory, a failed drain).
    dropped: int
    def __init__(self, first_seq: int = 0, max_pending: int = 1 << 18) -> None: ...
    @property
    def blocked(self) -> dict[int, tuple[str, int, str, Any, Any, int]]: ...
    @property
    def pending(self) -> int: ...
    def emit(
        self, event: str, obj: Any, site: Any, fields: dict[str, Any] | None = None
    ) -> int: ...
    def emit_as(
        self,
        event: str,
        obj: Any,
        site: Any,
        fields: dict[str, Any] | None,
        thread: str,
        thread_id: int,
    ) -> int: ...
    def begin(
        self, event: str, obj: Any, site: Any, fields: dict[str, Any] | None = None
    ) -> int: ...
    def end(
        self, begin_seq: int, event: str, obj: Any, site: Any, fields: dict[str, Any]
    ) -> int: ...
    def wait(self, timeout: float, threshold: int) -> None: ...
    def close(self) -> int: ...
    def drain(self, limit: int, site_name: Callable[[Any], str], final: bool = False) -> bytes: ...

def caller_site(depth: int = 2) -> tuple[str, int] | None: ...
def set_internal(files: set[str]) -> None: ...
