"""Facebook's and Instagram's contest rules, checked before a contest post goes out."""

from __future__ import annotations

import pytest
from django.utils import translation

from palabre.publishing.guardrails import BLOCK, CONTEST_RULES, WARN, GuardrailContext, check


def _findings(text: str, platform: str, kind: str = "") -> list:
    verdict = check(
        text, GuardrailContext(channel_platform=platform, campaign_kind=kind, run_moderation=False)
    )
    return [f for f in verdict.findings if f.guardrail == CONTEST_RULES]


@pytest.mark.parametrize(
    ("text", "platform", "entry"),
    [
        ("Concours ! Partagez ce post sur votre mur pour participer et gagnez l'Oslo", "facebook", "Partagez ce post sur votre mur pour participer"),
        ("Jeu concours : taguez 3 amis en commentaire pour tenter de gagner !", "instagram", "taguez 3 amis"),
        ("Giveaway! Share on your timeline to enter", "facebook", "Share on your timeline to enter"),
        ("À gagner : identifie deux copines sous ce post", "instagram", "identifie deux copines"),
    ],
)  # fmt: skip
def test_entering_by_sharing_or_tagging_friends_is_blocked_with_its_words(text, platform, entry):
    block, warn = _findings(text, platform)
    assert block.severity == BLOCK and text[block.span[0] : block.span[1]] == entry
    assert warn.severity == WARN  # and no release said either


def test_a_compliant_contest_passes():
    text = (
        "Concours : dites-nous en commentaire votre couleur préférée pour l'Oslo ! "
        "Ce concours n'est ni sponsorisé ni administré par Instagram."
    )
    assert _findings(text, "instagram", "contest") == []


def test_the_release_is_asked_for_in_the_readers_language():
    with translation.override("fr"):
        (warn,) = _findings("Concours : commentez pour gagner l'Oslo", "facebook", "contest")
    assert warn.severity == WARN
    assert "en aucun cas" in warn.explanation and "Facebook" in warn.explanation


@pytest.mark.parametrize(
    ("text", "platform", "kind"),
    [
        ("Concours : partagez pour participer", "bluesky", "contest"),  # other platforms' rules differ
        ("Partagez vos photos de l'Oslo avec vos amis !", "instagram", ""),  # no contest
        ("Nouveau canapé Oslo en vert sapin", "facebook", ""),
    ],
)
def test_other_platforms_and_posts_that_are_no_contest_are_left_alone(text, platform, kind):
    assert _findings(text, platform, kind) == []
