"""`palabre backup`: the database, media files and manifest in one tar.gz archive."""

from __future__ import annotations

import argparse
import sys

from palabre.commandline import PalabreCommand, setup_django


class Command(PalabreCommand):
    help = "Write the database, media files and manifest to one tar.gz archive."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="the archive to write, e.g. palabre-2026-12-05.tar.gz")
        parser.add_argument(
            "--with-secret-key",
            action="store_true",
            help="also put the secret key in the archive (off by default)",
        )

    def run(self, args: argparse.Namespace) -> None:
        setup_django()
        from palabre.backup import BackupError, backup

        if args.with_secret_key:
            print(
                "Warning: the archive holds the secret key: whoever has it can read the channel credentials "
                "and sign in as anyone. Keep it as safe as the server.",
                file=sys.stderr,
            )
        try:
            result = backup(args.file, with_secret_key=args.with_secret_key)
        except BackupError as error:
            sys.exit(f"palabre backup: {error}")
        for warning in result.warnings:
            print(f"Warning: {warning}", file=sys.stderr)
        print(
            f"Wrote {result.path}: {sum(result.counts.values())} row(s) of {len(result.counts)} model(s), "
            f"{result.media_files} media file(s), "
            + (
                "the secret key included."
                if result.with_secret_key
                else "without the secret key (keep it apart)."
            )
        )
