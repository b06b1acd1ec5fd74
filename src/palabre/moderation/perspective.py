"""A Perspective-compatible comment analyzer (Google's `commentanalyzer` v1alpha1), on Palabre's models.

Clients written for Perspective (Coral, forum plugins, googleapiclient) post the same request to
``/v1alpha1/comments:analyze?key=...``, with a moderation site's API key, and read the same answer.
The request and answer follow Perspective's documentation and discovery document; errors come in
Google's shape (``{"error": {"code", "message", "status", "details"}}``) with Perspective's
``errorType`` values, so a client's error handling keeps working.

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
text without one) through ``ingest_item``, so the analysis task moderates it with the organisation's
rules and it shows in the queue and the inbox; a second request with the same token updates it. When
true, nothing is written: no item, no decision, no audit entry, no log line with the text.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from palabre.conversations.models import Item
from palabre.conversations.services import IncomingItem, ingest_item
from palabre.moderation import engine, services
from palabre.moderation.models import ItemModeration, ModerationDecision, ModerationSite
from palabre.nlp.classifiers import load_models
from palabre.nlp.language import detect_language
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor

logger = logging.getLogger(__name__)

API_VERSION = "v1alpha1"
ATTRIBUTES = (
    "TOXICITY",
    "SEVERE_TOXICITY",
    "INSULT",
    "PROFANITY",
    "THREAT",
    "IDENTITY_ATTACK",
    "SEXUALLY_EXPLICIT",
    "SPAM",
)
# Perspective's documented experimental names of the same attributes: answered with the same scores.
EXPERIMENTAL_ATTRIBUTES = {
    f"{name}_EXPERIMENTAL": name
    for name in ("TOXICITY", "SEVERE_TOXICITY", "IDENTITY_ATTACK", "INSULT", "PROFANITY", "THREAT")
}
# "TOXICITY@6": a model version pinned by the client; Palabre has one version of each attribute.
_VERSIONED = re.compile(r"^(?P<name>[A-Z_]+)@\d+$")
SUPPORTED_LANGUAGES = ("fr", "en")
# Perspective's limit: "The maximum text size per request is 20 KB", counted in UTF-8 bytes.
MAX_COMMENT_BYTES = 20 * 1024
PROBABILITY = "PROBABILITY"
SCORE_TYPES = ("SCORE_TYPE_UNSPECIFIED", "PROBABILITY", "STD_DEV_SCORE", "PERCENTILE", "RAW")
TEXT_TYPES = ("TEXT_TYPE_UNSPECIFIED", "PLAIN_TEXT", "HTML")
PROFANE_LABELS = {"profanity", "slur"}
EXTERNAL_ID_PREFIX = "perspective:"

_ERROR_DETAIL_TYPE = "type.googleapis.com/google.commentanalyzer.v1alpha1.Error"
_BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest"
_ERROR_INFO_TYPE = "type.googleapis.com/google.rpc.ErrorInfo"
_MESSAGE_TYPE = "type.googleapis.com/google.commentanalyzer.v1alpha1.{}"


# --- errors -------------------------------------------------------------------------------------


class PerspectiveError(Exception):
    """An answer in Google's error shape: {"error": {"code", "message", "status", "details"}}."""

    def __init__(
        self,
        message: str,
        *,
        code: int = 400,
        status: str = "INVALID_ARGUMENT",
        details: list[dict[str, Any]] | None = None,
    ):
        super().__init__(message)
        self.code, self.message, self.status, self.details = code, message, status, details or []

    def as_dict(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = self.details
        return {"error": error}


def analysis_error(error_type: str, message: str, **extra: Any) -> PerspectiveError:
    """A 400 carrying Perspective's own error detail (errorType COMMENT_EMPTY, ...)."""
    detail = {"@type": _ERROR_DETAIL_TYPE, "errorType": error_type, **extra}
    return PerspectiveError(message, details=[detail])


def payload_error(message: str, field_path: str = "") -> PerspectiveError:
    """A 400 for a body that does not parse into the request message, as Google's front end says it."""
    violation = {"field": field_path, "description": message} if field_path else {"description": message}
    return PerspectiveError(message, details=[{"@type": _BAD_REQUEST_TYPE, "fieldViolations": [violation]}])


def missing_key_error() -> PerspectiveError:
    return PerspectiveError("The request is missing a valid API key.", code=403, status="PERMISSION_DENIED")


def invalid_key_error() -> PerspectiveError:
    return PerspectiveError(
        "API key not valid. Please pass a valid API key.",
        details=[
            {
                "@type": _ERROR_INFO_TYPE,
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "commentanalyzer.googleapis.com"},
            }
        ],
    )


def body_too_large_error(limit: int) -> PerspectiveError:
    return PerspectiveError(f"Request payload size exceeds the limit: {limit} bytes.", code=413)


# --- the request --------------------------------------------------------------------------------


@dataclass
class AttributeRequest:
    name: str  # as the client asked for it, and as the answer names it
    score_threshold: float | None = None
    model: str = ""  # the attribute of ATTRIBUTES that scores it

    def __post_init__(self) -> None:
        self.model = self.model or resolve_attribute(self.name) or self.name


def resolve_attribute(name: str) -> str | None:
    """The attribute scoring `name`: itself, an experimental name's, a versioned name's; else None."""
    versioned = _VERSIONED.match(name)
    base = versioned["name"] if versioned else name
    if base in ATTRIBUTES:
        return base
    return EXPERIMENTAL_ATTRIBUTES.get(base)


@dataclass
class AnalyzeCommentRequest:
    text: str
    attributes: list[AttributeRequest]
    languages: list[str] = field(default_factory=list)
    do_not_store: bool = False
    span_annotations: bool = False
    drop_unsupported_attributes: bool = False
    client_token: str = ""
    session_id: str = ""
    community_id: str = ""


# Proto field names, which Google's JSON parser accepts as well as the lowerCamel ones.
_REQUEST_FIELDS = {
    "comment": "comment",
    "context": "context",
    "requested_attributes": "requestedAttributes",
    "languages": "languages",
    "do_not_store": "doNotStore",
    "client_token": "clientToken",
    "session_id": "sessionId",
    "community_id": "communityId",
    "span_annotations": "spanAnnotations",
    "drop_unsupported_attributes": "dropUnsupportedAttributes",
}
_TEXT_ENTRY_FIELDS = {"text": "text", "type": "type"}
_CONTEXT_FIELDS = {"entries": "entries", "article_and_parent_comment": "articleAndParentComment"}
_ARTICLE_FIELDS = {"article": "article", "parent_comment": "parentComment"}
_ATTRIBUTE_FIELDS = {"score_type": "scoreType", "score_threshold": "scoreThreshold"}


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)[:200]


def _message(value: Any, path: str, type_name: str, names: dict[str, str]) -> dict[str, Any]:
    """A JSON object read as a proto message: snake_case or lowerCamel names, unknown names refused."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise payload_error(
            f"Invalid value at '{path}' ({_MESSAGE_TYPE.format(type_name)}), {_show(value)}", path
        )
    known = {**names, **{camel: camel for camel in names.values()}}
    message = {}
    for name, item in value.items():
        if name not in known:
            where = f" at '{path}'" if path else ""
            raise payload_error(
                f'Invalid JSON payload received. Unknown name "{name}"{where}: Cannot find field.'
            )
        message[known[name]] = item
    return message


def _string(value: Any, path: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise payload_error(f"Invalid value at '{path}' (TYPE_STRING), {_show(value)}", path)
    return value


def _bool(value: Any, path: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise payload_error(f"Invalid value at '{path}' (TYPE_BOOL), {_show(value)}", path)
    return value


def _float(value: Any, path: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):  # proto3 JSON takes numbers written as strings too
        try:
            return float(value)
        except ValueError:
            pass
    raise payload_error(f"Invalid value at '{path}' (TYPE_FLOAT), {_show(value)}", path)


def _enum(value: Any, path: str, enum_name: str, values: tuple[str, ...]) -> str:
    if value is None:
        return values[0]
    if not isinstance(value, str) or value not in values:
        raise payload_error(
            f"Invalid value at '{path}' ({_MESSAGE_TYPE.format(enum_name)}), {_show(value)}", path
        )
    return value


def _text_entry(value: Any, path: str) -> tuple[str, str]:
    entry = _message(value, path, "TextEntry", _TEXT_ENTRY_FIELDS)
    text = _string(entry.get("text"), f"{path}.text")
    kind = _enum(entry.get("type"), f"{path}.type", "TextEntry.TextType", TEXT_TYPES)
    return text, kind


def _context(value: Any) -> None:
    """Checked for shape only: like Perspective, the context does not change the scores."""
    context = _message(value, "context", "Context", _CONTEXT_FIELDS)
    entries = context.get("entries")
    if entries is not None and not isinstance(entries, list):
        raise payload_error(
            f"Invalid value at 'context.entries' (TYPE_MESSAGE), {_show(entries)}", "context.entries"
        )
    for index, entry in enumerate(entries or []):
        _text_entry(entry, f"context.entries[{index}]")
    article = _message(
        context.get("articleAndParentComment"),
        "context.article_and_parent_comment",
        "ArticleAndParentComment",
        _ARTICLE_FIELDS,
    )
    for name, path in (("article", "article"), ("parentComment", "parent_comment")):
        _text_entry(article.get(name), f"context.article_and_parent_comment.{path}")
    if entries and article:
        raise analysis_error(
            "INVALID_REQUEST",
            "Context can have either entries or article_and_parent_comment, but both fields were populated.",
        )


def parse_analyze_request(payload: Any) -> AnalyzeCommentRequest:
    """The request, checked in Perspective's order; raises PerspectiveError with Google's messages."""
    if not isinstance(payload, dict):
        raise payload_error('Invalid JSON payload received. Unknown name "": Root element must be a message.')
    body = _message(payload, "", "AnalyzeCommentRequest", _REQUEST_FIELDS)
    text, text_type = _text_entry(body.get("comment"), "comment")
    raw_attributes = _message_map(body.get("requestedAttributes"))
    languages_value = body.get("languages")
    if languages_value is not None and not isinstance(languages_value, list):
        raise payload_error(
            f"Invalid value at 'languages' (TYPE_STRING), {_show(languages_value)}", "languages"
        )
    languages = [_string(lang, f"languages[{i}]") for i, lang in enumerate(languages_value or [])]
    request = AnalyzeCommentRequest(
        text=text,
        attributes=[],
        languages=[lang for lang in languages if lang.strip()],
        do_not_store=_bool(body.get("doNotStore"), "do_not_store"),
        span_annotations=_bool(body.get("spanAnnotations"), "span_annotations"),
        drop_unsupported_attributes=_bool(
            body.get("dropUnsupportedAttributes"), "drop_unsupported_attributes"
        ),
        client_token=_string(body.get("clientToken"), "client_token"),
        session_id=_string(body.get("sessionId"), "session_id"),
        community_id=_string(body.get("communityId"), "community_id"),
    )
    parsed_attributes = []
    for name, value in raw_attributes.items():
        path = f"requested_attributes[{name}]"
        params = _message(value, path, "AttributeParameters", _ATTRIBUTE_FIELDS)
        score_type = _enum(
            params.get("scoreType"), f"{path}.score_type", "AttributeParameters.ScoreType", SCORE_TYPES
        )
        threshold = _float(params.get("scoreThreshold"), f"{path}.score_threshold")
        parsed_attributes.append((name, score_type, threshold))
    _context(body.get("context"))

    if not text.strip():
        raise analysis_error("COMMENT_EMPTY", "Comment must be non-empty.")
    if len(text.encode("utf-8", "surrogatepass")) > MAX_COMMENT_BYTES:
        raise analysis_error("COMMENT_TOO_LONG", "Comment text too long.")
    if text_type == "HTML":
        raise analysis_error("INVALID_REQUEST", "Currently, only 'PLAIN_TEXT' comments are supported")
    if not parsed_attributes:
        raise analysis_error("NO_REQUESTED_ATTRIBUTES", "Missing requested_attributes")
    for name, score_type, threshold in parsed_attributes:
        model = resolve_attribute(name)
        if model is None:
            raise analysis_error("INVALID_REQUEST", f"Unknown requested attribute: {name}")
        if score_type not in ("SCORE_TYPE_UNSPECIFIED", PROBABILITY):
            raise analysis_error(
                "INVALID_REQUEST", f"Requested score type {score_type} is not supported by attribute {name}"
            )
        request.attributes.append(AttributeRequest(name, threshold, model))
    return request


def _message_map(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise payload_error(
            f"Invalid value at 'requested_attributes' (TYPE_MESSAGE), {_show(value)}", "requested_attributes"
        )
    return value


# --- scores -------------------------------------------------------------------------------------


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
        ingest_item(channel=site.channel, incoming=_incoming(request, language))
    except ValidationError as error:
        # Storing is a courtesy of this API: the scores are answered anyway. No text in the log.
        logger.warning("Perspective analysis of site %s not stored: %s", site.pk, sorted(error.message_dict))


# --- score suggestions (moderators' corrections) ------------------------------------------------


@dataclass
class SuggestCommentScoreRequest:
    text: str
    scores: dict[str, float]  # attribute name as sent -> summaryScore.value
    languages: list[str] = field(default_factory=list)
    client_token: str = ""
    session_id: str = ""
    community_id: str = ""


_SUGGEST_FIELDS = {
    "comment": "comment",
    "context": "context",
    "attribute_scores": "attributeScores",
    "languages": "languages",
    "client_token": "clientToken",
    "session_id": "sessionId",
    "community_id": "communityId",
}
_ATTRIBUTE_SCORES_FIELDS = {"summary_score": "summaryScore", "span_scores": "spanScores"}
_SCORE_FIELDS = {"value": "value", "type": "type"}
_SPAN_SCORE_FIELDS = {"begin": "begin", "end": "end", "score": "score"}


def _score(value: Any, path: str, attribute: str) -> float:
    """A Score message: its value must be set, a probability in [0, 1]."""
    score = _message(value, path, "Score", _SCORE_FIELDS)
    score_type = _enum(score.get("type"), f"{path}.type", "Score.ScoreType", SCORE_TYPES)
    number = _float(score.get("value"), f"{path}.value")
    if score_type not in ("SCORE_TYPE_UNSPECIFIED", PROBABILITY):
        raise analysis_error(
            "INVALID_REQUEST", f"Score type {score_type} is not supported by attribute {attribute}"
        )
    if number is None or not 0.0 <= number <= 1.0:
        raise analysis_error(
            "INVALID_REQUEST", f"Score of attribute {attribute} must be set, between 0 and 1 ({path}.value)"
        )
    return number


def _int(value: Any, path: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    raise payload_error(f"Invalid value at '{path}' (TYPE_INT32), {_show(value)}", path)


def parse_suggest_request(payload: Any) -> SuggestCommentScoreRequest:
    """SuggestCommentScore, checked as Perspective documents it: `attributeScores` not empty, each
    with a set score; span scores with begin and end."""
    if not isinstance(payload, dict):
        raise payload_error('Invalid JSON payload received. Unknown name "": Root element must be a message.')
    body = _message(payload, "", "SuggestCommentScoreRequest", _SUGGEST_FIELDS)
    text, text_type = _text_entry(body.get("comment"), "comment")
    raw_scores = body.get("attributeScores")
    if raw_scores is not None and not isinstance(raw_scores, dict):
        raise payload_error(
            f"Invalid value at 'attribute_scores' (TYPE_MESSAGE), {_show(raw_scores)}", "attribute_scores"
        )
    languages_value = body.get("languages")
    if languages_value is not None and not isinstance(languages_value, list):
        raise payload_error(
            f"Invalid value at 'languages' (TYPE_STRING), {_show(languages_value)}", "languages"
        )
    languages = [_string(lang, f"languages[{i}]") for i, lang in enumerate(languages_value or [])]
    request = SuggestCommentScoreRequest(
        text=text,
        scores={},
        languages=[lang for lang in languages if lang.strip()],
        client_token=_string(body.get("clientToken"), "client_token"),
        session_id=_string(body.get("sessionId"), "session_id"),
        community_id=_string(body.get("communityId"), "community_id"),
    )
    _context(body.get("context"))
    if not text.strip():
        raise analysis_error("COMMENT_EMPTY", "Comment must be non-empty.")
    if len(text.encode("utf-8", "surrogatepass")) > MAX_COMMENT_BYTES:
        raise analysis_error("COMMENT_TOO_LONG", "Comment text too long.")
    if text_type == "HTML":
        raise analysis_error("INVALID_REQUEST", "Currently, only 'PLAIN_TEXT' comments are supported")
    if not raw_scores:
        raise analysis_error("INVALID_REQUEST", "attribute_scores must not be empty.")
    for name, value in raw_scores.items():
        path = f"attribute_scores[{name}]"
        if resolve_attribute(name) is None:
            raise analysis_error("INVALID_REQUEST", f"Unknown attribute: {name}")
        scores = _message(value, path, "AttributeScores", _ATTRIBUTE_SCORES_FIELDS)
        if not scores:
            raise analysis_error("INVALID_REQUEST", f"The scores of attribute {name} must not be empty.")
        spans = scores.get("spanScores")
        if spans is not None and not isinstance(spans, list):
            raise payload_error(f"Invalid value at '{path}.span_scores' (TYPE_MESSAGE), {_show(spans)}")
        span_values = []
        for index, span_value in enumerate(spans or []):
            span_path = f"{path}.span_scores[{index}]"
            span = _message(span_value, span_path, "SpanScore", _SPAN_SCORE_FIELDS)
            begin, end = (
                _int(span.get("begin"), f"{span_path}.begin"),
                _int(span.get("end"), f"{span_path}.end"),
            )
            if begin is None or end is None or not 0 <= begin <= end:
                raise analysis_error("INVALID_REQUEST", f"Span score {span_path} must have begin <= end set.")
            span_values.append(_score(span.get("score"), f"{span_path}.score", name))
        if scores.get("summaryScore") is not None:
            request.scores[name] = _score(scores["summaryScore"], f"{path}.summary_score", name)
        elif span_values:  # only spans: the comment is as bad as its worst part
            request.scores[name] = max(span_values)
        else:
            raise analysis_error("INVALID_REQUEST", f"The scores of attribute {name} must not be empty.")
    return request


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


@dataclass(frozen=True)
class PerspectiveSiteActor(Actor):
    """A site's suggestions, recorded as its moderators' decisions in its name."""

    site_name: str = ""

    @property
    def label(self) -> str:
        return f"perspective:{self.site_name}"


def _site_actor(site: ModerationSite) -> Actor:
    return PerspectiveSiteActor(
        organisation=site.organisation,
        system=True,
        permissions=frozenset({Perm.ITEMS_VIEW.value, Perm.MODERATION_ACT.value}),
        site_name=site.name,
    )


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
                actor=_site_actor(site), item_id=item.pk, action=action, note=f"suggestscore from {site.name}"
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
    item, _created = ingest_item(channel=site.channel, incoming=_incoming(_as_analyze(request), language))
    return item


def _as_analyze(request: SuggestCommentScoreRequest, *, token: str | None = None) -> AnalyzeCommentRequest:
    return AnalyzeCommentRequest(
        text=request.text,
        attributes=[],
        client_token=request.client_token if token is None else token,
        session_id=request.session_id,
        community_id=request.community_id,
    )


# --- the discovery document ---------------------------------------------------------------------


def _text_type_enum() -> dict[str, Any]:
    return {
        "type": "string",
        "enum": list(TEXT_TYPES),
        "enumDescriptions": ["Read as plain text.", "Plain text.", "HTML (not supported: refused)."],
    }


def _score_type_enum() -> dict[str, Any]:
    return {
        "type": "string",
        "enum": list(SCORE_TYPES),
        "enumDescriptions": [
            "Defaults to PROBABILITY.",
            "A probability in [0, 1].",
            "Not supported.",
            "Not supported.",
            "Not supported.",
        ],
    }


def discovery_document(root_url: str) -> dict[str, Any]:
    """Google's discovery document for this API, pointing at this server (googleapiclient reads it)."""
    string = {"type": "string", "location": "query"}
    return {
        "kind": "discovery#restDescription",
        "discoveryVersion": "v1",
        "id": f"commentanalyzer:{API_VERSION}",
        "name": "commentanalyzer",
        "canonicalName": "Comment Analyzer",
        "version": API_VERSION,
        "revision": "20240101",
        "title": "Palabre: Perspective-compatible Comment Analyzer API",
        "description": (
            "Scores a comment for toxicity, insults, profanity, threats, identity attacks, sexual "
            "content and spam, as Perspective's comments:analyze does. Languages: "
            + ", ".join(SUPPORTED_LANGUAGES)
            + " (every attribute); others are answered LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE."
        ),
        "ownerDomain": "palabre",
        "ownerName": "Palabre",
        "documentationLink": "https://developers.perspectiveapi.com/",
        "protocol": "rest",
        "rootUrl": root_url,
        "servicePath": "",
        "basePath": "",
        "baseUrl": root_url,
        "batchPath": "batch",
        "parameters": {
            "key": {**string, "description": "The moderation site's API key."},
            "alt": {
                **string,
                "default": "json",
                "enum": ["json"],
                "enumDescriptions": ["Responses with Content-Type of application/json"],
                "description": "Data format for response.",
            },
            "$.xgafv": {
                **string,
                "enum": ["1", "2"],
                "enumDescriptions": ["v1 error format", "v2 error format"],
                "description": "V1 error format.",
            },
            "prettyPrint": {
                "type": "boolean",
                "location": "query",
                "default": "true",
                "description": "Accepted and ignored.",
            },
            "fields": {**string, "description": "Accepted and ignored."},
            "quotaUser": {**string, "description": "Accepted and ignored."},
        },
        "resources": {
            "comments": {
                "methods": {
                    "analyze": {
                        "id": "commentanalyzer.comments.analyze",
                        "path": f"{API_VERSION}/comments:analyze",
                        "flatPath": f"{API_VERSION}/comments:analyze",
                        "httpMethod": "POST",
                        "description": "Analyzes the provided text and returns scores for requested attributes.",
                        "parameters": {},
                        "parameterOrder": [],
                        "request": {"$ref": "AnalyzeCommentRequest"},
                        "response": {"$ref": "AnalyzeCommentResponse"},
                    },
                    "suggestscore": {
                        "id": "commentanalyzer.comments.suggestscore",
                        "path": f"{API_VERSION}/comments:suggestscore",
                        "flatPath": f"{API_VERSION}/comments:suggestscore",
                        "httpMethod": "POST",
                        "description": (
                            "Suggest comment scores as training data: recorded as a moderator's "
                            "decision on the comment (1 = the attribute holds, 0 = it does not)."
                        ),
                        "parameters": {},
                        "parameterOrder": [],
                        "request": {"$ref": "SuggestCommentScoreRequest"},
                        "response": {"$ref": "SuggestCommentScoreResponse"},
                    },
                }
            }
        },
        "supportedLanguages": list(SUPPORTED_LANGUAGES),
        "supportedAttributes": [*ATTRIBUTES, *EXPERIMENTAL_ATTRIBUTES],
        "schemas": _schemas(),
    }


_LANGUAGES_DESCRIPTION = (
    "Languages of the comment, ISO 639-1 or BCP-47 (supported: "
    + ", ".join(SUPPORTED_LANGUAGES)
    + "); detected when absent."
)


def _schemas() -> dict[str, Any]:
    def obj(name: str, description: str, properties: dict[str, Any]) -> dict[str, Any]:
        return {"id": name, "type": "object", "description": description, "properties": properties}

    strings = {"type": "array", "items": {"type": "string"}}
    return {
        "AnalyzeCommentRequest": obj(
            "AnalyzeCommentRequest",
            "The comment analysis request message.",
            {
                "comment": {"$ref": "TextEntry", "description": "The comment to analyze (required)."},
                "context": {"$ref": "Context", "description": "The comment's context (not used in scores)."},
                "requestedAttributes": {
                    "type": "object",
                    "additionalProperties": {"$ref": "AttributeParameters"},
                    "description": "Attributes to score (required): "
                    + ", ".join([*ATTRIBUTES, *EXPERIMENTAL_ATTRIBUTES])
                    + "; a version suffix (TOXICITY@6) is accepted. The answer uses the names asked for.",
                },
                "languages": {**strings, "description": _LANGUAGES_DESCRIPTION},
                "doNotStore": {"type": "boolean", "description": "Do not keep the comment."},
                "clientToken": {"type": "string", "description": "Echoed in the response."},
                "sessionId": {"type": "string", "description": "Opaque session id."},
                "communityId": {"type": "string", "description": "Opaque community id."},
                "spanAnnotations": {"type": "boolean", "description": "Also score each sentence."},
                "dropUnsupportedAttributes": {
                    "type": "boolean",
                    "description": "Leave out attributes that do not support the language instead of failing.",
                },
            },
        ),
        "AnalyzeCommentResponse": obj(
            "AnalyzeCommentResponse",
            "The comment analysis response message.",
            {
                "attributeScores": {
                    "type": "object",
                    "additionalProperties": {"$ref": "AttributeScores"},
                    "description": "Scores of the requested attributes.",
                },
                "languages": {**strings, "description": "The languages used to score the comment."},
                "detectedLanguages": {**strings, "description": "The language detected in the text."},
                "clientToken": {"type": "string", "description": "The request's clientToken."},
            },
        ),
        "SuggestCommentScoreRequest": obj(
            "SuggestCommentScoreRequest",
            "The comment score suggestion request message.",
            {
                "comment": {"$ref": "TextEntry", "description": "The comment (required)."},
                "context": {"$ref": "Context", "description": "The comment's context (not used)."},
                "attributeScores": {
                    "type": "object",
                    "additionalProperties": {"$ref": "AttributeScores"},
                    "description": "Suggested scores (required, not empty): 1 when the attribute holds, 0 when not.",
                },
                "languages": {**strings, "description": _LANGUAGES_DESCRIPTION},
                "clientToken": {
                    "type": "string",
                    "description": "Echoed; names the comment analysed with the same token.",
                },
                "sessionId": {"type": "string", "description": "Opaque session id."},
                "communityId": {"type": "string", "description": "Opaque community id."},
            },
        ),
        "SuggestCommentScoreResponse": obj(
            "SuggestCommentScoreResponse",
            "The comment score suggestion response message.",
            {
                "detectedLanguages": {**strings, "description": "The language detected in the text."},
                "requestedLanguages": {**strings, "description": "The request's languages."},
                "clientToken": {"type": "string", "description": "The request's clientToken."},
            },
        ),
        "AttributeParameters": obj(
            "AttributeParameters",
            "Configurable parameters for attribute scoring.",
            {
                "scoreType": {**_score_type_enum(), "description": "Only PROBABILITY is supported."},
                "scoreThreshold": {
                    "type": "number",
                    "format": "float",
                    "description": "Scores below this threshold are not returned.",
                },
            },
        ),
        "AttributeScores": obj(
            "AttributeScores",
            "The scores of one attribute.",
            {
                "summaryScore": {"$ref": "Score", "description": "Score of the whole comment."},
                "spanScores": {
                    "type": "array",
                    "items": {"$ref": "SpanScore"},
                    "description": "Score of each sentence.",
                },
            },
        ),
        "SpanScore": obj(
            "SpanScore",
            "A score for a span of the text.",
            {
                "begin": {
                    "type": "integer",
                    "format": "int32",
                    "description": "Start of the span, in UTF-16 code units.",
                },
                "end": {
                    "type": "integer",
                    "format": "int32",
                    "description": "End of the span (exclusive), in UTF-16 code units.",
                },
                "score": {"$ref": "Score", "description": "The span's score."},
            },
        ),
        "Score": obj(
            "Score",
            "A score value and its type.",
            {
                "value": {"type": "number", "format": "float", "description": "The score."},
                "type": {**_score_type_enum(), "description": "The type of the value."},
            },
        ),
        "TextEntry": obj(
            "TextEntry",
            "A body of text.",
            {
                "text": {"type": "string", "description": "UTF-8 text."},
                "type": {**_text_type_enum(), "description": "The type of the text."},
            },
        ),
        "Context": obj(
            "Context",
            "What the comment replies to; only one of the fields may be set.",
            {
                "entries": {"type": "array", "items": {"$ref": "TextEntry"}, "description": "Messages."},
                "articleAndParentComment": {"$ref": "ArticleAndParentComment", "description": "The article."},
            },
        ),
        "ArticleAndParentComment": obj(
            "ArticleAndParentComment",
            "The article a comment is about, and the comment it replies to.",
            {
                "article": {"$ref": "TextEntry", "description": "The article."},
                "parentComment": {"$ref": "TextEntry", "description": "The comment replied to."},
            },
        ),
    }
