"""`palabre guardrails check`: lint JSON lines (`id`, `text`; optional `org`, `channel`,
`campaign_kind`, `promotional`) and answer one line per input with the verdict and the findings."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import IO

from palabre.commandline import PalabreCommand, add_organisation_option, setup_django


class Command(PalabreCommand):
    help = "Run the publishing guardrails on JSON lines; one JSON line out per input."

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["check"])
        parser.add_argument("file", nargs="?", default="")
        add_organisation_option(
            parser, "the organisation (short name) of lines that name none (its lists, posts, trends)"
        )
        parser.add_argument("--lang", default="", help="language of the explanations (fr or en)")

    def run(self, args) -> None:
        setup_django()
        from django.conf import settings
        from django.utils import translation

        from palabre.jsonlines import opened

        with (
            translation.override(args.lang or settings.LANGUAGE_CODE),
            opened(args.file, command="guardrails check") as source,
        ):
            check_stream(source, sys.stdout, default_org=args.organisation)


def check_stream(source: IO[str], sink: IO[str], *, default_org: str = "") -> int:
    from palabre.jsonlines import answer_stream

    contexts = _Contexts()

    def handle(batch: list[dict]) -> Iterable[dict]:
        for data in batch:
            yield contexts.answer(data, default_org)

    return answer_stream(source, sink, handle)


class _Contexts:
    """Organisations and channels looked up once per stream."""

    def __init__(self) -> None:
        self.organisations: dict[str, object] = {}

    def organisation(self, slug: str):
        from palabre.orgs.models import Organisation

        if slug not in self.organisations:
            self.organisations[slug] = Organisation.objects.filter(slug=slug).first()
        return self.organisations[slug]

    def answer(self, data: dict, default_org: str) -> dict:
        from django.core.exceptions import ValidationError

        from palabre.orgs.models import Channel
        from palabre.orgs.services import Actor
        from palabre.publishing import guardrails, services

        slug = data.get("org") or default_org
        channel_ref = data.get("channel")
        promotional = data.get("promotional")
        campaign_kind = data.get("campaign_kind") or ""
        if promotional is not None and not isinstance(promotional, bool):
            return {"error": "field `promotional` must be true or false"}
        if not isinstance(campaign_kind, str):
            return {"error": "field `campaign_kind` must be a string"}
        if not slug:
            if channel_ref is not None:
                return {"error": "field `channel` needs `org` (or --organisation)"}
            context = guardrails.GuardrailContext(campaign_kind=campaign_kind, promotional=promotional)
            return guardrails.check(data["text"], context).as_dict()
        if not isinstance(slug, str) or self.organisation(slug) is None:
            return {"error": f"no organisation with the slug {slug!r}"}
        organisation = self.organisation(slug)
        channel = None
        if channel_ref is not None:
            channels = Channel.objects.for_org(organisation)
            if isinstance(channel_ref, int) and not isinstance(channel_ref, bool):
                channel = channels.filter(pk=channel_ref).first()
            elif isinstance(channel_ref, str):
                channel = channels.filter(handle=channel_ref).first()
            if channel is None:
                return {"error": f"no channel {channel_ref!r} in {slug}"}
        try:
            verdict = services.check_text(
                actor=Actor.palabre(organisation),
                text=data["text"],
                channel=channel,
                campaign_kind=campaign_kind,
                promotional=promotional,
            )
        except ValidationError as error:
            return {"error": "; ".join(error.messages)}
        return verdict.as_dict()
