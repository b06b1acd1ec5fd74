"""`palabre check`: moderate JSON lines (`text` required; `id`, `lang`, `author`, `author_url`,
`author_email` optional), one answer line per input line with the action and every label's score."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import IO

from palabre.jsonlines import answer_stream
from palabre.moderation.engine import Author, ModerationContext, moderate_many


def _context(data: dict, base: ModerationContext) -> ModerationContext:
    author = Author(
        name=str(data.get("author") or ""),
        url=str(data.get("author_url") or ""),
        email=str(data.get("author_email") or ""),
    )
    return replace(base, lang=data.get("lang"), author=author)


def check_stream(source: IO[str], sink: IO[str], *, org_slug: str = "") -> int:
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


def _organisation_context(org_slug: str) -> ModerationContext:
    from palabre.commandline import setup_django

    setup_django()
    from palabre.moderation.services import organisation_context
    from palabre.orgs.models import Organisation

    organisation = Organisation.objects.filter(slug=org_slug).first()
    if organisation is None:
        raise SystemExit(f"No organisation with the short name {org_slug!r}.")
    return organisation_context(organisation)
