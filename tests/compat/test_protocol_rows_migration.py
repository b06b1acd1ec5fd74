"""The drop-in protocols' rows moved from `moderation` to `compat` without touching the database:
the tables keep their names, the two migrations emit no SQL, and rows written before the move are
read after it (on SQLite and, in the PostgreSQL pass, on PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from palabre.compat.models import CheckedComment, SiteMonthlyUsage, SiteRequestCount, UsedFormToken

BEFORE = [("moderation", "0009_rule_simulation_exact_and_undo"), ("compat", "0001_task_paths")]
MOVE = [("moderation", "0010_protocol_rows_to_compat"), ("compat", "0002_protocol_rows")]


def test_the_moved_models_keep_moderations_tables():
    assert {
        model._meta.db_table for model in (SiteRequestCount, SiteMonthlyUsage, CheckedComment, UsedFormToken)
    } == {
        "moderation_siterequestcount",
        "moderation_sitemonthlyusage",
        "moderation_checkedcomment",
        "moderation_usedformtoken",
    }


@pytest.mark.django_db(transaction=True)  # SQLite's schema editor (sqlmigrate) refuses an atomic block
@pytest.mark.parametrize(("app", "name"), MOVE)
def test_the_move_writes_nothing_to_the_database(app, name, capsys):
    call_command("sqlmigrate", app, name)
    statements = [
        line
        for line in capsys.readouterr().out.splitlines()
        if line.strip() and not line.lstrip().startswith("--")
    ]
    assert [s for s in statements if s.strip().upper() not in {"BEGIN;", "COMMIT;"}] == []


@pytest.mark.django_db(transaction=True)
def test_rows_written_before_the_move_are_read_after_it():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    organisation = old.get_model("orgs", "Organisation").objects.create(name="Brand", slug="brand")
    channel = old.get_model("orgs", "Channel").objects.create(
        organisation=organisation, platform="site", handle="blog.example", name="Blog"
    )
    site = old.get_model("moderation", "ModerationSite").objects.create(
        organisation=organisation,
        channel=channel,
        name="Blog",
        url="https://blog.example/",
        api_key_hash="0" * 64,
        public_id="blog",
    )
    at = datetime(2026, 11, 12, 10, 0, tzinfo=UTC)
    old.get_model("moderation", "CheckedComment").objects.create(
        site=site, guid="g-1", params='{"comment_content": "Merci"}', decision="", checked_at=at
    )
    old.get_model("moderation", "SiteRequestCount").objects.create(site=site, minute=29_000_000, count=3)
    old.get_model("moderation", "SiteMonthlyUsage").objects.create(site=site, month=202611, calls=7)
    old.get_model("moderation", "UsedFormToken").objects.create(site=site, digest="d" * 64, used_at=at)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    assert list(CheckedComment.objects.values_list("site_id", "guid", "checked_at")) == [(site.pk, "g-1", at)]
    assert list(SiteRequestCount.objects.values_list("site_id", "minute", "count")) == [
        (site.pk, 29_000_000, 3)
    ]
    assert list(SiteMonthlyUsage.objects.values_list("site_id", "month", "calls")) == [(site.pk, 202611, 7)]
    assert list(UsedFormToken.objects.values_list("site_id", "digest")) == [(site.pk, "d" * 64)]
