"""The platforms' own rules for contests, checked before a contest post goes out.

Facebook's Pages terms forbid running a promotion through personal timelines and friend connections
("share on your timeline to enter", "tag your friends to enter"), and Facebook and Instagram both ask
every promotion to say it is in no way sponsored, endorsed, administered by or associated with them.
Instagram also forbids encouraging people to tag content inaccurately ("tag three friends"). A post
that breaks the first rule is blocked on those platforms; a missing release is a warning."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _

from palabre.nlp.normalize import fold
from palabre.publishing.guardrails.verdicts import BLOCK, CONTEST_RULES, WARN, Finding, GuardrailContext

PLATFORMS = {"facebook": "Facebook", "instagram": "Instagram"}
CONTEST_KINDS = {"contest", "photo_contest"}
# Matched on the folded text (lower case, no accents), so the spans stay those of the original.
_CONTEST_WORDS = re.compile(
    r"\b(?:concours|jeu concours|a gagner|tirage au sort|giveaway|contest|to win|sweepstakes?)\b"
)
_SHARE_TO_ENTER = re.compile(
    r"\b(?:partage[sz]?|repartage[sz]?|share)\b[^.!?\n]{0,60}?\b(?:pour (?:participer|jouer|gagner|tenter)|"
    r"to (?:enter|win|participate)|et (?:tente[sz]?|gagne[sz]?))"
    r"|\b(?:partage[sz]?|share)\b[^.!?\n]{0,30}?\b(?:sur (?:ton|votre) (?:mur|profil|journal|story)|"
    r"on (?:your|a friend.?s) (?:timeline|wall|story|profile))"
)
_TAG_FRIENDS = re.compile(
    r"\b(?:tague[sz]?|taggue[sz]?|identifie[sz]?|mentionne[sz]?|tag)\b[^.!?\n]{0,25}?"
    r"\b(?:\d+|un|une|deux|trois|quatre|cinq|one|two|three|four|five|tes|vos|your)?\s*(?:ami(?:e)?s?|copains?|copines?|friends?|potes?)\b"
)
_RELEASE = re.compile(
    r"\b(?:ni sponsoris|n.?est (?:ni |pas )?(?:sponsoris|associ|administr|gere)|aucunement (?:associ|sponsoris)|"
    r"in no way|not (?:sponsored|endorsed|administered|associated)|no way sponsored)"
)


def _is_contest(text: str, context: GuardrailContext) -> bool:
    return context.campaign_kind in CONTEST_KINDS or bool(_CONTEST_WORDS.search(text))


def check_contest_rules(text: str, context: GuardrailContext) -> list[Finding]:
    platform = PLATFORMS.get(context.channel_platform)
    folded = fold(text)
    if platform is None or not _is_contest(folded, context):
        return []
    # fold() keeps one character per character of the text here (accents drop, letters stay),
    # except for a few ligatures; a span is only shown when the lengths agree.
    aligned = len(folded) == len(text)
    findings = []
    params = {"platform": platform}
    for pattern in (_SHARE_TO_ENTER, _TAG_FRIENDS):
        match = pattern.search(folded)
        if match is None:
            continue
        span = (match.start(), match.end()) if aligned else None
        findings.append(
            Finding(
                CONTEST_RULES,
                BLOCK,
                _(
                    "%(platform)s does not allow a contest entered by sharing on one's own profile or by "
                    "tagging friends: ask for a comment or an answer to a question instead."
                )
                % params,
                span,
                params,
            )
        )
        break
    if not _RELEASE.search(folded):
        findings.append(
            Finding(
                CONTEST_RULES,
                WARN,
                _(
                    "%(platform)s asks every contest to say that it is in no way sponsored, endorsed, "
                    "administered by or associated with %(platform)s: add it to the post or its rules."
                )
                % params,
                None,
                params,
            )
        )
    return findings
