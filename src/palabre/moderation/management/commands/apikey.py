"""`palabre apikey create`: register a site for the Akismet-compatible API; its key goes to stdout,
shown this once."""

from __future__ import annotations

import argparse
import sys

from palabre.commandline import PalabreCommand, add_organisation_option, setup_django


class Command(PalabreCommand):
    help = "Create a key of the Akismet-compatible API for a site."

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["create"])
        add_organisation_option(parser, "the organisation's short name (slug)", required=True)
        parser.add_argument(
            "--site", required=True, help="the site's address, e.g. https://blog.example.com/"
        )
        parser.add_argument("--name", default="", help="the site's name (default: its host name)")

    def run(self, args: argparse.Namespace) -> None:
        setup_django()
        from urllib.parse import urlsplit

        from django.core.exceptions import ValidationError

        from palabre.moderation.services import create_moderation_site
        from palabre.orgs.models import Organisation
        from palabre.orgs.services import Actor

        organisation = Organisation.objects.filter(slug=args.organisation).first()
        if organisation is None:
            sys.exit(f"No organisation with the short name {args.organisation!r}.")
        name = args.name or urlsplit(args.site.strip()).hostname or args.site
        try:
            site, key = create_moderation_site(actor=Actor.palabre(organisation), name=name, url=args.site)
        except ValidationError as error:
            sys.exit(
                "; ".join(f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items())
            )
        print(
            f"Site {site.name} ({site.url}) of {organisation.slug}, channel {site.channel.name}. "
            "Its Akismet API key, shown this once:",
            file=sys.stderr,
        )
        print(key)
