"""Guardrails on what a post says: promotion and the promotion ratio, sensitive and trending topics, copies of competitors' and own posts, hashtag and emoji stuffing, #FF filler."""

from __future__ import annotations

import re
from collections.abc import Sequence

from django.utils.translation import gettext as _

from palabre.nlp import similarity
from palabre.nlp.normalize import fold
from palabre.publishing.guardrails.verdicts import (
    BLOCK,
    COMPETITOR_BLOCK,
    COMPETITOR_COPY,
    COMPETITOR_WARN,
    EMOJI_SHARE,
    EMOJI_STUFFING,
    FF_FILLER,
    HASHTAG_STUFFING,
    HASHTAG_WORD_SHARE,
    MAX_EMOJI,
    MAX_HASHTAGS,
    OWN_DUPLICATE,
    OWN_WARN,
    PROMOTION_RATIO,
    PROMOTIONAL_CAMPAIGNS,
    SENSITIVE,
    TRENDING,
    TRENDING_NEGATIVE_SHARE,
    WARN,
    Finding,
    GuardrailContext,
)
from palabre.publishing.guardrails.words import (
    _EMOJI,
    _FF,
    _HASHTAG,
    _URL,
    _WORD,
    _organisation_lexicon,
    _span_of,
    _Token,
    sensitive_lexicon,
    tokenize,
)

_PROMO = re.compile(
    r"(?i)(?<![\w])(?:promo(?:tion)?s?|soldes?|offres?\s+(?:spéciale?s?|exclusive?s?|limitée?s?)"
    r"|code\s*(?:promo|de\s+réduction)?\s*[:=]?\s*[A-Z0-9]{3,}|codes?\s+promo|achetez|commandez|profitez"
    r"|réductions?|remises?|rabais|prix\s+(?:cassés?|barrés?|mini)|livraison\s+(?:offerte|gratuite)"
    r"|bon\s+plan|vente\s+privée|black\s*friday|cyber\s*monday|buy\s+now|shop\s+now|order\s+now"
    r"|discounts?|sale|deals?|coupon|free\s+shipping|limited\s+offer|% off|sur\s+tout\s+le\s+site)(?![\w])"
    r"|-\s?\d{1,2}\s?%|\d{1,2}\s?%\s+(?:de\s+réduction|off|sur)"
)
_SHOP_LINK = re.compile(
    r"(?i)(?:https?://|www\.)\S*(?:/shop|/boutique|/produit|/product|/promo|/soldes|/cart)"
)


def promotional_cues(text: str) -> list[tuple[int, int]]:
    cues = [(m.start(), m.end()) for m in _PROMO.finditer(text)]
    cues += [(m.start(), m.end()) for m in _SHOP_LINK.finditer(text)]
    return sorted(cues)


def is_promotional(text: str, campaign_kind: str = "") -> bool:
    """A post sells when its campaign is an offer or a contest, or when its words do."""
    return campaign_kind in PROMOTIONAL_CAMPAIGNS or bool(promotional_cues(text))


def _promotional(text: str, context: GuardrailContext) -> bool:
    if context.promotional is not None:
        return context.promotional
    return is_promotional(text, context.campaign_kind)


# --- the checks -------------------------------------------------------------------------------

_CATEGORY_LABELS = {
    "war": lambda: _("war"),
    "terrorism": lambda: _("terrorism"),
    "violence": lambda: _("violence"),
    "disaster": lambda: _("disasters"),
    "accident": lambda: _("accidents"),
    "death": lambda: _("death and mourning"),
    "election": lambda: _("elections and political crises"),
    "unrest": lambda: _("riots and unrest"),
    "epidemic": lambda: _("epidemics"),
    "organisation": lambda: _("marked sensitive by your organisation"),
}


def category_label(category: str) -> str:
    label = _CATEGORY_LABELS.get(category)
    return label() if label else category


def check_sensitive(
    text: str, context: GuardrailContext, tokens: list[_Token] | None = None
) -> list[Finding]:
    tokens = tokens if tokens is not None else tokenize(text)
    promotional = _promotional(text, context)
    lexicons = [sensitive_lexicon()]
    if context.organisation_sensitive_terms:
        lexicons.append(_organisation_lexicon(tuple(context.organisation_sensitive_terms), "organisation"))
    findings: list[Finding] = []
    seen: set[tuple[int, int]] = set()
    for lexicon in lexicons:
        for term, first, last in lexicon.match(tokens):
            span = _span_of(tokens, first, last)
            if span in seen:
                continue
            piece = tokens[first:last]
            # In a glued hashtag with unknown pieces, a short word is more likely part of another
            # word (#warriors) than the topic.
            if any(t.glued_unknown for t in piece) and term.letters < 5:
                continue
            seen.add(span)
            words = text[span[0] : span[1]]
            hashtag = words.startswith("#")
            params = {"words": words, "category": term.category, "term": term.term, "hashtag": hashtag}
            topic = category_label(term.category)
            if promotional:
                explanation = _(
                    "“%(words)s” touches a sensitive topic (%(topic)s). A promotion next to it reads as "
                    "selling on a tragedy or a crisis, the classic bad buzz: remove it, or keep the "
                    "promotion for another day."
                ) % {"words": words, "topic": topic}
                severity = BLOCK
            else:
                explanation = _(
                    "“%(words)s” touches a sensitive topic (%(topic)s). Check that the brand has "
                    "something to say on it and that the tone fits; never use it for reach."
                ) % {"words": words, "topic": topic}
                severity = WARN
            findings.append(Finding(SENSITIVE, severity, explanation, span, params))
    return findings


def check_trending(text: str, context: GuardrailContext, tokens: list[_Token] | None = None) -> list[Finding]:
    tragic = [t for t in context.trending if t.term.strip() and t.negative_share >= TRENDING_NEGATIVE_SHARE]
    if not tragic:
        return []
    tokens = tokens if tokens is not None else tokenize(text)
    lexicon = _organisation_lexicon(tuple(t.term for t in tragic), "trending")
    shares = {fold(t.term).strip(): t.negative_share for t in tragic}
    promotional = _promotional(text, context)
    findings = []
    seen: set[tuple[int, int]] = set()
    for term, first, last in lexicon.match(tokens):
        span = _span_of(tokens, first, last)
        if span in seen:
            continue
        seen.add(span)
        words = text[span[0] : span[1]]
        share = shares.get(fold(term.term).strip(), 0.0)
        params = {"words": words, "term": term.term, "negative_share": round(share, 2)}
        values = {"words": words, "share": round(share * 100)}
        if promotional:
            explanation = (
                _(
                    "“%(words)s” is trending right now and %(share)s%% of what is said about it is "
                    "negative. Riding it with a promotion looks opportunistic: remove it."
                )
                % values
            )
            severity = BLOCK
        else:
            explanation = (
                _(
                    "“%(words)s” is trending right now and %(share)s%% of what is said about it is "
                    "negative. Read the conversation before joining it."
                )
                % values
            )
            severity = WARN
        findings.append(Finding(TRENDING, severity, explanation, span, params))
    return findings


def check_promotion_ratio(text: str, context: GuardrailContext) -> list[Finding]:
    if not _promotional(text, context):
        return []
    window = max(context.promotion_window, 1)
    recent = list(context.recent_posts)[: window - 1]
    if len(recent) < 3:
        return []  # too few posts to speak of a stream
    promotional = 1 + sum(1 for post in recent if post.promotional)
    total = 1 + len(recent)
    share = promotional / total
    if share <= context.promotion_share:
        return []
    values = {"count": promotional, "total": total, "share": round(share * 100)}
    explanation = (
        _(
            "With this post, %(count)s of the channel's last %(total)s posts would promote (%(share)s%%). "
            "A channel that only sells stops being read: alternate with a question, a behind-the-scenes "
            "story or an answer to the community."
        )
        % values
    )
    return [Finding(PROMOTION_RATIO, WARN, explanation, None, values)]


def _similarity_texts(text: str) -> str:
    return _URL.sub(" ", text).lower()


def similarities(text: str, others: Sequence[str]) -> list[float]:
    """Cosine similarity of `text` with each of `others` (TF-IDF on character n-grams), links left out."""
    return similarity.similarities(_similarity_texts(text), [_similarity_texts(o) for o in others])


def _excerpt(text: str, length: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1] + "…"


def check_similarity(text: str, context: GuardrailContext) -> list[Finding]:
    findings = []
    if len(text.strip()) < 20:
        return findings  # "Merci !" resembles every other "Merci !"
    competitors = list(context.competitor_texts)
    if competitors:
        scores = similarities(text, competitors)
        best = max(range(len(scores)), key=scores.__getitem__)
        score = scores[best]
        if score >= COMPETITOR_WARN:
            values = {"score": round(score * 100), "excerpt": _excerpt(competitors[best])}
            if score >= COMPETITOR_BLOCK:
                explanation = (
                    _(
                        "This post is %(score)s%% similar to a competitor's recent post (“%(excerpt)s”). "
                        "A copy is noticed and mocked: write it in the brand's own words."
                    )
                    % values
                )
                findings.append(Finding(COMPETITOR_COPY, BLOCK, explanation, None, values))
            else:
                explanation = (
                    _(
                        "This post is close to a competitor's recent post (%(score)s%%, “%(excerpt)s”). "
                        "Make it more clearly the brand's own."
                    )
                    % values
                )
                findings.append(Finding(COMPETITOR_COPY, WARN, explanation, None, values))
    own = [p.text for p in context.recent_posts]
    if own:
        scores = similarities(text, own)
        best = max(range(len(scores)), key=scores.__getitem__)
        if scores[best] >= OWN_WARN:
            values = {"score": round(scores[best] * 100), "excerpt": _excerpt(own[best])}
            explanation = (
                _(
                    "This post repeats one the channel published recently (%(score)s%% similar: "
                    "“%(excerpt)s”). Followers notice copy-paste: say something new or change the angle."
                )
                % values
            )
            findings.append(Finding(OWN_DUPLICATE, WARN, explanation, None, values))
    return findings


def check_stuffing(text: str, context: GuardrailContext) -> list[Finding]:
    findings = []
    tags = list(_HASHTAG.finditer(text))
    words = _WORD.findall(_HASHTAG.sub(" ", _URL.sub(" ", text)))
    if tags and (
        len(tags) > MAX_HASHTAGS
        or (len(tags) >= 3 and len(tags) / (len(tags) + len(words)) > HASHTAG_WORD_SHARE)
    ):
        values = {"count": len(tags), "most": MAX_HASHTAGS}
        explanation = (
            _(
                "%(count)s hashtags: a post stuffed with hashtags reads as spam and reaches fewer people. "
                "Keep the one or two that people really follow (at most %(most)s)."
            )
            % values
        )
        findings.append(
            Finding(HASHTAG_STUFFING, WARN, explanation, (tags[0].start(), tags[-1].end()), values)
        )
    emoji = list(_EMOJI.finditer(text))
    if emoji and (
        len(emoji) > MAX_EMOJI or (len(emoji) >= 4 and len(emoji) / (len(emoji) + len(words)) > EMOJI_SHARE)
    ):
        values = {"count": len(emoji)}
        explanation = (
            _(
                "%(count)s emoji: a string of smileys reads as filler, not as a person talking. "
                "Keep one or two that add meaning."
            )
            % values
        )
        findings.append(
            Finding(EMOJI_STUFFING, WARN, explanation, (emoji[0].start(), emoji[-1].end()), values)
        )
    for match in _FF.finditer(text):
        explanation = _(
            "%(tag)s lists of accounts are the auto-generated filler of the 2010s. If someone deserves "
            "a mention, say why in a sentence of your own."
        ) % {"tag": match.group(0)}
        findings.append(
            Finding(FF_FILLER, WARN, explanation, (match.start(), match.end()), {"tag": match.group(0)})
        )
        break
    return findings


# Capitalised words that are not shouting.
