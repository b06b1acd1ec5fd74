"""Google's discovery document of the Perspective-compatible API (googleapiclient builds its client
from it): the methods and the schemas of the requests and answers."""

from __future__ import annotations

from typing import Any

from palabre.compat.perspective.parsing import (
    API_VERSION,
    ATTRIBUTES,
    EXPERIMENTAL_ATTRIBUTES,
    SCORE_TYPES,
    SUPPORTED_LANGUAGES,
    TEXT_TYPES,
)


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
