"""Property test of comments:suggestscore (hypothesis): any JSON body near Perspective's request gets a
200 in Perspective's shape or a 4xx in Google's error shape, never a 500, and a refused body stores
nothing."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from palabre.compat.perspective.parsing import ATTRIBUTES, EXPERIMENTAL_ATTRIBUTES, SCORE_TYPES, TEXT_TYPES
from palabre.conversations.models import Item
from palabre.moderation.models import ModerationDecision
from palabre.orgs.services import Actor

pytestmark = pytest.mark.django_db
SUGGEST = "/v1alpha1/comments:suggestscore"

TEXTS = st.one_of(
    st.text(max_size=60),
    st.sampled_from(["Bonjour, merci pour la livraison rapide !", "You are a stupid idiot.", "ok", " ", ""]),
)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), TEXTS)
ANY_JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=12), inner, max_size=3)
    ),
    max_leaves=12,
)
VALID_TEXTS = st.sampled_from(
    ["Bonjour, merci pour la livraison rapide !", "You are a stupid idiot, shut up.", "Tu es un connard."]
)
NAMES = st.one_of(
    st.sampled_from([*ATTRIBUTES, *EXPERIMENTAL_ATTRIBUTES, "TOXICITY@6"]),
    st.sampled_from(["TOXICITY@", "FLIRTATION"]),
    st.text(max_size=10),
)
VALUES = st.one_of(st.sampled_from([0, 1, 0.25, 0.75]), st.floats(), st.integers(), st.text(max_size=4))
SCORE = st.fixed_dictionaries({"value": VALUES}, optional={"type": st.sampled_from(SCORE_TYPES)})
SPAN = st.fixed_dictionaries({}, optional={"begin": st.integers(), "end": st.integers(), "score": SCORE})
ATTRIBUTE_SCORES = st.one_of(
    st.fixed_dictionaries({"summaryScore": SCORE}),
    st.fixed_dictionaries({}, optional={"summaryScore": SCORE, "spanScores": st.lists(SPAN, max_size=2)}),
)


@st.composite
def near_suggestions(draw) -> dict:
    def part(right):
        return draw(st.one_of(right, ANY_JSON)) if draw(st.booleans()) else draw(right)

    body = {
        "comment": part(
            st.fixed_dictionaries({"text": TEXTS}, optional={"type": st.sampled_from(TEXT_TYPES)})
        ),
        "attributeScores": part(st.dictionaries(NAMES, ATTRIBUTE_SCORES, min_size=1, max_size=3)),
    }
    optional = {
        "languages": st.lists(st.sampled_from(["fr", "en", "de", "", "fr-CA", "zz"]), max_size=2),
        "clientToken": st.text(max_size=20),
        "communityId": st.text(max_size=10),
        "context": st.fixed_dictionaries(
            {"entries": st.lists(st.fixed_dictionaries({"text": TEXTS}), max_size=2)}
        ),
    }
    for name, right in optional.items():
        if draw(st.booleans()):
            body[name] = part(right)
    return body


@pytest.fixture
def key(make_org, owner_of):
    from palabre.moderation.services import create_moderation_site

    organisation = make_org()
    _site, plaintext = create_moderation_site(
        actor=Actor.for_user(owner_of(organisation), organisation), name="Blog", url="https://blog.example.fr"
    )
    return plaintext


@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=near_suggestions())
@example(body={"comment": {"text": "Tu es un connard."}, "attributeScores": {"TOXICITY": {"spanScores": []}}})
def test_any_suggestion_gets_perspectives_answer_or_a_google_error(key, body):
    before = ModerationDecision.objects.count(), Item.objects.count()
    client = Client(raise_request_exception=False)
    response = client.post(f"{SUGGEST}?key={key}", data=json.dumps(body), content_type="application/json")
    assert response.status_code < 500, response.content[:500]
    answer = json.loads(response.content)
    if response.status_code == 200:
        assert set(answer) <= {"detectedLanguages", "requestedLanguages", "clientToken"}
    else:
        assert 400 <= response.status_code < 500
        error = answer["error"]
        assert error["code"] == response.status_code and error["message"] and error["status"].isupper()
        assert (ModerationDecision.objects.count(), Item.objects.count()) == before
