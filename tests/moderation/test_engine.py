"""The pure decision engine: rules, comment-spam signals, thresholds, trust, bad input."""

from __future__ import annotations

import pytest

from palabre.moderation import engine
from palabre.moderation.engine import Author, ModerationContext, Rule, RuleSet, Thresholds, moderate


def ctx(*rules: Rule, author: Author | None = None, **thresholds) -> ModerationContext:
    return ModerationContext(
        rules=RuleSet(list(rules)), author=author or Author(), thresholds=Thresholds(**thresholds)
    )


def codes(decision) -> set[str]:
    return {reason.code for reason in decision.reasons}


def test_a_plain_question_is_published():
    decision = moderate("Bonjour, le canapé Oslo existe-t-il en vert ? Merci !", ctx())
    assert decision.action == "publish"
    assert set(decision.scores) == set(engine.DEFAULT_HOLD)
    assert all(0.0 <= s <= 1.0 for s in decision.scores.values())
    assert decision.model_version


def test_banned_word_rejects_even_when_obfuscated_and_highlights_the_original():
    rule = Rule(id="rule:1", kind="banned_word", pattern="arnaque", action="reject")
    text = "Cette boutique c'est une 4rn4qu3 totale"
    decision = moderate(text, ctx(rule))
    assert decision.action == "reject"
    assert "rule:1" in decision.rules_fired
    span = next(s for s in decision.spans if s["source"] == "rule:1")
    assert text[span["start"] : span["end"]] == "4rn4qu3"


def test_suspect_word_holds_and_allowed_word_wins():
    suspect = Rule(id="rule:2", kind="suspect_word", pattern="remboursement", action="hold")
    assert moderate("Je veux un remboursement", ctx(suspect)).action == "hold"
    banned = Rule(id="rule:3", kind="banned_word", pattern="nova", action="reject")
    allowed = Rule(id="rule:4", kind="allowed_word", pattern="lampe nova", action="hold")
    assert moderate("Ma lampe Nova chauffe", ctx(banned, allowed)).action == "publish"
    assert moderate("Nova nova nova", ctx(banned, allowed)).action == "reject"


def test_regex_rule_uses_its_action():
    rule = Rule(id="rule:5", kind="regex", pattern=r"\b0[67](?:[ .]?\d\d){4}\b", action="hold")
    decision = moderate("Appelez-moi au 06 12 34 56 78 pour un devis", ctx(rule))
    assert decision.action in {"hold", "reject"}
    assert "rule:5" in decision.rules_fired


def test_link_rules():
    text = "Voir https://promo.example.com/a et http://b.example.org et www.c.example.net"
    assert "too_many_links" in codes(moderate(text, ctx(max_links=2)))
    blocked = Rule(id="rule:6", kind="blocked_domain", pattern="badshop.fr")
    assert moderate("Allez sur https://www.badshop.fr/promo", ctx(blocked)).action == "reject"
    allowed = Rule(id="rule:7", kind="allowed_domain", pattern="maisonlumiere.fr")
    many_own = "https://maisonlumiere.fr/a https://maisonlumiere.fr/b https://maisonlumiere.fr/c"
    assert "too_many_links" not in codes(moderate(many_own, ctx(allowed, max_links=2)))


@pytest.mark.parametrize(
    "name", ["Formation ecommerce", "piscine", "Mon poele a pellet.com", "SEO Agency Paris"]
)
def test_commenter_names_that_are_keywords_or_shops_are_held(name):
    decision = moderate("Merci pour ce partage, très utile.", ctx(author=Author(name=name)))
    assert decision.action in {"hold", "reject"}
    assert codes(decision) & {"commercial_name", "url_in_name"}


def test_a_persons_name_is_not_a_shop():
    decision = moderate("Merci pour ce partage, très utile.", ctx(author=Author(name="Camille Durand")))
    assert not codes(decision) & {"commercial_name", "url_in_name"}


def test_generic_compliment_followed_by_a_link_is_comment_spam():
    assert "compliment_with_link" in codes(
        moderate("Great post, thanks for sharing! https://cheap-loans.example.biz", ctx())
    )
    assert "compliment_with_link" in codes(
        moderate("Super article, très intéressant www.monsite-pas-cher.fr", ctx())
    )
    signed = moderate(
        "Very informative article, keep it up",
        ctx(author=Author(name="Jo", url="https://casino-bonus.example.xyz")),
    )
    assert "compliment_with_link" in codes(signed)
    assert "compliment_with_link" not in codes(moderate("Super article, merci !", ctx()))


def test_author_rules():
    spammer = Rule(id="rule:8", kind="known_spammer", pattern="spam@bulk.example")
    assert moderate("Bonjour", ctx(spammer, author=Author(email="SPAM@bulk.example"))).action == "reject"
    new = moderate("Bonjour", ctx(author=Author(name="Léa", approved=0), first_time_hold_until=1))
    assert new.action == "hold" and "first_time_author" in codes(new)
    known = moderate("Bonjour", ctx(author=Author(name="Léa", approved=1), first_time_hold_until=1))
    assert known.action == "publish"
    flood = moderate("Bonjour", ctx(author=Author(name="Léa", recent_count=5), rate_limit_per_hour=5))
    assert "rate_limited" in codes(flood)


def test_trusted_authors_get_more_room_and_distrusted_less():
    text = "T'es vraiment nul, ton avis ne vaut rien"
    plain = moderate(text, ctx())
    toxic = max(plain.scores["toxicity"], plain.scores["insult"])
    hold_at = toxic - 0.05
    trusted = moderate(text, ctx(author=Author(approved=10), hold={k: hold_at for k in engine.DEFAULT_HOLD}))
    distrusted = moderate(
        text, ctx(author=Author(rejected=5), hold={k: toxic + 0.05 for k in engine.DEFAULT_HOLD})
    )
    assert trusted.action == "publish"
    assert distrusted.action == "hold"


def test_known_spam_fingerprint_rejects_copies():
    marked = "Gagnez 500€ par jour depuis chez vous, écrivez-moi sur WhatsApp"
    context = ModerationContext(spam_fingerprints=frozenset({engine.fingerprint(marked)}))
    copy = "GAGNEZ 900€ par jour depuis chez vous !!! écrivez moi sur whatsapp"
    assert "known_spam" in codes(moderate(copy, context))


def test_obvious_spam_and_insults_are_not_published():
    assert (
        moderate("WIN a FREE iPhone!!! Click here http://bit.ly/xyz now, limited offer", ctx()).action
        != "publish"
    )
    assert (
        moderate(
            "Espèce de connard, va te faire foutre",
            ctx(),
        ).action
        != "publish"
    )
    assert moderate("Je vais te retrouver et te tuer", ctx()).action != "publish"


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "a" * 100_000,
        "\x00\x01\x02 bonjour \x7f",
        "😀😀😀🔥🔥",
        "Привет мир hello مرحبا 你好",
        "\ud800 lone surrogate",
        "c\u200bo\u200bn\u200bn\u200ba\u200br\u200bd",
    ],
)
def test_bad_input_gets_a_sound_decision_never_a_crash(text):
    decision = moderate(text, ctx())
    assert decision.action in {"publish", "hold", "reject"}
    for span in decision.spans:
        assert 0 <= span["start"] <= span["end"] <= len(text)
