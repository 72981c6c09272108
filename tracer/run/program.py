"""``tracer run``: record an unmodified program, however its run ends.

The program runs in this process, as ``python script.py ARGS`` would run it:
its own ``__main__``, ``sys.argv``, ``sys.path[0]``, standard streams and
exit status.  Before it starts, the recording is opened (an unwritable trace
fails here, before anything runs), threading's and queue's primitives are
replaced by traced ones for the program's code (see ``_patch``), its sleeps
are traced and its time scaled if asked (see ``_clock``), and the main
module's source is rewritten to name objects and trace shared lists (see
``_rewrite``).

However the run ends, the trace ends with ``trace.end`` saying why:

* normal end, ``sys.exit()``, an uncaught exception: written at interpreter
  exit (``atexit``), after Python has waited for the non-daemon threads, so
  their last operations are in the trace;
* KeyboardInterrupt escaping the program: written at once, since what
  follows is usually a hang on threads that will never end;
* SIGTERM: written by a handler, which then lets the signal kill the
  process as it would have;
* ``--timeout``: written by a timer thread, which then exits with 124;
* SIGKILL: nothing can be written, but the writer flushes every 0.1 s.
"""

from __future__ import annotations

import _thread
import ast
import atexit
import contextlib
import importlib.util
import os
import signal
import sys
import time
import types
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from tracer.recording import site as _site
from tracer.recording.recorder import Recorder
from tracer.run import clock as _clock
from tracer.run import imports as _imports
from tracer.run import patch as _patch
from tracer.run import rewrite as _rewrite

#: Exit status on --timeout, as timeout(1) uses.
TIMEOUT_STATUS = 124


class ProgramError(Exception):
    """The program cannot be started (missing file, unknown module, bad syntax)."""


@dataclass
class Program:
    """What to run: a script path or a module name, and its arguments."""

    target: str
    args: list[str] = field(default_factory=list)
    is_module: bool = False


@dataclass
class _Loaded:
    code: types.CodeType
    argv0: str
    filename: str  # the code's file name, as __file__ and tracebacks give it
    path0: str
    globals: dict[str, Any]
    home: str  # the directory of the program's own code


def _load(program: Program) -> _Loaded:
    """Find, read and compile the program (with our rewrite), before recording."""
    if program.is_module:
        try:
            spec = importlib.util.find_spec(program.target)
            if spec is not None and spec.submodule_search_locations is not None:
                spec = importlib.util.find_spec(program.target + ".__main__")
        except (ImportError, ValueError) as exc:
            raise ProgramError(f"cannot find module {program.target}: {exc}") from None
        if spec is None or spec.loader is None or spec.origin is None:
            raise ProgramError(f"no module named {program.target}")
        get_source = getattr(spec.loader, "get_source", None)
        source: str | bytes | None = get_source(spec.name) if get_source else None
        if source is None:
            raise ProgramError(f"module {program.target} has no Python source to run")
        filename = spec.origin
        top = importlib.util.find_spec(program.target.partition(".")[0])
        locations = top.submodule_search_locations if top is not None else None
        home = next(iter(locations)) if locations else os.path.dirname(filename)
        namespace: dict[str, Any] = {
            "__spec__": spec,
            "__package__": spec.parent,
            "__loader__": spec.loader,
        }
        path0 = os.getcwd()
    else:
        path = Path(program.target)
        try:
            source = path.read_bytes()
        except OSError as exc:
            raise ProgramError(f"cannot open file {program.target}: {exc.strerror}") from None
        # Python gives a script's __main__ its absolute path (argv[0] stays
        # as typed): programs lean on it, ``os.chdir(os.path.dirname(__file__))``.
        filename = os.path.abspath(program.target)
        namespace = {"__spec__": None, "__package__": None, "__loader__": None}
        path0 = home = os.path.dirname(os.path.abspath(program.target))
    argv0 = filename if program.is_module else program.target  # as python would set it
    try:
        tree = ast.parse(source, filename)
    except SyntaxError as exc:
        raise ProgramError(f"{argv0}:{exc.lineno}: syntax error: {exc.msg}") from None
    code = compile(_rewrite.rewrite(tree), filename, "exec", dont_inherit=True)
    namespace.update(
        {
            "__name__": "__main__",
            "__file__": filename,
            "__cached__": None,
            "__builtins__": __builtins__,
            _rewrite.HELPER: _rewrite.Helper,
        }
    )
    return _Loaded(code, argv0, filename, path0, namespace, home)


class ProgramRun:
    """One recorded run of a program; ``execute()`` does not come back early."""

    def __init__(
        self,
        program: Program,
        output: str,
        timeout: float | None = None,
        time_scale: float = 1.0,
        redact: bool = False,
    ) -> None:
        if not time_scale > 0:
            raise ProgramError(f"the time scale must be above 0, not {time_scale}")
        self.loaded = _load(program)  # ProgramError first: nothing is written
        self.program = program
        # TraceFileError before anything runs.
        self.recorder = Recorder(output, time_scale=time_scale, redact=redact)
        self.timeout = timeout  # real seconds, whatever the time scale
        self.time_scale = time_scale
        self._finished = _thread.allocate_lock()
        self._interrupted = False
        self._ending: tuple[str, str | None, int | None] = ("completed", None, 0)

    def finish(self, reason: str, detail: str | None = None, code: int | None = None) -> None:
        """Write trace.end once; the first caller wins."""
        if self._finished.acquire(blocking=False):
            self.recorder.stop(reason, detail, code)
            _tell_a_person(self.recorder)

    def execute(self) -> None:
        """Run the program to its end; exceptions leave exactly as Python's would."""
        loaded = self.loaded
        sys.argv = [loaded.argv0, *self.program.args]
        sys.path[0] = loaded.path0
        module = types.ModuleType("__main__")
        module.__dict__.update(loaded.globals)
        sys.modules["__main__"] = module
        self.recorder.start()
        _patch.install(loaded.home, self.time_scale)
        _clock.install(self.time_scale)
        _imports.install(_patch._program_dirs)
        atexit.register(self._at_exit)
        self._install_signal_handlers()
        if self.timeout is not None:
            _thread.start_new_thread(self._timer, (self.timeout,))
        self._trim_tracebacks()
        try:
            exec(loaded.code, module.__dict__)
        except KeyboardInterrupt:
            self.finish("interrupt", "KeyboardInterrupt", None)
            raise
        except SystemExit as exc:
            self._ending = ("exit", None, _exit_status(exc.code))
            raise
        except BaseException as exc:
            self._ending = ("exception", type(exc).__name__, 1)
            raise

    def _trim_tracebacks(self) -> None:
        """Show an uncaught exception's traceback from the program's first frame.

        Exceptions leave through our frames so that Python ends the process
        exactly as it would have (status 1, or death by SIGINT); the
        traceback printed on the way need not show them.
        """
        original = sys.excepthook
        program = self.loaded.filename

        def excepthook(
            kind: type[BaseException], value: BaseException, tb: TracebackType | None
        ) -> None:
            sys.excepthook = original
            entry = tb
            while entry is not None and entry.tb_frame.f_code.co_filename != program:
                entry = entry.tb_next
            if entry is not None:
                # Python prints the exception's own __traceback__, not ``tb``.
                value.__traceback__ = entry
            original(kind, value, entry or tb)

        sys.excepthook = excepthook

    def _at_exit(self) -> None:
        # Runs after Python has joined the non-daemon threads.
        if self._interrupted:
            self.finish("interrupt", "KeyboardInterrupt while waiting for threads", None)
        else:
            self.finish(*self._ending)
        _imports.uninstall()
        _clock.uninstall()
        _patch.uninstall()

    def _install_signal_handlers(self) -> None:
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, self._on_sigint)
        if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, self._on_sigterm)

    def _on_sigint(self, signum: int, frame: types.FrameType | None) -> None:
        # Exactly what Python's default handler does, noting that it happened.
        self._interrupted = True
        raise KeyboardInterrupt

    def _on_sigterm(self, signum: int, frame: types.FrameType | None) -> None:
        # The handler may run in the middle of one of our own emits, holding
        # the recorder's lock that the writer needs to flush: ending the
        # trace here would wait on the writer, which waits on us.  So a raw
        # thread ends it, while this thread goes back to what it was doing.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        _thread.start_new_thread(self._terminate, ())

    def _terminate(self) -> None:
        self.finish("sigterm", "SIGTERM", None)
        _flush_standard_streams()
        # Die of the signal, as the program would have without us.
        os.kill(os.getpid(), signal.SIGTERM)

    def _timer(self, seconds: float) -> None:
        time.sleep(seconds)
        self.finish("timeout", f"--timeout {seconds:g} s expired", TIMEOUT_STATUS)
        _flush_standard_streams()
        os._exit(TIMEOUT_STATUS)


def _exit_status(code: object) -> int:
    """The process status ``sys.exit(code)`` leads to."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    return 1


def _tell_a_person(recorder: Recorder) -> None:
    """Say where the trace went, on a terminal only: pipes get the program's output alone."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        if sys.stderr.isatty():
            sys.stderr.write(
                f"synctrace: {recorder.events_written} events written to {recorder.path};"
                f" next: analyze report {recorder.path}\n"
            )
            sys.stderr.flush()


def _flush_standard_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError, AttributeError):
            stream.flush()


_site.internal(__file__)
