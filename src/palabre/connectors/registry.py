"""Which connector serves which platform, through the `connector_classes` hook (`palabre.hooks`).

Built-in connectors register in the app's ready() with `register_connector`, a shorthand that
registers a plugin answering that hook for one platform; a plugin or a test registers its own the
same way (or implements the hook). A platform registered again is served by the latest."""

from __future__ import annotations

from dataclasses import dataclass

from palabre import hooks
from palabre.connectors.base import Connector, NotSupported
from palabre.orgs.models import Channel, Platform


@dataclass(frozen=True, eq=False)  # each registration is a plugin of its own
class _OneConnector:
    platform: str
    connector_class: type[Connector]

    @hooks.hookimpl
    def connector_classes(self) -> dict[str, type[Connector]]:
        return {self.platform: self.connector_class}


def register_connector(platform: str, connector_class: type[Connector]) -> None:
    if platform not in Platform.values:
        raise ValueError(f"unknown platform: {platform}")
    if not (isinstance(connector_class, type) and issubclass(connector_class, Connector)):
        raise TypeError("a connector is a subclass of palabre.connectors.base.Connector")
    hooks.register(_OneConnector(platform, connector_class), name=f"connector:{platform}")


def unregister_connector(platform: str) -> None:
    hooks.unregister(f"connector:{platform}")


# What the hook answered, kept while no plugin is registered or removed (pages ask per row).
_answered: tuple[int, dict[str, type[Connector]]] = (-1, {})


def _connectors() -> dict[str, type[Connector]]:
    global _answered
    generation, found = _answered
    if generation != hooks.generation:
        generation, found = hooks.generation, {}
        for answer in reversed(hooks.hook.connector_classes()):  # pluggy lists the latest first
            found.update(answer)
        _answered = (generation, found)
    return found


def registered() -> dict[str, type[Connector]]:
    return dict(_connectors())


def connector_class_for(platform: str) -> type[Connector] | None:
    return _connectors().get(platform)


def connector_for(channel: Channel) -> Connector:
    """The connector of the channel's platform; NotSupported when none is registered."""
    connector_class = _connectors().get(channel.platform)
    if connector_class is None:
        raise NotSupported(f"no connector for {channel.platform}")
    return connector_class()
