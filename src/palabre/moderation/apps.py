from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ModerationConfig(AppConfig):
    name = "palabre.moderation"
    label = "moderation"
    verbose_name = _("Moderation")

    def ready(self) -> None:
        from palabre.conversations.services import register_analyser
        from palabre.moderation.services import analyse_for_moderation

        register_analyser("moderation", analyse_for_moderation)
