"""Fixtures of the connector tests: a scripted connector registered like any other."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fake_platform import CountingConnector

from palabre.connectors.base import Connector
from palabre.connectors.registry import connector_class_for, register_connector, unregister_connector


@pytest.fixture
def use_connector() -> Callable[[type[Connector]], type[Connector]]:
    """`use_connector(CountingConnector)`: registers it for the discourse platform, fresh state."""
    previous = connector_class_for("discourse")

    def use(connector_class: type[Connector]) -> type[Connector]:
        connector_class.calls = []
        connector_class.script = []
        connector_class.delivered = {}
        connector_class.pulls = []
        register_connector("discourse", connector_class)
        return connector_class

    yield use
    if previous is None:
        unregister_connector("discourse")
    else:
        register_connector("discourse", previous)


@pytest.fixture
def counting(use_connector):
    return use_connector(CountingConnector)


@pytest.fixture
def forum(org, make_channel):
    return make_channel(org, "discourse", handle="forum.maison-dupont.fr", name="Forum")


@pytest.fixture
def forum_item(forum, ingest):
    return ingest(forum, "topic-1", text="Bonjour, où en est ma commande ?", author="camille")


@pytest.fixture(autouse=True)
def no_rate_limit(settings, monkeypatch):
    """Calls on one channel are not spaced out, unless a test sets the interval."""
    monkeypatch.setenv("PALABRE_CONNECTORS_MIN_INTERVAL", "0")
    monkeypatch.setenv("PALABRE_CONNECTORS_PLATFORM_INTERVALS", "")


@pytest.fixture
def platform_server(allow_loopback):
    """A loopback HTTP server playing a platform from fixture payloads."""
    from platform_server import PlatformServer

    server = PlatformServer().start()
    yield server
    server.stop()
