from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "palabre.analytics"
    label = "analytics"
    verbose_name = "Analytics"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import pre_delete

        from palabre.analytics.metrics import cached
        from palabre.analytics.services import (
            remove_outside_recipients_of,
            remove_outside_recipients_of_deleted_account,
            remove_outside_recipients_on_demotion,
        )
        from palabre.orgs.signals import member_leaving, member_role_changed

        cached.connect_signals()
        member_leaving.connect(remove_outside_recipients_of, dispatch_uid="analytics.outside_recipients")
        pre_delete.connect(
            remove_outside_recipients_of_deleted_account,
            sender=get_user_model(),
            dispatch_uid="analytics.outside_recipients_account",
        )
        member_role_changed.connect(
            remove_outside_recipients_on_demotion, dispatch_uid="analytics.outside_recipients_demotion"
        )
