from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConversationsConfig(AppConfig):
    name = "palabre.conversations"
    label = "conversations"
    verbose_name = _("Conversations")

    def ready(self) -> None:
        from palabre import hooks
        from palabre.conversations import plugin

        hooks.register(plugin, name="palabre.conversations")
