from __future__ import annotations

from django.db import models


class ScheduledJob(models.Model):
    """One row per job of the schedule (`palabre.schedule.jobs.JOBS`): when it is due next, and
    what its last run did. A worker claims a due job by moving `due_at` on by its interval in one
    conditional UPDATE: of two workers, only one changes the row, and only it runs the job."""

    name = models.CharField(max_length=100, primary_key=True)
    due_at = models.DateTimeField()
    last_started_at = models.DateTimeField(null=True, blank=True)
    last_finished_at = models.DateTimeField(null=True, blank=True)
    last_worker = models.CharField(max_length=100, blank=True)
    last_outcome = models.JSONField(default=dict, blank=True)
    last_error = models.TextField(blank=True)
    runs = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name
