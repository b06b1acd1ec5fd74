from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ModerationConfig(AppConfig):
    name = "palabre.moderation"
    label = "moderation"
    verbose_name = _("Moderation")

    def ready(self) -> None:
        from palabre import hooks
        from palabre.moderation import plugin

        hooks.register(plugin, name="palabre.moderation")
