"""`palabre report`: an organisation's report of a period, as PDF, HTML or CSV."""

from __future__ import annotations

import sys
from datetime import date

from palabre.commandline import PalabreCommand, add_organisation_option, setup_django


class Command(PalabreCommand):
    help = "Write an organisation's analytics report of a period (PDF, HTML or CSV)."

    def add_arguments(self, parser) -> None:
        add_organisation_option(parser, "the organisation (short name)", required=True)
        parser.add_argument(
            "--from", dest="first", required=True, type=date.fromisoformat, help="first day, YYYY-MM-DD"
        )
        parser.add_argument(
            "--to", dest="last", required=True, type=date.fromisoformat, help="last day, YYYY-MM-DD"
        )
        parser.add_argument(
            "--format", choices=["pdf", "html", "csv"], default="pdf", help="pdf (default), html or csv"
        )
        parser.add_argument(
            "--output", required=True, help="the file to write ('-' for standard output, not for pdf)"
        )
        parser.add_argument("--lang", default="", help="language of the report (fr or en)")
        parser.add_argument(
            "--campaign",
            type=int,
            default=None,
            help="only this campaign's posts and conversations (its number)",
        )

    def run(self, args) -> None:
        setup_django()
        from django.conf import settings
        from django.utils import translation

        from palabre.analytics.forms import MAX_DAYS
        from palabre.analytics.metrics import Filters, Period
        from palabre.analytics.report import build, render_html, render_pdf, write_csv
        from palabre.orgs.models import Organisation
        from palabre.publishing.models import Campaign

        organisation = Organisation.objects.filter(slug=args.organisation).first()
        if organisation is None:
            sys.exit(f"palabre report: no organisation {args.organisation!r}")
        if args.last < args.first:
            sys.exit("palabre report: --to comes before --from")
        if (args.last - args.first).days >= MAX_DAYS:
            sys.exit(f"palabre report: a period of at most {MAX_DAYS} days")
        if args.format == "pdf" and args.output == "-":
            sys.exit("palabre report: a PDF goes to a file (--output FILE)")
        if (
            args.campaign is not None
            and not Campaign.objects.for_org(organisation).filter(pk=args.campaign).exists()
        ):
            sys.exit(f"palabre report: no campaign {args.campaign} in {organisation.slug}")
        period = Period(args.first, args.last, organisation.time_zone)
        filters = Filters(campaign_id=args.campaign)
        with translation.override(args.lang or settings.LANGUAGE_CODE):
            data = build(organisation, period, filters, with_charts=args.format != "csv")
            if args.format == "csv":
                if args.output == "-":
                    write_csv(data, sys.stdout)
                else:
                    with open(args.output, "w", encoding="utf-8", newline="") as stream:
                        write_csv(data, stream)
                return
            html = render_html(data, organisation)
        if args.format == "html":
            if args.output == "-":
                sys.stdout.write(html)
            else:
                with open(args.output, "w", encoding="utf-8") as stream:
                    stream.write(html)
            return
        with open(args.output, "wb") as stream:
            stream.write(render_pdf(html))
