"""`palabre worker`: a task worker (run several, on several machines, on PostgreSQL or Redis)."""

from __future__ import annotations

import argparse
import os

from palabre.commandline import PalabreCommand, setup_django


class Command(PalabreCommand):
    help = "Run a task worker (run several, on several machines, on PostgreSQL)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--queues", default="*", help="comma-separated queues, * for all")
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls when idle")
        parser.add_argument("--worker-id", default="", help="unique id (default: random)")
        parser.add_argument("--batch", action="store_true", help="run what is waiting, then exit")
        parser.add_argument(
            "--nice", type=int, default=0, help="lower the worker's CPU priority by this much (Unix nice)"
        )
        parser.add_argument("--max-tasks", type=int, default=0, help="exit after this many tasks")

    def run(self, args: argparse.Namespace) -> None:
        if args.nice:
            os.nice(args.nice)
        setup_django()
        from palabre.operations.serving import load_for_good
        from palabre.worker import TaskWorker, tasks_backend

        load_for_good()

        worker_class, unreachable = TaskWorker, ()
        if tasks_backend() == "rq":  # RQ's worker on Redis, with the same care around it
            from redis.exceptions import ConnectionError as RedisConnectionError

            from palabre.redis_queue import RedisTaskWorker as worker_class

            unreachable = (RedisConnectionError,)

        try:
            # Waits out database errors, stores what a stopped worker left, sweeps unanalysed items.
            worker_class(
                worker_id=args.worker_id,
                queues=args.queues,
                interval=args.interval,
                batch=args.batch,
                max_tasks=args.max_tasks,
            ).run()
        except unreachable as error:
            # Without Redis there is no queue: one line, and the service manager starts it again.
            raise SystemExit(f"palabre worker: Redis (PALABRE_REDIS_URL) does not answer: {error}") from None
