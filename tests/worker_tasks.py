"""A task for the multi-worker test: it notes each run in a file, so the test can count them.

Imported as `worker_tasks` both by pytest (tests/ is on sys.path) and by the `palabre worker`
subprocesses (PYTHONPATH=tests), so the stored task path resolves in both.
"""

import os
import time

from django_tasks import task


@task()
def note_run(number: int, path: str) -> int:
    time.sleep(0.02)  # long enough for both workers to get a share
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        # One write under PIPE_BUF bytes with O_APPEND: lines from two processes never interleave.
        os.write(fd, f"{number} {os.getpid()}\n".encode())
    finally:
        os.close(fd)
    return number
