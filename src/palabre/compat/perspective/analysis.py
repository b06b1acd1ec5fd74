"""A Perspective-compatible comment analyzer (Google's `commentanalyzer` v1alpha1), on Palabre's models.

Attributes, from Palabre's scores (all in [0, 1], type PROBABILITY):

=================  ==============================================================================
TOXICITY           toxicity
SEVERE_TOXICITY    toxicity × max(insult, threat, identity_attack): high only when a toxic comment
                   also insults, threatens or attacks a group, so a friendly swear word stays low
INSULT             insult
PROFANITY          lexicon hits: h = profanity and slur words + ½ per other insult; when h > 0,
                   0.5 + 0.15 × min(h, 3) + 0.15 × toxicity (at most 0.99); else 0.4 × toxicity
                   (rude in clean words)
THREAT             threat
IDENTITY_ATTACK    identity_attack
SEXUALLY_EXPLICIT  sexual
SPAM               spam
=================  ==============================================================================

Perspective's documented experimental names (``TOXICITY_EXPERIMENTAL``, ``INSULT_EXPERIMENTAL``...,
for the six attributes that have one) and versioned names (``TOXICITY@6``) are scored by the same
attribute; the answer uses the name the client asked for.

``comments:suggestscore`` (Coral's feedback when a moderator approves or rejects a comment): the
suggested ``summaryScore.value`` (1: the attribute holds, 0: it does not) becomes a moderator's
decision on the comment (reject, approve; spam, ham for SPAM), found by ``clientToken`` or by its
text, stored then if it was analysed with ``doNotStore``. Like any moderator's decision it changes
later decisions at once and feeds ``palabre train --include-feedback``.

Scores are the shared models' only: an organisation's rules and thresholds decide what happens to a
stored comment (below), never the numbers a client reads.

Languages: French and English, for every attribute. Without ``languages`` the text's language is
detected (with the lexicons' language as a tie-break for very short texts); when it cannot be told,
the answer is LANGUAGE_DETECTION_FAILED, as Perspective documents; another language is
LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE unless ``dropUnsupportedAttributes`` asks to leave them out.

``spanAnnotations``: one span score per sentence, as Perspective does, with ``begin``/``end`` in
UTF-16 code units (what JavaScript's string indexes count).

``doNotStore`` (Perspective's default is false, storing allowed): when false, the comment becomes an
item of the site's channel (kind comment, external id ``perspective:<clientToken>``, or a hash of the
text without one) handed to the site connector (``receive_comment``), so the analysis task moderates it with the organisation's
rules and it shows in the queue and the inbox; a second request with the same token updates it. When
true, nothing is written: no item, no decision, no audit entry, no log line with the text.
"""

from __future__ import annotations

import hashlib
import logging
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from palabre.compat.actors import site_actor
from palabre.compat.perspective.parsing import (
    EXTERNAL_ID_PREFIX,
    PROBABILITY,
    PROFANE_LABELS,
    SUPPORTED_LANGUAGES,
    AnalyzeCommentRequest,
    PerspectiveError,
    SuggestCommentScoreRequest,
    analysis_error,
    resolve_attribute,
)
from palabre.connectors.site import receive_comment
from palabre.conversations.models import Item
from palabre.conversations.services import IncomingItem
from palabre.moderation import engine, services
from palabre.moderation.models import ItemModeration, ModerationDecision, ModerationSite
from palabre.nlp.classifiers import load_models
from palabre.nlp.language import detect_language

logger = logging.getLogger(__name__)


def perspective_scores(scores: dict[str, float], spans: list[dict[str, Any]]) -> dict[str, float]:
    """Perspective's attributes from Palabre's label scores and explanation spans (see the module doc)."""

    def score(label: str) -> float:
        return float(scores.get(label, 0.0))

    toxicity = score("toxicity")
    swearing = {(s["start"], s["end"]) for s in spans if s.get("label") in PROFANE_LABELS}
    insults = {(s["start"], s["end"]) for s in spans if s.get("label") == "insult"} - swearing
    # An insult is often, not always, a swear word ("connard" is, "incompetent" is not): half a hit.
    hits = len(swearing) + 0.5 * len(insults)
    profanity = min(0.99, 0.5 + 0.15 * min(hits, 3) + 0.15 * toxicity) if hits else 0.4 * toxicity
    values = {
        "TOXICITY": toxicity,
        "SEVERE_TOXICITY": toxicity * max(score("insult"), score("threat"), score("identity_attack")),
        "INSULT": score("insult"),
        "PROFANITY": profanity,
        "THREAT": score("threat"),
        "IDENTITY_ATTACK": score("identity_attack"),
        "SEXUALLY_EXPLICIT": score("sexual"),
        "SPAM": score("spam"),
    }
    return {name: round(min(max(value, 0.0), 1.0), 4) for name, value in values.items()}


def utf16_offsets(text: str) -> list[int]:
    """UTF-16 offset of each code-point offset 0..len(text): characters past U+FFFF count two."""
    offsets = [0] * (len(text) + 1)
    for index, char in enumerate(text):
        offsets[index + 1] = offsets[index] + (2 if ord(char) > 0xFFFF else 1)
    return offsets


_SENTENCE_BREAK = re.compile(r"(?<=[.!?…])\s+|\n+")


def sentences(text: str) -> list[tuple[int, int]]:
    """[start, end) code-point ranges of the sentences, without the spaces between them."""
    ranges = []
    start = 0
    for match in [*_SENTENCE_BREAK.finditer(text), None]:
        end = match.start() if match else len(text)
        chunk = text[start:end]
        stripped = chunk.strip()
        if stripped:
            begin = start + (len(chunk) - len(chunk.lstrip()))
            ranges.append((begin, begin + len(stripped)))
        if match:
            start = match.end()
    return ranges


# --- languages ----------------------------------------------------------------------------------


def primary_language(code: str) -> str:
    """ "fr-FR", "fr_CA", "FR" -> "fr" (Perspective takes ISO 639-1 and BCP-47 codes)."""
    return re.split(r"[-_]", code.strip(), maxsplit=1)[0].lower()


def detect(text: str) -> str:
    """The text's language, or "und"; a very short text falls back on its lexicon hits' language."""
    language = detect_language(text)
    if language != "und":
        return language
    found = {
        span.source.removeprefix("ldnoobw_")
        for span in load_models().explain(text)
        if span.category != "target"
    }
    found &= set(SUPPORTED_LANGUAGES)
    return found.pop() if len(found) == 1 else "und"


def scoring_languages(text: str, languages: list[str]) -> tuple[str, list[str], list[str]]:
    """(detected, the languages answered, their primary codes); LANGUAGE_DETECTION_FAILED when
    none is given and none can be told."""
    detected = detect(text)
    if languages:
        return detected, list(languages), [primary_language(lang) for lang in languages]
    if detected == "und":
        raise analysis_error("LANGUAGE_DETECTION_FAILED", "Unable to detect language")
    return detected, [detected], [detected]


def language_not_supported_error(
    attribute: str, languages: list[str], *, requested: bool
) -> PerspectiveError:
    """Perspective's answer for a language an attribute does not score (Palabre scores fr and en)."""
    about = {"requestedLanguages": languages} if requested else {"detectedLanguages": languages}
    return analysis_error(
        "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE",
        f"Attribute {attribute} does not support request languages: {', '.join(languages)}",
        languageNotSupportedByAttributeError={**about, "attribute": attribute},
    )


# --- the analysis -------------------------------------------------------------------------------


def analyze_comment(request: AnalyzeCommentRequest, *, site: ModerationSite) -> dict[str, Any]:
    """Scores the comment; stores it unless doNotStore. Raises PerspectiveError for language errors."""
    detected, effective, codes = scoring_languages(request.text, request.languages)
    attributes = list(request.attributes)
    if any(code not in SUPPORTED_LANGUAGES for code in codes):
        if not request.drop_unsupported_attributes:
            raise language_not_supported_error(
                attributes[0].name, effective, requested=bool(request.languages)
            )
        attributes = []
    # One language: its lexicon explains the text; several: both do.
    language = codes[0] if len(set(codes)) == 1 and codes[0] in SUPPORTED_LANGUAGES else None

    answer: dict[str, Any] = {}
    if attributes:
        decision = engine.moderate(request.text, engine.ModerationContext(lang=language))
        summary = perspective_scores(decision.scores, decision.spans)
        per_span = _span_scores(request.text, language, summary) if request.span_annotations else []
        scores: dict[str, Any] = {}
        for attribute in attributes:
            value = summary[attribute.model]
            if attribute.score_threshold is not None and value < attribute.score_threshold:
                continue
            entry: dict[str, Any] = {}
            if per_span:
                entry["spanScores"] = [
                    {
                        "begin": begin,
                        "end": end,
                        "score": {"value": values[attribute.model], "type": PROBABILITY},
                    }
                    for begin, end, values in per_span
                ]
            entry["summaryScore"] = {"value": value, "type": PROBABILITY}
            scores[attribute.name] = entry
        if scores:
            answer["attributeScores"] = scores
    answer["languages"] = effective
    if detected != "und":
        answer["detectedLanguages"] = [detected]
    if request.client_token:
        answer["clientToken"] = request.client_token
    if not request.do_not_store:
        record_comment(request, site=site, language=language or "")
    return answer


def _span_scores(
    text: str, language: str | None, summary: dict[str, float]
) -> list[tuple[int, int, dict[str, float]]]:
    ranges = sentences(text)
    units = utf16_offsets(text)
    if len(ranges) <= 1:
        ranges = ranges or [(0, len(text))]
        return [(units[ranges[0][0]], units[ranges[0][1]], summary)]
    parts = [text[start:end] for start, end in ranges]
    decisions = engine.moderate_many(parts, [engine.ModerationContext(lang=language) for _ in parts])
    return [
        (units[start], units[end], perspective_scores(decision.scores, decision.spans))
        for (start, end), decision in zip(ranges, decisions, strict=True)
    ]


def external_id_for(request: AnalyzeCommentRequest) -> str:
    """The client's token names the comment (re-analysing it updates the item); else its text does."""
    token = request.client_token.strip()
    if token and len(token) <= 250:
        return EXTERNAL_ID_PREFIX + token
    source = token or request.text
    digest = hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()[:40]
    return f"{EXTERNAL_ID_PREFIX}sha256:{digest}"


def _incoming(request: AnalyzeCommentRequest, language: str) -> IncomingItem:
    # Lone surrogates (allowed by JSON escapes) cannot be stored: replaced, one character each.
    text = request.text.encode("utf-8", "replace").decode("utf-8").replace("\x00", "")
    raw = {
        "via": "perspective",
        "clientToken": request.client_token,
        "sessionId": request.session_id,
        "communityId": request.community_id,
    }
    return IncomingItem(
        external_id=external_id_for(request),
        kind="comment",
        text=text,
        created_at=timezone.now(),
        language=language,
        raw={k: v for k, v in raw.items() if v},
    )


def record_comment(request: AnalyzeCommentRequest, *, site: ModerationSite, language: str) -> None:
    """The analysed comment as an item of the site's channel; the analysis task moderates it."""
    try:
        receive_comment(site.channel, _incoming(request, language))
    except ValidationError as error:
        # Storing is a courtesy of this API: the scores are answered anyway. No text in the log.
        logger.warning("Perspective analysis of site %s not stored: %s", site.pk, sorted(error.message_dict))


def correction_for(scores: dict[str, float]) -> str:
    """The moderator's action a suggestion stands for: 1 means the attribute holds, 0 that it does not
    (Coral sends its model's attribute, 0 for a comment approved, 1 for one rejected)."""
    by_model: dict[str, float] = {}
    for name, value in scores.items():
        model = resolve_attribute(name) or name
        by_model[model] = max(value, by_model.get(model, 0.0))
    spam = by_model.pop("SPAM", None)
    if spam is not None and spam >= 0.5:
        return "spam"
    if any(value >= 0.5 for value in by_model.values()):
        return "reject"
    if spam is not None and not by_model:
        return "ham"
    return "approve"


def suggest_score(request: SuggestCommentScoreRequest, *, site: ModerationSite) -> dict[str, Any]:
    """Records the suggestion as a moderator's decision on the comment (stored now if it was analysed
    with doNotStore), which `palabre train --include-feedback` learns from. Raises PerspectiveError."""
    detected, effective, codes = scoring_languages(request.text, request.languages)
    if any(code not in SUPPORTED_LANGUAGES for code in codes):
        raise language_not_supported_error(
            next(iter(request.scores)), effective, requested=bool(request.languages)
        )
    language = codes[0] if len(set(codes)) == 1 else ""
    action = correction_for(request.scores)
    with transaction.atomic():
        item = _suggested_item(request, site=site, language=language)
        state = ItemModeration.objects.select_for_update().filter(item=item).first()
        last = (
            ModerationDecision.objects.filter(pk=state.last_decision_id)
            .values_list("source", "action")
            .first()
            if state is not None
            else None
        )
        if last != (ModerationDecision.Source.MODERATOR, action):  # the same suggestion twice: once
            services.review_item(
                actor=site_actor(site, protocol="perspective"),
                item_id=item.pk,
                action=action,
                note=f"suggestscore from {site.name}",
            )
    answer: dict[str, Any] = {}
    if detected != "und":
        answer["detectedLanguages"] = [detected]
    if request.languages:
        answer["requestedLanguages"] = list(request.languages)
    if request.client_token:
        answer["clientToken"] = request.client_token
    return answer


def _suggested_item(request: SuggestCommentScoreRequest, *, site: ModerationSite, language: str) -> Item:
    """The comment the suggestion is about: by its token, else by its text (an analysis without a
    token), else stored now."""
    by_token = external_id_for(_as_analyze(request))
    by_text = external_id_for(_as_analyze(request, token=""))
    for external_id in dict.fromkeys((by_token, by_text)):
        item = Item.objects.filter(channel=site.channel, external_id=external_id).first()
        if item is not None:
            return item
    item, _created = receive_comment(site.channel, _incoming(_as_analyze(request), language))
    return item


def _as_analyze(request: SuggestCommentScoreRequest, *, token: str | None = None) -> AnalyzeCommentRequest:
    return AnalyzeCommentRequest(
        text=request.text,
        attributes=[],
        client_token=request.client_token if token is None else token,
        session_id=request.session_id,
        community_id=request.community_id,
    )
