from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "palabre.analytics"
    label = "analytics"
    verbose_name = "Analytics"

    def ready(self) -> None:
        from palabre.analytics.metrics import cached

        cached.connect_signals()
