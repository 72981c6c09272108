"""A status line on stderr while a long command works, for a person watching a terminal.

``analyze report`` spends its time in two calls it cannot see inside:
opening the files (``load_traces``, one file after another) and reading and
analysing them (``build_report``, one polars query that releases the GIL).
So the line says which stage runs, which file is being opened, and how
long it has taken so far, redrawn by a small thread; it does not pretend to
know a fraction done.  It appears only on a terminal and only once the
command has run for ``delay`` seconds, so quick reports and pipes never see
it, and it is erased before the report is printed.

Invariants: only the ticker thread writes while the line is shown (stages
only change the text it draws), so no two writes interleave; ``__exit__``
stops the ticker before erasing, so the report never shares a line with it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
import time
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import Final, TextIO

#: A command shorter than this shows no progress at all.
DELAY_S: Final = 0.5
#: How often the line is redrawn (its seconds move on).
INTERVAL_S: Final = 0.1
_ERASE: Final = "\r\x1b[K"


def shows_progress(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal a person watches (and so may get a status line)."""
    if os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a replaced or closed stream
        return False


def size_label(paths: Iterable[str]) -> str:
    """How much there is to read, for a person: "147 MB" (files that cannot be sized count 0)."""
    total = 0
    for path in paths:
        with contextlib.suppress(OSError):  # a folder of Parquet files, or gone meanwhile
            total += os.path.getsize(path)
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if total >= scale:
            return (
                f"{total / scale:.0f} {unit}"
                if total >= 10 * scale
                else f"{total / scale:.1f} {unit}"
            )
    return f"{total} bytes"


class Progress:
    """The status line of one command: ``with Progress(sys.stderr) as p: p.stage(...)``."""

    def __init__(
        self,
        stream: TextIO,
        *,
        enabled: bool | None = None,
        delay: float = DELAY_S,
        interval: float = INTERVAL_S,
    ) -> None:
        self._stream = stream
        self.enabled = shows_progress(stream) if enabled is None else enabled
        self._delay, self._interval = delay, interval
        self._text = ""
        self._started = time.monotonic()
        self._drawn = False
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def stage(self, text: str) -> None:
        """Say what the command is doing now; the next redraw shows it."""
        self._text = text

    def over(self, items: Iterable[str], doing: str) -> Iterator[str]:
        """``items``, each announced as it is handed out ("opening 2/5: b.jsonl")."""
        listed = list(items)
        for n, item in enumerate(listed, 1):
            self.stage(f"{doing} {n}/{len(listed)}: {os.path.basename(item.rstrip('/')) or item}")
            yield item

    def line(self) -> str:
        """The status line as drawn now, cut to the terminal's width."""
        elapsed = time.monotonic() - self._started
        text = f"analyze: {self._text} · {elapsed:.1f} s"
        width = shutil.get_terminal_size((80, 24)).columns - 1
        return text if len(text) <= width else text[: max(width - 1, 0)] + "…"

    def draw(self) -> None:
        """Write the line over the previous one."""
        try:
            self._stream.write(_ERASE + self.line())
            self._stream.flush()
            self._drawn = True
        except (OSError, ValueError):  # the terminal went away: the report still matters
            self._stop.set()

    def _tick(self) -> None:
        if self._stop.wait(self._delay):
            return
        while True:
            self.draw()
            if self._stop.wait(self._interval):
                return

    def __enter__(self) -> Progress:
        self._started = time.monotonic()
        if self.enabled:
            self._ticker = threading.Thread(target=self._tick, name="analyze-progress", daemon=True)
            self._ticker.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        if self._drawn:
            try:
                self._stream.write(_ERASE)
                self._stream.flush()
            except (OSError, ValueError):
                pass
