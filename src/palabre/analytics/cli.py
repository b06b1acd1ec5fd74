"""`palabre report`: an organisation's report of a period, as PDF, HTML or CSV."""

from __future__ import annotations

import sys
from datetime import date


def register_commands(add) -> None:
    from palabre.commandline import add_organisation_option

    command = add(
        "report", cmd_report, "Write an organisation's analytics report of a period (PDF, HTML or CSV)."
    )
    add_organisation_option(command, "the organisation (short name)", required=True)
    command.add_argument(
        "--from", dest="first", required=True, type=date.fromisoformat, help="first day, YYYY-MM-DD"
    )
    command.add_argument(
        "--to", dest="last", required=True, type=date.fromisoformat, help="last day, YYYY-MM-DD"
    )
    command.add_argument(
        "--format", choices=["pdf", "html", "csv"], default="pdf", help="pdf (default), html or csv"
    )
    command.add_argument(
        "--output", required=True, help="the file to write ('-' for standard output, not for pdf)"
    )
    command.add_argument("--lang", default="", help="language of the report (fr or en)")


def cmd_report(args) -> None:
    from palabre.commandline import setup_django

    setup_django()
    from django.conf import settings
    from django.utils import translation

    from palabre.analytics.forms import MAX_DAYS
    from palabre.analytics.metrics import Period
    from palabre.analytics.report import build, render_html, render_pdf, write_csv
    from palabre.orgs.models import Organisation

    organisation = Organisation.objects.filter(slug=args.organisation).first()
    if organisation is None:
        sys.exit(f"palabre report: no organisation {args.organisation!r}")
    if args.last < args.first:
        sys.exit("palabre report: --to comes before --from")
    if (args.last - args.first).days >= MAX_DAYS:
        sys.exit(f"palabre report: a period of at most {MAX_DAYS} days")
    if args.format == "pdf" and args.output == "-":
        sys.exit("palabre report: a PDF goes to a file (--output FILE)")
    period = Period(args.first, args.last, organisation.time_zone)
    with translation.override(args.lang or settings.LANGUAGE_CODE):
        data = build(organisation, period, with_charts=args.format != "csv")
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
