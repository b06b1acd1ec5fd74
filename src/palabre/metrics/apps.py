from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "palabre.metrics"
    label = "palabre_metrics"

    def ready(self) -> None:
        from palabre.metrics import recorders

        recorders.connect()
