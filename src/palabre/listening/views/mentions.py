"""Mentions: the list, a person's correction of one, and the CSV export."""

from __future__ import annotations

import csv
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palabre.conversations import corrections as shared_corrections
from palabre.listening import corrections as mention_corrections
from palabre.listening import queries
from palabre.listening.views.common import PER_PAGE, _filter_form
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor
from palabre.orgs.views import member_view, wants_partial
from palabre.pagination import keyset_page
from palabre.spreadsheet import safe_cell


@member_view(Perm.ITEMS_VIEW)
def mentions(request: HttpRequest, actor: Actor) -> HttpResponse:
    form, where = _filter_form(request, actor)
    rows = queries.with_text_heads(queries.mentions(actor, where))
    try:
        page = keyset_page(rows, cursor=request.GET.get("cursor"), limit=PER_PAGE, time_field="published_at")
    except ValidationError:
        page = keyset_page(rows, cursor=None, limit=PER_PAGE, time_field="published_at")
    for mention in page.rows:
        mention.text = mention.text_head  # what the page shows and reads the intent of
    params = request.GET.copy()
    params.pop("cursor", None)
    context = {
        "form": form,
        "page": page,
        "mention_rows": mention_corrections.triage_of(list(page.rows)),
        **_correction_choices(actor),
        "filters": params.urlencode(),
        "next_query": f"{params.urlencode()}&cursor={page.next_cursor}" if page.next_cursor else "",
    }
    return render(request, "listening/mentions.html", context)


def _correction_choices(actor: Actor) -> dict[str, Any]:
    return {
        "can_correct": actor.can(Perm.MODERATION_ACT),
        "sentiments": shared_corrections.choices("sentiment"),
        "intents": shared_corrections.choices("intent"),
    }


@require_POST
@member_view(Perm.MODERATION_ACT)
def mention_correct(request: HttpRequest, actor: Actor, mention_id: int) -> HttpResponse:
    """Correct a mention's sentiment and/or intent: the fields whose value changed are recorded."""
    mention = mention_corrections.mention_of(actor=actor, mention_id=mention_id)
    [current] = mention_corrections.triage_of([mention])
    changed, errors = shared_corrections.apply_posted(
        request.POST,
        current,
        lambda field, value: mention_corrections.correct_mention(
            actor=actor, mention=mention, field=field, value=value
        ),
    )
    if wants_partial(request):
        [current] = mention_corrections.triage_of([mention])
        context = {"t": current, "errors": errors, "oob": True, **_correction_choices(actor)}
        return render(request, "listening/_mention_triage.html", context, status=422 if errors else 200)
    if errors:
        messages.error(request, " ".join(errors))
    elif changed:
        messages.success(request, _("Correction saved: the next training learns from it."))
    target = request.POST.get("next") or ""
    return redirect(target if target.startswith("/listening/") else "listening:mentions")


class _Echo:
    def write(self, value: str) -> str:
        return value


CSV_COLUMNS = [
    "published_at",
    "source",
    "queries",
    "author",
    "author_name",
    "author_reach",
    "domain",
    "language",
    "sentiment",
    "negative_score",
    "url",
    "text",
]


@member_view(Perm.ITEMS_VIEW)
def mentions_csv(request: HttpRequest, actor: Actor) -> StreamingHttpResponse:
    _form, where = _filter_form(request, actor)
    rows = queries.mentions(actor, where).order_by("-published_at", "-id")
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff"  # spreadsheets read the accents right with a BOM
        yield writer.writerow(CSV_COLUMNS)
        for mention in rows.iterator(chunk_size=500):
            yield writer.writerow(
                [
                    safe_cell(v)
                    for v in (
                        mention.published_at.isoformat(),
                        mention.source.name,
                        "; ".join(q.name for q in mention.queries.all()),
                        mention.author,
                        mention.author_name,
                        mention.author_reach if mention.author_reach is not None else "",
                        mention.domain,
                        mention.language,
                        mention.sentiment,
                        round(mention.negative_score, 3),
                        mention.url,
                        mention.text,
                    )
                ]
            )

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="mentions-{timezone.now():%Y%m%d-%H%M}.csv"'
    return response
