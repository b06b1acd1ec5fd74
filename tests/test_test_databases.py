"""The test database each pytest process starts from (tests/conftest.py): migrated once per run and
copied to the other processes as a template. A copy must be what `migrate` would have made."""

from __future__ import annotations

import shutil
from pathlib import Path

from django.apps import apps
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def test_the_test_database_holds_every_migration_and_every_models_table(db):
    executor = MigrationExecutor(connection)
    assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []
    tables = set(connection.introspection.table_names())
    missing = [
        model._meta.db_table
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy and model._meta.db_table not in tables
    ]
    assert missing == []


def test_the_template_is_named_after_the_migrations_it_holds(db, tmp_path, monkeypatch, pytestconfig):
    """A migration written or changed during a run gives another name: no process starts from a
    template that lacks it."""
    migrations_key = pytestconfig.pluginmanager.get_plugin(
        str(Path(__file__).parent / "conftest.py")
    )._migrations_key
    first = migrations_key()
    app = apps.get_app_config("orgs")
    shutil.copytree(Path(app.path) / "migrations", tmp_path / "orgs" / "migrations")
    monkeypatch.setattr(app, "path", str(tmp_path / "orgs"))
    assert migrations_key() == first
    (tmp_path / "orgs" / "migrations" / "0001_initial.py").write_text("# changed\n", encoding="utf-8")
    assert migrations_key() != first
