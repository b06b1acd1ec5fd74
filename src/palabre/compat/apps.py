from django.apps import AppConfig


class CompatConfig(AppConfig):
    """The drop-in protocols: the Akismet-compatible API, the Perspective-compatible API and the
    embeddable comment widget. They answer from the moderation engine and services, whose
    `ModerationSite` (a site, its key and channel) they serve; moderation knows nothing of them."""

    name = "palabre.compat"
    label = "compat"
