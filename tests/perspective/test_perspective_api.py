"""The Perspective-compatible API over real HTTP (pytest-django's live server, httpx)."""

from __future__ import annotations

import httpx
import pytest

from palabre.conversations.models import Item
from palabre.moderation.models import ModerationDecision
from palabre.orgs.models import AuditEvent
from palabre.orgs.services import Actor

pytestmark = pytest.mark.django_db(transaction=True)

ANALYZE = "/v1alpha1/comments:analyze"
ALL_ATTRIBUTES = (
    "TOXICITY",
    "SEVERE_TOXICITY",
    "INSULT",
    "PROFANITY",
    "THREAT",
    "IDENTITY_ATTACK",
    "SEXUALLY_EXPLICIT",
    "SPAM",
)


@pytest.fixture
def make_site(make_org, owner_of):
    from palabre.moderation.services import create_moderation_site

    def make(organisation=None, url="https://blog.maison-dupont.fr"):
        organisation = organisation or make_org()
        return create_moderation_site(
            actor=Actor.for_user(owner_of(organisation), organisation), name="Blog", url=url
        )

    return make


@pytest.fixture
def site_and_key(make_site):
    return make_site()


@pytest.fixture
def client(live_server):
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        yield http


def analyze(client, key, body, **params):
    return client.post(ANALYZE, params={"key": key, **params}, json=body)


def coral(text, language):
    """Coral's request, as its Perspective integration sends it."""
    return {
        "comment": {"text": text},
        "languages": [language],
        "doNotStore": True,
        "requestedAttributes": {"TOXICITY": {}},
    }


def toxicity(answer) -> float:
    assert answer.status_code == 200, answer.text
    return answer.json()["attributeScores"]["TOXICITY"]["summaryScore"]["value"]


def stored_counts():
    return Item.objects.count(), ModerationDecision.objects.count(), AuditEvent.objects.count()


@pytest.mark.parametrize(
    ("language", "polite", "insult"),
    [
        ("fr", "Merci pour votre réponse rapide, bonne journée !", "Tu es un connard, ferme ta gueule."),
        ("en", "Thanks for the quick answer, have a nice day!", "You are a stupid idiot, shut up."),
    ],
)
def test_corals_request_gets_a_perspective_answer(client, site_and_key, language, polite, insult):
    _site, key = site_and_key
    answer = analyze(client, key, coral(insult, language))
    assert answer.headers["content-type"].startswith("application/json")
    body = answer.json()
    assert set(body) >= {"attributeScores", "languages"}
    assert list(body["attributeScores"]) == ["TOXICITY"]
    assert body["attributeScores"]["TOXICITY"] == {
        "summaryScore": {
            "value": body["attributeScores"]["TOXICITY"]["summaryScore"]["value"],
            "type": "PROBABILITY",
        }
    }
    assert body["languages"] == [language]
    assert body["detectedLanguages"] == [language]
    assert "clientToken" not in body
    assert toxicity(answer) > 0.7 > toxicity(analyze(client, key, coral(polite, language)))


def test_all_eight_attributes(client, site_and_key):
    _site, key = site_and_key
    body = {
        "comment": {"text": "Je vais te tuer, sale connard.", "type": "PLAIN_TEXT"},
        "languages": ["fr"],
        "requestedAttributes": {name: {} for name in ALL_ATTRIBUTES},
        "doNotStore": True,
    }
    answer = analyze(client, key, body)
    assert answer.status_code == 200, answer.text
    scores = {name: s["summaryScore"]["value"] for name, s in answer.json()["attributeScores"].items()}
    assert list(scores) == list(ALL_ATTRIBUTES)
    assert all(0.0 <= value <= 1.0 for value in scores.values())
    assert scores["THREAT"] > 0.7 and scores["TOXICITY"] > 0.7 and scores["INSULT"] > 0.5
    assert scores["PROFANITY"] > 0.6 and scores["SEVERE_TOXICITY"] > 0.5
    assert scores["SPAM"] < 0.2


def test_score_threshold_leaves_out_lower_scores(client, site_and_key):
    _site, key = site_and_key
    body = {
        "comment": {"text": "Merci beaucoup, très bon article."},
        "languages": ["fr"],
        "doNotStore": True,
        "requestedAttributes": {"TOXICITY": {"scoreThreshold": 0.5}, "SPAM": {"scoreThreshold": 0}},
    }
    answer = analyze(client, key, body)
    assert answer.status_code == 200, answer.text
    assert list(answer.json()["attributeScores"]) == ["SPAM"]
    body["requestedAttributes"] = {"TOXICITY": {"scoreThreshold": 0.5}}
    answer = analyze(client, key, body)
    assert answer.status_code == 200 and "attributeScores" not in answer.json()
    body["comment"]["text"] = "Tu es un connard."
    assert analyze(client, key, body).json()["attributeScores"]["TOXICITY"]["summaryScore"]["value"] >= 0.5


def test_span_scores_are_sentences_in_utf16_code_units(client, site_and_key):
    _site, key = site_and_key
    text = "😀😀 Bonjour à tous. Tu es un gros connard."
    body = {
        "comment": {"text": text},
        "languages": ["fr"],
        "doNotStore": True,
        "spanAnnotations": True,
        "requestedAttributes": {"TOXICITY": {}, "INSULT": {}},
    }
    answer = analyze(client, key, body)
    assert answer.status_code == 200, answer.text
    spans = answer.json()["attributeScores"]["INSULT"]["spanScores"]
    units = text.encode("utf-16-le")

    def cut(span):
        return units[span["begin"] * 2 : span["end"] * 2].decode("utf-16-le")

    assert [cut(span) for span in spans] == ["😀😀 Bonjour à tous.", "Tu es un gros connard."]
    # Two emoji before it: four UTF-16 units for two code points.
    assert spans[1]["begin"] == text.index("Tu") + 2
    assert spans[1]["score"]["value"] > 0.5 > spans[0]["score"]["value"]
    assert spans[1]["score"]["type"] == "PROBABILITY"
    without = dict(body, spanAnnotations=False)
    assert "spanScores" not in analyze(client, key, without).json()["attributeScores"]["INSULT"]


def test_one_sentence_gets_one_span_over_the_whole_text(client, site_and_key):
    _site, key = site_and_key
    text = "Tu es nul 👎"
    body = {
        "comment": {"text": text},
        "languages": ["fr"],
        "doNotStore": True,
        "spanAnnotations": True,
        "requestedAttributes": {"TOXICITY": {}},
    }
    scores = analyze(client, key, body).json()["attributeScores"]["TOXICITY"]
    assert [(s["begin"], s["end"]) for s in scores["spanScores"]] == [(0, len(text.encode("utf-16-le")) // 2)]
    assert scores["spanScores"][0]["score"] == scores["summaryScore"]


def test_client_token_is_echoed(client, site_and_key):
    _site, key = site_and_key
    body = dict(coral("Bonjour à tous, merci pour l'accueil.", "fr"), clientToken="comment-53922")
    answer = analyze(client, key, body)
    assert answer.status_code == 200 and answer.json()["clientToken"] == "comment-53922"


def test_language_is_detected_when_not_given(client, site_and_key):
    _site, key = site_and_key
    body = {
        "comment": {"text": "Vous êtes vraiment des incapables, je suis furieux."},
        "requestedAttributes": {"TOXICITY": {}},
        "doNotStore": True,
    }
    answer = analyze(client, key, body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["languages"] == ["fr"] and answer.json()["detectedLanguages"] == ["fr"]
    # Too short for the detector: the lexicon tells French.
    body["comment"]["text"] = "connard"
    answer = analyze(client, key, body)
    assert answer.status_code == 200 and answer.json()["languages"] == ["fr"]
    # BCP-47 codes are accepted and echoed as given.
    body["languages"] = ["fr-FR"]
    assert analyze(client, key, body).json()["languages"] == ["fr-FR"]


def _perspective_error(answer, error_type):
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["code"] == 400 and error["status"] == "INVALID_ARGUMENT"
    detail = error["details"][0]
    assert detail["@type"] == "type.googleapis.com/google.commentanalyzer.v1alpha1.Error"
    assert detail["errorType"] == error_type
    return error


def test_unsupported_languages(client, site_and_key):
    _site, key = site_and_key
    body = {
        "comment": {"text": "Hallo, wie geht es dir?"},
        "languages": ["de"],
        "requestedAttributes": {"INSULT": {}, "TOXICITY": {}},
        "doNotStore": True,
    }
    error = _perspective_error(analyze(client, key, body), "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE")
    assert error["message"] == "Attribute INSULT does not support request languages: de"
    assert error["details"][0]["languageNotSupportedByAttributeError"] == {
        "requestedLanguages": ["de"],
        "attribute": "INSULT",
    }
    # Detected rather than requested.
    del body["languages"]
    body["comment"]["text"] = "Hola, ¿cómo estás? Muy bien, gracias por preguntar."
    error = _perspective_error(analyze(client, key, body), "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE")
    assert error["details"][0]["languageNotSupportedByAttributeError"] == {
        "detectedLanguages": ["es"],
        "attribute": "INSULT",
    }
    # All languages must be supported.
    body["languages"] = ["fr", "es"]
    _perspective_error(analyze(client, key, body), "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE")
    # Unless the client asks to drop what is not supported.
    body["dropUnsupportedAttributes"] = True
    answer = analyze(client, key, body)
    assert answer.status_code == 200 and "attributeScores" not in answer.json()
    assert answer.json()["languages"] == ["fr", "es"]


def test_language_detection_failure(client, site_and_key):
    _site, key = site_and_key
    body = {"comment": {"text": "ok"}, "requestedAttributes": {"TOXICITY": {}}, "doNotStore": True}
    error = _perspective_error(analyze(client, key, body), "LANGUAGE_DETECTION_FAILED")
    assert error["message"] == "Unable to detect language"
    body["languages"] = ["en"]
    assert analyze(client, key, body).status_code == 200


@pytest.mark.parametrize(
    ("body", "error_type", "message"),
    [
        (
            {"comment": {"text": ""}, "requestedAttributes": {"TOXICITY": {}}},
            "COMMENT_EMPTY",
            "Comment must be non-empty.",
        ),
        (
            {"comment": {"text": "a" * 20481}, "requestedAttributes": {"TOXICITY": {}}},
            "COMMENT_TOO_LONG",
            "Comment text too long.",
        ),
        (
            {"comment": {"text": "Bonjour"}, "languages": ["fr"]},
            "NO_REQUESTED_ATTRIBUTES",
            "Missing requested_attributes",
        ),
        (
            {"comment": {"text": "Bonjour"}, "requestedAttributes": {"FLIRTATION": {}}},
            "INVALID_REQUEST",
            "Unknown requested attribute: FLIRTATION",
        ),
    ],
)
def test_perspective_errors_over_http(client, site_and_key, body, error_type, message):
    _site, key = site_and_key
    before = stored_counts()
    error = _perspective_error(analyze(client, key, body), error_type)
    assert error["message"] == message
    assert stored_counts() == before


def test_malformed_json(client, site_and_key):
    _site, key = site_and_key
    answer = client.post(
        ANALYZE,
        params={"key": key},
        content=b'{"comment": {"text": "Bonjour"',
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT" and error["message"].startswith(
        "Invalid JSON payload received."
    )
    assert error["details"][0]["@type"] == "type.googleapis.com/google.rpc.BadRequest"
    answer = analyze(
        client, key, {"comment": {"text": "Bonjour"}, "requestedAttributes": {"TOXICITY": {}}, "bogus": 1}
    )
    assert answer.status_code == 400
    assert (
        answer.json()["error"]["message"]
        == 'Invalid JSON payload received. Unknown name "bogus": Cannot find field.'
    )
    answer = analyze(client, key, {"comment": {"text": ["Bonjour"]}, "requestedAttributes": {"TOXICITY": {}}})
    assert answer.status_code == 400
    assert answer.json()["error"]["details"][0]["fieldViolations"][0]["field"] == "comment.text"


def test_keys(client, make_site, site_and_key):
    body = coral("Bonjour", "fr")
    missing = client.post(ANALYZE, json=body)
    assert missing.status_code == 403
    assert missing.json() == {
        "error": {
            "code": 403,
            "message": "The request is missing a valid API key.",
            "status": "PERMISSION_DENIED",
        }
    }
    wrong = analyze(client, "not-a-key", body)
    assert wrong.status_code == 400
    error = wrong.json()["error"]
    assert (error["status"], error["message"]) == (
        "INVALID_ARGUMENT",
        "API key not valid. Please pass a valid API key.",
    )
    assert error["details"][0]["reason"] == "API_KEY_INVALID"
    # Google's header works too.
    _site, key = site_and_key
    assert client.post(ANALYZE, json=body, headers={"X-Goog-Api-Key": key}).status_code == 200


def test_a_revoked_site_key_is_refused(client, site_and_key, owner_of):
    from palabre.moderation.services import revoke_moderation_site

    site, key = site_and_key
    assert analyze(client, key, coral("Bonjour", "fr")).status_code == 200
    revoke_moderation_site(actor=Actor.for_user(owner_of(site.organisation), site.organisation), site=site)
    answer = analyze(client, key, coral("Bonjour", "fr"))
    assert answer.status_code == 400 and answer.json()["error"]["details"][0]["reason"] == "API_KEY_INVALID"


def test_wrong_method_and_unknown_methods(client, site_and_key):
    _site, key = site_and_key
    answer = client.get(ANALYZE, params={"key": key})
    assert answer.status_code == 405 and answer.headers["allow"] == "POST"
    assert answer.json()["error"]["code"] == 405
    answer = client.post("/v1alpha1/comments:classify", params={"key": key}, json={})
    assert answer.status_code == 404
    assert answer.json() == {"error": {"code": 404, "message": "Method not found.", "status": "NOT_FOUND"}}


def test_do_not_store_keeps_nothing(client, site_and_key):
    _site, key = site_and_key
    before = stored_counts()
    for text in ("Tu es un connard.", "Merci pour cet article."):
        assert analyze(client, key, dict(coral(text, "fr"), clientToken="c-1")).status_code == 200
    assert stored_counts() == before


def test_storing_makes_one_moderated_item_of_the_sites_channel(client, make_org, make_site):
    site, key = make_site(make_org())
    other_site, other_key = make_site(make_org(), url="https://forum.example.org")
    body = {
        "comment": {"text": "Tu es un connard, ferme ta gueule."},
        "languages": ["fr"],
        "requestedAttributes": {"TOXICITY": {}},
        "clientToken": "comment-7",
        "communityId": "/forum/cuisine",
    }
    before_items = Item.objects.count()
    assert analyze(client, key, body).status_code == 200
    assert analyze(client, key, body).status_code == 200  # the same comment again: updated, not duplicated
    assert Item.objects.count() == before_items + 1
    item = Item.objects.get(channel=site.channel, external_id="perspective:comment-7")
    assert item.organisation_id == site.organisation_id and item.kind == "comment"
    assert item.text == body["comment"]["text"] and item.language == "fr"
    assert item.raw["communityId"] == "/forum/cuisine"
    decision = ModerationDecision.objects.filter(item=item).latest("pk")
    assert decision.action in {"hold", "reject"}
    # Keys are per site: the other organisation's site sees nothing of it, and stores in its own channel.
    assert not Item.objects.filter(channel=other_site.channel).exists()
    assert analyze(client, other_key, dict(body, clientToken="comment-8")).status_code == 200
    assert Item.objects.get(external_id="perspective:comment-8").organisation_id == other_site.organisation_id
    # Without a token the text names the item.
    untokened = {
        "comment": {"text": "Merci pour cet article !"},
        "languages": ["fr"],
        "requestedAttributes": {"SPAM": {}},
    }
    analyze(client, key, untokened)
    analyze(client, key, untokened)
    assert (
        Item.objects.filter(channel=site.channel, external_id__startswith="perspective:sha256:").count() == 1
    )


def test_oversized_body_is_refused(client, site_and_key, settings):
    _site, key = site_and_key
    answer = client.post(
        ANALYZE,
        params={"key": key},
        content=b"{" + b" " * 3_000_000 + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 413
    assert answer.json()["error"]["message"].startswith("Request payload size exceeds the limit")


def test_analysis_without_storing_reads_only_the_key(site_and_key, django_assert_num_queries):
    from django.test import Client

    _site, key = site_and_key
    body = coral("Tu es un connard.", "fr")
    assert (
        Client().post(f"{ANALYZE}?key={key}", data=body, content_type="application/json").status_code == 200
    )
    # The key, and a claim of this minute's requests for it (the per-key limit; the minute's first
    # request also forgets the minutes before).
    with django_assert_num_queries(2):
        answer = Client().post(f"{ANALYZE}?key={key}", data=body, content_type="application/json")
    assert answer.status_code == 200


def test_a_key_has_the_sites_per_minute_limit(client, make_org, make_site, monkeypatch):
    """A key holder (or whoever read it off the site's pages) cannot make the shared server analyse
    and store comments without bound: the site's per-minute limit holds here as on the Akismet
    paths, answered in Google's shape for a quota."""
    monkeypatch.setenv("PALABRE_AKISMET_RATE_LIMIT", "2")
    _site, key = make_site(make_org())
    _other, other_key = make_site(make_org(), url="https://forum.example.org")
    for _ in range(2):
        assert analyze(client, key, coral("Merci pour cet article.", "fr")).status_code == 200
    refused = analyze(client, key, coral("Merci pour cet article.", "fr"))
    assert refused.status_code == 429
    assert refused.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    wait = int(refused.headers["Retry-After"])
    assert 1 <= wait <= 60
    assert refused.json()["error"]["details"][0]["retryDelay"] == f"{wait}s"
    # Each site its own count: another organisation's key is untouched.
    assert analyze(client, other_key, coral("Merci pour cet article.", "fr")).status_code == 200
