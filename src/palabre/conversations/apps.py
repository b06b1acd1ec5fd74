from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConversationsConfig(AppConfig):
    name = "palabre.conversations"
    label = "conversations"
    verbose_name = _("Conversations")

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from palabre import hooks
        from palabre.conversations import plugin
        from palabre.postgres import use_c_timestamp_loader

        hooks.register(plugin, name="palabre.conversations")
        # Every read of items goes through the timestamps' loader: psycopg's C one on PostgreSQL.
        connection_created.connect(use_c_timestamp_loader, dispatch_uid="palabre.c-timestamps")
