"""comment-check, submit-spam and submit-ham: the engine decides (in batches, `compat.batching`), the
journal keeps what was answered (`compat.journal`), a report reviews the stored item."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from palabre.compat import journal
from palabre.compat.akismet.comments import (
    GUARANTEED_SPAM_AUTHORS,
    GUARANTEED_SPAM_EMAIL,
    STORED_PARAMS,
    Verdict,
    author_handle,
    client_guid,
    comment_guid,
    created_at_of,
    external_id_of,
    held_in_palabre,
    honeypot_filled,
    honeypot_name,
    incoming_item,
    is_true,
    parent_external_id,
    remember_wordpress_id,
    reported_item,
    site_actor,
    stored_guid,
    verdict_for,
)
from palabre.compat.batching import batcher
from palabre.connectors.site import receive_comment
from palabre.conversations.models import Item
from palabre.moderation import engine, lookups, services
from palabre.moderation.models import (
    ItemModeration,
    ModerationDecision,
    ModerationPolicy,
    ModerationSite,
    ModerationStatus,
)


def _context(
    site: ModerationSite,
    params: dict[str, str],
    *,
    checked_at: datetime,
    reads: lookups.CheckReads | None = None,
    at: datetime | None = None,
    policy: ModerationPolicy | None = None,
) -> engine.ModerationContext:
    """The organisation's rules and marked messages for this text, and what `reads` found of its
    author (written `at`; nothing for a test call, which reads nothing). Checked outside business
    hours (`checked_at`, now: nobody is there to read what the site publishes), the night policy
    applies."""
    text = params.get("comment_content", "")
    author = engine.Author(
        name=params.get("comment_author", ""),
        handle=author_handle(params),
        url=params.get("comment_author_url", ""),
        email=params.get("comment_author_email", ""),
        ip=params.get("user_ip", ""),
    )
    if reads is not None and reads.author is not None:
        author = services.author_before_storing(
            channel=site.channel, author=author, at=at, record=reads.author
        )
    return replace(
        services.organisation_context(
            site.organisation,
            texts=[text],
            marks=reads.marks if reads is not None else None,
            cached=True,
            at=checked_at,
            policy=policy,
        ),
        author=author,
    )


def check_comment(site: ModerationSite, params: dict[str, str]) -> Verdict:
    """comment-check: decide at once, answer, and store the comment and the decision in a task.

    The answer is the engine's decision on the organisation's rules and what moderators taught it;
    the item and its decision are written by a background task from one row this request writes
    (`compat.journal`; in the request itself with the immediate task backend), so a burst of
    comments costs the site a few milliseconds each.
    """
    guid = client_guid(params) or stored_guid(site, params)
    author = params.get("comment_author", "").strip().lower()
    email = params.get("comment_author_email", "").strip().lower()
    if author in GUARANTEED_SPAM_AUTHORS or email == GUARANTEED_SPAM_EMAIL:
        return Verdict(spam=True, guid=guid)
    administrator = params.get("user_role", "").strip().lower() == "administrator"
    honeypot = honeypot_filled(params)
    if is_true(params.get("is_test")):
        if administrator:
            return Verdict(spam=False, guid=guid)
        decision = batcher.decide(
            params.get("comment_content", ""), _context(site, params, checked_at=timezone.now())
        )
        spam, discard, held = verdict_for(
            decision.action, [(r.code, r.action) for r in decision.reasons], site.toxic_answer
        )
        return Verdict(spam=spam or honeypot, discard=discard, guid=guid, held="" if honeypot else held)

    checked_at = timezone.now()
    at = created_at_of(params.get("comment_date_gmt", ""), default=checked_at)
    text = params.get("comment_content", "")
    policy = services.cached_policy(site.organisation)  # read once: the reads and the decision
    reads = lookups.check_reads(
        channel_id=site.channel_id,
        external_id=external_id_of(guid),
        organisation_id=site.organisation_id,
        platform=site.channel.platform,
        handle=author_handle(params),
        at=at,
        fingerprint=engine.fingerprint(text),
        # The author's messages of the hour are read only by the per-hour limit: counting them
        # costs the database more as the author writes more (a flood, a busy site).
        count_recent=bool(policy.rate_limit_per_hour),
    )
    # The same comment checked again (a retry, `recheck_reason`): a moderator's word stands.
    state = reads.state
    person_decided = state is not None and (
        state.status == ModerationStatus.APPROVED or state.source == ModerationDecision.Source.MODERATOR
    )
    decision = None
    verdict = None
    if not person_decided:
        decision = batcher.decide(
            text, _context(site, params, checked_at=checked_at, reads=reads, at=at, policy=policy)
        )
        verdict = verdict_for(
            decision.action, [(r.code, r.action) for r in decision.reasons], site.toxic_answer
        )
        decision = held_in_palabre(decision, verdict[2])
    journal.record(
        site.pk,
        {
            name: value
            for name, value in params.items()
            if name in STORED_PARAMS or name == honeypot_name(params)
        },
        guid,
        json.dumps(decision.as_dict()) if decision else "",
        checked_at,
    )
    if honeypot and not (person_decided and state.status == ModerationStatus.APPROVED):
        return Verdict(spam=True, guid=guid)
    if administrator:
        return Verdict(spam=False, guid=guid)
    if verdict is None:
        verdict = _verdict_from_state(state, site.toxic_answer)
    spam, discard, held = verdict
    return Verdict(spam=spam, discard=discard, guid=guid, held=held)


@transaction.atomic
def store_checked_comment(
    site: ModerationSite,
    params: dict[str, str],
    guid: str,
    decision: engine.Decision | None,
    *,
    checked_at,
    analyse: bool = True,
) -> tuple[Item, bool | None]:
    """The comment a check answered, as an item with the decision given (and the honeypot's).
    Returns (item, created), created None when it was stored already. With `analyse` False the
    caller runs the item's analysis (`analyse_item`) once this is committed."""
    stored = ModerationDecision.objects.filter(
        item__channel=site.channel, item__external_id=external_id_of(guid), created_at__gte=checked_at
    ).first()
    if stored is not None:
        return stored.item, None  # this task ran already
    item, created = receive_comment(
        site.channel,
        incoming_item(params, guid, now=checked_at, parent=parent_external_id(site, params)),
        analyse=analyse,
    )
    if decision is not None:
        services.moderate_item(item, decided=decision)
    if honeypot_filled(params):
        state = ItemModeration.objects.filter(item=item).values_list("status", flat=True).first()
        if state not in {ModerationStatus.REJECTED, ModerationStatus.APPROVED}:
            services.review_item(
                actor=site_actor(site),
                item_id=item.pk,
                action="spam",
                note=f"Honeypot field {params['honeypot_field_name'].strip()[:80]} filled.",
            )
    return item, created


def _verdict_from_state(state: lookups.StoredState, toxic_answer: str) -> tuple[bool, bool, str]:
    if state.source is None or state.source == ModerationDecision.Source.MODERATOR:
        if state.status == ModerationStatus.APPROVED:
            return False, False, ""
        if state.status == ModerationStatus.REJECTED:
            return True, False, ""
    if state.action is None:
        return False, False, ""
    return verdict_for(
        state.action, [(r.get("code", ""), r.get("action", "")) for r in state.reasons], toxic_answer
    )


def submit_feedback(site: ModerationSite, params: dict[str, str], *, spam: bool) -> Item | None:
    """submit-spam / submit-ham: the site's moderator says what the comment was; Palabre learns.
    The report updates the item its check stored: found by the `guid` the check answered, by the
    same derivation, or (WordPress) by its post, id, author and text; only a comment never checked
    is stored here."""
    if is_true(params.get("is_test")):
        return None
    guid = client_guid(params)
    item = None
    if guid:
        item = Item.objects.filter(channel=site.channel, external_id=external_id_of(guid)).first()
    if item is None:
        guid = comment_guid(params)
        item = Item.objects.filter(channel=site.channel, external_id=external_id_of(guid)).first()
    if item is None:
        item = reported_item(site, params)
    if item is None:
        item, _created = receive_comment(
            site.channel, incoming_item(params, guid, parent=parent_external_id(site, params))
        )
    remember_wordpress_id(item, params)
    action = "spam" if spam else "ham"
    last = (
        ItemModeration.objects.filter(item=item)
        .values_list("last_decision__source", "last_decision__action")
        .first()
    )
    if last == (ModerationDecision.Source.MODERATOR, action):
        return item  # the same feedback twice teaches nothing more
    services.review_item(
        actor=site_actor(site), item_id=item.pk, action=action, note=f"submit-{action} from {site.name}"
    )
    return item
