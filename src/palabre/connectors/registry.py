"""Which connector serves which platform. Built-in connectors register in the app's ready();
a plugin or a test registers its own the same way."""

from __future__ import annotations

from palabre.connectors.base import Connector, NotSupported
from palabre.orgs.models import Channel, Platform

_connectors: dict[str, type[Connector]] = {}


def register_connector(platform: str, connector_class: type[Connector]) -> None:
    if platform not in Platform.values:
        raise ValueError(f"unknown platform: {platform}")
    if not (isinstance(connector_class, type) and issubclass(connector_class, Connector)):
        raise TypeError("a connector is a subclass of palabre.connectors.base.Connector")
    _connectors[platform] = connector_class


def unregister_connector(platform: str) -> None:
    _connectors.pop(platform, None)


def registered() -> dict[str, type[Connector]]:
    return dict(_connectors)


def connector_class_for(platform: str) -> type[Connector] | None:
    return _connectors.get(platform)


def connector_for(channel: Channel) -> Connector:
    """The connector of the channel's platform; NotSupported when none is registered."""
    connector_class = _connectors.get(channel.platform)
    if connector_class is None:
        raise NotSupported(f"no connector for {channel.platform}")
    return connector_class()
