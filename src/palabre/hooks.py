"""Palabre's extension points: one hook system, run by pluggy (DESIGN.md: "extension points are one
documented hook system").

A lower floor calls a hook; the apps above it (and third-party plugins) implement it, so the lower
floor never imports them. Each hook below says who calls it, when, and in what order its
implementations run. docs/architecture.md ("Hooks") lists them with their implementations.

Registering. A built-in app keeps its implementations in `<app>/plugin.py` (functions marked
`@hookimpl`) and registers that module in its `AppConfig.ready()`:

    hooks.register(plugin, name="palabre.inbox")

A third-party plugin does the same from its own app. Registering a name again replaces what that
name registered (an app's `ready()` may run twice in tests). Tests plug a fake for a while with
`with hooks.plugged(FakePlugin()):`.

Order. pluggy calls implementations last registered first, which is the order apps happen to
load: nothing here relies on it.
- Hooks that gather contributions whose order matters (pipeline stages, dashboard panels, demo
  extensions) return objects with a `name` and an `order` number; the caller sorts them by
  (order, name) with `ordered()`, and a contribution registered later under the same name
  replaces the earlier one. The numbers are stated with each contribution (the pipeline's in
  `conversations.pipeline.ORDER`, the demo's in `demo.loader.ORDER`, the panels' in
  `orgs.views.pages.PANEL_ORDER`).
- Hooks marked "first answer wins" (`firstresult`) stop at the first implementation that answers
  something other than None; an implementation marked `@hookimpl(tryfirst=True)` answers before
  the built-in ones (tests use it to stand in for an app).
- The others merge every answer; their order does not change the result.

"Something happened" is told by Django signals, not hooks: `orgs.signals` (credentials entered, a
connection check, a member leaving), `moderation.hooks.spam_review_committed`,
`listening.hooks.crisis_mode_changed`, `moderation.hooks.decisions_recorded`.

This module imports nothing of Palabre: every floor may call it.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import pluggy

PROJECT = "palabre"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@dataclass(frozen=True)
class Contribution:
    """Something an app adds to an ordered hook: its name, its place, and the thing itself."""

    name: str
    order: int
    value: Any


# --- the hooks ------------------------------------------------------------------------------------


@hookspec
def connector_classes() -> dict[str, Any]:
    """{platform: its `connectors.base.Connector` subclass}. Called by `connectors.registry`
    (`connector_for`, `connector_class_for`, `registered`) whenever a channel's connector is needed;
    the answers are merged, the plugin registered last winning for a platform.
    `connectors.registry.register_connector(platform, cls)` registers a plugin answering it for one
    platform. Built-in: site, mastodon, bluesky, rss, email and every connector the connectors app
    registers."""


@hookspec
def pipeline_stages() -> Iterable[Any]:
    """The analysis stages an app adds to the pipeline: `conversations.pipeline.Stage` objects
    (name, order, run). Called by `conversations.pipeline.stages()` for each batch analysed; the
    stages run by their `order`, which must be the one `conversations.pipeline.ORDER` declares for
    a name it knows. Built-in: language (conversations), moderation, inbox, listening."""


@hookspec(firstresult=True)
def hide_site_comment(item: Any, note: str) -> bool | None:
    """Hide a comment of the site connector (Palabre's own comment widget) and answer True.
    Called by `connectors.site.SiteConnector` when the outbox hides or deletes such a comment.
    First answer wins; none (no moderation installed) makes the connector refuse. Built-in:
    moderation."""


@hookspec(firstresult=True)
def is_off_hours(organisation_id: int, moment: Any) -> bool | None:
    """Whether `moment` falls outside the organisation's business hours. Called by moderation
    (`moderation.hooks.is_off_hours`) for the night policy; an implementation that fails is logged
    and counts as "not off hours". First answer wins; none means never off hours. Built-in: inbox."""


@hookspec
def demo_extensions() -> Iterable[Contribution]:
    """What an app adds to the demo organisations: `Contribution(name, order, load)` where
    `load(organisation, people, channels, now)` runs after the organisation's conversations are
    loaded, in the same transaction. Called by `demo.loader` once per organisation, in the order of
    `demo.loader.ORDER`. Built-in: inbox, listening, publishing."""


@hookspec
def dashboard_panels() -> Iterable[Contribution]:
    """The home page's panels: `Contribution(name, order, panel)` where `panel(request, actor)`
    returns None or a dict with optional `counts` ([{label, value, url}]) and `template` (rendered
    with the dict as `panel`). Called by `orgs.views.account.home` at each visit; panels show in
    the order of `orgs.views.pages.PANEL_ORDER`. Built-in: publishing, conversations, moderation,
    connectors, inbox, listening."""


@hookspec
def audit_labels() -> dict[str, dict[str, Any]]:
    """How an app's audit entries read: a dict with `actions` ({action: label}), `targets`
    ({app_label.model: label}) and optionally `sentences` ({action: "%(who)s ... %(target)s"}).
    Called by `orgs.views.pages` when the audit log or the home page is shown; the answers are
    merged over orgs' own (an app names only its own actions). Built-in: every app that audits."""


@hookspec(firstresult=True)
def credential_fields(platform: str) -> list[dict] | None:
    """The credential fields a platform's connector declares, as plain dicts (name, label, help,
    kind, secret, required, choices). Called by `orgs.forms.credential_fields` for the channel
    forms and the API. First answer wins; none means not declared. Built-in: connectors."""


@hookspec
def channel_reach(platform: str) -> Iterable[str]:
    """What Palabre can do on a platform: capability names (pull, webhook, reply, publish, hide,
    delete). Called by `orgs.views.pages.channel_reach` for the channels page; the answers are
    united. Built-in: connectors."""


@hookspec
def channel_health(actor: Any) -> dict[int, Any]:
    """{channel id: its health row} for the actor's organisation. Called by
    `orgs.views.pages.channel_health` for the channels page; the answers are merged. Built-in:
    connectors."""


# --- the manager ----------------------------------------------------------------------------------

manager = pluggy.PluginManager(PROJECT)
manager.add_hookspecs(sys.modules[__name__])
hook = manager.hook
# Counts the registrations through `register` and `unregister`: a caller on a hot path may keep what
# a hook answered while it has not changed (`connectors.registry` does).
generation = 0


def register(plugin: object, name: str) -> None:
    """Register `plugin` (a module or an object with `@hookimpl` methods) under `name`, replacing
    what that name registered before."""
    global generation
    unregister(name)
    manager.register(plugin, name=name)
    generation += 1


def unregister(name: str) -> None:
    global generation
    plugin = manager.get_plugin(name)
    if plugin is not None:
        manager.unregister(plugin, name=name)
        generation += 1


@contextlib.contextmanager
def plugged(plugin: object, name: str | None = None) -> Iterator[object]:
    """Register `plugin` for the duration of the block (tests' fakes, a plugin tried out)."""
    name = name or f"plugged-{id(plugin)}"
    register(plugin, name)
    try:
        yield plugin
    finally:
        unregister(name)


def ordered(answers: Iterable[Iterable[Any]]) -> list[Any]:
    """One list of what the implementations of an ordered hook answered, sorted by (order, name);
    where two share a name, the one registered last wins. `answers` is what the hook call
    returned (pluggy lists the last registered first)."""
    by_name: dict[str, Any] = {}
    for answer in reversed(list(answers)):
        for contribution in answer or ():
            by_name[contribution.name] = contribution
    return sorted(by_name.values(), key=lambda contribution: (contribution.order, contribution.name))
