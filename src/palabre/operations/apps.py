from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """The installation's own commands (serve, worker, migrate, backup and restore, demo, bench,
    train and eval), as Django management commands; no models."""

    name = "palabre.operations"
    label = "operations"
    verbose_name = "Operations"
