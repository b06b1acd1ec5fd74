"""The benchmarks refuse a database that is in use: they fill it, clean nothing up and create
accounts with a known password (bench/support/throwaway.py)."""

from __future__ import annotations

import importlib.util
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from palabre.orgs.services import create_organisation

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _throwaway():
    spec = importlib.util.spec_from_file_location("throwaway", BENCH / "support" / "throwaway.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.django_db
def test_a_database_with_only_the_benchmarks_rows_is_a_throwaway_one():
    throwaway = _throwaway()
    assert throwaway.database_in_use() is None
    owner = get_user_model().objects.create_user(username="bench-ingest-1", password="bench-password-2024")
    create_organisation(name="Bench ingest", owner=owner, slug="bench-ingest-1")
    assert throwaway.database_in_use() is None


@pytest.mark.django_db
def test_an_organisation_or_a_user_no_benchmark_made_marks_the_database_in_use():
    throwaway = _throwaway()
    camille = get_user_model().objects.create_user(username="camille", password="a-long-password-1")
    assert throwaway.database_in_use() == "it holds the user 'camille'"
    create_organisation(name="Maison Lumière", owner=camille)
    assert throwaway.database_in_use() == "it holds the organisation 'maison-lumiere'"


@pytest.mark.own_sqlite
def test_palabre_bench_refuses_a_database_in_use_and_leaves_it_as_it_was(tmp_path):
    env = {
        **os.environ,
        "PALABRE_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "PALABRE_DATA_DIR": str(tmp_path),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    palabre = [sys.executable, "-m", "palabre"]
    subprocess.run([*palabre, "migrate"], env=env, check=True, capture_output=True)
    make_one = (
        "from django.contrib.auth import get_user_model\n"
        "from palabre.orgs.services import create_organisation\n"
        "owner = get_user_model().objects.create_user(username='camille', password='a-long-password-1')\n"
        "create_organisation(name='Maison Lumière', owner=owner)\n"
    )
    subprocess.run([*palabre, "manage", "shell", "-c", make_one], env=env, check=True, capture_output=True)

    refused = subprocess.run(
        [*palabre, "bench", "--bench-dir", str(BENCH), "ingest", "--items", "10"],
        env=env,
        capture_output=True,
        text=True,
    )

    assert refused.returncode == 1
    assert "is in use (it holds the organisation 'maison-lumiere')" in refused.stderr
    with sqlite3.connect(tmp_path / "db.sqlite3") as database:
        assert database.execute("SELECT username FROM auth_user").fetchall() == [("camille",)]
