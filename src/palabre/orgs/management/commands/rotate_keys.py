"""`palabre rotate-keys`: re-encrypt every channel's credentials with the current secret key."""

from __future__ import annotations

import argparse

from palabre.commandline import PalabreCommand, setup_django


class Command(PalabreCommand):
    help = "Re-encrypt channel credentials with the current secret key."

    def run(self, args: argparse.Namespace) -> None:
        setup_django()
        from palabre.orgs.services import rotate_credential_keys

        moved = rotate_credential_keys()
        print(f"Re-encrypted the credentials of {moved} channel(s) with the current secret key.")
