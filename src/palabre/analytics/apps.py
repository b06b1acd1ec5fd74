from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "palabre.analytics"
    label = "analytics"
    verbose_name = "Analytics"

    def ready(self) -> None:
        from palabre.analytics.metrics import cached
        from palabre.analytics.services import remove_outside_recipients_of
        from palabre.orgs.signals import member_leaving

        cached.connect_signals()
        member_leaving.connect(remove_outside_recipients_of, dispatch_uid="analytics.outside_recipients")
