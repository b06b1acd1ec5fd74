"""`palabre createadmin`: create a person and, with --organisation, the organisation they own."""

from __future__ import annotations

import argparse
import os
import sys

from palabre.commandline import PalabreCommand, add_organisation_option, setup_django


class Command(PalabreCommand):
    help = "Create an administrator (and their organisation)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--email", default="")
        parser.add_argument("--password", default="", help="default: $PALABRE_ADMIN_PASSWORD or prompt")
        add_organisation_option(parser, "create this organisation, owned by the admin", metavar="NAME")

    def run(self, args: argparse.Namespace) -> None:
        import getpass

        setup_django()
        from django.contrib.auth import get_user_model
        from django.core.exceptions import ValidationError
        from django.db import transaction

        from palabre.orgs.services import create_organisation

        password = args.password or os.environ.get("PALABRE_ADMIN_PASSWORD") or getpass.getpass("Password: ")
        user_model = get_user_model()
        if user_model.objects.filter(username=args.username).exists():
            sys.exit(f"A person named {args.username!r} already exists.")
        from django.contrib.auth.password_validation import validate_password

        try:
            # The install's password rules (AUTH_PASSWORD_VALIDATORS), as on every page that sets one.
            validate_password(password, user_model(username=args.username, email=args.email))
        except ValidationError as error:
            sys.exit("password: " + " ".join(error.messages))
        try:
            with transaction.atomic():
                user = user_model.objects.create_user(
                    username=args.username, email=args.email, password=password
                )
                user.is_staff = user.is_superuser = True
                user.save()
                organisation = (
                    create_organisation(name=args.organisation, owner=user) if args.organisation else None
                )
        except ValidationError as error:
            sys.exit(
                "; ".join(f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items())
            )
        if organisation is not None:
            print(f"Created {args.username}, owner of {organisation.name} ({organisation.slug}).")
        else:
            print(f"Created {args.username}.")
