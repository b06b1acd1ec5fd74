"""Moderation state changes: automatic decisions on items, moderators' reviews, rules and policy."""

from __future__ import annotations

import re
import threading
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from palabre.conversations.models import ContactHandle, Item
from palabre.conversations.services import surviving_contact
from palabre.moderation import engine, hooks, lookups, patterns
from palabre.moderation.models import (
    AuthorTrust,
    ItemModeration,
    MessageFingerprint,
    ModerationDecision,
    ModerationPolicy,
    ModerationRule,
    ModerationSite,
    ModerationStatus,
    ToxicAnswer,
)
from palabre.orgs.models import Channel, Organisation
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, NotInOrganisation, record, snapshot
from palabre.recent import RecentReads

STATUS_FOR_ACTION = {
    engine.PUBLISH: ModerationStatus.PUBLISHED,
    engine.HOLD: ModerationStatus.HELD,
    engine.REJECT: ModerationStatus.REJECTED,
}
REVIEW_ACTIONS = ("approve", "reject", "spam", "ham", "restore")
# How much one correction moves a label's hold threshold (per-organisation learning).
LEARNING_STEP = 0.01
LEARNING_LIMIT = 0.15


# --- context ----------------------------------------------------------------------------------


def policy_for(organisation: Organisation) -> ModerationPolicy:
    policy, _created = ModerationPolicy.objects.get_or_create(organisation=organisation)
    return policy


# The compatible APIs decide in the request: they read the policy from this process's memory.
# A change made in this process applies at once; one made in another applies within 2 seconds.
_recent_policies = RecentReads(seconds=2.0)


def cached_policy(organisation: Organisation) -> ModerationPolicy:
    return _recent_policies.get(organisation.pk, lambda: policy_for(organisation))


def forget_cached_policy(organisation_id: int) -> None:
    _recent_policies.forget(organisation_id)


_ruleset_cache: dict[tuple[int, int], engine.RuleSet] = {}
_cache_lock = threading.Lock()


def ruleset_for(organisation: Organisation, policy: ModerationPolicy) -> engine.RuleSet:
    """Compiled once per rules version: a rule change bumps the version."""
    # updated_at too: ids can be reused (a rolled-back test, a restored backup), timestamps not.
    key = (organisation.pk, policy.rules_version, policy.updated_at)
    ruleset = _ruleset_cache.get(key)
    if ruleset is None:
        rules = ModerationRule.objects.filter(organisation=organisation, enabled=True)
        ruleset = engine.RuleSet([rule.as_engine_rule() for rule in rules])
        with _cache_lock:
            for stale in [k for k in _ruleset_cache if k[0] == organisation.pk]:
                del _ruleset_cache[stale]
            _ruleset_cache[key] = ruleset
    return ruleset


def organisation_context(
    organisation: Organisation,
    *,
    extra_rules: list[engine.Rule] = (),
    texts: list[str] | None = None,
    cached: bool = False,
    at: datetime | None = None,
    marks: list[tuple[str, bool]] | None = None,
) -> engine.ModerationContext:
    """The organisation's rules, thresholds and marked messages. With `texts`, only the marks
    those texts could match are loaded (one indexed query, however many messages were marked);
    `marks`, those marks already read, as (fingerprint, is_spam).
    `cached`: the policy as this process saw it at most 2 seconds ago.
    `at`: when the message arrived; outside business hours, the policy's night thresholds apply."""
    policy = cached_policy(organisation) if cached else policy_for(organisation)
    rules = ruleset_for(organisation, policy)
    if extra_rules:
        rules = engine.RuleSet([*rules.rules, *extra_rules])
    if marks is not None:
        prints = marks
    elif texts is not None:
        prints = lookups.fingerprint_marks(
            organisation.pk, {fp for fp in map(engine.fingerprint, texts) if fp}
        )
    else:
        prints = MessageFingerprint.objects.filter(organisation=organisation).values_list(
            "fingerprint", "is_spam"
        )
    return engine.ModerationContext(
        rules=rules,
        thresholds=policy.thresholds(),
        spam_fingerprints=frozenset(fp for fp, spam in prints if spam),
        ham_fingerprints=frozenset(fp for fp, spam in prints if not spam),
        off_hours=off_hours_policy(policy, at),
    )


def off_hours_policy(policy: ModerationPolicy, at: datetime | None) -> engine.OffHours | None:
    """The policy's stricter night rules when `at` is outside the organisation's business hours
    (as the inbox, through its hook, tells); asked only when the organisation turned them on."""
    night = policy.off_hours()
    if night is None or at is None or not hooks.is_off_hours(policy.organisation_id, at):
        return None
    return night


def _author_record(
    *, handle_id: int, contact_id: int | None, at, exclude_item_id: int | None = None
) -> tuple[int, int, int]:
    """(approved, rejected, messages in the hour before `at`) of an author known by their handle."""
    trust = (
        AuthorTrust.objects.filter(contact_id=contact_id).values_list("approved", "rejected", "spam").first()
        if contact_id
        else None
    )
    recent = Item.objects.filter(
        author_id=handle_id, created_at__gte=at - timedelta(hours=1), created_at__lte=at
    )
    if exclude_item_id is not None:
        recent = recent.exclude(pk=exclude_item_id)
    approved, rejected, spam = trust or (0, 0, 0)
    return approved, rejected + spam, recent.count()


def _author_for(item: Item) -> engine.Author:
    handle = item.author
    if handle is None:
        return engine.Author()
    approved, rejected, recent = _author_record(
        handle_id=handle.pk, contact_id=item.contact_id, at=item.created_at, exclude_item_id=item.pk
    )
    raw_author = item.raw.get("author") if isinstance(item.raw.get("author"), dict) else {}
    return engine.Author(
        name=handle.display_name or handle.handle,
        handle=handle.handle,
        url=handle.profile_url or str(raw_author.get("url", "")),
        email=str(raw_author.get("email", "")),
        ip=str(raw_author.get("ip", "")),
        approved=approved,
        rejected=rejected,
        recent_count=recent,
    )


def author_before_storing(
    *, channel: Channel, author: engine.Author, at, record: lookups.AuthorRecord | None = None
) -> engine.Author:
    """The author of a message decided before it is stored (a synchronous check such as the
    Akismet-compatible API): what moderators said of them and how much they wrote in the hour.
    `record`: that author's record, when already read."""
    if not author.handle:
        return author
    if record is None:
        record = lookups.author_record(
            organisation_id=channel.organisation_id, platform=channel.platform, handle=author.handle, at=at
        )
    if record is None:
        return author
    if not record.merged:
        return replace(
            author, approved=record.approved, rejected=record.rejected, recent_count=record.recent_count
        )
    known = (
        ContactHandle.objects.filter(
            organisation_id=channel.organisation_id, platform=channel.platform, handle=author.handle
        )
        .select_related("contact")
        .first()
    )
    if known is None:
        return author
    contact = surviving_contact(known.contact) if known.contact_id else None
    approved, rejected, recent = _author_record(
        handle_id=known.pk, contact_id=contact.pk if contact else None, at=at
    )
    return replace(author, approved=approved, rejected=rejected, recent_count=recent)


def context_for_item(item: Item, base: engine.ModerationContext) -> engine.ModerationContext:
    return replace(
        base,
        lang=item.language or None,
        author=_author_for(item),
        private=item.kind == "direct_message",
        signals=engine.signal_reasons(item.raw.get("palabre_signals")),
    )


# --- automatic decisions ----------------------------------------------------------------------


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


def moderate_batch(items: list[Item], created: frozenset[int]) -> None:
    """The pipeline's moderation stage: `analyse_for_moderation` on a batch, in a few queries for
    the whole batch (the organisation's context, the authors' records, the states and decisions
    written in bulk) and the classifiers run once on all the texts."""
    items = [
        item for item in items if not (item.author is not None and item.author.handle == item.channel.handle)
    ]
    if not items:
        return
    decided = set(
        ModerationDecision.objects.filter(item__in=items).values_list("item_id", "created_at").order_by()
    )
    latest: dict[int, datetime] = {}
    for item_id, at in decided:
        latest[item_id] = max(at, latest.get(item_id, at))
    # Decided already on this version, inline (comment form, Akismet API).
    items = [item for item in items if not (item.pk in latest and latest[item.pk] >= item.updated_at)]
    if not items:
        return
    with transaction.atomic():
        states = {
            state.item_id: state
            for state in ItemModeration.objects.select_for_update(of=("self",))
            .select_related("last_decision")
            .filter(item__in=items)
            .order_by("item_id")
        }
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
        rows = ModerationDecision.objects.bulk_create(
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
            ItemModeration.objects.bulk_create(fresh)
        hooks.decisions_recorded.send(sender=ModerationDecision, decisions=rows)  # the metrics count them
    for item in items:
        item.moderation = states[item.pk]  # the next stages (the inbox) read it without a query


def _contexts_for(items: list[Item]) -> list[engine.ModerationContext]:
    """Each item's moderation context; what the items share is read once per organisation."""
    by_org: dict[int, list[Item]] = {}
    for item in items:
        by_org.setdefault(item.organisation_id, []).append(item)
    authors = _authors_for(items)
    contexts: dict[int, engine.ModerationContext] = {}
    for org_items in by_org.values():
        organisation = org_items[0].organisation
        policy = policy_for(organisation)
        base = organisation_context(organisation, texts=[item.text for item in org_items])
        for item in org_items:
            contexts[item.pk] = replace(
                base,
                lang=item.language or None,
                author=authors[item.pk],
                private=item.kind == "direct_message",
                signals=engine.signal_reasons(item.raw.get("palabre_signals")),
                off_hours=off_hours_policy(policy, item.created_at),
            )
    return [contexts[item.pk] for item in items]


def _authors_for(items: list[Item]) -> dict[int, engine.Author]:
    """`_author_for` of each item: the contacts' trust in one query, the authors' messages of the
    hour before each item in another."""
    with_author = [item for item in items if item.author is not None]
    contact_ids = {item.contact_id for item in with_author if item.contact_id}
    trust = {
        contact_id: (approved, rejected + spam)
        for contact_id, approved, rejected, spam in AuthorTrust.objects.filter(
            contact_id__in=contact_ids
        ).values_list("contact_id", "approved", "rejected", "spam")
    }
    written: dict[int, list[tuple[datetime, int]]] = {}
    if with_author:
        earliest = min(item.created_at for item in with_author) - timedelta(hours=1)
        latest = max(item.created_at for item in with_author)
        for author_id, at, pk in Item.objects.filter(
            author_id__in={item.author_id for item in with_author},
            created_at__gte=earliest,
            created_at__lte=latest,
        ).values_list("author_id", "created_at", "pk"):
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


# --- moderators -------------------------------------------------------------------------------


def _item_in_org(actor: Actor, item_id: int) -> Item:
    item = (
        Item.objects.select_related("organisation", "author", "contact")
        .filter(pk=item_id, organisation=actor.organisation)
        .first()
    )
    if item is None:
        raise NotInOrganisation
    return item


@transaction.atomic
def review_item(*, actor: Actor, item_id: int, action: str, note: str = "") -> ModerationDecision:
    """A moderator's decision: approve, reject, spam, ham (not spam: approve and learn), restore."""
    actor.require(Perm.MODERATION_ACT)
    if action not in REVIEW_ACTIONS:
        raise ValidationError({"action": _("Unknown action: %(a)s") % {"a": action}})
    item = _item_in_org(actor, item_id)
    state, _created = ItemModeration.objects.select_for_update().get_or_create(
        item=item, defaults={"organisation_id": item.organisation_id}
    )
    previous = state.last_decision
    before = {"status": state.status, "is_spam": state.is_spam}
    was_spam = state.rejected_as_spam
    status = {
        "approve": ModerationStatus.APPROVED,
        "ham": ModerationStatus.APPROVED,
        "restore": ModerationStatus.APPROVED,
        "reject": ModerationStatus.REJECTED,
        "spam": ModerationStatus.REJECTED,
    }[action]
    state.is_spam = action == "spam"
    row = _store(
        item,
        state,
        None,
        source=ModerationDecision.Source.MODERATOR,
        action=action,
        user=actor.user,
        note=note,
        status=status,
    )
    row.status_before, row.spam_before, row.replaced = before["status"], before["is_spam"], previous
    if previous is not None:
        # Keep the evidence the machine had, so the log shows what was overruled.
        row.scores, row.reasons, row.spans, row.model_version = (
            previous.scores,
            previous.reasons,
            previous.spans,
            previous.model_version,
        )
    row.save(
        update_fields=[
            "scores",
            "reasons",
            "spans",
            "model_version",
            "status_before",
            "spam_before",
            "replaced",
        ]
    )
    _learn(item, action, previous)
    record(
        actor,
        f"moderation.{action}",
        item,
        before=before,
        after={"status": status, "is_spam": state.is_spam, "note": note},
    )
    if was_spam != state.rejected_as_spam:  # out of the inbox, or back in it
        transaction.on_commit(lambda: hooks.item_reviewed(item.pk))
    return row


UNDO = "undo"


def undoable(decision: ModerationDecision | None, state: ItemModeration | None) -> bool:
    """A moderator's decision that is still the item's latest and was not undone already."""
    return (
        decision is not None
        and state is not None
        and decision.source == ModerationDecision.Source.MODERATOR
        and decision.action in REVIEW_ACTIONS
        and bool(decision.status_before)
        and state.last_decision_id == decision.pk
    )


def undo_limits(item: Item) -> list[str]:
    """What an undo cannot take back, in the reader's language: a site that asked through the
    Akismet-compatible API was answered at once and acted on that answer itself."""
    sites = [
        site.name
        for site in ModerationSite.objects.filter(channel_id=item.channel_id, revoked_at__isnull=True)
        if site.api_key_hash
    ]
    if not sites or item.raw.get("source") == "widget":
        return []
    return [
        _(
            "%(site)s was answered when it checked this comment: undoing changes Palabre's queue "
            "and log, not what the site did with the comment."
        )
        % {"site": ", ".join(sites)}
    ]


@transaction.atomic
def undo_review(*, actor: Actor, item_id: int, decision_id: int | None = None) -> ModerationDecision:
    """Take back a moderator's latest decision on an item (`decision_id`: the one the person saw,
    refused if another came since): the item goes back where it stood, with its former decision,
    and what the decision taught (author trust, spam marks, learned thresholds) is taken back."""
    actor.require(Perm.MODERATION_ACT)
    item = _item_in_org(actor, item_id)
    # Only the item's own row is locked: PostgreSQL cannot lock the nullable side of the join.
    state = (
        ItemModeration.objects.select_for_update(of=("self",))
        .select_related("last_decision")
        .filter(item=item)
        .first()
    )
    decision = state.last_decision if state else None
    if decision_id is not None and (decision is None or decision.pk != decision_id):
        raise ValidationError(
            {"decision": _("Another decision was taken on this item since: it is the one to undo.")}
        )
    if not undoable(decision, state):
        raise ValidationError({"decision": _("There is no moderator's decision to undo on this item.")})
    was_spam = state.rejected_as_spam
    after = {"status": decision.status_before, "is_spam": bool(decision.spam_before)}
    before = {"status": state.status, "is_spam": state.is_spam}
    row = ModerationDecision.objects.create(
        organisation_id=item.organisation_id,
        item=item,
        source=ModerationDecision.Source.MODERATOR,
        action=UNDO,
        status_after=decision.status_before,
        status_before=state.status,
        spam_before=state.is_spam,
        replaced=decision,
        undoes=decision,
        scores=decision.scores,
        reasons=decision.reasons,
        spans=decision.spans,
        model_version=decision.model_version,
        decided_by=actor.user,
    )
    state.status = decision.status_before
    state.is_spam = bool(decision.spam_before)
    # The item shows its former decision again (the machine's evidence, or a colleague's call).
    state.last_decision = decision.replaced
    state.updated_at = timezone.now()
    state.save(update_fields=["status", "is_spam", "last_decision", "updated_at"])
    _learn(item, decision.action, decision.replaced, sign=-1)
    record(
        actor,
        "moderation.undo",
        item,
        before={**before, "action": decision.action},
        after=after,
    )
    if was_spam != state.rejected_as_spam:
        transaction.on_commit(lambda: hooks.item_reviewed(item.pk))
    return row


def hide_site_comment(item: Item, note: str) -> None:
    """The site connector's hide and delete: the widget stops showing the comment (a rejection)."""
    review_item(actor=Actor.palabre(item.organisation), item_id=item.pk, action="reject", note=note)


def _learn(item: Item, action: str, previous: ModerationDecision | None, sign: int = 1) -> None:
    """Feedback that changes later decisions for this organisation, without retraining.
    `sign` -1 takes back what the same decision taught (an undo)."""
    positive = action in {"approve", "ham", "restore"}
    if item.contact_id:
        trust, _created = AuthorTrust.objects.get_or_create(
            contact_id=item.contact_id, defaults={"organisation_id": item.organisation_id}
        )
        field = "approved" if positive else ("spam" if action == "spam" else "rejected")
        if sign > 0:
            AuthorTrust.objects.filter(pk=trust.pk).update(**{field: models.F(field) + 1})
        else:
            AuthorTrust.objects.filter(pk=trust.pk, **{f"{field}__gt": 0}).update(
                **{field: models.F(field) - 1}
            )
    fp = engine.fingerprint(item.text)
    if fp and action in {"spam", "ham"}:
        if sign > 0:
            MessageFingerprint.objects.update_or_create(
                organisation_id=item.organisation_id, fingerprint=fp, defaults={"is_spam": action == "spam"}
            )
        else:
            MessageFingerprint.objects.filter(
                organisation_id=item.organisation_id, fingerprint=fp, is_spam=action == "spam"
            ).delete()
    if previous is None or previous.source != ModerationDecision.Source.AUTOMATIC:
        return
    policy = ModerationPolicy.objects.select_for_update().get(organisation_id=item.organisation_id)
    offsets = dict(policy.learned_offsets)
    machine_flagged = previous.action in {engine.HOLD, engine.REJECT}
    if positive and machine_flagged:
        # A false alarm: the labels that flagged it become a little less eager.
        for reason in previous.reasons:
            label = reason.get("params", {}).get("label")
            if label and reason["code"].startswith("score_"):
                offsets[label] = _bounded(offsets.get(label, 0.0) + sign * LEARNING_STEP)
    elif not positive and previous.action == engine.PUBLISH:
        # A miss: the label the model leaned to most becomes a little more eager.
        label = (
            "spam"
            if action == "spam"
            else max(
                (k for k in previous.scores if k != "spam"), key=lambda k: previous.scores[k], default=None
            )
        )
        if label:
            offsets[label] = _bounded(offsets.get(label, 0.0) - sign * LEARNING_STEP)
    if offsets != policy.learned_offsets:
        policy.learned_offsets = offsets
        policy.save(update_fields=["learned_offsets"])
        forget_cached_policy(policy.organisation_id)


def _bounded(offset: float) -> float:
    return round(min(max(offset, -LEARNING_LIMIT), LEARNING_LIMIT), 6)


@transaction.atomic
def report_item(*, actor: Actor, item_id: int, note: str = "") -> ItemModeration:
    """Someone (a member, or a reader through a connector) flagged an item for review."""
    actor.require(Perm.ITEMS_VIEW)
    item = _item_in_org(actor, item_id)
    state, _created = ItemModeration.objects.select_for_update().get_or_create(
        item=item, defaults={"organisation_id": item.organisation_id}
    )
    state.reports += 1
    if state.status in {ModerationStatus.PUBLISHED, ModerationStatus.PENDING}:
        state.status = ModerationStatus.REPORTED
    state.save(update_fields=["reports", "status"])
    record(actor, "moderation.reported", item, after={"reports": state.reports, "note": note})
    return state


_REASON_FILTER = re.compile(r"rule:\d{1,12}|[a-z][a-z_]{1,59}")


def queue(
    *, actor: Actor, status: str, channel: int | None = None, reason: str = ""
) -> models.QuerySet[ItemModeration]:
    """The items of one queue tab, newest first; `channel` (an id) and `reason` (``rule:<id>``,
    or a reason code such as ``score_toxicity``, ``banned_word``, ``first_time_author``) narrow it
    to the items whose latest decision came on that channel or gave that reason."""
    actor.require(Perm.MODERATION_ACT)
    if status not in ModerationStatus.values:
        raise ValidationError({"status": _("Unknown status: %(s)s") % {"s": status}})
    if reason and not _REASON_FILTER.fullmatch(reason):
        raise ValidationError({"reason": _("Unknown reason: %(r)s") % {"r": reason[:80]}})
    rows = ItemModeration.objects.filter(organisation=actor.organisation, status=status)
    if channel is not None:
        rows = rows.filter(item__channel_id=channel)
    if reason.startswith("rule:"):
        # The JSON text holds the id quoted: "rule:1" does not match "rule:12".
        rows = rows.filter(last_decision__rules_fired__icontains=f'"{reason}"')
    elif reason:
        rows = rows.filter(last_decision__reasons__icontains=f'"{reason}"')
    return rows.select_related(
        "item",
        "item__channel",
        "item__author",
        "item__contact",
        "last_decision",
        "last_decision__decided_by",
    ).order_by("-updated_at", "-pk")


def feedback_for_training(*, organisation: Organisation | None = None) -> list[dict[str, Any]]:
    """Moderators' spam/ham and approve/reject calls, for `palabre train --include-feedback` (one
    organisation's, or every one's)."""
    label = {"spam": "spam", "ham": "ham", "reject": "toxic", "approve": "ok"}
    rows = ModerationDecision.objects.filter(
        source=ModerationDecision.Source.MODERATOR, action__in=label
    ).select_related("item")
    if organisation is not None:
        rows = rows.filter(organisation=organisation)
    return [{"text": row.item.text, "label": label[row.action]} for row in rows if row.item.text]


# --- rules and policy -------------------------------------------------------------------------


def pattern_refusal_message(refusal: patterns.PatternRefused) -> str:
    """Why a pattern is refused, in the reader's language."""
    messages = {
        "backreference": _(
            "Back-references (\\1, (?P=name)) are not accepted: patterns run on an engine that "
            "never backtracks, so that no pattern can slow the server down."
        ),
        "lookaround": _(
            "Lookarounds ((?=…), (?!…), (?<=…), (?<!…)) are not accepted: patterns run on an engine "
            "that never backtracks, so that no pattern can slow the server down."
        ),
        "atomic": _(
            "Atomic groups and possessive quantifiers ((?>…), a++) are not accepted: patterns run on "
            "an engine that never backtracks, so that no pattern can slow the server down."
        ),
        "too_large": _("This pattern is too large: repeat counts go up to 1000. (%(e)s)")
        % {"e": refusal.detail},
        "word_regex": _("A word cannot start with “re:”: write a regular-expression rule instead."),
    }
    return messages.get(refusal.code) or _("Invalid regular expression: %(e)s") % {"e": refusal.detail}


def rule_refusal(rule: ModerationRule) -> str:
    """Why the engine skips this stored rule (written before patterns ran on RE2), or ""."""
    try:
        _validate_rule(rule.kind, rule.pattern, rule.action)
    except ValidationError as error:
        return " ".join(error.message_dict.get("pattern", []))
    return ""


def _validate_rule(kind: str, pattern: str, action: str) -> None:
    errors = {}
    if kind not in ModerationRule.Kind.values:
        errors["kind"] = _("Unknown kind: %(k)s") % {"k": kind}
    if not pattern.strip():
        errors["pattern"] = _("Give a word, a pattern, a site or an author.")
    elif kind == "regex":
        try:
            patterns.compile_rule_pattern(pattern)
        except patterns.PatternRefused as refusal:
            errors["pattern"] = pattern_refusal_message(refusal)
    elif kind in {"banned_word", "suspect_word", "allowed_word"} and pattern.strip().startswith(
        patterns.WORD_REGEX_PREFIX
    ):
        errors["pattern"] = pattern_refusal_message(patterns.PatternRefused("word_regex"))
    elif kind in {"blocked_domain", "allowed_domain"} and not engine.domain_key(pattern):
        errors["pattern"] = _("Give a site, as in example.com or https://example.com/.")
    if action not in ModerationRule.Action.values:
        errors["action"] = _("Unknown action: %(a)s") % {"a": action}
    if errors:
        raise ValidationError(errors)


def _bump_rules_version(organisation: Organisation) -> None:
    policy = policy_for(organisation)
    forget_cached_policy(organisation.pk)
    ModerationPolicy.objects.filter(pk=policy.pk).update(
        rules_version=models.F("rules_version") + 1, updated_at=timezone.now()
    )


RULE_FIELDS = ("kind", "pattern", "action", "note", "enabled", "exact_match")


@transaction.atomic
def create_rule(
    *,
    actor: Actor,
    kind: str,
    pattern: str,
    action: str = engine.HOLD,
    note: str = "",
    enabled: bool = False,
    exact_match: bool = False,
) -> ModerationRule:
    """A new rule starts as a simulation (`enabled` False): it decides nothing until someone has
    seen what it would have done (`simulate_rule`) and enables it."""
    actor.require(Perm.MODERATION_RULES)
    if kind == "banned_word":
        action = engine.REJECT
    _validate_rule(kind, pattern, action)
    rule = ModerationRule.objects.create(
        organisation=actor.organisation,
        kind=kind,
        pattern=pattern.strip(),
        action=action,
        note=note,
        enabled=enabled,
        exact_match=exact_match,
        enabled_at=timezone.now() if enabled else None,
        created_by=actor.user,
    )
    _bump_rules_version(actor.organisation)
    record(actor, "moderation.rule_created", rule, after=snapshot(rule, RULE_FIELDS))
    return rule


@transaction.atomic
def update_rule(*, actor: Actor, rule: ModerationRule, **changes: Any) -> ModerationRule:
    actor.require(Perm.MODERATION_RULES)
    if rule.organisation_id != actor.organisation.pk:
        raise NotInOrganisation
    before = snapshot(rule, RULE_FIELDS)
    for name, value in changes.items():
        if name not in RULE_FIELDS:
            raise ValidationError({name: _("This field cannot be changed.")})
        setattr(rule, name, value)
    # A stored rule the engine now refuses can still be switched off without being rewritten.
    if changes.keys() & {"kind", "pattern", "action"}:
        _validate_rule(rule.kind, rule.pattern, rule.action)
    if rule.enabled and rule.enabled_at is None:
        rule.enabled_at = timezone.now()  # out of simulation
    rule.save()
    _bump_rules_version(actor.organisation)
    after = snapshot(rule, RULE_FIELDS)
    verb = "rule_updated"
    if set(changes) == {"enabled"} and before["enabled"] != after["enabled"]:
        verb = "rule_enabled" if rule.enabled else "rule_disabled"
    record(actor, f"moderation.{verb}", rule, before=before, after=after)
    return rule


@transaction.atomic
def delete_rule(*, actor: Actor, rule: ModerationRule) -> None:
    actor.require(Perm.MODERATION_RULES)
    if rule.organisation_id != actor.organisation.pk:
        raise NotInOrganisation
    record(actor, "moderation.rule_deleted", rule, before=snapshot(rule, RULE_FIELDS))
    rule.delete()
    _bump_rules_version(actor.organisation)


POLICY_FIELDS = (
    "hold_thresholds",
    "reject_thresholds",
    "max_links",
    "first_time_hold_until",
    "rate_limit_per_hour",
    "off_hours_enabled",
    "off_hours_tightening",
    "off_hours_hold_first_messages",
)
# How far the night policy may lower the hold thresholds.
MAX_OFF_HOURS_TIGHTENING = 0.5


@transaction.atomic
def update_policy(*, actor: Actor, **changes: Any) -> ModerationPolicy:
    actor.require(Perm.MODERATION_RULES)
    policy = policy_for(actor.organisation)
    before = snapshot(policy, POLICY_FIELDS)
    errors = {}
    for name, value in changes.items():
        if name not in POLICY_FIELDS:
            errors[name] = _("This field cannot be changed.")
        elif name.endswith("_thresholds"):
            bad = [k for k, v in value.items() if k not in engine.DEFAULT_HOLD or not 0 <= float(v) <= 1]
            if bad:
                errors[name] = _("Thresholds are labels (%(labels)s) with values between 0 and 1.") % {
                    "labels": ", ".join(engine.DEFAULT_HOLD)
                }
        elif name in {"off_hours_enabled", "off_hours_hold_first_messages"}:
            if not isinstance(value, bool):
                errors[name] = _("Give true or false.")
        elif name == "off_hours_tightening":
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not 0 <= value <= MAX_OFF_HOURS_TIGHTENING
            ):
                errors[name] = _("Give a number between 0 and %(max)s.") % {
                    "max": number_format(MAX_OFF_HOURS_TIGHTENING, 1)
                }
        elif int(value) < 0:
            errors[name] = _("Give a number of zero or more.")
    if errors:
        raise ValidationError(errors)
    for name, value in changes.items():
        setattr(policy, name, value)
    policy.updated_at = timezone.now()
    policy.save()
    forget_cached_policy(policy.organisation_id)
    record(actor, "moderation.policy_updated", policy, before=before, after=snapshot(policy, POLICY_FIELDS))
    return policy


def simulate_rule(
    *,
    actor: Actor,
    kind: str,
    pattern: str,
    action: str = engine.HOLD,
    days: int = 30,
    exact_match: bool = False,
) -> dict[str, Any]:
    """What a new rule would have changed on the organisation's last `days` days, item by item."""
    actor.require(Perm.MODERATION_RULES)
    if kind == "banned_word":
        action = engine.REJECT
    _validate_rule(kind, pattern, action)
    since = timezone.now() - timedelta(days=days)
    items = list(
        Item.objects.filter(organisation=actor.organisation, created_at__gte=since)
        .select_related("author", "contact", "moderation__last_decision")
        .order_by("-created_at")[:5000]
    )
    candidate = engine.Rule(
        id="rule:new", kind=kind, pattern=pattern.strip(), action=action, exact=exact_match
    )
    base = organisation_context(actor.organisation)
    with_rule = organisation_context(actor.organisation, extra_rules=[candidate])
    contexts_now = [context_for_item(item, base) for item in items]
    contexts_new = [replace(ctx, rules=with_rule.rules) for ctx in contexts_now]
    texts = [item.text for item in items]
    now = engine.moderate_many(texts, contexts_now)
    new = engine.moderate_many(texts, contexts_new)
    changes = []
    for item, before, after in zip(items, now, new, strict=True):
        if before.action != after.action or "rule:new" in after.rules_fired:
            changes.append(
                {
                    "item": item.pk,
                    "text": item.text[:280],
                    "created_at": item.created_at.isoformat(),
                    "before": before.action,
                    "after": after.action,
                    "rule_fired": "rule:new" in after.rules_fired,
                }
            )
    return {
        "items_checked": len(items),
        "days": days,
        "matched": sum(1 for c in changes if c["rule_fired"]),
        "changed": sum(1 for c in changes if c["before"] != c["after"]),
        "changes": changes,
    }


# --- sites (Akismet-compatible API and comment form) -------------------------------------------


def _key_hash(raw: str) -> str:
    """Keys are hexadecimal; WordPress's Akismet plugin keeps the case a person typed."""
    import hashlib

    return hashlib.sha256(raw.strip().lower().encode()).hexdigest()


@transaction.atomic
def create_moderation_site(*, actor: Actor, name: str, url: str) -> tuple[ModerationSite, str]:
    """Register a blog or forum; returns the site and its API key, shown this once.

    Its comments go to the organisation's site-comments channel for that address (created if needed).
    """
    import secrets
    from urllib.parse import urlsplit

    from palabre.orgs.services import create_channel

    actor.require(Perm.MODERATION_RULES)
    errors = {}
    if not name.strip():
        errors["name"] = _("Name the site.")
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        errors["url"] = _("Give the site's address, starting with https://")
    if errors:
        raise ValidationError(errors)
    handle = parts.hostname.removeprefix("www.")
    channel = actor.organisation.channels.filter(platform="site", handle=handle).first()
    if channel is None:
        channel = create_channel(actor=actor, platform="site", handle=handle, name=name.strip())
    # 12 hexadecimal characters: the only keys WordPress's Akismet plugin sends (docs/security.md).
    key = secrets.token_hex(6)
    site = ModerationSite.objects.create(
        organisation=actor.organisation,
        channel=channel,
        name=name.strip(),
        url=url.strip(),
        api_key_hash=_key_hash(key),
        api_key_hint=key[-4:],
        public_id=secrets.token_urlsafe(12),
    )
    record(actor, "moderation.site_created", site, after={"name": site.name, "url": site.url})
    return site, key


def origin_of(url: str) -> str | None:
    """scheme://host[:port] of an address, lower-cased, default port left out; None if not http(s)."""
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname.lower()
    if not re.fullmatch(r"[a-z0-9.\-_:\[\]]+", host):
        return None  # also keeps origins safe to write into a header
    if ":" in host:
        host = f"[{host}]"
    if port and port != {"http": 80, "https": 443}[scheme]:
        return f"{scheme}://{host}:{port}"
    return f"{scheme}://{host}"


MAX_ALLOWED_ORIGINS = 20


def update_moderation_site(
    *,
    actor: Actor,
    site: ModerationSite,
    name: str,
    allowed_origins: list[str],
    toxic_answer: str | None = None,
) -> ModerationSite:
    """Rename a site, set the other addresses whose pages may embed its comment form (a
    second domain, a staging copy), each written as an origin: https://host[:port], and what
    the Akismet-compatible API answers for a toxic comment that is not spam (`ToxicAnswer`)."""
    actor.require(Perm.MODERATION_RULES)
    if site.organisation_id != actor.organisation.pk:
        raise NotInOrganisation
    errors = {}
    if not name.strip():
        errors["name"] = _("Name the site.")
    origins = []
    for written in (o.strip() for o in allowed_origins):
        if not written:
            continue
        origin = origin_of(written)
        if origin is None:
            errors["allowed_origins"] = _(
                "“%(value)s” is not an address starting with https:// or http://."
            ) % {"value": written[:200]}
            break
        origins.append(origin)
    origins = list(dict.fromkeys(origins))
    if len(origins) > MAX_ALLOWED_ORIGINS:
        errors["allowed_origins"] = _("At most %(n)d addresses.") % {"n": MAX_ALLOWED_ORIGINS}
    toxic_answer = site.toxic_answer if toxic_answer is None else toxic_answer
    if toxic_answer not in ToxicAnswer.values:
        errors["toxic_answer"] = _("Choose “%(hold)s” or “%(spam)s”.") % {
            "hold": ToxicAnswer.HOLD.value,
            "spam": ToxicAnswer.SPAM.value,
        }
    if errors:
        raise ValidationError(errors)
    before = {
        "name": site.name,
        "allowed_origins": list(site.allowed_origins or []),
        "toxic_answer": site.toxic_answer,
    }
    site.name = name.strip()
    site.allowed_origins = origins
    site.toxic_answer = toxic_answer
    site.save(update_fields=["name", "allowed_origins", "toxic_answer"])
    _recent_sites.forget(site.api_key_hash)
    record(
        actor,
        "moderation.site_updated",
        site,
        before=before,
        after={"name": site.name, "allowed_origins": origins, "toxic_answer": toxic_answer},
    )
    return site


# Sites are read on every call of the compatible APIs: kept in this process's memory for a few
# seconds. A revocation applies at once in the process that made it, within 5 seconds elsewhere.
_recent_sites = RecentReads(seconds=5.0)


def site_for_key(raw_key: str, *, cached: bool = False) -> ModerationSite | None:
    if not raw_key or not raw_key.strip():
        return None
    key_hash = _key_hash(raw_key)

    def read() -> ModerationSite | None:
        return (
            ModerationSite.objects.select_related("organisation", "channel")
            .filter(api_key_hash=key_hash, revoked_at__isnull=True)
            .first()
        )

    if not cached:
        _recent_sites.forget(key_hash)
    return _recent_sites.get(key_hash, read)


@transaction.atomic
def revoke_moderation_site(*, actor: Actor, site: ModerationSite) -> ModerationSite:
    actor.require(Perm.MODERATION_RULES)
    if site.organisation_id != actor.organisation.pk:
        raise NotInOrganisation
    if site.revoked_at is None:
        site.revoked_at = timezone.now()
        site.save(update_fields=["revoked_at"])
        _recent_sites.forget(site.api_key_hash)
        record(actor, "moderation.site_revoked", site, before={"revoked": False}, after={"revoked": True})
    return site
