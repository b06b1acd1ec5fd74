from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConnectorsConfig(AppConfig):
    name = "palabre.connectors"
    label = "connectors"
    verbose_name = _("Connectors")

    def ready(self) -> None:
        from palabre.connectors.bluesky import BlueskyConnector
        from palabre.connectors.discord import DiscordConnector
        from palabre.connectors.discourse import DiscourseConnector
        from palabre.connectors.facebook import FacebookConnector
        from palabre.connectors.instagram import InstagramConnector
        from palabre.connectors.irc import IrcConnector
        from palabre.connectors.linkedin import LinkedInConnector
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
        register_connector("irc", IrcConnector)
        register_connector("discord", DiscordConnector)
        register_connector("linkedin", LinkedInConnector)

        from django.db.models.signals import post_save

        from palabre.orgs.models import Channel

        post_save.connect(_credentials_saved, sender=Channel, dispatch_uid="palabre.connectors.credentials")
        from django.db.models.signals import pre_save

        pre_save.connect(_check_addresses, sender=Channel, dispatch_uid="palabre.connectors.addresses")
        from palabre.orgs.signals import credentials_entered

        credentials_entered.connect(_check_credentials, dispatch_uid="palabre.connectors.credentials_entered")
        from palabre.orgs.signals import connection_check

        connection_check.connect(_try_credentials, dispatch_uid="palabre.connectors.connection_check")
        from palabre import hooks
        from palabre.connectors import plugin

        hooks.register(plugin, name="palabre.connectors")


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


def _credentials_saved(sender, instance, update_fields=None, **kwargs) -> None:
    if update_fields and "credentials_ciphertext" in update_fields:
        from palabre.connectors.services.delivery import credentials_replaced

        credentials_replaced(instance)
