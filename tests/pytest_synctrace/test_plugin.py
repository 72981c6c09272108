"""The pytest plugin: the synctrace marker, fixture and --synctrace-keep, run by pytester."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

# pytester's in-process runs forget the modules first imported inside them,
# and the next run imports them again: harmless for most, but polars and our
# capture extension keep state in native code that a second copy of the
# Python modules would not share.  Imported here, they outlive every run.
import analyze.notebook
import analyze.render  # noqa: F401
import tracer
import tracer.run.scope

pytest_plugins = ["pytester"]

#: hypothesis's plugin (installed for our own suite) imports hypothesis anew
#: in each in-process run, a second each; the inner suites do not need it.
QUIET = ("-p", "no:hypothesispytest", "-p", "no:cacheprovider")


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    """Run pytest in-process on the files made in ``pytester``'s directory."""
    return pytester.runpytest(*QUIET, *args)


#: A producer that sets and at once clears the flag, before the consumer
#: waits: the consumer's wait times out and the item stays in the list.
#: Threads are ordered by the ``produced`` handshake; every wait has a timeout.
BUGGY = """
import threading

import pytest


@pytest.mark.synctrace
def test_set_then_clear():
    ready = threading.Event()
    produced = threading.Event()
    items = []
    woke = []

    def producer():
        items.append("job")
        ready.set()
        ready.clear()
        produced.set()

    def consumer():
        assert produced.wait(timeout=5)
        woke.append(ready.wait(timeout=0.05))

    threads = [threading.Thread(target=producer), threading.Thread(target=consumer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=5)
    assert woke == [False]
"""

#: The same hand-over through a Queue, told where the work ends by a sentinel.
CORRECT = """
import queue
import threading

import pytest


def hand_over(n):
    jobs = queue.Queue()
    done = []

    def consumer():
        while (job := jobs.get(timeout=5)) is not None:
            done.append(job)

    worker = threading.Thread(target=consumer)
    worker.start()
    for job in range(n):
        jobs.put(job)
    jobs.put(None)
    worker.join(timeout=5)
    return done


@pytest.mark.synctrace
def test_queue():
    assert hand_over(5) == list(range(5))


@pytest.mark.synctrace(fail_on="warning")
def test_queue_strict():
    assert hand_over(3) == [0, 1, 2]
"""

#: A wait on a flag nobody sets, timed out: a cleared-wait warning and nothing worse.
WARNING_ONLY = """
import queue
import threading

import pytest


def strand_an_item():
    # The worker takes one item and ends: the second is stranded (a warning).
    jobs = queue.Queue()
    jobs.put(1)
    jobs.put(2)
    worker = threading.Thread(target=jobs.get)
    worker.start()
    worker.join()


@pytest.mark.synctrace
def test_default_passes():
    strand_an_item()


@pytest.mark.synctrace(fail_on="warning")
def test_strict_fails():
    strand_an_item()
"""


def test_a_lost_signal_fails_the_test_with_the_markdown_report(
    pytester: pytest.Pytester,
) -> None:
    """The set-then-clear program fails under the marker, its message the Markdown report."""
    pytester.makepyfile(test_buggy=BUGGY)
    result = run(pytester)
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "synctrace found problems at or above 'error' in this test's threads:" in out
    assert "## synctrace report" in out
    assert "**error · lost-signal (1) · ready · test_buggy.py:15**" in out
    assert "| lost-signal | Thread-" in out
    assert "| test_buggy.py:15 |" in out  # ready.set() in the producer
    assert "warning · cleared-wait (1)" in out


def test_a_correct_queue_program_passes(pytester: pytest.Pytester) -> None:
    """A Queue hand-over with a sentinel passes, even with fail_on="warning"; -rP shows
    the report of a passing test."""
    pytester.makepyfile(test_correct=CORRECT)
    result = run(pytester, "-rP")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*Captured synctrace call*", "## synctrace report"])
    assert "**0 findings:**" in result.stdout.str()


def test_fail_on_warning_fails_a_warning_only_run(pytester: pytest.Pytester) -> None:
    """A run whose worst finding is a warning passes by default and fails with fail_on="warning"."""
    pytester.makepyfile(test_warning=WARNING_ONLY)
    result = run(pytester, "-rA")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["PASSED test_warning.py::test_default_passes"])
    result.stdout.fnmatch_lines(["FAILED test_warning.py::test_strict_fails - Failed: synctrace*"])
    assert "synctrace found problems at or above 'warning'" in result.stdout.str()


def test_the_fixture_records_a_block_and_reports(pytester: pytest.Pytester) -> None:
    """synctrace.record() traces the block and synctrace.report() is the report on it."""
    pytester.makepyfile(
        test_fixture="""
        import threading

        import pytest


        def test_counts(synctrace):
            with pytest.raises(RuntimeError, match="nothing recorded yet"):
                synctrace.report()
            with synctrace.record():
                flag = threading.Event()
                flag.set()
                flag.clear()
            report = synctrace.report()
            assert report.counts["lost-signal"] == 1
            assert report.findings["site"].to_list() == ["test_fixture.py:11"]
            assert report.findings["obj"].to_list() == ["flag"]
            assert synctrace.trace_path.name == "trace-1.jsonl"
            with synctrace.record():
                threading.Event().set()
            assert synctrace.report().counts["lost-signal"] == 0
            assert synctrace.trace_path.name == "trace-2.jsonl"
        """
    )
    run(pytester).assert_outcomes(passed=1)


def test_only_the_body_and_the_projects_code_are_traced(pytester: pytest.Pytester) -> None:
    """Objects made at import time, by the standard library or by pytest stay original; the
    body's and the project's own modules' are traced, and every site is the project's."""
    pytester.makepyfile(
        helper="""
        import threading

        def make_lock():
            return threading.Lock()

        def signal(flag):
            flag.set()
        """,
        test_scope="""
        import concurrent.futures
        import json
        import threading

        import pytest

        import tracer
        from helper import make_lock, signal

        early = threading.Event()


        @pytest.mark.synctrace(fail_on="never")
        def test_scope():
            late = threading.Event()
            assert isinstance(late, tracer.Event)
            assert not isinstance(early, tracer.Event)
            assert isinstance(make_lock(), tracer.Lock)
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                assert pool.submit(late.set).result(timeout=5) is None
                assert not isinstance(pool._work_queue, tracer.SimpleQueue)


        def test_sites(synctrace, request):
            with synctrace.record():
                signal(threading.Event())
                make_lock().acquire()
                # pytest's own machinery, called from the body, is not traced.
                request.getfixturevalue("tmp_path_factory").mktemp("x")
                request.getfixturevalue("capsys")
            lines = [json.loads(l) for l in synctrace.trace_path.read_text().splitlines()]
            sites = {l["site"].split(":")[0] for l in lines if l.get("site")}
            assert sites == {"test_scope.py", "helper.py"}
        """,
    )
    run(pytester).assert_outcomes(passed=2)


def test_keep_writes_the_trace_and_report_of_failing_recorded_tests(
    pytester: pytest.Pytester,
) -> None:
    """--synctrace-keep DIR holds <node id>.jsonl and .md for each failing recorded test only."""
    pytester.makepyfile(
        test_keep="""
        import threading

        import pytest


        @pytest.mark.synctrace
        def test_lost():
            flag = threading.Event()
            flag.set()
            flag.clear()


        @pytest.mark.synctrace
        def test_fine():
            threading.Event().set()


        @pytest.mark.parametrize("n", [1])
        def test_fixture_fails(synctrace, n, tmp_path, monkeypatch):
            monkeypatch.chdir(tmp_path)  # kept where pytest started all the same
            with synctrace.record():
                threading.Event().set()
            assert n == 2


        def test_unrecorded_fails():
            assert False
        """
    )
    kept = pytester.path / "kept"
    result = run(pytester, "--synctrace-keep", "kept")
    result.assert_outcomes(passed=1, failed=3)
    assert sorted(p.name for p in kept.iterdir()) == [
        "test_keep.py__test_fixture_fails_1_.jsonl",
        "test_keep.py__test_fixture_fails_1_.md",
        "test_keep.py__test_lost.jsonl",
        "test_keep.py__test_lost.md",
    ]
    first = json.loads((kept / "test_keep.py__test_lost.jsonl").read_text().splitlines()[0])
    assert first["event"] == "trace.start"
    markdown = (kept / "test_keep.py__test_lost.md").read_text()
    assert markdown.startswith("## synctrace report")
    assert "lost-signal (1)" in markdown


def test_a_failing_body_keeps_its_own_failure(pytester: pytest.Pytester) -> None:
    """A marked test whose body fails fails with its own assertion, the report in a section."""
    pytester.makepyfile(
        test_body="""
        import threading

        import pytest


        @pytest.mark.synctrace
        def test_body():
            threading.Event().set()
            assert 1 == 2
        """
    )
    result = run(pytester)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*assert 1 == 2*", "*Captured synctrace call*"])
    assert "synctrace found problems" not in result.stdout.str()


def test_a_mistaken_marker_says_what_it_takes(pytester: pytest.Pytester) -> None:
    """fail_on outside error/warning/info/never, or a positional argument, fails with the rule."""
    pytester.makepyfile(
        test_mistake="""
        import pytest


        @pytest.mark.synctrace(fail_on="errors")
        def test_bad_value():
            pass


        @pytest.mark.synctrace("warning")
        def test_positional():
            pass
        """
    )
    result = run(pytester)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "*synctrace(fail_on='errors'): fail_on must be one of 'error', 'warning',"
            " 'info', 'never'",
            "*@pytest.mark.synctrace takes only fail_on=..., not 'warning'",
        ]
    )


def test_a_plain_suite_is_untouched(pytester: pytest.Pytester) -> None:
    """With the plugin loaded, a suite without marker or fixture imports and patches nothing."""
    pytester.makepyfile(
        test_plain=textwrap.dedent(
            """
            import queue
            import sys
            import threading
            import time


            def test_plain(request):
                assert request.config.pluginmanager.has_plugin("synctrace")
                assert threading.Event.__module__ == "threading"
                assert queue.Queue.__module__ == "queue"
                assert time.sleep.__module__ == "time"
                for name in ("tracer", "analyze", "polars"):
                    assert name not in sys.modules, name
            """
        )
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)


def test_a_recording_already_running_fails_the_marked_test_plainly(
    pytester: pytest.Pytester, tmp_path: Path
) -> None:
    """Inside another recording (a suite under tracer run) a marked test fails with one line
    saying why, and the fixture's record() raises the same."""
    pytester.makepyfile(
        test_nested="""
        import pytest


        @pytest.mark.synctrace
        def test_marked():
            pass


        def test_fixture(synctrace):
            with pytest.raises(RuntimeError, match="another recording is running"):
                with synctrace.record():
                    pass
        """
    )
    with tracer.record(tmp_path / "outer.jsonl"):
        result = run(pytester)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "synctrace cannot record this test: another recording is running (writing *"
            "outer.jsonl); is the suite itself running under `tracer run`?"
        ]
    )


def test_a_record_block_inside_another_says_blocks_do_not_nest(pytester: pytest.Pytester) -> None:
    """Without the marker, a nested record() says blocks do not nest (not that a marker records)."""
    pytester.makepyfile(
        test_nested="""
        import pytest


        def test_nested(synctrace):
            with synctrace.record():
                with pytest.raises(RuntimeError) as raised:
                    with synctrace.record():
                        pass
            assert str(raised.value) == (
                "synctrace.record() blocks do not nest: this one is inside another;"
                " end the first block before starting the next"
            )
        """
    )
    run(pytester).assert_outcomes(passed=1)


def test_the_marker_and_a_record_block_do_not_mix(pytester: pytest.Pytester) -> None:
    """Under the marker, the fixture's record() raises, saying the body is already recorded."""
    pytester.makepyfile(
        test_both="""
        import pytest


        @pytest.mark.synctrace
        def test_both(synctrace):
            with pytest.raises(RuntimeError, match="already recording this test"):
                with synctrace.record():
                    pass
        """
    )
    run(pytester).assert_outcomes(passed=1)
