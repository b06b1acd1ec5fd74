from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProgrammesConfig(AppConfig):
    name = "palabre.programmes"
    label = "programmes"
    verbose_name = _("Community programmes")

    def ready(self) -> None:
        from palabre import hooks
        from palabre.programmes import plugin

        hooks.register(plugin, name="palabre.programmes")
