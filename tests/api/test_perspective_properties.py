"""Property test of the Perspective-compatible API (hypothesis): any JSON body, and any bytes,
posted to comments:analyze get a 200 with scores or a 4xx in Google's error shape, never a 500."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from palabre.compat.perspective.parsing import ATTRIBUTES, SCORE_TYPES, TEXT_TYPES
from palabre.orgs.services import Actor

pytestmark = pytest.mark.django_db
ANALYZE = "/v1alpha1/comments:analyze"

FIELD_NAMES = [
    "comment", "context", "requestedAttributes", "requested_attributes", "languages", "doNotStore",
    "do_not_store", "clientToken", "sessionId", "communityId", "spanAnnotations",
    "dropUnsupportedAttributes", "text", "type", "entries", "articleAndParentComment", "article",
    "parentComment", "scoreType", "scoreThreshold",
]  # fmt: skip
TEXTS = st.one_of(
    st.text(max_size=80),
    st.sampled_from(
        ["Bonjour, merci pour la livraison rapide !", "Espèce de crétin, dégage.", "ok", " ", ""]
    ),
)
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True), TEXTS
)
ANY_JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=10)), inner, max_size=4),
    ),
    max_leaves=20,
)


@st.composite
def near_requests(draw) -> dict:
    """Requests shaped like Perspective's, each part either right or drawn from anything."""

    def part(right):
        return draw(st.one_of(right, ANY_JSON)) if draw(st.booleans()) else draw(right)

    attributes = st.dictionaries(
        st.one_of(st.sampled_from(ATTRIBUTES), st.text(max_size=12)),
        st.fixed_dictionaries(
            {},
            optional={
                "scoreType": st.sampled_from(SCORE_TYPES),
                "scoreThreshold": st.one_of(st.floats(), st.text(max_size=6), st.integers()),
            },
        ),
        max_size=3,
    )
    body = {
        "comment": part(
            st.fixed_dictionaries({"text": TEXTS}, optional={"type": st.sampled_from(TEXT_TYPES)})
        ),
        "requestedAttributes": part(attributes),
        "doNotStore": part(st.just(True)),
    }
    optional = {
        "languages": st.lists(st.sampled_from(["fr", "en", "de", "", "FR", "fr-CA", "zz"]), max_size=3),
        "spanAnnotations": st.booleans(),
        "dropUnsupportedAttributes": st.booleans(),
        "clientToken": st.text(max_size=20),
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


def _post(key: str, body: bytes):
    client = Client(raise_request_exception=False)
    return client.post(f"{ANALYZE}?key={key}", data=body, content_type="application/json")


def _answers_200_or_a_google_error(response) -> None:
    assert response.status_code < 500, response.content[:500]
    answer = json.loads(response.content)
    if response.status_code == 200:
        assert "attributeScores" in answer
    else:
        assert 400 <= response.status_code < 500
        error = answer["error"]
        assert error["code"] == response.status_code
        assert isinstance(error["message"], str) and error["message"]
        assert isinstance(error["status"], str) and error["status"].isupper()


PROPERTY = settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@PROPERTY
@given(body=st.one_of(near_requests(), ANY_JSON))
@example(body={"comment": {"text": "\ud800 lone surrogate"}, "requestedAttributes": {"TOXICITY": {}}})
@example(body={"comment": {"text": "a"}, "requestedAttributes": {"TOXICITY": {"scoreThreshold": "NaN"}}})
@example(
    body={"comment": {"text": "stored \udfff"}, "requestedAttributes": {"TOXICITY": {}}, "doNotStore": False}
)
def test_any_json_body_gets_scores_or_a_perspective_error(key, body):
    _answers_200_or_a_google_error(_post(key, json.dumps(body).encode()))


@PROPERTY
@given(raw=st.binary(max_size=200))
@example(raw=b"[" * 100_000 + b"]" * 100_000)
@example(raw=b'{"comment": ' * 5000 + b"1" + b"}" * 5000)
@example(raw=b'{"comment": {"text": "caf\xe9"}}')
@example(raw=b"NaN")
def test_any_bytes_get_a_perspective_error_or_scores(key, raw):
    _answers_200_or_a_google_error(_post(key, raw))
