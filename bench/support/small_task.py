"""The task `palabre bench tasks` queues by thousands: a little work, and a line saying when it ran.

Imported as `small_task` (the bench puts this folder on PYTHONPATH) by the enqueuing process and by
the workers, so the stored task path resolves in both.
"""

import os
import time

from django_tasks import task


@task()
def small(path: str, work_ms: float = 0.0) -> None:
    started = time.time()
    if work_ms:
        end = time.perf_counter() + work_ms / 1000
        while time.perf_counter() < end:  # CPU work, as a small real task does
            pass
    line = f"{os.getpid()} {started:.6f} {time.time():.6f}\n".encode()
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)  # one write under PIPE_BUF with O_APPEND: lines never interleave
    finally:
        os.close(fd)
