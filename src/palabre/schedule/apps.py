from django.apps import AppConfig


class ScheduleConfig(AppConfig):
    name = "palabre.schedule"
    label = "schedule"
