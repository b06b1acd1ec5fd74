"""`palabre restore`: load a backup archive into an empty, migrated database."""

from __future__ import annotations

import argparse
import sys

from palabre.commandline import PalabreCommand, setup_django


class Command(PalabreCommand):
    help = "Load a backup archive into an empty, migrated database."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", help="the archive written by palabre backup")

    def run(self, args: argparse.Namespace) -> None:
        setup_django()
        from palabre.backup import BackupError, restore

        try:
            result = restore(args.file)
        except BackupError as error:
            sys.exit(f"palabre restore: {error}")
        for label, (expected, restored) in result.counts.items():
            if expected or restored:
                mark = "" if expected == restored else "  MISMATCH"
                print(f"{label}: {restored} restored, {expected} in the backup{mark}")
        print(f"{result.media_files} media file(s) restored.")
        for note in result.notes:
            print(f"Note: {note}")
        if result.unreadable_credentials:
            print(
                f"Warning: the credentials of {result.unreadable_credentials} channel(s) cannot be decrypted with "
                "this secret key: set PALABRE_SECRET_KEY (or the data folder's secret_key) to the key of the "
                "installation the backup came from.",
                file=sys.stderr,
            )
        if result.mismatches:
            sys.exit(
                f"palabre restore: {len(result.mismatches)} model(s) do not have the backup's row counts"
            )
