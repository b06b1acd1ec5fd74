from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConnectorsConfig(AppConfig):
    name = "palabre.connectors"
    label = "connectors"
    verbose_name = _("Connectors")
