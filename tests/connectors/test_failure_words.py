"""The three failures a person must act on (network, authentication, permission) read in their
language on the channel's page, the health list and the alert mail, with the next step; in French,
no English words leak around the platform's own answer (kept as the detail, untranslated)."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.urls import reverse

from palabre.connectors.base import PermissionMissing, TokenExpired, TransientError
from palabre.connectors.sync import pull_channel

pytestmark = pytest.mark.django_db

FAILURES = {
    "network": TransientError("Mastodon piaille.fr: the server did not answer in time"),
    "authentication": TokenExpired("Mastodon 401: the access token is invalid or revoked"),
    "permission": PermissionMissing("Mastodon: the access token lacks the permission(s) write:statuses"),
}
# What each failure tells the person to do, in each language.
NEXT_STEP = {
    ("network", "en"): "Palabre tries again by itself",
    ("network", "fr"): "réessaie de lui-même",
    ("authentication", "en"): "Replace them on the channel's page",
    ("authentication", "fr"): "Remplacez-les sur la page du canal",
    ("permission", "en"): "Create a token or app password with it",
    ("permission", "fr"): "Créez un jeton ou un mot de passe d’application",
}
# Words of the English interface that have no business in a French page or mail.
ENGLISH = re.compile(
    r"\b(the|and|will|retry|retried|tries|channel|credentials|failed|failing|replace|token|"
    r"connection|permission\(s\)|missing|network|reconnect|by hand|next step|error)\b",
    re.IGNORECASE,
)


def _visible(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", text)


def _english_left(text: str, detail: str) -> list[str]:
    text = text.replace(detail, " ")
    text = re.sub(r"https?://\S+", " ", text)
    return sorted({word.lower() for word in ENGLISH.findall(text)})


@pytest.fixture
def signed_in(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def failed(counting, forum, owner, org, monkeypatch, django_capture_on_commit_callbacks, request):
    """The forum channel failed four times with this failure (the alert goes at the third)."""

    def fail(kind: str, language: str):
        monkeypatch.setenv("PALABRE_LISTENING_PUBLIC_URL", "https://palabre.maison-dupont.fr")
        owner.email = "patronne@maison-dupont.fr"
        owner.save()
        org.language = language
        org.save()
        for _ in range(4):
            counting.script = [FAILURES[kind]]
            with django_capture_on_commit_callbacks(execute=True):
                pull_channel(forum.pk, force=True)
        return FAILURES[kind]

    return fail


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("kind", sorted(FAILURES))
def test_the_pages_say_each_failure_and_its_next_step(signed_in, forum, failed, kind, language):
    error = failed(kind, language)
    signed_in.post(reverse("language"), {"language": language, "next": "/"})
    for url in (reverse("connectors:channel", args=[forum.pk]), reverse("connectors:health")):
        text = _visible(signed_in.get(url).content.decode())
        assert (
            NEXT_STEP[(kind, language)].replace("'", "&#x27;") in text or NEXT_STEP[(kind, language)] in text
        )
        if language == "fr":
            # The health list cuts the detail at 120 characters: drop what remains of it too.
            left = _english_left(text, str(error))
            left = [word for word in left if word not in str(error).lower()]
            assert left == [], f"English in the French page {url}: {left}"
        else:
            assert _english_left(text, str(error))  # the detector does see English


@pytest.mark.parametrize("language", ["en", "fr"])
@pytest.mark.parametrize("kind", sorted(FAILURES))
def test_the_alert_mail_says_each_failure_its_next_step_and_links_absolutely(forum, failed, kind, language):
    error = failed(kind, language)
    message = mail.outbox[-1]
    body = message.body
    assert NEXT_STEP[(kind, language)] in body
    assert "https://palabre.maison-dupont.fr" + reverse("connectors:channel", args=[forum.pk]) in body
    assert str(error) in body  # the platform's own answer, as the detail
    english = _english_left(message.subject + "\n" + body, str(error))
    assert english == [] if language == "fr" else english
