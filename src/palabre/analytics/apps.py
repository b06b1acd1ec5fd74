from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "palabre.analytics"
    label = "analytics"
    verbose_name = "Analytics"
