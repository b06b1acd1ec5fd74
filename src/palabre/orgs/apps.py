from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgsConfig(AppConfig):
    name = "palabre.orgs"
    label = "orgs"
    verbose_name = _("Organisations")

    def ready(self) -> None:
        from django.db.models.signals import pre_save

        from palabre.bidi import clean_names
        from palabre.orgs import signals  # noqa: F401  (connects login/logout receivers)

        # Names (of organisations, channels, queries, saved replies, people...) are saved without
        # bidirectional controls, whichever form, API or service saves them (palabre.bidi).
        pre_save.connect(clean_names, dispatch_uid="palabre.bidi.clean_names")
