"""Tasks for the Redis task backend's tests (PALABRE_TASKS_BACKEND=rq), imported as `redis_tasks`
by pytest (tests/operations is on sys.path) and by `palabre worker` (PYTHONPATH)."""

from pathlib import Path

from django.db import OperationalError
from django_tasks import task


@task()
def refused_once(flag: str) -> str:
    """Fails as a task does when the database goes away under it, the first time only."""
    path = Path(flag)
    if not path.exists():
        path.write_text("refused")
        raise OperationalError("the database system is shutting down")
    path.write_text("stored")
    return "stored"


@task()
def always_refused(attempts: str) -> None:
    """Fails each time as the database refuses, noting each attempt."""
    with open(attempts, "a") as noted:
        noted.write("x")
    raise OperationalError("the database system is shutting down")
