"""The order in which xdist hands the test files out (tests/conftest.py): the files whose tests start
processes first, so that the last files, run while another worker may wait, are short ones."""

from __future__ import annotations

import types
from dataclasses import dataclass
from pathlib import Path

import pytest

STARTS_PROCESSES = types.SimpleNamespace(subprocess=object())  # a module that imported subprocess
IN_PROCESS = types.SimpleNamespace()


@pytest.fixture
def processes_first(pytestconfig):
    """From tests/conftest.py (`from conftest import` finds whichever folder's conftest came last)."""
    return pytestconfig.pluginmanager.get_plugin(str(Path(__file__).parent / "conftest.py"))._processes_first


@dataclass
class Item:
    nodeid: str
    module: object


def test_files_that_start_processes_come_first_then_by_number_of_tests_each_file_kept_in_order(
    processes_first,
):
    items = [
        Item("tests/a.py::one", IN_PROCESS),
        Item("tests/b.py::one", IN_PROCESS),
        Item("tests/b.py::two", IN_PROCESS),
        Item("tests/c.py::slow", STARTS_PROCESSES),
        Item("tests/a.py::two[x]", IN_PROCESS),
        Item("tests/a.py::two[y]", IN_PROCESS),
        Item("tests/d.py::one", IN_PROCESS),
    ]
    processes_first(items)
    assert [item.nodeid for item in items] == [
        "tests/c.py::slow",
        "tests/a.py::one",
        "tests/a.py::two[x]",
        "tests/a.py::two[y]",
        "tests/b.py::one",
        "tests/b.py::two",
        "tests/d.py::one",
    ]
