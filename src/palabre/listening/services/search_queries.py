"""Listening queries: validation of the query language, creation, change, deletion, and the compiled
matcher of an organisation."""

from __future__ import annotations

import threading
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from palabre.listening import backfill
from palabre.listening.models import (
    ListeningQuery,
    QueryKind,
)
from palabre.listening.services.scope import _require_same_organisation
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, record, snapshot

MAX_QUERY_CHARS = 4000
# The query matcher reads this much of a post, wherever it matches (a poll, the pipeline, a backfill,
# a preview): matching costs time in the text's length for each NEAR of a query, and a feed entry
# can hold megabytes of a query's words (minutes of a shared worker for one entry). The post is
# stored whole; what lies beyond is not searched, as moderation patterns see 20,000 characters.
MAX_MATCHED_CHARS = 20_000


class QueryTextError(ValidationError):
    """A query the parser refused: carries where, so a form can point at it."""

    def __init__(self, message: str, position: int):
        super().__init__({"query": [message]})
        self.position = position


def validate_query_text(text: str) -> str:
    from palabre.nlp.query import QuerySyntaxError, parse_query

    text = (text or "").strip()
    if not text:
        raise ValidationError({"query": [_('Write a query, e.g. "Maison Lumière" OR #MaisonLumiere.')]})
    if len(text) > MAX_QUERY_CHARS:
        raise ValidationError(
            {"query": [_("A query has at most %(n)s characters.") % {"n": MAX_QUERY_CHARS}]}
        )
    try:
        parse_query(text)
    except QuerySyntaxError as error:
        raise QueryTextError(query_error_message(error), error.position) from error
    return text


def saved_query(text: str):
    """A saved query, parsed: one saved before a limit came in (at most 20 NEAR) keeps matching;
    what is typed now is held to the limits (`validate_query_text`, previews)."""
    from palabre.nlp.query import parse_query

    return parse_query(text, max_nears=None)


def query_error_message(error) -> str:
    """The parser's error in the reader's language, positions counted from 1 as people do."""
    params = dict(error.params)
    for key in ("position", "opened", "near"):
        if isinstance(params.get(key), int):
            params[key] = params[key] + 1
    side = {"left": _("left"), "right": _("right")}
    if "side" in params:
        params["side"] = side.get(params["side"], params["side"])
    key = f"{error.code}:{params['problem']}" if "problem" in params else error.code
    template = _QUERY_MESSAGES.get(key)
    try:
        message = str(template) % params if template else error.message
    except (KeyError, TypeError, ValueError):
        message = error.message
    return _("Character %(position)s: %(message)s") % {"position": error.position + 1, "message": message}


_QUERY_MESSAGES = {
    "empty_query": gettext_lazy("The query is empty: write at least one word, phrase, hashtag or mention."),
    "too_long": gettext_lazy("The query is longer than %(limit)s characters."),
    "too_deep": gettext_lazy("The query nests parentheses or operators more than %(limit)s levels deep."),
    "unbalanced_parenthesis": gettext_lazy("The parenthesis opened at character %(opened)s is never closed."),
    "unexpected_parenthesis": gettext_lazy("This closing parenthesis has no opening one."),
    "empty_group": gettext_lazy("Empty parentheses."),
    "unterminated_phrase": gettext_lazy("The quote opened here is never closed."),
    "empty_phrase": gettext_lazy("The phrase holds no word."),
    "empty_term": gettext_lazy("“%(term)s” holds no letter or digit to search for."),
    "bad_prefix": gettext_lazy("“%(term)s”: a * only goes at the end of a word, as in livrai*."),
    "short_prefix": gettext_lazy("The prefix “%(term)s” needs at least %(minimum)s letters before the *."),
    "unexpected_end": gettext_lazy("The query ends after %(operator)s: a term is missing."),
    "dangling_operator": gettext_lazy("%(operator)s has no term on its %(side)s."),
    "bad_near:no_distance": gettext_lazy("NEAR needs a distance, as in NEAR/5."),
    "bad_near:too_far": gettext_lazy("The distance of NEAR is over %(limit)s words."),
    "bad_near:too_many": gettext_lazy("This NEAR is one too many: a query holds at most %(limit)s."),
    "bad_near:chained": gettext_lazy(
        "This NEAR follows another NEAR: join two NEAR with AND, as in (a NEAR/3 b) AND (b NEAR/3 c)."
    ),
    "bad_near:operand": gettext_lazy(
        "NEAR at character %(near)s joins words, phrases, hashtags or mentions (or an OR of them in "
        "parentheses); this part is not one."
    ),
    "bad_near:not": gettext_lazy("NOT cannot follow NEAR; write a NEAR/3 b AND NOT c."),
    "unknown_field": gettext_lazy("Unknown filter “%(field)s:”; the filters are %(fields)s."),
    "bad_filter_value": gettext_lazy("“%(value)s” is not a valid %(field)s."),
    "no_positive_term": gettext_lazy(
        "This part matches posts that contain none of the query's words (NOT and filters alone "
        "select almost everything): add a word, phrase, hashtag or mention that must be present."
    ),
}


def _clean_query_fields(name: str, kind: str) -> tuple[str, str]:
    name = (name or "").strip()
    errors = {}
    if not name:
        errors["name"] = [_("A query needs a name.")]
    elif len(name) > 120:
        errors["name"] = [_("A name has at most 120 characters.")]
    if kind not in QueryKind.values:
        errors["kind"] = [_("Unknown kind: %(kind)s") % {"kind": kind}]
    if errors:
        raise ValidationError(errors)
    return name, kind


QUERY_FIELDS = ("name", "query", "kind", "active")


def create_query(
    *, actor: Actor, name: str, query: str, kind: str = QueryKind.BRAND, active: bool = True
) -> ListeningQuery:
    actor.require(Perm.LISTENING_MANAGE)
    name, kind = _clean_query_fields(name, kind)
    text = validate_query_text(query)
    if ListeningQuery.objects.visible_to(actor).filter(name=name).exists():
        raise ValidationError({"name": [_("Another query already has this name.")]})
    with transaction.atomic():
        row = ListeningQuery.objects.create(
            organisation=actor.organisation, name=name, query=text, kind=kind, active=active
        )
        record(actor, "listening.query_created", row, after=snapshot(row, QUERY_FIELDS))
        # What was already collected is searched too, so a new query does not start at 0.
        backfill.start_after_save(actor=actor, listening_query=row, text_changed=True)
    return row


def update_query(*, actor: Actor, listening_query: ListeningQuery, **changes: Any) -> ListeningQuery:
    actor.require(Perm.LISTENING_MANAGE)
    query = listening_query
    _require_same_organisation(actor, query.organisation_id)
    unknown = set(changes) - set(QUERY_FIELDS)
    if unknown:
        raise ValidationError({name: [_("This field cannot be changed.")] for name in unknown})
    name, kind = _clean_query_fields(changes.get("name", query.name), changes.get("kind", query.kind))
    text = validate_query_text(changes["query"]) if "query" in changes else query.query
    if ListeningQuery.objects.visible_to(actor).filter(name=name).exclude(pk=query.pk).exists():
        raise ValidationError({"name": [_("Another query already has this name.")]})
    before = snapshot(query, QUERY_FIELDS)
    query.name, query.kind, query.query = name, kind, text
    if "active" in changes:
        query.active = bool(changes["active"])
    query.updated_at = timezone.now()
    with transaction.atomic():
        query.save()
        record(actor, "listening.query_updated", query, before=before, after=snapshot(query, QUERY_FIELDS))
        changed = text != before["query"] or (query.active and not before["active"])
        backfill.start_after_save(actor=actor, listening_query=query, text_changed=changed)
    return query


def delete_query(*, actor: Actor, listening_query: ListeningQuery) -> None:
    actor.require(Perm.LISTENING_MANAGE)
    query = listening_query
    _require_same_organisation(actor, query.organisation_id)
    with transaction.atomic():
        record(actor, "listening.query_deleted", query, before=snapshot(query, QUERY_FIELDS))
        query.delete()


# Compiled matchers, one per organisation, rebuilt when its queries change.
_matcher_cache: dict[int, tuple[tuple, Any]] = {}
_matcher_lock = threading.Lock()


def matcher_for(organisation_id: int):
    """(QueryMatcher over the organisation's active queries, {id: ListeningQuery})."""
    from palabre.nlp.matcher import QueryMatcher

    rows = list(ListeningQuery.objects.for_org(organisation_id).filter(active=True))
    key = tuple(sorted((row.pk, row.updated_at.isoformat()) for row in rows))
    cached = _matcher_cache.get(organisation_id)
    if cached is None or cached[0] != key:
        matcher = QueryMatcher({row.pk: saved_query(row.query) for row in rows}) if rows else None
        with _matcher_lock:
            _matcher_cache[organisation_id] = cached = (key, matcher)
    return cached[1], {row.pk: row for row in rows}
