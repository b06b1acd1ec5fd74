"""The tests' clock (tests/conftest.py): every test starts at the instant of `--clock`, and one run
with several instants runs each test marked `clock` once at each (scripts/test.sh's date pass)."""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from subprocess import run

import pytest

TESTS = Path(__file__).resolve().parent


@pytest.fixture
def shared(pytestconfig):
    """tests/conftest.py (`from conftest import` finds whichever folder's conftest came last)."""
    return pytestconfig.pluginmanager.get_plugin(str(TESTS / "conftest.py"))


class Options:
    """What clock_instants reads of pytest's configuration."""

    def __init__(self, clock: str) -> None:
        self.clock = clock

    def getoption(self, name: str) -> str:
        assert name == "--clock"
        return self.clock


@pytest.mark.clock
def test_a_test_and_the_processes_it_starts_begin_at_the_instant_of_the_run(
    clock_instant, pytestconfig, shared
):
    assert clock_instant in shared.clock_instants(pytestconfig).values()
    assert abs(datetime.now(UTC) - clock_instant) < timedelta(minutes=1)
    child = run([sys.executable, "-c", "import time; print(time.time())"], capture_output=True, text=True)
    assert abs(float(child.stdout) - clock_instant.timestamp()) < 60, child.stderr


def test_instants_are_names_or_dates_with_their_offset_separated_by_commas(shared):
    assert shared.clock_instants(Options("sunday-night, 2026-01-01T00:30:00+01:00")) == {
        "sunday-night": datetime.fromisoformat(shared.CLOCK_INSTANTS["sunday-night"]),
        "2026-01-01T00:30:00+01:00": datetime(2025, 12, 31, 23, 30, tzinfo=UTC),
    }
    default = shared.DEFAULT_TEST_NOW
    assert list(shared.clock_instants(Options(default)).values()) == [datetime.fromisoformat(default)]


@pytest.mark.parametrize(
    ("value", "message"),
    [("2026-01-01T00:30:00", "give the offset"), ("lundi", "not an instant"), (" , ", "at least one")],
)
def test_a_clock_without_offset_or_unknown_is_refused(value, message, shared):
    with pytest.raises(pytest.UsageError, match=message):
        shared.clock_instants(Options(value))


def test_one_run_at_several_instants_runs_each_clock_test_once_at_each_and_the_others_once():
    env = {k: v for k, v in os.environ.items() if k not in {"PYTEST_XDIST_WORKER", "PYTEST_ADDOPTS"}}
    for name in ("PALABRE_TEST_NOW", "PALABRE_TEST_CLOCK_OFFSET"):  # this run's clock, not the child's
        env.pop(name, None)
    child = run(
        [
            *(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rA"),
            *("--clock", "fall-back,new-year-eve", str(Path(__file__))),
            *("-k", "begin_at_the_instant or names_or_dates"),
        ],
        cwd=TESTS.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == 0, child.stdout[-3000:] + child.stderr[-3000:]
    passed = sorted(line.split("::")[-1] for line in child.stdout.splitlines() if line.startswith("PASSED "))
    assert passed == [
        "test_a_test_and_the_processes_it_starts_begin_at_the_instant_of_the_run[fall-back]",
        "test_a_test_and_the_processes_it_starts_begin_at_the_instant_of_the_run[new-year-eve]",
        "test_instants_are_names_or_dates_with_their_offset_separated_by_commas",
    ], child.stdout[-3000:]
