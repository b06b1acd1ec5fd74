from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgsConfig(AppConfig):
    name = "palabre.orgs"
    label = "orgs"
    verbose_name = _("Organisations")

    def ready(self) -> None:
        from palabre.orgs import signals  # noqa: F401  (connects login/logout receivers)
