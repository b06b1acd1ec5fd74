from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConnectorsConfig(AppConfig):
    name = "palabre.connectors"
    label = "connectors"
    verbose_name = _("Connectors")

    def ready(self) -> None:
        from palabre.connectors.bluesky import BlueskyConnector
        from palabre.connectors.discourse import DiscourseConnector
        from palabre.connectors.facebook import FacebookConnector
        from palabre.connectors.instagram import InstagramConnector
        from palabre.connectors.mail import EmailConnector
        from palabre.connectors.mastodon import MastodonConnector
        from palabre.connectors.reddit import RedditConnector
        from palabre.connectors.registry import register_connector
        from palabre.connectors.rss import FeedConnector
        from palabre.connectors.site import SiteConnector
        from palabre.connectors.x import XConnector
        from palabre.connectors.youtube import YouTubeConnector

        register_connector("site", SiteConnector)
        register_connector("mastodon", MastodonConnector)
        register_connector("bluesky", BlueskyConnector)
        register_connector("facebook", FacebookConnector)
        register_connector("instagram", InstagramConnector)
        register_connector("rss", FeedConnector)
        register_connector("email", EmailConnector)
        register_connector("youtube", YouTubeConnector)
        register_connector("x", XConnector)
        register_connector("discourse", DiscourseConnector)
        register_connector("reddit", RedditConnector)

        # The periodic tick keeps itself going (each run enqueues the next); a web process makes
        # sure one is waiting at its first request (`palabre connectors tick` serves cron set-ups).
        from django.core.signals import request_started

        from palabre.connectors.tasks import seed_tick_once

        request_started.connect(seed_tick_once, dispatch_uid="palabre.connectors.seed_tick")
        from django.db.models.signals import post_save

        from palabre.orgs.models import Channel

        post_save.connect(_credentials_saved, sender=Channel, dispatch_uid="palabre.connectors.credentials")
        from django.db.models.signals import pre_save

        pre_save.connect(_check_addresses, sender=Channel, dispatch_uid="palabre.connectors.addresses")
        from palabre.orgs.signals import credentials_entered

        credentials_entered.connect(_check_credentials, dispatch_uid="palabre.connectors.credentials_entered")
        from palabre.orgs.signals import connection_check

        connection_check.connect(_try_credentials, dispatch_uid="palabre.connectors.connection_check")
        from palabre.orgs.forms import register_credential_fields

        register_credential_fields(_credential_fields)

        from django.utils.translation import gettext_lazy

        from palabre.orgs.views import register_audit_labels, register_channel_health, register_channel_reach

        register_channel_reach(_reach)
        register_channel_health(_health)

        register_audit_labels(
            actions={
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
            },
            targets={"connectors.outboundaction": gettext_lazy("Outgoing action")},
        )


def _reach(platform: str) -> frozenset[str]:
    """The capabilities the platform's registered connector declares (none without a connector)."""
    from palabre.connectors.registry import connector_class_for

    connector_class = connector_class_for(platform)
    return frozenset(c.value for c in connector_class.capabilities) if connector_class else frozenset()


def _check_addresses(sender, instance, update_fields=None, **kwargs) -> None:
    """A channel whose address (feed, server) is one Palabre does not connect to is refused when it
    is entered, whichever service saves it (orgs cannot import connectors: this is its hook).
    Not for rows loaded as they were stored (`palabre restore`, fixtures): they were checked then."""
    if kwargs.get("raw"):
        return
    if not instance._state.adding and not ({"handle", "credentials_ciphertext"} & set(update_fields or ())):
        return
    from palabre.connectors import outbound
    from palabre.connectors.registry import connector_class_for

    connector_class = connector_class_for(instance.platform)
    if connector_class is None:
        return
    credentials = instance.read_credentials() if instance.has_credentials else {}
    outbound.refuse_addresses(connector_class().addresses(instance, credentials))


def _check_credentials(sender, platform: str, credentials: dict, **kwargs) -> dict:
    """Credentials entered for a channel, checked against its connector's declared fields."""
    from palabre.connectors.credentials import clean

    return clean(platform, credentials)


def _try_credentials(sender, actor, channel, **kwargs) -> dict | None:
    """Credentials just stored, tried on the platform (orgs cannot import connectors: its hook)."""
    from palabre.connectors.services.health import try_credentials

    return try_credentials(actor=actor, channel=channel)


def _credential_fields(platform: str) -> list[dict] | None:
    """The platform's declared credential fields, for the forms (None: not declared)."""
    from palabre.connectors.credentials import schema
    from palabre.connectors.registry import connector_class_for

    connector_class = connector_class_for(platform)
    if connector_class is None or connector_class.credential_fields is None:
        return None
    return schema(connector_class)


def _credentials_saved(sender, instance, update_fields=None, **kwargs) -> None:
    if update_fields and "credentials_ciphertext" in update_fields:
        from palabre.connectors.services.delivery import credentials_replaced

        credentials_replaced(instance)


def _health(actor) -> dict[int, object]:
    """Each channel's health row, the very one the health page shows (for the channels page)."""
    from palabre.connectors.queries import channel_health

    return {row.channel.pk: row for row in channel_health(actor)}
