"""A listening source's settings, checked before they are stored: each faulty setting is named.
(What each kind of source searches is tested with its connector: tests/connectors/<platform>/.)"""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from palabre.listening.sources import validate_config

# --- configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "config", "field"),
    [
        ("rss", {"url": "not a url"}, "config.url"),
        ("rss", {}, "config.url"),
        ("mastodon_hashtag", {"instance": "https://piaille.fr", "hashtag": "two words"}, "config.hashtag"),
        ("bluesky_jetstream", {"endpoint": "https://not-a-websocket"}, "config.endpoint"),
        ("bluesky_jetstream", {"max_events": 0}, "config.max_events"),
        ("reddit_search", {"query": ""}, "config.query"),
        ("reddit_search", {"query": "x", "subreddit": "a/b"}, "config.subreddit"),
    ],
)
def test_invalid_configs_name_the_setting(kind, config, field):
    with pytest.raises(ValidationError) as error:
        validate_config(kind, config)
    assert field in error.value.message_dict
