"""Listening's way in through connectors: `search(kind, config, cursor)` answers a page of
candidates or a SearchError whose code listening says in words; the platform's reading is the
channel side's (one Mastodon status mapping, one feed entry parsing)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from palabre.connectors import mastodon, search
from palabre.connectors.base import (
    MalformedPayload,
    PermanentError,
    RateLimited,
    TokenExpired,
    TransientError,
)
from palabre.connectors.search import SearchError, SearchMalformed, SearchRateLimited

STATUSES = Path(__file__).parent / "mastodon" / "fixtures" / "hashtag_timeline.json"


def test_an_unknown_kind_is_a_search_error():
    with pytest.raises(SearchError, match="carrier_pigeon") as error:
        search.search("carrier_pigeon", {}, {})
    assert error.value.code == "unreachable"


@pytest.mark.parametrize(
    ("error", "kind", "code"),
    [
        (RateLimited("slow down", retry_after=30), SearchRateLimited, "rate_limited"),
        (MalformedPayload("a status lacks 'id'"), SearchMalformed, "malformed"),
        (TransientError("no answer"), SearchError, "unreachable"),
        (TokenExpired("401"), SearchError, "refused"),
        (PermanentError("404"), SearchError, "refused"),
    ],
)
def test_a_channel_side_error_reads_as_a_search_one(error, kind, code):
    translated = search.from_connector_error(error)
    assert type(translated) is kind and translated.code == code and str(translated) == str(error)
    if isinstance(error, RateLimited):
        assert translated.retry_after == 30


def test_a_setting_missing_from_the_config_is_a_malformed_answer_not_a_crash():
    with pytest.raises(SearchMalformed):
        search.search("rss", {}, {})


def test_a_mastodon_status_is_read_once_for_the_channel_and_for_listening():
    status = json.loads(STATUSES.read_text(encoding="utf-8"))[0]
    status["created_at"] = datetime(2024, 5, 6, 9, 12, 33, tzinfo=UTC)  # as Mastodon.py parses it
    item = mastodon.MastodonConnector().parse_status(status, host="piaille.example")
    candidate = mastodon.status_candidate(status, "https://piaille.example")
    assert candidate.text == item.text and candidate.published_at == item.created_at
    assert candidate.author_reach == item.author.followers == 1840
    assert candidate.external_id == status["uri"] and item.external_id == status["id"]
    with pytest.raises(MalformedPayload):
        mastodon.status_candidate({"content": "<p>no id</p>"}, "https://piaille.example")
