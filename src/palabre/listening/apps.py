from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ListeningConfig(AppConfig):
    name = "palabre.listening"
    label = "listening"
    verbose_name = _("Listening")

    def ready(self) -> None:
        from palabre import hooks
        from palabre.listening import plugin

        hooks.register(plugin, name="palabre.listening")
