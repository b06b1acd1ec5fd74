"""What a decision is made against: the organisation's policy, compiled rules, marked messages and
night thresholds, and what is known of an author."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import datetime, timedelta

from palabre import bulk
from palabre.conversations.models import ContactHandle, Item
from palabre.conversations.services import surviving_contact
from palabre.moderation import engine, hooks, lookups
from palabre.moderation.models import (
    AuthorTrust,
    MessageFingerprint,
    ModerationPolicy,
    ModerationRule,
)
from palabre.orgs.models import Channel, Organisation
from palabre.recent import RecentReads

# Read for every batch of the pipeline's moderation stage: compiled once (palabre.bulk.Prepared).
_policy_rows = bulk.Prepared(lambda organisation_id: ModerationPolicy.objects.for_org(organisation_id)[:2])


def policy_for(organisation: Organisation) -> ModerationPolicy:
    found = _policy_rows(organisation.pk)
    if len(found) == 1:
        return found[0]
    policy, _created = ModerationPolicy.objects.get_or_create(organisation=organisation)
    return policy


# The compatible APIs decide in the request: they read the policy from the `recent` cache
# (palabre.recent). A change applies at once where the cache is shared (Redis), else in this process
# and within 2 seconds.
_recent_policies = RecentReads("moderation-policy", seconds=2.0)


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
        rules = ModerationRule.objects.for_org(organisation).filter(enabled=True)
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
    policy: ModerationPolicy | None = None,
) -> engine.ModerationContext:
    """The organisation's rules, thresholds and marked messages. With `texts`, only the marks
    those texts could match are loaded (one indexed query, however many messages were marked);
    `marks`, those marks already read, as (fingerprint, is_spam).
    `cached`: the policy as this process saw it at most 2 seconds ago.
    `at`: when the message arrived; outside business hours, the policy's night thresholds apply.
    `policy`: the organisation's policy, when the caller read it already."""
    if policy is None:
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
        prints = MessageFingerprint.objects.for_org(organisation).values_list("fingerprint", "is_spam")
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
    *,
    handle_id: int,
    contact_id: int | None,
    at,
    exclude_item_id: int | None = None,
    count_recent: bool = True,
) -> tuple[int, int, int]:
    """(approved, rejected, messages in the hour before `at`) of an author known by their handle;
    0 messages without `count_recent` (nothing counted)."""
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
    return approved, rejected + spam, recent.count() if count_recent else 0


def _author_for(item: Item, *, count_recent: bool = True) -> engine.Author:
    handle = item.author
    if handle is None:
        return engine.Author()
    approved, rejected, recent = _author_record(
        handle_id=handle.pk,
        contact_id=item.contact_id,
        at=item.created_at,
        exclude_item_id=item.pk,
        count_recent=count_recent,
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
        ContactHandle.objects.for_org(channel.organisation_id)
        .filter(platform=channel.platform, handle=author.handle)
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
        # The author's messages of the hour: read by the per-hour limit alone, counted only with it
        # (the count costs more as the author writes more).
        author=_author_for(item, count_recent=bool(base.thresholds.rate_limit_per_hour)),
        private=item.kind == "direct_message",
        signals=engine.signal_reasons(item.raw.get("palabre_signals")),
        platform=item.channel.platform,
    )
