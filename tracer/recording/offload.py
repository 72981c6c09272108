"""The pure sink's encoding process: JSON encoding off the program's GIL.

Encoding a line in Python costs more than capturing it, and in the writer
thread it is paid on the program's GIL.  For a plain trace, the pure sink
instead hands each batch, as one ``marshal.dumps`` of its flat slots, to a
process of its own that encodes and writes the lines (``jsonlines.serve``),
on another core.  The program's side is this module.

The process answers after every frame with the lines it has written and
the file's offset after them.  What can go wrong, and what happens then:

* The process cannot start (not POSIX, no interpreter to run): ``start``
  answers None and the writer thread encodes, as before.
* The process dies (killed, or it could not import orjson from where this
  interpreter found it), or stops reading for ``PATIENCE_S``: a send fails.
  The file is cut back to the offset of its last answer (a line it was
  writing as it died is never left torn), the batch in hand goes back to
  the sink and the writer thread encodes from then on; lines handed over
  and never answered for are counted as dropped, never lost silently.
* The program's machine is busy and the process falls behind: the
  program waits for room, as it does for any writer that falls behind.
* A Ctrl-C: the process ignores SIGINT and lives in a session of its own,
  so it writes what it was sent while the program handles the interrupt.
* The program is killed: the process reads to the end of the pipe, writes
  everything it was sent and exits.
* The program forks: the child closes its copy of the pipe (the recording
  is the parent's), so the encoding process still sees the pipe end.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import select
import subprocess
import sys
import time
import weakref
from typing import Any

import orjson

from tracer.recording import jsonlines

#: How long the program waits for the process to take a frame, or to finish,
#: before giving up on it.  Encoding a full batch takes well under a second.
PATIENCE_S = 8.0

#: The pipe's size asked for, where the OS lets it be set.
PIPE_BYTES = 1 << 20

_live: weakref.WeakSet[EncodingProcess] = weakref.WeakSet()


class EncodingProcess:
    """One recording's encoding process, writing to the trace's file descriptor."""

    def __init__(self, proc: subprocess.Popen[bytes], frames: int, answers: int, fd: int) -> None:
        self._proc = proc
        self._frames: int | None = frames
        self._answers = answers
        self._fd = fd
        self._start = os.lseek(fd, 0, os.SEEK_CUR)  # where its lines begin in the file
        #: Lines handed to the process so far.
        self.sent = 0
        self._broken = False
        #: The process's last answer read: (lines written, offset, errno).
        self._answer: tuple[int, int, int] = (0, self._start, 0)
        self._answers_left = b""  # part of an answer read so far
        _live.add(self)

    @property
    def alive(self) -> bool:
        """Whether frames can still be sent (the process has not failed a send)."""
        return self._frames is not None and not self._broken

    def unanswered(self) -> int:
        """Read the answers that came; the lines handed over it has not yet answered for.

        Called once a pump, so that the answers never fill their pipe: the
        last one must be there to read should the process die.
        """
        with contextlib.suppress(OSError):  # BlockingIOError: no answer since
            self._heard(os.read(self._answers, 1 << 16))
        return self.sent - self._answer[0]

    def _heard(self, data: bytes) -> None:
        data = self._answers_left + data
        size = jsonlines.ANSWER.size
        whole = len(data) - len(data) % size
        if whole:
            self._answer = jsonlines.ANSWER.unpack(data[whole - size : whole])
        self._answers_left = data[whole:]

    def send(self, batch: list[Any], last_ts: int) -> bool:
        """Hand over a batch of flat, seq-ordered slots, sites named; False if the
        process is gone or marshal refuses the batch (the caller then encodes it)."""
        try:
            # marshal, not JSON: a name repeated through the batch (the same
            # str object) goes once, and the process reads binary ints and
            # shared strings at half orjson.loads's cost (85 against 210 ns
            # an event), with a third of the memory.  Here it costs twice
            # orjson.dumps (150 against 70 ns); over whole runs on a busy
            # two-core machine neither came out ahead.  The process runs
            # this interpreter, so the format is the same on both sides.
            payload = marshal.dumps(batch)
        except ValueError:  # an object marshal does not know (in a dict of fields)
            return False
        if not self._send(jsonlines.RECORDS, payload, last_ts):
            return False
        self.sent += len(batch) // jsonlines.WIDTH
        return True

    def send_lines(self, data: bytes, lines: int, last_ts: int) -> bool:
        """Hand over lines already encoded; False if the process is gone."""
        if not self._send(jsonlines.LINES, data, last_ts):
            return False
        self.sent += lines
        return True

    def _send(self, kind: int, payload: bytes, last_ts: int) -> bool:
        frames = self._frames
        if frames is None or self._broken:
            return False
        try:
            for part in (jsonlines.HEADER.pack(kind, len(payload), last_ts), payload):
                view = memoryview(part)
                while view:
                    try:
                        view = view[os.write(frames, view) :]
                    except BlockingIOError:
                        # The pipe is full: wait, off the GIL, for the process
                        # to catch up, but not for one that has stopped reading.
                        if not select.select((), (frames,), (), PATIENCE_S)[1]:
                            self._broken = True
                            return False
        except OSError:  # EPIPE: the process is gone
            self._broken = True
            return False
        return True

    def close(self) -> tuple[int, int]:
        """End the process; (lines it wrote, errno of the write that failed, or 0).

        A process that is gone without a last answer, or does not give one
        in time, is killed, and the file is cut back to the end of the last
        lines it answered for.
        """
        # One that stopped reading will not read END either: no waiting for it.
        patience = PATIENCE_S if self._send(jsonlines.END, b"", 0) else 0.1
        self._close_frames()
        deadline = time.monotonic() + patience
        with contextlib.suppress(OSError):
            # Read every answer to the end of the pipe: the process's last
            # is the one that counts, and a full pipe would keep it waiting.
            while (left := deadline - time.monotonic()) > 0:
                if not select.select((self._answers,), (), (), left)[0]:
                    break
                chunk = os.read(self._answers, 1 << 16)
                if not chunk:
                    break
                self._heard(chunk)
        self._close_answers()
        if self._proc.poll() is None:
            self._proc.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._proc.wait(PATIENCE_S)
        written, offset, errno = self._answer
        # A process killed mid-write leaves part of a line past its last
        # answer; what it wrote and never answered for is counted as lost.
        with contextlib.suppress(OSError):
            if os.lseek(self._fd, 0, os.SEEK_END) != offset:
                os.ftruncate(self._fd, offset)
            os.lseek(self._fd, offset, os.SEEK_SET)
        return written, errno

    def _close_frames(self) -> None:
        if self._frames is not None:
            with contextlib.suppress(OSError):
                os.close(self._frames)
            self._frames = None

    def _close_answers(self) -> None:
        with contextlib.suppress(OSError):
            os.close(self._answers)

    def _forget(self) -> None:
        """In a forked child: let go of the pipe without a word to the process."""
        self._close_frames()
        self._close_answers()


def _interpreter() -> str | None:
    """The Python interpreter to run the process with, or None when there is none to trust.

    An application that embeds or freezes Python (PyInstaller, uWSGI) has
    its own program as ``sys.executable``: started with our arguments it
    would run the application again, not an encoder.
    """
    exe = sys.executable
    if not exe or getattr(sys, "frozen", False):
        return None
    if not os.path.basename(exe).lower().startswith(("python", "pypy")):
        return None
    return exe


def start(fd: int) -> EncodingProcess | None:
    """Start an encoding process writing to ``fd``; None if it cannot start."""
    exe = _interpreter()
    if exe is None or os.name != "posix":  # pipes as select() and pass_fds know them
        return None
    import fcntl  # POSIX only: imported here so that the module imports anywhere

    frames_r, frames_w = os.pipe()
    # A frame is about 1 MB: a pipe that holds one lets a send finish while
    # the process still encodes the frame before (Linux; 64 KB elsewhere).
    with contextlib.suppress(OSError, AttributeError):
        fcntl.fcntl(frames_w, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    answers_r, answers_w = os.pipe()
    # orjson from where this interpreter found it: -I keeps the process from
    # PYTHON* variables and the working directory, -S from site's start-up.
    orjson_home = os.path.dirname(os.path.dirname(os.path.abspath(orjson.__file__)))
    code = (
        "import sys; sys.path.append(sys.argv[1]); "
        "import runpy; runpy.run_path(sys.argv[2], run_name='__main__')"
    )
    argv = [exe, "-I", "-S", "-c", code, orjson_home, jsonlines.__file__]
    try:
        proc = subprocess.Popen(
            [*argv, str(frames_r), str(fd), str(answers_w)],
            pass_fds=(frames_r, fd, answers_w),
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError:
        for end in (frames_r, frames_w, answers_r, answers_w):
            os.close(end)
        return None
    os.close(frames_r)
    os.close(answers_w)
    os.set_blocking(frames_w, False)
    os.set_blocking(answers_r, False)
    return EncodingProcess(proc, frames_w, answers_r, fd)


def _forget_in_child() -> None:
    for process in list(_live):
        process._forget()


os.register_at_fork(after_in_child=_forget_in_child)
