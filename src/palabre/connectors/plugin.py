"""The connectors' implementations of Palabre's hooks (palabre.hooks), registered in its AppConfig.ready()."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy

from palabre.hooks import Contribution, hookimpl


@hookimpl
def credential_fields(platform: str) -> list[dict] | None:
    """The platform's declared credential fields, for the forms (None: not declared)."""
    from palabre.connectors.credentials import schema
    from palabre.connectors.registry import connector_class_for

    connector_class = connector_class_for(platform)
    if connector_class is None or connector_class.credential_fields is None:
        return None
    return schema(connector_class)


@hookimpl
def channel_reach(platform: str) -> frozenset[str]:
    """The capabilities the platform's registered connector declares (none without a connector)."""
    from palabre.connectors.registry import connector_class_for

    connector_class = connector_class_for(platform)
    return frozenset(c.value for c in connector_class.capabilities) if connector_class else frozenset()


@hookimpl
def channel_health(actor: Any) -> dict[int, Any]:
    """Each channel's health row, the very one the health page shows (for the channels page)."""
    from palabre.connectors.queries import channel_health

    return {row.channel.pk: row for row in channel_health(actor)}


@hookimpl
def dashboard_panels() -> list[Contribution]:
    from palabre.connectors.views import dashboard_panel
    from palabre.orgs.views import PANEL_ORDER

    return [Contribution("connectors", PANEL_ORDER["connectors"], dashboard_panel)]


@hookimpl
def audit_labels() -> dict[str, dict[str, Any]]:
    return {
        "actions": {
            "outbound.reply_queued": gettext_lazy("Reply queued"),
            "outbound.publish_queued": gettext_lazy("Publication queued"),
            "outbound.hide_queued": gettext_lazy("Hiding queued"),
            "outbound.delete_queued": gettext_lazy("Deletion queued"),
            "outbound.reply_sent": gettext_lazy("Reply sent"),
            "outbound.publish_sent": gettext_lazy("Publication sent"),
            "outbound.hide_sent": gettext_lazy("Item hidden on the platform"),
            "outbound.delete_sent": gettext_lazy("Item deleted on the platform"),
            "outbound.reply_failed": gettext_lazy("Reply failed"),
            "outbound.publish_failed": gettext_lazy("Publication failed"),
            "outbound.hide_failed": gettext_lazy("Hiding failed"),
            "outbound.delete_failed": gettext_lazy("Deletion failed"),
            "outbound.needs_check": gettext_lazy("Delivery to check"),
            "outbound.retried": gettext_lazy("Delivery retried"),
            "outbound.cancelled": gettext_lazy("Delivery cancelled"),
            "outbound.confirmed": gettext_lazy("Delivery confirmed by hand"),
            "connectors.sync_updated": gettext_lazy("Channel polling changed"),
            "outbound.unhide_queued": gettext_lazy("Showing again queued"),
            "outbound.unhide_sent": gettext_lazy("Item shown again on the platform"),
            "outbound.unhide_failed": gettext_lazy("Showing again failed"),
            "outbound.ban_author_queued": gettext_lazy("Ban of the author queued"),
            "outbound.ban_author_sent": gettext_lazy("Author banned on the platform"),
            "outbound.ban_author_failed": gettext_lazy("Ban of the author failed"),
            "outbound.private_reply_queued": gettext_lazy("Private reply queued"),
            "outbound.private_reply_sent": gettext_lazy("Private reply sent"),
            "outbound.private_reply_failed": gettext_lazy("Private reply failed"),
            "connectors.oauth_started": gettext_lazy("Connection through the platform started"),
            "connectors.oauth_connected": gettext_lazy("Channel connected through the platform"),
            "connectors.oauth_failed": gettext_lazy("Connection through the platform failed"),
            "connectors.token_refreshed": gettext_lazy("Platform token renewed"),
            "connectors.token_refresh_refused": gettext_lazy("Platform token renewal refused"),
            "connectors.platform_moderation_updated": gettext_lazy("Moderation on the platform changed"),
            "connectors.options_updated": gettext_lazy("Channel options changed"),
        },
        "targets": {"connectors.outboundaction": gettext_lazy("Outgoing action")},
    }
