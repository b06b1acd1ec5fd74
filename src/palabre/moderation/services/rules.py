"""Rules and policy: validation of patterns, creation, change, deletion, thresholds, and the simulation
of a rule on past items."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from palabre.conversations.models import Item
from palabre.moderation import engine, patterns
from palabre.moderation.models import (
    ModerationPolicy,
    ModerationRule,
)
from palabre.moderation.services.context import (
    context_for_item,
    forget_cached_policy,
    organisation_context,
    policy_for,
)
from palabre.orgs.models import Organisation
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, NotInOrganisation, record, snapshot


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


# Each pattern rule is one more pass of RE2 over every message (up to 20,000 characters) with its
# own memory, on workers every organisation shares; words are one lookup each and stay unbounded.
MAX_PATTERN_RULES = 100


def _refuse_pattern_beyond_limit(organisation: Organisation, rule_pk: int | None = None) -> None:
    held = ModerationRule.objects.for_org(organisation).filter(kind="regex").exclude(pk=rule_pk)
    if held.count() >= MAX_PATTERN_RULES:
        raise ValidationError(
            {
                "kind": _(
                    "An organisation has at most %(n)s regular-expression rules: each one reads every "
                    "message. Delete one, or write words (they have no limit)."
                )
                % {"n": MAX_PATTERN_RULES}
            }
        )


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
    if kind == "regex":
        _refuse_pattern_beyond_limit(actor.organisation)
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
    if changes.get("kind") == "regex" and rule.kind != "regex":
        _refuse_pattern_beyond_limit(actor.organisation, rule.pk)
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
        Item.objects.visible_to(actor)
        .filter(created_at__gte=since)
        .select_related("author", "contact", "channel", "moderation__last_decision")
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
