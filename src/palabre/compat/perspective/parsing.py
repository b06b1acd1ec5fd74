"""Perspective's requests (Google's `commentanalyzer` v1alpha1), read as Google's JSON parser reads them,
and its errors in Google's shape (``{"error": {"code", "message", "status", "details"}}``) with
Perspective's ``errorType`` values, so that a client's error handling keeps working."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

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


def _fields(*proto_names: str) -> dict[str, str]:
    """Proto field name -> its lowerCamel JSON name: Google's JSON parser accepts both."""
    return {name: re.sub(r"_([a-z])", lambda m: m[1].upper(), name) for name in proto_names}


# The fields of a comment, in both AnalyzeCommentRequest and SuggestCommentScoreRequest.
_COMMENT_FIELDS = ("comment", "context", "languages", "client_token", "session_id", "community_id")
_REQUEST_FIELDS = _fields(
    *_COMMENT_FIELDS,
    "requested_attributes",
    "do_not_store",
    "span_annotations",
    "drop_unsupported_attributes",
)
_TEXT_ENTRY_FIELDS = _fields("text", "type")
_CONTEXT_FIELDS = _fields("entries", "article_and_parent_comment")
_ARTICLE_FIELDS = _fields("article", "parent_comment")
_ATTRIBUTE_FIELDS = _fields("score_type", "score_threshold")


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


def _languages(body: dict[str, Any]) -> list[str]:
    value = body.get("languages")
    if value is not None and not isinstance(value, list):
        raise payload_error(f"Invalid value at 'languages' (TYPE_STRING), {_show(value)}", "languages")
    languages = [_string(lang, f"languages[{i}]") for i, lang in enumerate(value or [])]
    return [lang for lang in languages if lang.strip()]


def _identifiers(body: dict[str, Any]) -> dict[str, str]:
    return {
        name: _string(body.get(json_name), name)
        for name, json_name in _fields("client_token", "session_id", "community_id").items()
    }


def _check_text(text: str, text_type: str) -> None:
    """What Perspective checks of the comment after the payload's shape, in its order."""
    if not text.strip():
        raise analysis_error("COMMENT_EMPTY", "Comment must be non-empty.")
    if len(text.encode("utf-8", "surrogatepass")) > MAX_COMMENT_BYTES:
        raise analysis_error("COMMENT_TOO_LONG", "Comment text too long.")
    if text_type == "HTML":
        raise analysis_error("INVALID_REQUEST", "Currently, only 'PLAIN_TEXT' comments are supported")


def parse_analyze_request(payload: Any) -> AnalyzeCommentRequest:
    """The request, checked in Perspective's order; raises PerspectiveError with Google's messages."""
    if not isinstance(payload, dict):
        raise payload_error('Invalid JSON payload received. Unknown name "": Root element must be a message.')
    body = _message(payload, "", "AnalyzeCommentRequest", _REQUEST_FIELDS)
    text, text_type = _text_entry(body.get("comment"), "comment")
    raw_attributes = _message_map(body.get("requestedAttributes"))
    languages = _languages(body)
    request = AnalyzeCommentRequest(
        text=text,
        attributes=[],
        languages=languages,
        do_not_store=_bool(body.get("doNotStore"), "do_not_store"),
        span_annotations=_bool(body.get("spanAnnotations"), "span_annotations"),
        drop_unsupported_attributes=_bool(
            body.get("dropUnsupportedAttributes"), "drop_unsupported_attributes"
        ),
        **_identifiers(body),
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

    _check_text(text, text_type)
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


# --- score suggestions (moderators' corrections) ------------------------------------------------


@dataclass
class SuggestCommentScoreRequest:
    text: str
    scores: dict[str, float]  # attribute name as sent -> summaryScore.value
    languages: list[str] = field(default_factory=list)
    client_token: str = ""
    session_id: str = ""
    community_id: str = ""


_SUGGEST_FIELDS = _fields(*_COMMENT_FIELDS, "attribute_scores")
_ATTRIBUTE_SCORES_FIELDS = _fields("summary_score", "span_scores")
_SCORE_FIELDS = _fields("value", "type")
_SPAN_SCORE_FIELDS = _fields("begin", "end", "score")


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
    languages = _languages(body)
    request = SuggestCommentScoreRequest(
        text=text,
        scores={},
        languages=languages,
        **_identifiers(body),
    )
    _context(body.get("context"))
    _check_text(text, text_type)
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
