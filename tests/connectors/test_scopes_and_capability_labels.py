"""The OAuth flow hands connectors oauthlib's parsed token, whose scope is a list: what a connector
stores must read as the platform's own space-separated scopes. And each capability has its words."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from palabre.connectors.base import scope_text
from palabre.connectors.linkedin import LinkedInConnector
from palabre.connectors.x import XConnector

NOW = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("scope", "text"),
    [
        (["tweet.read", "users.read"], "tweet.read users.read"),
        (("a", "b"), "a b"),
        ("tweet.read users.read", "tweet.read users.read"),
        (None, ""),
    ],
)
def test_scope_text_reads_a_list_or_a_string(scope, text):
    assert scope_text(scope) == text


@pytest.mark.parametrize("connector_class", [XConnector, LinkedInConnector])
def test_a_parsed_token_stores_its_scopes_as_the_platform_writes_them(connector_class):
    token = {"access_token": "t", "expires_in": 7200, "scope": ["tweet.read", "offline.access"]}
    credentials = connector_class().credentials_from_token(None, token, now=NOW)
    assert credentials["scope"] == "tweet.read offline.access"


def test_every_capability_has_its_label_in_french():
    from django.utils import translation

    from palabre.connectors.base import Capability

    with translation.override("fr"):
        labels = {capability: str(capability.label) for capability in Capability}
    assert labels[Capability.HIDE] == "Masquer" and labels[Capability.PRIVATE_REPLY] == "Répondre en privé"
    assert all(label and label != capability.value for capability, label in labels.items())
