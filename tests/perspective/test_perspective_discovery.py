"""Google's own discovery-based client (google-api-python-client) against Palabre's server."""

from __future__ import annotations

import httpx
import pytest

from palabre.orgs.services import Actor

discovery = pytest.importorskip("googleapiclient.discovery")
googleapiclient_errors = pytest.importorskip("googleapiclient.errors")

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def key(make_org, owner_of):
    from palabre.moderation.services import create_moderation_site

    organisation = make_org()
    _site, key = create_moderation_site(
        actor=Actor.for_user(owner_of(organisation), organisation), name="Blog", url="https://blog.example.fr"
    )
    return key


def build(live_server, key):
    return discovery.build(
        "commentanalyzer",
        "v1alpha1",
        discoveryServiceUrl=live_server.url + "/$discovery/rest?version={apiVersion}",
        developerKey=key,
        static_discovery=False,
        cache_discovery=False,
    )


def test_discovery_document_points_at_this_server(live_server):
    answer = httpx.get(live_server.url + "/$discovery/rest", params={"version": "v1alpha1"})
    assert answer.status_code == 200
    document = answer.json()
    assert document["rootUrl"] == live_server.url + "/"
    assert document["resources"]["comments"]["methods"]["analyze"]["path"] == "v1alpha1/comments:analyze"
    methods = document["resources"]["comments"]["methods"]
    assert methods["suggestscore"]["path"] == "v1alpha1/comments:suggestscore"
    assert document["supportedLanguages"] == ["fr", "en"]
    assert "INSULT_EXPERIMENTAL" in document["supportedAttributes"]
    assert httpx.get(live_server.url + "/$discovery/rest", params={"version": "v1"}).status_code == 404


def test_googles_client_analyzes_a_comment(live_server, key):
    client = build(live_server, key)
    body = {
        "comment": {"text": "You are a stupid idiot, shut up."},
        "languages": ["en"],
        "requestedAttributes": {"TOXICITY": {}, "INSULT": {"scoreThreshold": 0.2}},
        "spanAnnotations": True,
        "doNotStore": True,
        "clientToken": "t-1",
    }
    answer = client.comments().analyze(body=body).execute()
    assert answer["clientToken"] == "t-1" and answer["languages"] == ["en"]
    assert answer["attributeScores"]["TOXICITY"]["summaryScore"]["value"] > 0.7
    assert answer["attributeScores"]["INSULT"]["spanScores"][0]["begin"] == 0


def test_googles_client_sees_perspective_errors(live_server, key):
    client = build(live_server, key)
    with pytest.raises(googleapiclient_errors.HttpError) as caught:
        client.comments().analyze(
            body={"comment": {"text": ""}, "requestedAttributes": {"TOXICITY": {}}}
        ).execute()
    assert caught.value.status_code == 400
    assert caught.value.error_details[0]["errorType"] == "COMMENT_EMPTY"
    with pytest.raises(googleapiclient_errors.HttpError) as caught:
        build(live_server, "wrong-key").comments().analyze(
            body={"comment": {"text": "Hello"}, "requestedAttributes": {"TOXICITY": {}}}
        ).execute()
    assert (
        caught.value.status_code == 400
        and caught.value.reason == "API key not valid. Please pass a valid API key."
    )


def test_googles_client_suggests_a_score(live_server, key):
    from palabre.moderation.models import ModerationDecision

    client = build(live_server, key)
    body = {
        "comment": {"text": "You are a stupid idiot, shut up."},
        "attributeScores": {"TOXICITY": {"summaryScore": {"value": 1}}},
        "languages": ["en"],
        "clientToken": "t-2",
    }
    answer = client.comments().suggestscore(body=body).execute()
    assert answer == {"detectedLanguages": ["en"], "requestedLanguages": ["en"], "clientToken": "t-2"}
    decision = ModerationDecision.objects.get(source="moderator", item__external_id="perspective:t-2")
    assert decision.action == "reject"
    with pytest.raises(googleapiclient_errors.HttpError) as caught:
        client.comments().suggestscore(body={**body, "attributeScores": {}}).execute()
    assert caught.value.status_code == 400
    assert caught.value.error_details[0]["errorType"] == "INVALID_REQUEST"
