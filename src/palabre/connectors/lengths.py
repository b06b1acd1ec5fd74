"""How long a text is for each platform, counted the way the platform counts it, and its limit.

- Mastodon: user-perceived characters (grapheme clusters), every link counts 23, a mention
  `@name@domain` counts as `@name`; 500 unless the instance says otherwise
  (`configuration.statuses.max_characters`, kept in the channel's options as `max_characters`).
- Bluesky: 300 grapheme clusters.
- X: 280 in X's weighted count (twitter-text's rules: most scripts' letters count 2, links 23,
  an emoji 2), through the twitter-text-parser package.
- E-mail, the site, RSS: no limit.

Grapheme clusters come from the `regex` package's `\\X` (Unicode's extended grapheme clusters),
the same segmentation browsers' `Intl.Segmenter` gives the live counter.
"""

from __future__ import annotations

from dataclasses import dataclass

import regex

from palabre.orgs.models import Channel, Platform

_GRAPHEME = regex.compile(r"\X")
# Mastodon's own patterns are broader; these match what people paste: http(s) links and
# fediverse mentions.
_URL = regex.compile(r"(?i)\bhttps?://[^\s<>\"]+")
_MENTION = regex.compile(r"(?<![\w@/])@([\w.+-]+)@[\w.-]+\w")
LINK_LENGTH = 23


@dataclass(frozen=True)
class TextLimit:
    max_chars: int
    counting: str  # "mastodon", "graphemes" or "x"

    def length(self, text: str) -> int:
        return length(text, self.counting)


LIMITS: dict[str, TextLimit] = {
    Platform.MASTODON: TextLimit(500, "mastodon"),
    Platform.BLUESKY: TextLimit(300, "graphemes"),
    Platform.X: TextLimit(280, "x"),
}


def graphemes(text: str) -> int:
    return len(_GRAPHEME.findall(text))


def length(text: str, counting: str) -> int:
    if counting == "x":
        # Imported here: its patterns take a fifth of a second to build, which every Palabre
        # process would pay at start-up.
        from twitter_text import parse_tweet

        return parse_tweet(text).weightedLength
    if counting == "mastodon":
        text = _URL.sub("x" * LINK_LENGTH, text)
        text = _MENTION.sub(lambda m: f"@{m.group(1)}", text)
    return graphemes(text)


def limit_for(channel: Channel) -> TextLimit | None:
    """The channel's limit, or None where the platform has none (e-mail, the site)."""
    found = LIMITS.get(channel.platform)
    if found is None:
        return None
    custom = (channel.options or {}).get("max_characters")
    if channel.platform == Platform.MASTODON and isinstance(custom, int) and custom > 0:
        return TextLimit(custom, found.counting)
    return found
