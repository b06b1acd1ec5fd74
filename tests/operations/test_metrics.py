"""`/metrics` (docs/operations.md): Prometheus' text, for this machine or the token's bearer, with
requests, tasks, decisions, the task queue and channels, added up over the machine's processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from prometheus_client.parser import text_string_to_metric_families

from palabre.metrics import metrics_dir

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def samples(client, **headers) -> dict[tuple, float]:
    answer = client.get("/metrics", **headers)
    assert answer.status_code == 200, answer.content
    assert answer["Content-Type"].startswith("text/plain")
    found = {}
    for family in text_string_to_metric_families(answer.content.decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(found: dict, name: str, **labels) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def test_requests_are_counted_by_view_and_status(client, db):
    before = samples(client)
    client.get("/healthz")
    client.get("/healthz")
    client.get("/no-such-page-at-all")
    after = samples(client)
    healthz = {"method": "GET", "view": "healthz", "status": "200"}
    assert (
        value(after, "palabre_http_requests_total", **healthz)
        - value(before, "palabre_http_requests_total", **healthz)
        == 2
    )
    unmatched = {"method": "GET", "view": "unmatched", "status": "404"}
    assert (
        value(after, "palabre_http_requests_total", **unmatched)
        - value(before, "palabre_http_requests_total", **unmatched)
        == 1
    )
    assert value(after, "palabre_http_request_duration_seconds_count", view="healthz") >= 2


def test_decisions_and_tasks_are_counted(client, channel, ingest, django_capture_on_commit_callbacks):
    before = samples(client)
    with django_capture_on_commit_callbacks(execute=True):
        ingest(channel, text="Bonjour, ma commande n'est toujours pas arrivée.")
    after = samples(client)
    decided = {
        key: after[key] - before.get(key, 0.0)
        for key in after
        if key[0] == "palabre_moderation_decisions_total" and after[key] != before.get(key, 0.0)
    }
    assert sum(decided.values()) == 1
    ((_, labels),) = decided
    assert dict(labels)["source"] == "automatic"
    assert dict(labels)["action"] in {"publish", "hold", "reject"}
    finished = sum(
        after[key] - before.get(key, 0.0) for key in after if key[0] == "palabre_tasks_finished_total"
    )
    assert finished >= 1


def test_the_task_queue_and_channels_are_read_from_the_database(
    client, settings, channel, ingest, django_capture_on_commit_callbacks
):
    settings.TASKS = DATABASE_TASKS
    with django_capture_on_commit_callbacks(execute=True):
        ingest(channel, text="Une question sur ma livraison")  # its analysis waits for a worker
    found = samples(client)
    assert value(found, "palabre_task_queue", state="waiting") >= 1
    assert value(found, "palabre_task_queue", state="running") == 0
    assert ("palabre_task_queue_oldest_waiting_seconds", ()) in found
    assert value(found, "palabre_channels", platform=channel.platform, status="active") == 1


def test_counts_of_other_processes_of_the_machine_are_added(client, db):
    """Multiprocess mode: what another process wrote in the metrics folder is in the answer."""
    code = (
        "from prometheus_client import Counter; "
        "Counter('palabre_http_requests', 'x', ['method', 'view', 'status'])"
        ".labels(method='GET', view='from-another-process', status='200').inc(3)"
    )
    env = {"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir()), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    found = samples(client)
    assert (
        value(found, "palabre_http_requests_total", method="GET", view="from-another-process", status="200")
        == 3
    )


def test_without_a_token_only_this_machine_is_answered(client, db):
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200
    refused = client.get("/metrics", REMOTE_ADDR="198.51.100.20")
    assert refused.status_code == 403
    assert "PALABRE_METRICS_TOKEN" in refused.json()["message"]


def test_with_a_token_it_is_asked_of_everyone(client, db, monkeypatch):
    monkeypatch.setenv("PALABRE_METRICS_TOKEN", "s3cret-metrics-token")
    assert client.get("/metrics").status_code == 401
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer not-it")
    assert wrong.status_code == 401
    assert wrong["WWW-Authenticate"].startswith("Bearer")
    right = client.get(
        "/metrics", REMOTE_ADDR="198.51.100.20", HTTP_AUTHORIZATION="Bearer s3cret-metrics-token"
    )
    assert right.status_code == 200


@pytest.mark.parametrize("log_format", ["json", "plain"])
def test_log_format(log_format, capsys):
    """PALABRE_LOG_FORMAT=json: one JSON object a line, the record's extra fields included."""
    code = (
        "import django, logging; django.setup(); "
        "logging.getLogger('palabre.test').warning('Channel %s failing', 'blog', extra={'channel_id': 7})"
    )
    env = dict(os.environ, PALABRE_LOG_FORMAT=log_format, DJANGO_SETTINGS_MODULE="palabre.settings")
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    line = run.stderr.strip().splitlines()[-1]
    if log_format == "plain":
        assert line.endswith("WARNING palabre.test: Channel blog failing")
        return
    record = json.loads(line)
    assert record["message"] == "Channel blog failing"
    assert record["level"] == "WARNING"
    assert record["logger"] == "palabre.test"
    assert record["channel_id"] == 7
    assert isinstance(record["pid"], int)
    assert record["time"]
