"""The Perspective protocol without HTTP: request parsing, attribute mapping, offsets, sentences."""

from __future__ import annotations

import pytest

from palabre.compat.perspective import analysis, discovery, parsing
from palabre.compat.perspective.parsing import PerspectiveError, parse_analyze_request


def _error_type(error: PerspectiveError) -> str:
    return error.details[0].get("errorType", "")


def test_coral_request_parses_with_defaults():
    request = parse_analyze_request(
        {
            "comment": {"text": "Bonjour"},
            "languages": ["fr"],
            "doNotStore": True,
            "requestedAttributes": {"TOXICITY": {}},
        }
    )
    assert request.text == "Bonjour"
    assert [a.name for a in request.attributes] == ["TOXICITY"]
    assert request.attributes[0].score_threshold is None
    assert request.languages == ["fr"] and request.do_not_store and not request.span_annotations


def test_proto_field_names_are_accepted_too():
    request = parse_analyze_request(
        {
            "comment": {"text": "Hello", "type": "PLAIN_TEXT"},
            "requested_attributes": {"INSULT": {"score_threshold": "0.5", "score_type": "PROBABILITY"}},
            "do_not_store": True,
            "client_token": "c-1",
            "span_annotations": True,
        }
    )
    assert request.attributes[0].score_threshold == 0.5
    assert request.client_token == "c-1" and request.span_annotations and request.do_not_store


@pytest.mark.parametrize(
    ("payload", "error_type", "message"),
    [
        (
            {"comment": {"text": ""}, "requestedAttributes": {"TOXICITY": {}}},
            "COMMENT_EMPTY",
            "Comment must be non-empty.",
        ),
        ({"requestedAttributes": {"TOXICITY": {}}}, "COMMENT_EMPTY", "Comment must be non-empty."),
        (
            {"comment": {"text": "  \n "}, "requestedAttributes": {"TOXICITY": {}}},
            "COMMENT_EMPTY",
            "Comment must be non-empty.",
        ),
        (
            {"comment": {"text": "é" * 10241}, "requestedAttributes": {"TOXICITY": {}}},
            "COMMENT_TOO_LONG",
            "Comment text too long.",
        ),
        ({"comment": {"text": "Hi"}}, "NO_REQUESTED_ATTRIBUTES", "Missing requested_attributes"),
        (
            {"comment": {"text": "Hi"}, "requestedAttributes": {}},
            "NO_REQUESTED_ATTRIBUTES",
            "Missing requested_attributes",
        ),
        (
            {"comment": {"text": "Hi"}, "requestedAttributes": {"FLIRTATION": {}}},
            "INVALID_REQUEST",
            "Unknown requested attribute: FLIRTATION",
        ),
        (
            {"comment": {"text": "Hi"}, "requestedAttributes": {"TOXICITY": {"scoreType": "STD_DEV_SCORE"}}},
            "INVALID_REQUEST",
            "Requested score type STD_DEV_SCORE is not supported by attribute TOXICITY",
        ),
        (
            {"comment": {"text": "<b>Hi</b>", "type": "HTML"}, "requestedAttributes": {"TOXICITY": {}}},
            "INVALID_REQUEST",
            "Currently, only 'PLAIN_TEXT' comments are supported",
        ),
        (
            {
                "comment": {"text": "Hi"},
                "requestedAttributes": {"TOXICITY": {}},
                "context": {
                    "entries": [{"text": "a"}],
                    "articleAndParentComment": {"article": {"text": "b"}},
                },
            },
            "INVALID_REQUEST",
            "Context can have either entries or article_and_parent_comment, but both fields were populated.",
        ),
    ],
)
def test_perspective_errors(payload, error_type, message):
    with pytest.raises(PerspectiveError) as caught:
        parse_analyze_request(payload)
    error = caught.value
    assert (error.code, error.status, error.message, _error_type(error)) == (
        400,
        "INVALID_ARGUMENT",
        message,
        error_type,
    )
    assert error.details[0]["@type"] == "type.googleapis.com/google.commentanalyzer.v1alpha1.Error"


def test_twenty_kilobytes_of_text_are_accepted():
    parse_analyze_request({"comment": {"text": "a" * 20480}, "requestedAttributes": {"TOXICITY": {}}})


@pytest.mark.parametrize(
    ("payload", "message", "field"),
    [
        ({"comment": {"text": 5}}, "Invalid value at 'comment.text' (TYPE_STRING), 5", "comment.text"),
        (
            {"comment": "hi"},
            "Invalid value at 'comment' (type.googleapis.com/google.commentanalyzer.v1alpha1.TextEntry), \"hi\"",
            "comment",
        ),
        ({"doNotStore": "yes"}, "Invalid value at 'do_not_store' (TYPE_BOOL), \"yes\"", "do_not_store"),
        ({"languages": "fr"}, "Invalid value at 'languages' (TYPE_STRING), \"fr\"", "languages"),
        (
            {"requestedAttributes": {"TOXICITY": {"scoreThreshold": "high"}}},
            "Invalid value at 'requested_attributes[TOXICITY].score_threshold' (TYPE_FLOAT), \"high\"",
            "requested_attributes[TOXICITY].score_threshold",
        ),
        ({"bogus": 1}, 'Invalid JSON payload received. Unknown name "bogus": Cannot find field.', None),
        (
            {"comment": {"txt": "a"}},
            "Invalid JSON payload received. Unknown name \"txt\" at 'comment': Cannot find field.",
            None,
        ),
        ([1, 2], 'Invalid JSON payload received. Unknown name "": Root element must be a message.', None),
    ],
)
def test_malformed_requests_are_refused_as_google_does(payload, message, field):
    with pytest.raises(PerspectiveError) as caught:
        parse_analyze_request(payload)
    error = caught.value
    assert (error.code, error.status, error.message) == (400, "INVALID_ARGUMENT", message)
    detail = error.details[0]
    assert detail["@type"] == "type.googleapis.com/google.rpc.BadRequest"
    assert detail["fieldViolations"][0].get("field") == field


def test_attribute_mapping():
    spans = [
        {"start": 0, "end": 7, "label": "insult", "source": "lexicon"},
        {"start": 0, "end": 7, "label": "profanity", "source": "lexicon"},
    ]
    scores = {
        "toxicity": 0.9,
        "insult": 0.8,
        "threat": 0.1,
        "identity_attack": 0.2,
        "sexual": 0.3,
        "spam": 0.05,
    }
    mapped = analysis.perspective_scores(scores, spans)
    assert set(mapped) == set(parsing.ATTRIBUTES)
    assert mapped["TOXICITY"] == 0.9 and mapped["INSULT"] == 0.8 and mapped["THREAT"] == 0.1
    assert mapped["IDENTITY_ATTACK"] == 0.2 and mapped["SEXUALLY_EXPLICIT"] == 0.3 and mapped["SPAM"] == 0.05
    assert mapped["SEVERE_TOXICITY"] == pytest.approx(0.72)
    # One profane word (the same range labelled insult and profanity counts once, as profanity).
    assert mapped["PROFANITY"] == pytest.approx(0.5 + 0.15 + 0.135)
    insult_only = analysis.perspective_scores(scores, spans[:1])
    assert insult_only["PROFANITY"] == pytest.approx(0.5 + 0.075 + 0.135)
    clean = analysis.perspective_scores(scores, [])
    assert clean["PROFANITY"] == pytest.approx(0.36)
    # Rude without insult, threat or attack: severe toxicity stays low.
    mild = analysis.perspective_scores(
        {"toxicity": 0.6, "insult": 0.1, "threat": 0.05, "identity_attack": 0.05}, []
    )
    assert mild["SEVERE_TOXICITY"] < 0.1 < mild["TOXICITY"]
    assert all(
        0.0 <= v <= 1.0
        for v in analysis.perspective_scores({"toxicity": 1.0, "insult": 1.0}, spans * 5).values()
    )


def test_utf16_offsets_count_astral_characters_twice():
    text = "😀a👍🏽b"
    offsets = analysis.utf16_offsets(text)
    assert offsets == [0, 2, 3, 5, 7, 8]
    assert offsets[-1] == len(text.encode("utf-16-le")) // 2


def test_sentences():
    text = "What kind of idiot name is foo? Sorry, I like your name."
    assert analysis.sentences(text) == [(0, 31), (32, 56)]
    assert analysis.sentences("  Bonjour !\n\nÇa va ?  ") == [(2, 11), (13, 20)]
    assert analysis.sentences("Une seule phrase sans point") == [(0, 27)]
    assert analysis.sentences("M. Dupont vient... ou pas") == [(0, 2), (3, 18), (19, 25)]


def test_primary_language():
    assert [analysis.primary_language(c) for c in ("fr", "fr-FR", "en_GB", "EN", "pt-BR")] == [
        "fr",
        "fr",
        "en",
        "en",
        "pt",
    ]


def test_external_id_from_token_or_text():
    make = parsing.AnalyzeCommentRequest
    assert analysis.external_id_for(make("Bonjour", [], client_token="c-42")) == "perspective:c-42"
    by_text = analysis.external_id_for(make("Bonjour", []))
    assert by_text.startswith("perspective:sha256:") and by_text == analysis.external_id_for(
        make("Bonjour", [])
    )
    assert len(analysis.external_id_for(make("x", [], client_token="t" * 1000))) < 300


def test_discovery_document_shape():
    document = discovery.discovery_document("http://palabre.test/")
    assert document["rootUrl"] == "http://palabre.test/" and document["servicePath"] == ""
    assert document["name"] == "commentanalyzer" and document["version"] == "v1alpha1"
    method = document["resources"]["comments"]["methods"]["analyze"]
    assert (method["path"], method["httpMethod"]) == ("v1alpha1/comments:analyze", "POST")
    assert method["request"] == {"$ref": "AnalyzeCommentRequest"}
    assert method["response"] == {"$ref": "AnalyzeCommentResponse"}
    assert document["parameters"]["key"]["location"] == "query"
    schemas = document["schemas"]
    referenced = {
        value["$ref"]
        for schema in schemas.values()
        for prop in schema["properties"].values()
        for value in (prop, prop.get("items", {}), prop.get("additionalProperties", {}))
        if "$ref" in value
    }
    assert referenced <= set(schemas)
    assert {
        "comment",
        "requestedAttributes",
        "languages",
        "doNotStore",
        "spanAnnotations",
        "clientToken",
    } <= set(schemas["AnalyzeCommentRequest"]["properties"])
