"""The hook system (palabre.hooks): documented, each built-in app registered, the order declared
rather than the order apps load."""

from __future__ import annotations

import inspect
import logging
import re
from pathlib import Path

import pytest

from palabre import hooks
from palabre.connectors.base import Connector, NotSupported
from palabre.hooks import Contribution, hookimpl, plugged

ARCHITECTURE = Path(__file__).resolve().parent.parent / "docs" / "architecture.md"

BUILT_IN = ["conversations", "moderation", "connectors", "inbox", "listening", "publishing", "programmes"]


def hook_names() -> list[str]:
    return sorted(
        name for name, value in vars(hooks).items() if callable(value) and hasattr(value, "palabre_spec")
    )


def hooks_section() -> str:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    found = re.search(r"^## Hooks\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert found, "docs/architecture.md has no '## Hooks' section"
    return found.group(1)


def test_the_hooks_are_those_the_manager_knows():
    assert hook_names() == sorted(
        name for name in vars(hooks.hook) if not name.startswith("_") and hasattr(hooks.hook, name)
    )
    assert "pipeline_stages" in hook_names() and "dashboard_panels" in hook_names()


@pytest.mark.parametrize("name", hook_names())
def test_every_hook_says_when_it_is_called_and_is_documented(name):
    doc = inspect.getdoc(getattr(hooks, name)) or ""
    assert "Called by" in doc and "Built-in" in doc, f"hooks.{name} does not say who calls it and who answers"
    assert f"`{name}`" in hooks_section(), f"docs/architecture.md's Hooks section does not list `{name}`"


@pytest.mark.parametrize("app", BUILT_IN)
def test_each_built_in_app_registers_its_plugin_in_ready(app):
    plugin = hooks.manager.get_plugin(f"palabre.{app}")
    assert plugin is not None and plugin.__name__ == f"palabre.{app}.plugin"
    assert hooks.manager.get_hookcallers(plugin), f"palabre.{app}.plugin implements no hook"


def test_registering_a_name_again_replaces_what_it_registered():
    class One:
        @hookimpl
        def channel_reach(self, platform):
            return {"pull"}

    class Other:
        @hookimpl
        def channel_reach(self, platform):
            return {"publish"}

    try:
        hooks.register(One(), "test-reach")
        hooks.register(Other(), "test-reach")
        assert [answer for answer in hooks.hook.channel_reach(platform="nowhere") if answer] == [{"publish"}]
    finally:
        hooks.unregister("test-reach")
    assert hooks.manager.get_plugin("test-reach") is None


def test_ordered_answers_follow_the_declared_order_and_the_latest_of_a_name_wins():
    # pluggy lists the last registered first: here "late" was registered after "early"
    late = [Contribution("b", 10, "b-late"), Contribution("c", 5, "c")]
    early = [Contribution("a", 20, "a"), Contribution("b", 10, "b-early")]
    assert [c.value for c in hooks.ordered([late, early])] == ["c", "b-late", "a"]
    assert hooks.ordered([None, []]) == []


def test_dashboard_panels_show_in_the_declared_order_whatever_registers_first():
    from palabre.orgs.views.pages import PANEL_ORDER, dashboard_panels

    def mine(request, actor):
        return None

    class Panel:
        @hookimpl(tryfirst=True)  # called first: its place still comes from its order
        def dashboard_panels(self):
            return [Contribution("between", PANEL_ORDER["moderation"] + 1, mine)]

    modules = [panel.__module__ for panel in dashboard_panels()]
    assert modules == [
        "palabre.publishing.views.settings",
        "palabre.conversations.views",
        "palabre.moderation.views",
        "palabre.connectors.views",
        "palabre.inbox.views.preferences",
        "palabre.listening.views",
    ]
    with plugged(Panel()):
        panels = dashboard_panels()
    assert panels.index(mine) == 3


def test_demo_extensions_run_in_the_demo_order():
    from palabre.demo.loader import demo_extensions

    assert [extension.__module__ for extension in demo_extensions()] == [
        "palabre.inbox.demo",
        "palabre.listening.demo",
        "palabre.publishing.demo",
    ]


def test_audit_labels_gather_every_apps_own_over_orgs():
    from palabre.orgs.views.pages import ACTION_LABELS, action_labels, audit_sentences, target_labels

    labels = action_labels()
    assert set(ACTION_LABELS) <= set(labels)
    assert {
        "moderation.approve",
        "inbox.assigned",
        "post.created",
        "crisis.started",
        "outbound.reply_sent",
    } <= set(labels)
    assert "programmes.contest" in target_labels()
    assert "post.handed_over_to_member" in audit_sentences() and "inbox.assigned" in audit_sentences()

    class Extra:
        @hookimpl
        def audit_labels(self):
            return {"actions": {"extra.done": "Done"}, "targets": {}}

    with plugged(Extra()):
        assert action_labels()["extra.done"] == "Done"
    assert "extra.done" not in action_labels()


def test_the_first_answer_wins_for_credential_fields():
    from palabre.orgs.forms import credential_fields

    assert [field["name"] for field in credential_fields("mastodon")][0] == "api_base_url"

    class Override:
        @hookimpl(tryfirst=True)
        def credential_fields(self, platform):
            return [{"name": "only"}] if platform == "mastodon" else None

    with plugged(Override()):
        assert credential_fields("mastodon") == [{"name": "only"}]
        assert credential_fields("rss") == credential_fields("rss")  # the connectors' answer
    assert [field["name"] for field in credential_fields("mastodon")][0] == "api_base_url"


def test_a_plugin_serves_a_platform_through_the_connector_hook():
    from palabre.connectors.registry import connector_class_for, register_connector, registered

    class Fake(Connector):
        platform = "mastodon"

    class Plugin:
        @hookimpl
        def connector_classes(self):
            return {"mastodon": Fake}

    built_in = connector_class_for("mastodon")
    with plugged(Plugin()):
        assert connector_class_for("mastodon") is Fake and registered()["mastodon"] is Fake
    assert connector_class_for("mastodon") is built_in
    register_connector("mastodon", Fake)
    try:
        assert connector_class_for("mastodon") is Fake
    finally:
        register_connector("mastodon", built_in)
    assert connector_class_for("mastodon") is built_in


def test_the_site_connector_hides_only_where_moderation_answers():
    from palabre.connectors.site import SiteConnector
    from palabre.moderation import plugin as moderation_plugin

    hidden = []

    class Recorder:
        @hookimpl(tryfirst=True)
        def hide_site_comment(self, item, note):
            hidden.append((item, note))
            return True

    with plugged(Recorder()):
        SiteConnector().hide(None, "item")
    assert hidden == [("item", "hidden through the outbox")]
    hooks.unregister("palabre.moderation")
    try:
        with pytest.raises(NotSupported):
            SiteConnector().hide(None, "item")
    finally:
        hooks.register(moderation_plugin, "palabre.moderation")


@pytest.mark.django_db
def test_a_failing_review_receiver_is_logged_and_the_others_still_hear(caplog):
    from palabre.moderation.hooks import item_reviewed, spam_review_committed

    heard = []

    def broken(sender, **kwargs):
        raise RuntimeError("boom")

    def listener(sender, *, item_id, **kwargs):
        heard.append(item_id)

    spam_review_committed.connect(broken, dispatch_uid="test-broken")
    spam_review_committed.connect(listener, dispatch_uid="test-listener")
    try:
        with caplog.at_level(logging.ERROR, logger="palabre.moderation.hooks"):
            item_reviewed(-1)  # no such item: the inbox's receiver finds nothing to refresh
    finally:
        spam_review_committed.disconnect(dispatch_uid="test-broken")
        spam_review_committed.disconnect(dispatch_uid="test-listener")
    assert heard == [-1]
    assert "review receiver" in caplog.text and "boom" in caplog.text
