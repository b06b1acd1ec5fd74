"""comments:suggestscore (a moderator's correction) and Perspective's other attribute names, over HTTP."""

from __future__ import annotations

import json

import httpx
import pytest

from palabre.conversations.models import Item
from palabre.moderation.models import ModerationDecision
from palabre.orgs.models import AuditEvent
from palabre.orgs.services import Actor

pytestmark = pytest.mark.django_db(transaction=True)

ANALYZE = "/v1alpha1/comments:analyze"
SUGGEST = "/v1alpha1/comments:suggestscore"


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
def client(live_server):
    with httpx.Client(base_url=live_server.url, timeout=30) as http:
        yield http


def coral_analyze(text):
    """Coral's analyze request (server/src/core/server/services/perspective/perspective.ts)."""
    return {
        "comment": {"text": text},
        "doNotStore": True,
        "requestedAttributes": {"TOXICITY": {}},
        "languages": ["fr"],
    }


def coral_suggest(text, comment_id, status, model="TOXICITY"):
    """Coral's feedback when a moderator approves or rejects a comment (the same file)."""
    return {
        "comment": {"text": text},
        "context": {
            "entries": [
                {
                    "text": json.dumps(
                        {
                            "url": f"https://journal.example.fr/article?commentID={comment_id}",
                            "reply_to_id_Coral_comment_id": None,
                            "Coral_comment_id": comment_id,
                        }
                    )
                }
            ]
        },
        "attributeScores": {model: {"summaryScore": {"value": 0 if status == "APPROVED" else 1}}},
        "languages": ["fr"],
        "communityId": "Coral:journal.example.fr",
        "clientToken": f"comment:{comment_id}",
    }


def moderator_decisions(site):
    return list(
        ModerationDecision.objects.filter(
            item__channel=site.channel, source=ModerationDecision.Source.MODERATOR
        ).values_list("item__external_id", "action")
    )


def test_corals_feedback_becomes_a_moderators_correction_for_training(client, make_site):
    from palabre.moderation.services import feedback_for_training

    site, key = make_site()
    rude, fine = "T'es qu'un gros nul, dégage.", "Article très intéressant, merci."
    items_before = Item.objects.count()
    for text in (rude, fine):  # Coral analyses with doNotStore: nothing is kept
        assert client.post(ANALYZE, params={"key": key}, json=coral_analyze(text)).status_code == 200
    assert Item.objects.count() == items_before

    answer = client.post(SUGGEST, params={"key": key}, json=coral_suggest(rude, "c-1", "DELETED"))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "detectedLanguages": ["fr"],
        "requestedLanguages": ["fr"],
        "clientToken": "comment:c-1",
    }
    answer = client.post(SUGGEST, params={"key": key}, json=coral_suggest(fine, "c-2", "APPROVED"))
    assert answer.status_code == 200, answer.text
    assert sorted(moderator_decisions(site)) == [
        ("perspective:comment:c-1", "reject"),
        ("perspective:comment:c-2", "approve"),
    ]
    item = Item.objects.get(channel=site.channel, external_id="perspective:comment:c-1")
    assert item.text == rude and item.organisation_id == site.organisation_id
    assert item.moderation.status == "rejected"
    assert item.raw["communityId"] == "Coral:journal.example.fr"
    training = feedback_for_training()
    assert {"text": rude, "label": "toxic"} in training and {"text": fine, "label": "ok"} in training
    audit = AuditEvent.objects.filter(organisation=site.organisation, action="moderation.reject").get()
    assert audit.actor_label == "perspective:Blog"

    # The same feedback again teaches nothing more; a changed mind is a new decision.
    client.post(SUGGEST, params={"key": key}, json=coral_suggest(rude, "c-1", "DELETED"))
    assert len(moderator_decisions(site)) == 2
    client.post(SUGGEST, params={"key": key}, json=coral_suggest(rude, "c-1", "APPROVED"))
    assert len(moderator_decisions(site)) == 3
    assert Item.objects.get(pk=item.pk).moderation.status == "approved"


def test_suggestion_corrects_the_comment_analysed_with_the_same_token(client, make_site):
    site, key = make_site()
    body = {
        "comment": {"text": "Achetez mes montres pas chères sur www.montres-pas-cheres.example !"},
        "languages": ["fr"],
        "requestedAttributes": {"SPAM": {}},
        "clientToken": "forum-42",
    }
    assert client.post(ANALYZE, params={"key": key}, json=body).status_code == 200
    items = Item.objects.count()
    suggestion = {
        "comment": body["comment"],
        "attributeScores": {"SPAM": {"summaryScore": {"value": 1, "type": "PROBABILITY"}}},
        "clientToken": "forum-42",
    }
    answer = client.post(SUGGEST, params={"key": key}, json=suggestion)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"detectedLanguages": ["fr"], "clientToken": "forum-42"}
    assert Item.objects.count() == items
    assert moderator_decisions(site) == [("perspective:forum-42", "spam")]
    # Without a token, the text names the comment analysed without one.
    untokened = {**body, "clientToken": "", "comment": {"text": "Merci pour ce bel article !"}}
    assert client.post(ANALYZE, params={"key": key}, json=untokened).status_code == 200
    suggestion = {
        "comment": untokened["comment"],
        "attributeScores": {"TOXICITY@6": {"summaryScore": {"value": 0}}},
    }
    assert client.post(SUGGEST, params={"key": key}, json=suggestion).status_code == 200
    assert Item.objects.count() == items + 1
    assert ("approve" in dict(moderator_decisions(site)).values()) and len(moderator_decisions(site)) == 2


def test_one_sites_suggestion_never_touches_another_organisations_comment(client, make_org, make_site):
    site, key = make_site(make_org())
    other_site, other_key = make_site(make_org(), url="https://forum.example.org")
    body = {
        "comment": {"text": "Tu es un connard."},
        "languages": ["fr"],
        "requestedAttributes": {"TOXICITY": {}},
        "clientToken": "same-token",
    }
    assert client.post(ANALYZE, params={"key": key}, json=body).status_code == 200
    suggestion = {
        "comment": body["comment"],
        "attributeScores": {"TOXICITY": {"summaryScore": {"value": 0}}},
        "languages": ["fr"],
        "clientToken": "same-token",
    }
    assert client.post(SUGGEST, params={"key": other_key}, json=suggestion).status_code == 200
    assert moderator_decisions(site) == []
    assert moderator_decisions(other_site) == [("perspective:same-token", "approve")]


def _error(answer, error_type=None, code=400):
    assert answer.status_code == code, answer.text
    error = answer.json()["error"]
    if error_type:
        assert error["details"][0]["errorType"] == error_type
    return error


@pytest.mark.parametrize(
    ("scores", "message"),
    [
        ({}, "attribute_scores must not be empty."),
        ({"TOXICITY": {}}, "The scores of attribute TOXICITY must not be empty."),
        ({"TOXICITY": {"spanScores": []}}, "The scores of attribute TOXICITY must not be empty."),
        ({"FLIRTATION": {"summaryScore": {"value": 1}}}, "Unknown attribute: FLIRTATION"),
        (
            {"TOXICITY": {"summaryScore": {"value": 1.5}}},
            "Score of attribute TOXICITY must be set, between 0 and 1 (attribute_scores[TOXICITY].summary_score.value)",
        ),
        (
            {"TOXICITY": {"summaryScore": {"type": "PROBABILITY"}}},
            "Score of attribute TOXICITY must be set, between 0 and 1 (attribute_scores[TOXICITY].summary_score.value)",
        ),
        (
            {"TOXICITY": {"spanScores": [{"score": {"value": 1}}]}},
            "Span score attribute_scores[TOXICITY].span_scores[0] must have begin <= end set.",
        ),
    ],
)
def test_malformed_suggestions_are_refused_and_store_nothing(client, make_site, scores, message):
    _site, key = make_site()
    before = ModerationDecision.objects.count(), Item.objects.count()
    body = {"comment": {"text": "Tu es nul."}, "languages": ["fr"], "attributeScores": scores}
    error = _error(client.post(SUGGEST, params={"key": key}, json=body), "INVALID_REQUEST")
    assert error["message"] == message
    assert (ModerationDecision.objects.count(), Item.objects.count()) == before


def test_suggestion_errors_in_perspectives_shape(client, make_site):
    _site, key = make_site()
    scores = {"TOXICITY": {"summaryScore": {"value": 1}}}
    body = {"comment": {"text": "Du bist ein Idiot."}, "languages": ["de"], "attributeScores": scores}
    error = _error(
        client.post(SUGGEST, params={"key": key}, json=body), "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE"
    )
    assert error["message"] == "Attribute TOXICITY does not support request languages: de"
    _error(
        client.post(SUGGEST, params={"key": key}, json={"comment": {"text": " "}, "attributeScores": scores}),
        "COMMENT_EMPTY",
    )
    assert _error(client.post(SUGGEST, params={"key": "nope"}, json=body))["message"].startswith(
        "API key not valid"
    )
    answer = client.post(
        SUGGEST, params={"key": key}, json={"comment": {"text": "x"}, "attributeScore": scores}
    )
    assert _error(answer)["message"].startswith(
        'Invalid JSON payload received. Unknown name "attributeScore"'
    )
    assert client.get(SUGGEST, params={"key": key}).status_code == 405


@pytest.mark.parametrize(
    "name", ["TOXICITY@6", "INSULT_EXPERIMENTAL", "TOXICITY_EXPERIMENTAL", "THREAT_EXPERIMENTAL@1"]
)
def test_versioned_and_experimental_names_are_answered_under_the_name_asked(client, make_site, name):
    _site, key = make_site()
    body = {
        "comment": {"text": "You are a stupid idiot, I will kill you."},
        "languages": ["en"],
        "requestedAttributes": {name: {}, "TOXICITY": {}},
        "doNotStore": True,
    }
    answer = client.post(ANALYZE, params={"key": key}, json=body)
    assert answer.status_code == 200, answer.text
    scores = answer.json()["attributeScores"]
    assert list(scores) == [name, "TOXICITY"]
    assert scores[name]["summaryScore"]["value"] > 0.5
    if name.startswith("TOXICITY"):
        assert scores[name] == scores["TOXICITY"]


@pytest.mark.parametrize("name", ["TOXICITY@", "TOXICITY@six", "FLIRTATION", "SPAM_EXPERIMENTAL", "toxicity"])
def test_names_perspective_does_not_document_stay_unknown(client, make_site, name):
    _site, key = make_site()
    body = {
        "comment": {"text": "Hello"},
        "languages": ["en"],
        "requestedAttributes": {name: {}},
        "doNotStore": True,
    }
    error = _error(client.post(ANALYZE, params={"key": key}, json=body), "INVALID_REQUEST")
    assert error["message"] == f"Unknown requested attribute: {name}"


def test_unsupported_language_names_the_attribute_as_asked(client, make_site):
    _site, key = make_site()
    body = {
        "comment": {"text": "Ciao, come stai?"},
        "languages": ["it"],
        "requestedAttributes": {"TOXICITY@6": {}},
        "doNotStore": True,
    }
    error = _error(
        client.post(ANALYZE, params={"key": key}, json=body), "LANGUAGE_NOT_SUPPORTED_BY_ATTRIBUTE"
    )
    assert error["message"] == "Attribute TOXICITY@6 does not support request languages: it"
    assert error["details"][0]["languageNotSupportedByAttributeError"] == {
        "requestedLanguages": ["it"],
        "attribute": "TOXICITY@6",
    }
