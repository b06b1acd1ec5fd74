"""Automatic decisions: one item, a batch (the pipeline's moderation stage), or a text checked without
storing anything."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palabre import bulk
from palabre.conversations.models import Item
from palabre.moderation import engine, hooks, platform
from palabre.moderation.models import (
    AuthorTrust,
    ItemModeration,
    ModerationDecision,
    ModerationStatus,
)
from palabre.moderation.services.context import (
    context_for_item,
    off_hours_policy,
    organisation_context,
    policy_for,
)
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor

STATUS_FOR_ACTION = {
    engine.PUBLISH: ModerationStatus.PUBLISHED,
    engine.HOLD: ModerationStatus.HELD,
    engine.REJECT: ModerationStatus.REJECTED,
}


@transaction.atomic
def moderate_item(item: Item, decided: engine.Decision | None = None) -> ModerationDecision | None:
    """Decide on a new or changed item, or store `decided`, the decision a synchronous check
    already answered for it. A person's decision is never overridden by the machine."""
    state, _created = ItemModeration.objects.select_for_update().get_or_create(
        item=item, defaults={"organisation_id": item.organisation_id}
    )
    if state.status in {ModerationStatus.APPROVED} or (
        state.last_decision_id and state.last_decision.source == ModerationDecision.Source.MODERATOR
    ):
        return None
    decision = decided or engine.moderate(
        item.text,
        context_for_item(
            item, organisation_context(item.organisation, texts=[item.text], at=item.created_at)
        ),
    )
    stored = _store(item, state, decision, source=ModerationDecision.Source.AUTOMATIC, action=decision.action)
    return stored


@transaction.atomic
def record_decided(decided: list[tuple[Item, engine.Decision]]) -> list[ModerationDecision | None]:
    """`moderate_item(item, decided=decision)` for a batch (the decisions synchronous checks
    answered, stored by the Akismet journal): the states read and locked at once, the decisions
    inserted in one query and the states written in two, whatever the batch's size. Returns each
    item's stored decision, or None where a person's decision stands."""
    if not decided:
        return []
    states = {
        state.item_id: state
        for state in ItemModeration.objects.select_for_update(of=("self",))
        .select_related("last_decision")
        .filter(item__in=[item for item, _decision in decided])
        .order_by("item_id")
    }
    fresh: dict[int, ItemModeration] = {}
    todo: list[tuple[Item, engine.Decision]] = []
    for item, decision in decided:
        state = states.get(item.pk)
        if state is None:
            state = states[item.pk] = fresh[item.pk] = ItemModeration(
                item=item, organisation_id=item.organisation_id
            )
        elif state.status == ModerationStatus.APPROVED or (
            state.last_decision_id and state.last_decision.source == ModerationDecision.Source.MODERATOR
        ):
            continue
        todo.append((item, decision))
    rows = bulk.insert(
        [
            ModerationDecision(
                organisation_id=item.organisation_id,
                item=item,
                source=ModerationDecision.Source.AUTOMATIC,
                action=decision.action,
                status_after=STATUS_FOR_ACTION[decision.action],
                scores=decision.scores,
                reasons=[r.as_dict() for r in decision.reasons],
                rules_fired=decision.rules_fired,
                spans=decision.spans,
                model_version=decision.model_version,
            )
            for item, decision in todo
        ]
    )
    now = timezone.now()
    stored: dict[int, ModerationDecision] = {}
    changes: list[tuple[int, str, str]] = []
    for (item, _decision), row in zip(todo, rows, strict=True):
        state = states[item.pk]
        changes.append((item.pk, state.status, row.status_after))
        state.status = row.status_after
        state.last_decision = row
        state.updated_at = now
        stored[item.pk] = row
    platform.decided_each(changes)  # one send for the batch's rejections, not one per item
    known = [state for pk, state in states.items() if pk in stored and pk not in fresh]
    if known:
        ItemModeration.objects.bulk_update(known, ["status", "last_decision", "updated_at", "is_spam"])
    if fresh:
        bulk.insert([state for pk, state in fresh.items() if pk in stored], model=ItemModeration)
    for item, _decision in decided:
        item.moderation = states[item.pk]
    return [stored.get(item.pk) for item, _decision in decided]


def _store(item, state, decision: engine.Decision | None, *, source, action, user=None, note="", status=None):
    status = status or STATUS_FOR_ACTION[decision.action]
    row = ModerationDecision.objects.create(
        organisation_id=item.organisation_id,
        item=item,
        source=source,
        action=action,
        status_after=status,
        scores=decision.scores if decision else {},
        reasons=[r.as_dict() for r in decision.reasons] if decision else [],
        rules_fired=decision.rules_fired if decision else [],
        spans=decision.spans if decision else [],
        model_version=decision.model_version if decision else "",
        decided_by=user,
        note=note,
    )
    platform.decided(item.pk, status_before=state.status, status_after=status, user=user)
    state.status = status
    state.last_decision = row
    state.updated_at = timezone.now()
    state.save(update_fields=["status", "last_decision", "updated_at", "is_spam"])
    return row


def analyse_for_moderation(item: Item, created: bool) -> None:
    """Registered with conversations: every new or changed item is moderated by the analysis task."""
    if item.author is not None and item.author.handle == item.channel.handle:
        return  # the brand's own posts and replies: publishing has its own guardrails
    decided = ModerationDecision.objects.filter(item=item, created_at__gte=item.updated_at).exists()
    if decided:
        return  # decided already on this version, inline (comment form, Akismet API)
    moderate_item(item)


# The reads of every batch, compiled once (palabre.bulk.Prepared): the decisions already made on
# these items, their states (locked, with their last decision), their authors' trust and the
# authors' messages of the hour before.
_decided = bulk.Prepared(
    lambda item_ids: (
        ModerationDecision.objects.filter(item_id__any=item_ids)
        .values_list("item_id", "created_at")
        .order_by()
    )
)
_states = bulk.Prepared(
    lambda item_ids: (
        ItemModeration.objects.select_for_update(of=("self",))
        .select_related("last_decision")
        .filter(item_id__any=item_ids)
        .order_by("item_id")
    )
)
_trust = bulk.Prepared(
    lambda contact_ids: AuthorTrust.objects.filter(contact_id__any=contact_ids).values_list(
        "contact_id", "approved", "rejected", "spam"
    )
)
_written = bulk.Prepared(
    lambda author_ids, earliest, latest: Item.objects.filter(
        author_id__any=author_ids, created_at__gte=earliest, created_at__lte=latest
    ).values_list("author_id", "created_at", "pk")
)


def moderate_batch(items: list[Item], created: frozenset[int]) -> None:
    """The pipeline's moderation stage: `analyse_for_moderation` on a batch, in a few queries for
    the whole batch (the organisation's context, the authors' records, the states and decisions
    written in bulk) and the classifiers run once on all the texts."""
    items = [
        item for item in items if not (item.author is not None and item.author.handle == item.channel.handle)
    ]
    if not items:
        return
    decided = set(_decided([item.pk for item in items]))
    latest: dict[int, datetime] = {}
    for item_id, at in decided:
        latest[item_id] = max(at, latest.get(item_id, at))
    # Decided already on this version, inline (comment form, Akismet API).
    items = [item for item in items if not (item.pk in latest and latest[item.pk] >= item.updated_at)]
    if not items:
        return
    with transaction.atomic():
        states = {state.item_id: state for state in _states([item.pk for item in items])}
        open_items = [
            item
            for item in items
            if item.pk not in states
            or (
                states[item.pk].status != ModerationStatus.APPROVED
                and not (
                    states[item.pk].last_decision_id
                    and states[item.pk].last_decision.source == ModerationDecision.Source.MODERATOR
                )
            )
        ]
        contexts = _contexts_for(open_items)
        decisions = engine.moderate_many([item.text for item in open_items], contexts)
        now = timezone.now()
        rows = bulk.insert(
            [
                ModerationDecision(
                    organisation_id=item.organisation_id,
                    item=item,
                    source=ModerationDecision.Source.AUTOMATIC,
                    action=decision.action,
                    status_after=STATUS_FOR_ACTION[decision.action],
                    scores=decision.scores,
                    reasons=[r.as_dict() for r in decision.reasons],
                    rules_fired=decision.rules_fired,
                    spans=decision.spans,
                    model_version=decision.model_version,
                )
                for item, decision in zip(open_items, decisions, strict=True)
            ]
        )
        known, fresh = [], []
        for item, row in zip(open_items, rows, strict=True):
            state = states.get(item.pk)
            if state is None:
                state = states[item.pk] = ItemModeration(item=item, organisation_id=item.organisation_id)
                fresh.append(state)
            else:
                known.append(state)
            state.status = row.status_after
            state.last_decision = row
            state.updated_at = now
        if known:
            ItemModeration.objects.bulk_update(known, ["status", "last_decision", "updated_at", "is_spam"])
        if fresh:
            # A concurrent analysis creating one of them makes this raise IntegrityError: the
            # pipeline then moderates the batch item by item.
            bulk.insert(fresh)
        hooks.decisions_recorded.send(sender=ModerationDecision, decisions=rows)  # the metrics count them
        platform.decided_many(rows)  # rejections sent to the platforms, as each channel's policy asks
    for item in items:
        item.moderation = states[item.pk]  # the next stages (the inbox) read it without a query


def _contexts_for(items: list[Item]) -> list[engine.ModerationContext]:
    """Each item's moderation context; what the items share is read once per organisation."""
    by_org: dict[int, list[Item]] = {}
    for item in items:
        by_org.setdefault(item.organisation_id, []).append(item)
    policies = {org_id: policy_for(org_items[0].organisation) for org_id, org_items in by_org.items()}
    # The authors' messages of the hour are read by the per-hour limit alone: counted only where
    # it is on (reading them costs more as each author's hour fills: 0.33 -> 0.70 ms of CPU an item
    # over 60,000 items written 500 a second, `palabre bench ingest --seconds-apart 0.002`).
    authors = _authors_for(
        items, {org_id for org_id, policy in policies.items() if policy.rate_limit_per_hour}
    )
    contexts: dict[int, engine.ModerationContext] = {}
    for org_id, org_items in by_org.items():
        organisation = org_items[0].organisation
        policy = policies[org_id]
        base = organisation_context(organisation, texts=[item.text for item in org_items])
        for item in org_items:
            contexts[item.pk] = replace(
                base,
                lang=item.language or None,
                author=authors[item.pk],
                private=item.kind == "direct_message",
                signals=engine.signal_reasons(item.raw.get("palabre_signals")),
                off_hours=off_hours_policy(policy, item.created_at),
                platform=item.channel.platform,
            )
    return [contexts[item.pk] for item in items]


def _authors_for(items: list[Item], counted_orgs: set[int] | None = None) -> dict[int, engine.Author]:
    """`_author_for` of each item: the contacts' trust in one query, the authors' messages of the
    hour before each item in another (for the items of `counted_orgs` only, when given: the
    others' `recent_count` is 0)."""
    with_author = [item for item in items if item.author is not None]
    contact_ids = {item.contact_id for item in with_author if item.contact_id}
    trust = {
        contact_id: (approved, rejected + spam)
        for contact_id, approved, rejected, spam in (_trust(list(contact_ids)) if contact_ids else ())
    }
    written: dict[int, list[tuple[datetime, int]]] = {}
    counted = [i for i in with_author if counted_orgs is None or i.organisation_id in counted_orgs]
    if counted:
        earliest = min(item.created_at for item in counted) - timedelta(hours=1)
        latest = max(item.created_at for item in counted)
        for author_id, at, pk in _written(list({item.author_id for item in counted}), earliest, latest):
            written.setdefault(author_id, []).append((at, pk))
    authors: dict[int, engine.Author] = {}
    for item in items:
        handle = item.author
        if handle is None:
            authors[item.pk] = engine.Author()
            continue
        approved, rejected = trust.get(item.contact_id, (0, 0)) if item.contact_id else (0, 0)
        since = item.created_at - timedelta(hours=1)
        recent = sum(
            1 for at, pk in written.get(handle.pk, ()) if since <= at <= item.created_at and pk != item.pk
        )
        raw_author = item.raw.get("author") if isinstance(item.raw.get("author"), dict) else {}
        authors[item.pk] = engine.Author(
            name=handle.display_name or handle.handle,
            handle=handle.handle,
            url=handle.profile_url or str(raw_author.get("url", "")),
            email=str(raw_author.get("email", "")),
            ip=str(raw_author.get("ip", "")),
            approved=approved,
            rejected=rejected,
            recent_count=recent,
        )
    return authors


def check_text(
    *,
    actor: Actor,
    text: str,
    lang: str | None = None,
    author: dict | None = None,
    at: datetime | None = None,
) -> engine.Decision:
    """Moderate a text with the organisation's rules without storing anything (API and CLI), as if
    it arrived `at` (now by default: outside business hours, the night policy applies)."""
    actor.require(Perm.ITEMS_VIEW)
    if not text.strip():
        raise ValidationError({"text": _("The text is empty.")})
    author = author or {}
    context = replace(
        organisation_context(actor.organisation, texts=[text], at=at or timezone.now()),
        lang=lang,
        author=engine.Author(
            name=author.get("name", ""),
            url=author.get("url", ""),
            email=author.get("email", ""),
            ip=author.get("ip", ""),
        ),
    )
    return engine.moderate(text, context)
