"""Fixtures of the publishing tests: a team (contributor, community manager), a channel served by
a connector that counts its calls, and helpers to write and approve posts through the services."""

from __future__ import annotations

from datetime import timedelta

import pytest

from palabre.connectors.base import Capability, Connector, Delivered
from palabre.connectors.registry import connector_class_for, register_connector, unregister_connector
from palabre.orgs.permissions import Role


class CountingPublisher(Connector):
    """A test platform: publishes by noting the call."""

    platform = "discourse"
    capabilities = frozenset({Capability.PUBLISH})
    calls: list[tuple] = []

    def publish(self, channel, *, text, media=(), idempotency_key):
        type(self).calls.append((channel.pk, text, idempotency_key))
        n = len(type(self).calls)
        return Delivered(f"topic-{n}", f"https://forum.example/t/{n}")


@pytest.fixture
def publisher():
    previous = connector_class_for("discourse")
    CountingPublisher.calls = []
    register_connector("discourse", CountingPublisher)
    yield CountingPublisher
    if previous is None:
        unregister_connector("discourse")
    else:
        register_connector("discourse", previous)


@pytest.fixture(autouse=True)
def no_rate_limit(monkeypatch):
    monkeypatch.setenv("PALABRE_CONNECTORS_MIN_INTERVAL", "0")
    monkeypatch.setenv("PALABRE_CONNECTORS_PLATFORM_INTERVALS", "")


@pytest.fixture
def forum(org, make_channel, publisher):
    return make_channel(org, "discourse", handle="forum.maison-dupont.fr", name="Forum")


class XPublisher(CountingPublisher):
    """X has no built-in connector: the tests that need an X channel able to publish bring one."""

    platform = "x"


@pytest.fixture
def x_publisher():
    previous = connector_class_for("x")
    XPublisher.calls = []
    register_connector("x", XPublisher)
    yield XPublisher
    if previous is None:
        unregister_connector("x")
    else:
        register_connector("x", previous)


@pytest.fixture
def x_channel(org, make_channel, x_publisher):
    return make_channel(org, "x", handle="@maisondupont", name="X")


@pytest.fixture
def contributor(org, make_member, actor_for):
    return actor_for(make_member(org, Role.CONTRIBUTOR).user, org)


@pytest.fixture
def cm(org, make_member, actor_for):
    return actor_for(make_member(org, Role.COMMUNITY_MANAGER).user, org)


@pytest.fixture
def soon():
    from django.utils import timezone

    return lambda minutes=30: timezone.now() + timedelta(minutes=minutes)
