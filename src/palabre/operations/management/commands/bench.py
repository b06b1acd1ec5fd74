"""`palabre bench NAME`: run a benchmark from bench/ (prints JSON and a summary line)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from palabre.commandline import PalabreCommand


class Command(PalabreCommand):
    help = "Run a benchmark from bench/ (prints JSON and a summary line)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name")
        parser.add_argument("rest", nargs=argparse.REMAINDER)
        parser.add_argument("--bench-dir", default="bench")

    def run(self, args: argparse.Namespace) -> None:
        import runpy

        if not Path(args.bench_dir).is_dir():
            sys.exit(
                f"palabre bench: no benchmarks folder {args.bench_dir}: run it from a clone of Palabre, "
                "or give the folder with --bench-dir."
            )
        script = Path(args.bench_dir) / f"{args.name}.py"
        if not script.exists():
            available = sorted(p.stem for p in Path(args.bench_dir).glob("*.py"))
            sys.exit(
                f"No benchmark named {args.name!r} in {args.bench_dir}; available: {', '.join(available)}"
            )
        sys.argv = [str(script), *args.rest]
        runpy.run_path(str(script), run_name="__main__")
