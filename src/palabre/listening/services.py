"""Every state change of listening and crisis: queries, sources, mentions, alerts, crisis mode.

Views, the API and tasks call these functions; they check the actor's permission, write, record an
audit entry and enqueue background work once the transaction commits.
"""

from __future__ import annotations

import logging
import secrets
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, URLValidator
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from palabre.connectors import outbound
from palabre.listening import backfill, hooks
from palabre.listening.models import (
    AlertDelivery,
    AlertSubscription,
    CrisisAlert,
    CrisisMode,
    CrisisPlaybook,
    ListeningQuery,
    ListeningSource,
    Mention,
    MentionMatch,
    QueryKind,
    SourceKind,
)
from palabre.orgs.models import Organisation
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, NotInOrganisation, record, snapshot

logger = logging.getLogger(__name__)

MAX_QUERY_CHARS = 4000
MAX_BACKOFF = timedelta(hours=6)

# Stored as English source text and translated when shown, so each reader sees their language.
DEFAULT_PLAYBOOK = [
    gettext_noop(
        "Scheduled promotional posts are paused (crisis mode does it); check nothing else goes out."
    ),
    gettext_noop("Name one person in charge and tell the team who answers, on which channels."),
    gettext_noop("Read the driving messages and check the facts with the teams concerned."),
    gettext_noop("Publish a first holding answer, signed by a person, within the hour."),
    gettext_noop("Answer people one by one, personally, never by pasting the official statement."),
    gettext_noop("Brief customer service and everyone who speaks for the brand."),
    gettext_noop("Follow the volume and the negative share until they are back to normal."),
    gettext_noop("Close the crisis and write down what was learned."),
]


def _require_same_organisation(actor: Actor, organisation_id: int) -> None:
    if organisation_id != actor.organisation.pk:
        raise NotInOrganisation()


# --- crisis mode --------------------------------------------------------------------------------


def current_crisis(organisation: Organisation) -> CrisisMode | None:
    return CrisisMode.objects.filter(organisation=organisation, ended_at__isnull=True).first()


def is_crisis_active(organisation: Organisation) -> bool:
    """Whether crisis mode is on for the organisation (publishing asks before each promotional post)."""
    return CrisisMode.objects.filter(organisation=organisation, ended_at__isnull=True).exists()


def playbook_steps(organisation: Organisation) -> list[dict[str, Any]]:
    """The checklist a new crisis starts with: the organisation's own, else the default one."""
    playbook = CrisisPlaybook.objects.filter(organisation=organisation).first()
    if playbook is not None and playbook.step_list():
        return [{"text": text, "default": False, "done": False} for text in playbook.step_list()]
    return [{"text": text, "default": True, "done": False} for text in DEFAULT_PLAYBOOK]


def switch_crisis_mode(
    *, actor: Actor, on: bool, reason: str = "", alert: CrisisAlert | None = None
) -> CrisisMode | None:
    """Switch crisis mode on (from an alert or by hand) or off. Returns the crisis episode.

    Idempotent: switching on while on (or off while off) changes nothing and calls no listener.
    Registered crisis listeners (publishing pauses promotional posts) run once this commits.
    """
    actor.require(Perm.LISTENING_MANAGE)
    if alert is not None:
        _require_same_organisation(actor, alert.organisation_id)
    reason = (reason or "").strip()[:2000]
    with transaction.atomic():
        # Serialises concurrent switches of one organisation (PostgreSQL; SQLite locks the database).
        Organisation.objects.select_for_update().filter(pk=actor.organisation.pk).first()
        crisis = current_crisis(actor.organisation)
        if on:
            if crisis is not None:
                return crisis
            if not reason and alert is not None:
                reason = str(alert)
            try:
                with transaction.atomic():
                    crisis = CrisisMode.objects.create(
                        organisation=actor.organisation,
                        alert=alert,
                        reason=reason,
                        started_by=actor.label,
                        checklist=playbook_steps(actor.organisation),
                    )
            except IntegrityError:  # switched on concurrently
                return current_crisis(actor.organisation)
            if alert is not None and alert.status == CrisisAlert.Status.OPEN:
                alert.status = CrisisAlert.Status.ACKNOWLEDGED
                alert.save(update_fields=["status"])
            record(
                actor,
                "crisis.started",
                crisis,
                after={"reason": reason, "alert": alert.pk if alert else None},
            )
        else:
            if crisis is None:
                return None
            crisis.ended_at = timezone.now()
            crisis.ended_by = actor.label
            crisis.save(update_fields=["ended_at", "ended_by"])
            record(actor, "crisis.ended", crisis, after={"reason": reason} if reason else None)
        organisation = actor.organisation
        transaction.on_commit(lambda: hooks.notify_crisis_listeners(organisation, active=on, actor=actor))
        return crisis


def set_checklist_step(*, actor: Actor, crisis: CrisisMode, index: int, done: bool) -> CrisisMode:
    actor.require(Perm.LISTENING_MANAGE)
    _require_same_organisation(actor, crisis.organisation_id)
    with transaction.atomic():
        crisis = CrisisMode.objects.select_for_update().get(pk=crisis.pk)
        if not 0 <= index < len(crisis.checklist):
            raise ValidationError({"step": _("This step is not in the checklist.")})
        step = crisis.checklist[index]
        if bool(step.get("done")) == done:
            return crisis
        step.update(done=done, by=actor.label if done else "", at=timezone.now().isoformat() if done else "")
        crisis.save(update_fields=["checklist"])
        record(
            actor,
            "crisis.step_done" if done else "crisis.step_reopened",
            crisis,
            after={"step": index + 1, "text": step["text"]},
        )
    return crisis


def update_playbook(*, actor: Actor, steps: str) -> CrisisPlaybook:
    """The organisation's own checklist, one step a line (empty: back to the default one)."""
    actor.require(Perm.LISTENING_MANAGE)
    lines = [line.strip() for line in (steps or "").splitlines() if line.strip()]
    if len(lines) > 40:
        raise ValidationError({"steps": _("A playbook has at most 40 steps.")})
    if any(len(line) > 500 for line in lines):
        raise ValidationError({"steps": _("A step has at most 500 characters.")})
    with transaction.atomic():
        playbook, _created = CrisisPlaybook.objects.get_or_create(organisation=actor.organisation)
        before = {"steps": playbook.step_list()}
        playbook.steps = "\n".join(lines)
        playbook.updated_at = timezone.now()
        playbook.save()
        record(actor, "crisis.playbook_updated", playbook, before=before, after={"steps": lines})
    return playbook


# --- queries ----------------------------------------------------------------------------------


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
    if ListeningQuery.objects.filter(organisation=actor.organisation, name=name).exists():
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
    if (
        ListeningQuery.objects.filter(organisation=actor.organisation, name=name)
        .exclude(pk=query.pk)
        .exists()
    ):
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

    rows = list(ListeningQuery.objects.filter(organisation_id=organisation_id, active=True))
    key = tuple(sorted((row.pk, row.updated_at.isoformat()) for row in rows))
    cached = _matcher_cache.get(organisation_id)
    if cached is None or cached[0] != key:
        matcher = QueryMatcher({row.pk: row.query for row in rows}) if rows else None
        with _matcher_lock:
            _matcher_cache[organisation_id] = cached = (key, matcher)
    return cached[1], {row.pk: row for row in rows}


# --- sources ----------------------------------------------------------------------------------

SOURCE_FIELDS = ("name", "kind", "config", "interval_minutes", "active")


def _clean_source(name: str, kind: str, config: Any, interval_minutes: Any) -> tuple[str, str, dict, int]:
    from palabre.listening.sources import validate_config

    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("A source needs a name.")]
    elif len(name) > 120:
        errors["name"] = [_("A name has at most 120 characters.")]
    if kind not in SourceKind.values:
        errors["kind"] = [_("Unknown kind: %(kind)s") % {"kind": kind}]
    try:
        interval = int(interval_minutes)
        if not 1 <= interval <= 24 * 60:
            raise ValueError
    except (TypeError, ValueError):
        errors["interval_minutes"] = [_("Poll every 1 to 1440 minutes.")]
        interval = 0
    if not isinstance(config, dict):
        errors["config"] = [_("The settings must be an object.")]
    if errors:
        raise ValidationError(errors)
    return name, kind, validate_config(kind, config), interval


def create_source(
    *, actor: Actor, name: str, kind: str, config: dict | None = None, interval_minutes: int = 15
) -> ListeningSource:
    actor.require(Perm.LISTENING_MANAGE)
    name, kind, config, interval = _clean_source(name, kind, config or {}, interval_minutes)
    if ListeningSource.objects.filter(organisation=actor.organisation, name=name).exists():
        raise ValidationError({"name": [_("Another source already has this name.")]})
    with transaction.atomic():
        source = ListeningSource.objects.create(
            organisation=actor.organisation, name=name, kind=kind, config=config, interval_minutes=interval
        )
        record(actor, "listening.source_created", source, after=snapshot(source, SOURCE_FIELDS))
        _schedule_poll(source)
    return source


def update_source(*, actor: Actor, source: ListeningSource, **changes: Any) -> ListeningSource:
    actor.require(Perm.LISTENING_MANAGE)
    _require_same_organisation(actor, source.organisation_id)
    unknown = set(changes) - set(SOURCE_FIELDS) - {"kind"}
    if unknown or ("kind" in changes and changes["kind"] != source.kind):
        raise ValidationError({"kind": [_("The kind of a source cannot change; create another one.")]})
    name, _kind, config, interval = _clean_source(
        changes.get("name", source.name),
        source.kind,
        changes.get("config", source.config),
        changes.get("interval_minutes", source.interval_minutes),
    )
    if (
        ListeningSource.objects.filter(organisation=actor.organisation, name=name)
        .exclude(pk=source.pk)
        .exists()
    ):
        raise ValidationError({"name": [_("Another source already has this name.")]})
    before = snapshot(source, SOURCE_FIELDS)
    if config != source.config:
        source.cursor = {}  # another feed or search: start afresh (ingestion stays idempotent)
    source.name, source.config, source.interval_minutes = name, config, interval
    if "active" in changes:
        source.active = bool(changes["active"])
        if source.active:
            source.next_poll_at = timezone.now()
    with transaction.atomic():
        source.save()
        record(
            actor, "listening.source_updated", source, before=before, after=snapshot(source, SOURCE_FIELDS)
        )
        if source.active:
            _schedule_poll(source)
    return source


def request_poll(*, actor: Actor, source: ListeningSource) -> None:
    """Poll the source as soon as a worker is free (a Jetstream read may take its 20 seconds)."""
    actor.require(Perm.LISTENING_MANAGE)
    _require_same_organisation(actor, source.organisation_id)
    if not source.active or source.kind == SourceKind.OWN_CHANNELS:
        raise ValidationError({"source": [_("This source is paused.")]})
    ListeningSource.objects.filter(pk=source.pk).update(next_poll_at=timezone.now())
    source.refresh_from_db(fields=["next_poll_at"])
    _schedule_poll(source)


def delete_source(*, actor: Actor, source: ListeningSource) -> None:
    """Removes the source and its mentions (the audit log keeps who did it)."""
    actor.require(Perm.LISTENING_MANAGE)
    _require_same_organisation(actor, source.organisation_id)
    with transaction.atomic():
        record(actor, "listening.source_deleted", source, before=snapshot(source, SOURCE_FIELDS))
        source.delete()


def own_channels_source(organisation: Organisation) -> ListeningSource:
    """The organisation's own-channels source, created on first use (items arrive through analysis)."""
    source = ListeningSource.objects.filter(organisation=organisation, kind=SourceKind.OWN_CHANNELS).first()
    if source is None:
        try:
            with transaction.atomic():
                source = ListeningSource.objects.create(
                    organisation=organisation,
                    name=str(SourceKind.OWN_CHANNELS.label),
                    kind=SourceKind.OWN_CHANNELS,
                    interval_minutes=60,
                )
        except IntegrityError:
            source = ListeningSource.objects.filter(
                organisation=organisation, kind=SourceKind.OWN_CHANNELS
            ).first() or ListeningSource.objects.create(
                organisation=organisation,
                name=f"{SourceKind.OWN_CHANNELS.label} ({secrets.token_hex(2)})",
                kind=SourceKind.OWN_CHANNELS,
            )
    return source


def _schedule_poll(source: ListeningSource) -> None:
    if source.kind == SourceKind.OWN_CHANNELS or not source.active:
        return
    from palabre.listening.tasks import poll_source_task

    source_id, run_after = source.pk, source.next_poll_at
    transaction.on_commit(lambda: _enqueue_poll(poll_source_task, source_id, run_after))


def _enqueue_poll(task, source_id: int, run_after: datetime) -> None:
    if run_after > timezone.now():
        try:
            task.using(run_after=run_after).enqueue(source_id)
            return
        except Exception:  # a backend that cannot defer (immediate): poll when asked
            logger.debug("Deferred poll not supported; source %s waits for the next sweep", source_id)
            return
    task.enqueue(source_id)


# --- ingestion --------------------------------------------------------------------------------


@dataclass
class IngestResult:
    seen: int = 0
    created: int = 0
    already_known: int = 0
    unmatched: int = 0
    mention_ids: list[int] = field(default_factory=list)


# What a query's `source:` filter names: the platform, whatever the kind of fetch.
SOURCE_NAMES = {
    SourceKind.RSS: "rss",
    SourceKind.MASTODON_HASHTAG: "mastodon",
    SourceKind.MASTODON_TIMELINE: "mastodon",
    SourceKind.BLUESKY_JETSTREAM: "bluesky",
    SourceKind.REDDIT_SEARCH: "reddit",
    SourceKind.WEB_PAGE: "web",
}


def _domain_of(url: str) -> str:
    host = (urlsplit(url).hostname or "") if url else ""
    return host.removeprefix("www.").lower()[:255]


def ingest_candidates(*, source: ListeningSource, candidates: list) -> IngestResult:
    """Store the candidates that match at least one active query. Idempotent: a candidate already
    stored for this source (same external id) is skipped, so polls and retries never duplicate."""
    from palabre.nlp.classifiers import load_models
    from palabre.nlp.language import detect_language

    result = IngestResult(seen=len(candidates))
    if not candidates:
        return result
    unique = {}
    for candidate in candidates:
        unique.setdefault(candidate.external_id, candidate)
    known = set(
        Mention.objects.filter(source=source, external_id__in=list(unique)).values_list(
            "external_id", flat=True
        )
    )
    result.already_known = len(candidates) - len(unique) + len(known)
    fresh = [c for eid, c in unique.items() if eid not in known]
    matcher, queries = matcher_for(source.organisation_id)
    if matcher is None:
        result.unmatched = len(fresh)
        return result
    matched = []
    for candidate in fresh:
        language = candidate.language or (detect_language(candidate.text) if candidate.text else "")
        domain = candidate.domain or _domain_of(candidate.url)
        matches = matcher.match(
            candidate.text,
            lang=language or None,
            source=candidate.source_name or SOURCE_NAMES.get(source.kind, source.kind),
            domain=domain if "." in domain else None,
        )
        if matches:
            matched.append((candidate, language, matches))
        else:
            result.unmatched += 1
    if not matched:
        return result
    sentiments = load_models().sentiment_many([c.text for c, _lang, _m in matched])
    rows = [
        (_mention(source, candidate, language, label, probabilities), candidate, matches)
        for (candidate, language, matches), (label, probabilities) in zip(matched, sentiments, strict=True)
    ]
    try:
        # The batch in two inserts (mentions, then their matches).
        with transaction.atomic():
            Mention.objects.bulk_create([mention for mention, _c, _m in rows])
            MentionMatch.objects.bulk_create(
                [
                    match
                    for mention, candidate, matches in rows
                    for match in _matches(mention, candidate, matches, queries)
                ]
            )
        stored = [mention for mention, _c, _m in rows]
    except IntegrityError:  # some stored meanwhile by a concurrent poll: one by one, skipping those
        stored = []
        for mention, candidate, matches in rows:
            try:
                with transaction.atomic():
                    mention.pk = None
                    mention.save(force_insert=True)
                    MentionMatch.objects.bulk_create(_matches(mention, candidate, matches, queries))
            except IntegrityError:
                result.already_known += 1
                continue
            stored.append(mention)
    result.created = len(stored)
    result.mention_ids = [mention.pk for mention in stored]
    if result.created:
        ListeningSource.objects.filter(pk=source.pk).update(
            mentions_ingested=models.F("mentions_ingested") + result.created
        )
        organisation_id = source.organisation_id
        transaction.on_commit(lambda: _enqueue_detection(organisation_id))
    return result


def _mention(source: ListeningSource, candidate, language: str, label: str, probabilities: dict) -> Mention:
    return Mention(
        organisation_id=source.organisation_id,
        source=source,
        external_id=candidate.external_id,
        item_id=getattr(candidate, "item_id", None),
        text=candidate.text,
        url=candidate.url[:1000],
        author=candidate.author[:300],
        author_name=candidate.author_name[:300],
        author_reach=candidate.author_reach,
        domain=(candidate.domain or _domain_of(candidate.url))[:255],
        language=(language or "")[:8],
        sentiment=label,
        negative_score=probabilities.get("negative", 0.0),
        published_at=candidate.published_at,
    )


def _matches(mention: Mention, candidate, matches: list, queries) -> list[MentionMatch]:
    return [
        MentionMatch(
            organisation_id=mention.organisation_id,
            mention=mention,
            query_id=match.query_id,
            spans=[list(span) for span in match.spans],
            published_at=candidate.published_at,
        )
        for match in matches
        if match.query_id in queries
    ]


def _enqueue_detection(organisation_id: int) -> None:
    from palabre.listening.tasks import detect_crisis_task

    detect_crisis_task.enqueue(organisation_id)


def analyse_item_for_listening(item, created: bool) -> None:
    """Analyser registered with conversations: the organisation's own channels are a source too."""
    analyse_items_for_listening([item], frozenset({item.pk} if created else ()))


def analyse_items_for_listening(items: list, created: frozenset[int]) -> None:
    """The pipeline's listening stage: a batch of the organisation's own items matched against its
    active queries, in one pass per organisation (`ingest_candidates` on all of them at once)."""
    from palabre.connectors.search import Candidate

    by_org: dict[int, list] = {}
    for item in items:
        if item.text:
            by_org.setdefault(item.organisation_id, []).append(item)
    listening = (
        set(
            ListeningQuery.objects.filter(organisation_id__in=list(by_org), active=True)
            .values_list("organisation_id", flat=True)
            .distinct()
        )
        if by_org
        else set()
    )
    for organisation_id, org_items in by_org.items():
        if organisation_id not in listening:
            continue
        source = own_channels_source(org_items[0].organisation)
        if not source.active:
            continue
        candidates = []
        for item in org_items:
            author = item.author
            candidates.append(
                Candidate(
                    external_id=f"item:{item.pk}",
                    text=item.text,
                    url=item.url,
                    author=author.handle if author else "",
                    author_name=(author.display_name if author else "") or "",
                    author_reach=author.followers if author else None,
                    published_at=item.created_at,
                    language=item.language or "",
                    domain=_domain_of(item.url),
                    source_name=item.channel.platform,
                    item_id=item.pk,
                )
            )
        ingest_candidates(source=source, candidates=candidates)


def poll_source(
    source: ListeningSource, *, now: datetime | None = None, force: bool = False
) -> dict[str, Any]:
    """Search a due source from its cursor (its connector fetches) and ingest what it brings; record
    its health.

    Claims the poll first (a conditional update), so two workers never poll one source at once.
    """
    from palabre.connectors import search

    now = now or timezone.now()
    claim = ListeningSource.objects.filter(pk=source.pk, active=True)
    if not force:
        claim = claim.filter(next_poll_at__lte=now)
    lease = now + timedelta(minutes=max(source.interval_minutes, 5))
    if not claim.update(next_poll_at=lease, last_polled_at=now):
        return {"source": source.pk, "skipped": "not due"}
    source.refresh_from_db()
    try:
        if source.kind == SourceKind.OWN_CHANNELS:  # its items arrive through analysis
            fetched = search.SearchPage([], source.cursor or {})
        else:
            fetched = search.search(source.kind, source.config or {}, source.cursor or {})
    except search.SearchError as error:
        failures = source.consecutive_failures + 1
        wait = (
            timedelta(seconds=error.retry_after)
            if error.retry_after
            else min(timedelta(minutes=source.interval_minutes) * (2 ** min(failures, 10)), MAX_BACKOFF)
        )
        ListeningSource.objects.filter(pk=source.pk).update(
            consecutive_failures=failures,
            last_error=str(error)[:2000],
            last_error_code=error.code,
            last_error_at=now,
            next_poll_at=now + wait,
        )
        logger.warning("Listening source %s failed (%s): %s", source.pk, failures, error)
        return {"source": source.pk, "error": str(error), "failures": failures}
    with transaction.atomic():
        result = ingest_candidates(source=source, candidates=fetched.candidates)
        ListeningSource.objects.filter(pk=source.pk).update(
            cursor=fetched.cursor,
            consecutive_failures=0,
            last_success_at=now,
            last_error="",
            last_error_code="",
            next_poll_at=now + timedelta(minutes=source.interval_minutes),
        )
    return {
        "source": source.pk,
        "seen": result.seen,
        "created": result.created,
        "known": result.already_known,
    }


def due_sources(now: datetime | None = None) -> models.QuerySet[ListeningSource]:
    now = now or timezone.now()
    return ListeningSource.objects.filter(active=True, next_poll_at__lte=now).exclude(
        kind=SourceKind.OWN_CHANNELS
    )


# --- alert subscriptions ----------------------------------------------------------------------


def add_subscription(*, actor: Actor, kind: str, target: str) -> AlertSubscription:
    actor.require(Perm.LISTENING_MANAGE)
    target = (target or "").strip()
    if kind == AlertSubscription.Kind.EMAIL:
        try:
            EmailValidator()(target)
        except ValidationError:
            raise ValidationError({"target": [_("Enter a valid e-mail address.")]}) from None
    elif kind == AlertSubscription.Kind.WEBHOOK:
        try:
            URLValidator(schemes=["http", "https"])(target)
        except ValidationError:
            raise ValidationError({"target": [_("Enter a valid http(s) URL.")]}) from None
        refusal = outbound.refusal_for_url(target)
        if refusal is not None:
            raise ValidationError({"target": [refusal.explain()]})
    else:
        raise ValidationError({"kind": [_("Unknown kind: %(kind)s") % {"kind": kind}]})
    if AlertSubscription.objects.filter(organisation=actor.organisation, kind=kind, target=target).exists():
        raise ValidationError({"target": [_("This address already receives the alerts.")]})
    with transaction.atomic():
        subscription = AlertSubscription.objects.create(
            organisation=actor.organisation,
            kind=kind,
            target=target,
            secret=secrets.token_urlsafe(32) if kind == AlertSubscription.Kind.WEBHOOK else "",
        )
        record(actor, "crisis.subscription_added", subscription, after={"kind": kind, "target": target})
    return subscription


def remove_subscription(*, actor: Actor, subscription: AlertSubscription) -> None:
    actor.require(Perm.LISTENING_MANAGE)
    _require_same_organisation(actor, subscription.organisation_id)
    with transaction.atomic():
        record(actor, "crisis.subscription_removed", subscription)
        subscription.delete()


# --- alerts -----------------------------------------------------------------------------------


def set_alert_status(*, actor: Actor, alert: CrisisAlert, status: str) -> CrisisAlert:
    actor.require(Perm.LISTENING_MANAGE)
    _require_same_organisation(actor, alert.organisation_id)
    if status not in CrisisAlert.Status.values:
        raise ValidationError({"status": [_("Unknown status: %(status)s") % {"status": status}]})
    if alert.status != status:
        before = {"status": alert.status}
        alert.status = status
        with transaction.atomic():
            alert.save(update_fields=["status"])
            record(actor, "crisis.alert_" + status, alert, before=before, after={"status": status})
    return alert


def raise_alert(*, organisation: Organisation, signal: Any, explanation: dict) -> CrisisAlert | None:
    """Store a detected spike once (unique per query, metric, bucket) and enqueue its delivery."""
    try:
        with transaction.atomic():
            alert = CrisisAlert.objects.create(
                organisation=organisation,
                query_id=signal.query_id,
                metric=signal.metric,
                bucket_minutes=signal.bucket_minutes,
                window_start=signal.window_start,
                window_end=signal.window_end,
                observed=signal.observed,
                expected=signal.expected,
                score=signal.score,
                explanation=explanation,
            )
            deliveries = [
                AlertDelivery(organisation=organisation, alert=alert, subscription=subscription)
                for subscription in AlertSubscription.objects.filter(organisation=organisation, active=True)
            ]
            AlertDelivery.objects.bulk_create(deliveries)
            record(
                Actor.palabre(organisation),
                "crisis.alert_raised",
                alert,
                after={
                    "metric": signal.metric,
                    "observed": signal.observed,
                    "expected": round(signal.expected, 2),
                },
            )
    except IntegrityError:
        return None
    from palabre.listening.tasks import deliver_alert_task

    alert_id = alert.pk
    transaction.on_commit(lambda: deliver_alert_task.enqueue(alert_id))
    return alert


# --- for publishing's guardrails (stable names; the work is in crisis.py) ----------------------

from palabre.listening.crisis import TrendingTerm, recent_competitor_texts, trending_terms  # noqa: E402


@dataclass(frozen=True)
class OpenAlert:
    """An open crisis alert as publishing's guardrails read it: what it is about (the query's
    terms not under a NOT) and how to name it."""

    alert_id: int
    name: str
    metric: str
    terms: tuple[str, ...]


EMERGING_TERM_MIN_SCORE = 1.96
EMERGING_TERMS_FOR_GUARDRAILS = 3


def open_alerts(organisation: Organisation) -> list[OpenAlert]:
    """The organisation's open crisis alerts, newest first, one per query, with what each is
    about: a topic query's own terms (a product, a recall); for the brand's query, the terms that
    emerged in the spike (the brand itself is in every post). A competitor's crisis is not ours."""
    from palabre.nlp.query import QuerySyntaxError, parse_query

    def valid(term: str) -> bool:
        try:
            parse_query(term)
        except QuerySyntaxError:
            return False
        return len(term.strip('#@*"')) >= 3

    found, seen = [], set()
    rows = CrisisAlert.objects.filter(organisation=organisation, status=CrisisAlert.Status.OPEN).exclude(
        query__kind=QueryKind.COMPETITOR
    )
    for alert in rows.select_related("query").order_by("-created_at", "-pk")[:50]:
        if alert.query_id in seen:
            continue
        seen.add(alert.query_id)
        if alert.query.kind == QueryKind.BRAND:
            # Only terms that clearly rose with the spike (z of the log-odds ratio at 1.96 or
            # more), a few at most: a weak one ("jour") would hold every post that says it.
            emerging = (alert.explanation or {}).get("terms") or []
            candidates = [
                str(t.get("term", ""))
                for t in emerging
                if isinstance(t, dict) and float(t.get("score") or 0) >= EMERGING_TERM_MIN_SCORE
            ][:EMERGING_TERMS_FOR_GUARDRAILS]
        else:
            try:
                candidates = [str(term) for term in parse_query(alert.query.query).terms]
            except QuerySyntaxError:
                candidates = []
        terms = tuple(t for t in candidates if valid(t))
        found.append(OpenAlert(alert.pk, alert.query.name, str(alert.get_metric_display()), terms))
    return found


__all__ = [
    "OpenAlert",
    "TrendingTerm",
    "is_crisis_active",
    "open_alerts",
    "recent_competitor_texts",
    "switch_crisis_mode",
    "trending_terms",
]
