"""pytest's hooks: the ``synctrace`` marker and fixture, and ``--synctrace-keep``.

Registered through the ``pytest11`` entry point, so installing synctrace is
enough.  A test that uses neither the marker nor the fixture goes through
two hooks that look for them and return: nothing is imported, patched or
written for it.
"""

from __future__ import annotations

import warnings
from collections.abc import Generator
from pathlib import Path

import pytest

from pytest_synctrace.recording import FAIL_ON, Synctrace

_SYNCTRACE = pytest.StashKey[Synctrace]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("synctrace", "synctrace: record and check what a test's threads do")
    group.addoption(
        "--synctrace-keep",
        metavar="DIR",
        default=None,
        type=Path,
        help="for each failing test that was recorded (synctrace marker or fixture),"
        " keep its trace and Markdown report in DIR, named after the test",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "synctrace(fail_on='error'): record the test body with threading and queue traced"
        " for the project's code, and fail the test when a finding is at or above fail_on"
        " ('error', 'warning', 'info' or 'never')",
    )


def synctrace_of(item: pytest.Item) -> Synctrace:
    """The test's Synctrace, made on first use."""
    found = item.stash.get(_SYNCTRACE, None)
    if found is None:
        found = item.stash[_SYNCTRACE] = Synctrace(item)
    return found


@pytest.fixture
def synctrace(request: pytest.FixtureRequest) -> Synctrace:
    """Record blocks of the test (``with synctrace.record(): ...``) and report on them
    (``synctrace.report().counts["lost-signal"] == 0``)."""
    return synctrace_of(request.node)


def _fail_on(marker: pytest.Mark) -> str:
    """The marker's ``fail_on``, checked: a mistake fails the test with the rule broken."""
    unknown = sorted(set(marker.kwargs) - {"fail_on"})
    if marker.args or unknown:
        given = ", ".join([*map(repr, marker.args), *unknown])
        pytest.fail(f"@pytest.mark.synctrace takes only fail_on=..., not {given}", pytrace=False)
    fail_on = marker.kwargs.get("fail_on", "error")
    if fail_on not in FAIL_ON:
        pytest.fail(
            f"@pytest.mark.synctrace(fail_on={fail_on!r}): fail_on must be one of"
            f" {', '.join(map(repr, FAIL_ON))}",
            pytrace=False,
        )
    return str(fail_on)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    marker = item.get_closest_marker("synctrace")
    if marker is None:
        return (yield)
    fail_on = _fail_on(marker)
    recording = synctrace_of(item)
    problem = recording.unavailable()
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    try:
        with recording.record():
            result = yield
    except BaseException:
        # A body that failed by itself fails as it did, the report beside
        # its traceback.
        item.add_report_section("call", "synctrace", _markdown_or_why(recording))
        raise
    try:
        markdown = recording.markdown()
        fails = recording.report().fails(fail_on)
    except Exception as exc:  # TraceError: say so once, without a traceback
        pytest.fail(f"synctrace cannot report on {recording.trace_path}: {exc}", pytrace=False)
    if fails:
        pytest.fail(
            f"synctrace found problems at or above {fail_on!r} in this test's threads:\n\n"
            + markdown,
            pytrace=False,
        )
    # Shown for a passing test only when asked (-rP).
    item.add_report_section("call", "synctrace", markdown)
    return result


def _markdown_or_why(recording: Synctrace) -> str:
    try:
        return recording.markdown()
    except Exception as exc:
        return f"no report on {recording.trace_path}: {type(exc).__name__}: {exc}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    recording = item.stash.get(_SYNCTRACE, None)
    keep = item.config.getoption("synctrace_keep")
    if recording is not None and keep is not None and report.failed:
        # Relative to where pytest was started, whatever a test chdir'd to.
        keep = item.config.invocation_params.dir / keep
        try:
            recording.keep(keep)
        except OSError as exc:
            warnings.warn(
                pytest.PytestWarning(f"--synctrace-keep {keep}: cannot keep the trace: {exc}"),
                stacklevel=1,
            )
    return report
