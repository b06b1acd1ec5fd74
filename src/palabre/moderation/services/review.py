"""Moderators at work: reviews and their undo, reports, the queue, and what their decisions teach."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palabre.conversations.models import Item
from palabre.moderation import engine, hooks, platform
from palabre.moderation.models import (
    AuthorTrust,
    ItemModeration,
    MessageFingerprint,
    ModerationDecision,
    ModerationPolicy,
    ModerationSite,
    ModerationStatus,
)
from palabre.moderation.services.context import forget_cached_policy
from palabre.moderation.services.decisions import _store
from palabre.orgs.models import Organisation
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, NotInOrganisation, record

REVIEW_ACTIONS = ("approve", "reject", "spam", "ham", "restore")
# How much one correction moves a label's hold threshold (per-organisation learning).
LEARNING_STEP = 0.01
LEARNING_LIMIT = 0.15


def _item_in_org(actor: Actor, item_id: int) -> Item:
    item = (
        Item.objects.visible_to(actor)
        .select_related("organisation", "author", "contact")
        .filter(pk=item_id)
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
    platform.decided(item.pk, status_before=before["status"], status_after=state.status, user=actor.user)
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
            MessageFingerprint.objects.for_org(item.organisation_id).filter(
                fingerprint=fp, is_spam=action == "spam"
            ).delete()
    if previous is None or previous.source != ModerationDecision.Source.AUTOMATIC:
        return
    policy = ModerationPolicy.objects.for_org(item.organisation_id).select_for_update().get()
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
    rows = ItemModeration.objects.visible_to(actor).filter(status=status)
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
        rows = rows.for_org(organisation)
    return [{"text": row.item.text, "label": label[row.action]} for row in rows if row.item.text]
