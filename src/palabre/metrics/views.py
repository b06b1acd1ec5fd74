"""`/metrics`: Prometheus' text format, for the bearer of `PALABRE_METRICS_TOKEN`, or, without
one, for connections from this machine only (docs/operations.md)."""

from __future__ import annotations

import ipaddress
import secrets

from django.db import DatabaseError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily

from palabre import config
from palabre.metrics import metrics_dir


@never_cache
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    refusal = _refusal(request)
    if refusal is not None:
        return refusal
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=str(metrics_dir()))
    registry.register(DatabaseCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def _refusal(request: HttpRequest) -> HttpResponse | None:
    token = config.METRICS_TOKEN.raw().strip()
    if token:
        given = request.headers.get("Authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() == "bearer" and secrets.compare_digest(value.strip().encode(), token.encode()):
            return None
        response = JsonResponse(
            {
                "error": "unauthorized",
                "message": "Send PALABRE_METRICS_TOKEN as 'Authorization: Bearer ...'.",
            },
            status=401,
        )
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    from palabre.orgs.throttle import client_address

    if ipaddress.ip_address(client_address(request)).is_loopback:
        return None
    return JsonResponse(
        {
            "error": "forbidden",
            "message": "/metrics answers this machine only; set PALABRE_METRICS_TOKEN to read it from elsewhere.",
        },
        status=403,
    )


class DatabaseCollector:
    """Figures read from the database when asked: the same whichever process answers."""

    def collect(self):
        yield from self._tasks()
        yield from self._channels()

    def _tasks(self):
        from palabre.worker import queue_state

        try:
            state = queue_state()  # on the database, or on Redis (PALABRE_TASKS_BACKEND=rq)
        except Exception:  # DatabaseError, a Redis client's error: no figure rather than a false one
            return
        if state is None:  # the immediate backend: no queue
            return
        queue = GaugeMetricFamily("palabre_task_queue", "Tasks in the queue, by state.", labels=["state"])
        queue.add_metric(["waiting"], state["waiting"])
        queue.add_metric(["running"], state["running"])
        yield queue
        yield GaugeMetricFamily(
            "palabre_task_queue_oldest_waiting_seconds",
            "How long the oldest due task has waited for a worker.",
            value=state["oldest_waiting_seconds"],
        )

    def _channels(self):
        from palabre.connectors.models import ChannelSync
        from palabre.orgs.models import Channel

        try:
            by_status = list(Channel.objects.values("platform", "status").annotate(count=Count("id")))
            failing = list(
                ChannelSync.objects.filter(consecutive_failures__gt=0)
                .exclude(channel__status=Channel.Status.ARCHIVED)
                .values("channel__platform")
                .annotate(count=Count("id"))
            )
        except DatabaseError:
            return
        channels = GaugeMetricFamily(
            "palabre_channels", "Channels by platform and status.", labels=["platform", "status"]
        )
        for row in by_status:
            channels.add_metric([row["platform"], row["status"]], row["count"])
        yield channels
        calls = GaugeMetricFamily(
            "palabre_channels_failing_calls",
            "Channels (not archived) whose last call to their platform failed, by platform.",
            labels=["platform"],
        )
        for row in failing:
            calls.add_metric([row["channel__platform"]], row["count"])
        yield calls
