"""`palabre check`: moderate JSON lines (`text` required; `id`, `lang`, `author`, `author_url`,
`author_email` optional), one answer line per input line with the action and every label's score.

Django has a `check` command of its own (the system checks): this one is `moderate` to Django
(`palabre manage moderate`), `check` to `palabre`.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import IO

from palabre.commandline import PalabreCommand, add_organisation_option, setup_django


class Command(PalabreCommand):
    help = "Moderate JSON lines from a file or stdin; one JSON line out per input."

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", nargs="?", default="")
        add_organisation_option(parser, "apply this organisation's rules and thresholds (its short name)")

    def run(self, args) -> None:
        from palabre.jsonlines import opened

        with opened(args.file, command="check") as source:
            check_stream(source, sys.stdout, org_slug=args.organisation)


def _context(data: dict, base):
    from dataclasses import replace

    from palabre.moderation.engine import Author

    author = Author(
        name=str(data.get("author") or ""),
        url=str(data.get("author_url") or ""),
        email=str(data.get("author_email") or ""),
    )
    return replace(base, lang=data.get("lang"), author=author)


def check_stream(source: IO[str], sink: IO[str], *, org_slug: str = "") -> int:
    # The engine loads the models: imported when a command runs, not when `palabre --help` lists it.
    from palabre.jsonlines import answer_stream
    from palabre.moderation.engine import ModerationContext, moderate_many

    base = _organisation_context(org_slug) if org_slug else ModerationContext()

    def handle(batch: list[dict]) -> Iterable[dict]:
        decisions = moderate_many([d["text"] for d in batch], [_context(d, base) for d in batch])
        for decision in decisions:
            yield {
                "action": decision.action,
                "scores": decision.scores,
                "language": decision.language,
                "reasons": [reason.message for reason in decision.reasons],
            }

    return answer_stream(source, sink, handle)


def _organisation_context(org_slug: str):
    setup_django()
    from palabre.moderation.services import organisation_context
    from palabre.orgs.models import Organisation

    organisation = Organisation.objects.filter(slug=org_slug).first()
    if organisation is None:
        raise SystemExit(f"No organisation with the short name {org_slug!r}.")
    return organisation_context(organisation)
