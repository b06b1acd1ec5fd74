"""Organisation patterns run on RE2: no pattern can stall the server, and what RE2 refuses is said."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from palabre.moderation import services
from palabre.moderation.engine import ModerationContext, Rule, RuleSet, moderate
from palabre.moderation.models import ModerationRule
from palabre.moderation.patterns import MAX_PATTERN_TEXT, PatternRefused, compile_rule_pattern
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, create_api_token


def test_a_catastrophic_pattern_finishes_on_a_long_text():
    # With Python's re, `(a+)+$` on 40 "a" and a "!" takes minutes (2**40 paths); RE2 is linear.
    pattern = compile_rule_pattern("(a+)+$")
    assert pattern.search("a" * 40 + "!") is None
    assert pattern.search("b" * 5_000 + "a" * 5_000 + "!") is None
    assert pattern.search("...aaa") == (3, 6)
    rule = Rule(id="rule:1", kind="regex", pattern="(a+)+$", action="reject")
    decision = moderate("a" * 35 + "!", ModerationContext(rules=RuleSet([rule])))
    assert "rule:1" not in decision.rules_fired


def test_a_pattern_sees_only_the_first_characters_of_a_message():
    pattern = compile_rule_pattern("secret")
    assert pattern.search("x" * (MAX_PATTERN_TEXT - 6) + "secret") is not None
    assert pattern.search("x" * MAX_PATTERN_TEXT + "secret") is None


@pytest.mark.parametrize(
    ("source", "text", "span"),
    [
        (r"\bcafé\b", "Un CAFÉ\u202f!", (3, 7)),
        (r"\bcafé\b", "des cafés", None),
        (r"\bpromo\d+\b", "code PROMO25 ici", (5, 12)),
        (r"\bpromo\d+\b", "codePROMO25", None),
        (r"\w+é", "  élevé", (2, 7)),
        (r"prix\s:", "prix\u00a0: 10 €", (0, 6)),
        (r"[\w.]+@exemple\.fr", "écrire à zoé.d@exemple.fr", (9, 25)),
        (r"\bfoo|bar\b", "xfoo bar", (5, 8)),
        (r"\bcafé\b|\bthé\b", "un thé !", (3, 6)),
        (r"\bcafé\b|\bthé\b", "des thés", None),
        (r"x|\bpromo\d+\b", "PROMO12 x", (0, 7)),
        (r"(a|b)\bc", "ac", None),
        (r"\d{2}\b", "12ème 34", (6, 8)),
    ],
)
def test_classes_and_end_boundaries_keep_their_unicode_meaning(source, text, span):
    assert compile_rule_pattern(source).search(text) == span


@pytest.mark.parametrize(
    ("source", "code"),
    [
        (r"(promo)\1", "backreference"),
        (r"(?P<w>a)(?P=w)", "backreference"),
        (r"promo(?=\d)", "lookaround"),
        (r"(?<!code )promo", "lookaround"),
        (r"(?>a+)b", "atomic"),
        (r"a++", "atomic"),
        (r"a{5000}", "too_large"),
        (r"(promo", "invalid"),
    ],
)
def test_patterns_re2_cannot_run_are_refused_with_a_reason(source, code):
    with pytest.raises(PatternRefused) as refusal:
        compile_rule_pattern(source)
    assert refusal.value.code == code


def test_stored_rules_the_engine_refuses_are_skipped_and_reported():
    rules = [
        Rule(id="rule:1", kind="regex", pattern=r"(promo)\1", action="reject"),
        Rule(id="rule:2", kind="banned_word", pattern="re:(a+)+$", action="reject"),
        Rule(id="rule:3", kind="regex", pattern=r"\bpromo\d+\b", action="hold"),
    ]
    ruleset = RuleSet(rules)
    assert set(ruleset.refused) == {"rule:1", "rule:2"}
    decision = moderate("promopromo promo42 " + "a" * 40 + "!", ModerationContext(rules=ruleset))
    assert decision.rules_fired == ["rule:3"]


def test_creation_refuses_a_backreference_naming_the_field_and_saying_why(owner_actor):
    with translation.override("en"), pytest.raises(ValidationError) as error:
        services.create_rule(actor=owner_actor, kind="regex", pattern=r"(promo)\1")
    message = " ".join(error.value.message_dict["pattern"])
    assert "Back-references" in message and "backtracks" in message
    with translation.override("fr"), pytest.raises(ValidationError) as error:
        services.create_rule(actor=owner_actor, kind="regex", pattern=r"promo(?!s)")
    assert "Les assertions avant/arrière" in " ".join(error.value.message_dict["pattern"])
    with pytest.raises(ValidationError) as error:
        services.create_rule(actor=owner_actor, kind="banned_word", pattern="re:(a+)+$")
    assert "pattern" in error.value.message_dict
    assert not ModerationRule.objects.exists()


def test_a_stored_refused_rule_is_shown_and_can_be_switched_off(owner_actor, org):
    rule = ModerationRule.objects.create(organisation=org, kind="regex", pattern=r"(x)\1", action="hold")
    with translation.override("en"):
        assert "Back-references" in services.rule_refusal(rule)
    services.update_rule(actor=owner_actor, rule=rule, enabled=False)
    rule.refresh_from_db()
    assert not rule.enabled
    with pytest.raises(ValidationError):
        services.update_rule(actor=owner_actor, rule=rule, note="x", pattern=r"(y)\1")


def test_the_api_refuses_a_lookaround_naming_the_field(org, client):
    _token, plain = create_api_token(
        actor=Actor.palabre(org), name="ops", scopes=[Perm.MODERATION_RULES.value]
    )
    response = client.post(
        "/api/moderation/rules",
        {"kind": "regex", "pattern": r"promo(?=\d)", "action": "hold"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {plain}",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert 400 <= response.status_code < 500
    assert "pattern" in response.json()["fields"]
    assert not ModerationRule.objects.exists()


def test_the_rules_page_shows_a_stored_rule_the_engine_skips(org, owner, client):
    ModerationRule.objects.create(organisation=org, kind="regex", pattern=r"(x)\1", action="hold")
    client.force_login(owner)
    with translation.override("fr"):
        content = client.get(reverse("moderation:rules"), HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "Ignorée\u00a0:" in content and "Les références arrière" in content


def test_an_organisation_rule_with_nested_quantifiers_checks_long_comments_at_once(owner_actor):
    """The reported case: `(a+)+$` is a valid pattern (RE2 runs it in linear time), so it is
    accepted, and checking twelve comments of 35 "a" and a "!" answers (Python's re: hours each)."""
    services.create_rule(actor=owner_actor, kind="regex", pattern="(a+)+$", action="reject", enabled=True)
    for _ in range(12):
        decision = services.check_text(actor=owner_actor, text="a" * 35 + "!")
        assert not any(reason.code == "regex" for reason in decision.reasons)
    decision = services.check_text(actor=owner_actor, text="Bravo pour cet article, aaaaa")
    assert any(reason.code == "regex" for reason in decision.reasons)


def test_an_organisation_holds_a_bounded_number_of_pattern_rules(owner_actor, org, client):
    """Each pattern costs a pass over every message (up to 20,000 characters) and its own RE2
    memory: 300 heavy patterns took 0.65 s of CPU and 100 MB for one long message, so 10,000
    would stall the workers every organisation shares. Words stay unbounded (one lookup each)."""
    ModerationRule.objects.bulk_create(
        ModerationRule(organisation=org, kind="regex", pattern=f"promo{n}", action="hold")
        for n in range(services.MAX_PATTERN_RULES)
    )
    with translation.override("en"), pytest.raises(ValidationError) as error:
        services.create_rule(actor=owner_actor, kind="regex", pattern="promo-de-trop")
    assert str(services.MAX_PATTERN_RULES) in " ".join(error.value.message_dict["kind"])
    word = services.create_rule(actor=owner_actor, kind="suspect_word", pattern="arnaque")
    with pytest.raises(ValidationError) as error:
        services.update_rule(actor=owner_actor, rule=word, kind="regex", pattern="arn[a4]que")
    assert "kind" in error.value.message_dict
    # a pattern already counted can still be rewritten
    first = ModerationRule.objects.filter(organisation=org, kind="regex").first()
    services.update_rule(actor=owner_actor, rule=first, pattern="promo[0-9]+")
    _token, plain = create_api_token(
        actor=Actor.palabre(org), name="ops", scopes=[Perm.MODERATION_RULES.value]
    )
    response = client.post(
        "/api/moderation/rules",
        {"kind": "regex", "pattern": "encore", "action": "hold"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {plain}",
    )
    assert response.status_code == 422 and "kind" in response.json()["fields"]
    assert ModerationRule.objects.filter(organisation=org, kind="regex").count() == services.MAX_PATTERN_RULES
