"""What each platform accepts in one post: length (counted the way the platform counts) and media.

Numbers from the platforms' documentation; a Mastodon instance may raise its limit, recorded in the
channel's options as `max_characters`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from palabre.connectors import lengths
from palabre.orgs.models import Channel, Platform


@dataclass(frozen=True)
class PlatformLimits:
    max_chars: int | None
    max_media: int
    media_types: tuple[str, ...] = ("image/", "video/")
    needs_media: bool = False
    count: str = "chars"  # chars, graphemes, mastodon (links 23, @user@domain as @user), x (weighted)
    max_videos: int | None = None
    max_image_bytes: int | None = None  # what the platform takes for one picture


LIMITS: dict[str, PlatformLimits] = {
    Platform.X: PlatformLimits(280, 4, count="x", max_videos=1, max_image_bytes=5_000_000),
    Platform.MASTODON: PlatformLimits(500, 4, count="mastodon"),
    # Bluesky's blob limit for an image is 1,000,000 bytes.
    Platform.BLUESKY: PlatformLimits(300, 4, count="graphemes", max_videos=1, max_image_bytes=1_000_000),
    Platform.INSTAGRAM: PlatformLimits(2200, 10, needs_media=True, max_image_bytes=8_000_000),
    Platform.FACEBOOK: PlatformLimits(63206, 10),
    Platform.YOUTUBE: PlatformLimits(5000, 1, media_types=("video/",), needs_media=True),
    Platform.REDDIT: PlatformLimits(40000, 20),
    Platform.DISCOURSE: PlatformLimits(32000, 10),
    # Discord's message content limit; LinkedIn's commentary; an IRC line (512 bytes with the
    # command and target: the connector splits longer text).
    Platform.DISCORD: PlatformLimits(2000, 10),
    Platform.LINKEDIN: PlatformLimits(3000, 9),
    Platform.IRC: PlatformLimits(400, 0, media_types=()),
    Platform.EMAIL: PlatformLimits(None, 10, media_types=("",)),
    Platform.SITE: PlatformLimits(None, 10),
    Platform.RSS: PlatformLimits(None, 10),
}


def limits_for(channel: Channel) -> PlatformLimits:
    limits = LIMITS.get(channel.platform, PlatformLimits(None, 10))
    custom = (channel.options or {}).get("max_characters")
    if isinstance(custom, int) and custom > 0:
        limits = PlatformLimits(
            custom,
            limits.max_media,
            limits.media_types,
            limits.needs_media,
            limits.count,
            limits.max_videos,
            limits.max_image_bytes,
        )
    return limits


def length(text: str, how: str) -> int:
    """The text's length as the platform counts it: one counting for posts and replies, the
    connectors' (`palabre.connectors.lengths`: twitter-text for X, grapheme clusters, Mastodon's
    links and mentions)."""
    if how in {"graphemes", "mastodon", "x"}:
        return lengths.length(text, how)
    return len(text)


COUNTING_RULES = {
    "x": gettext_lazy("Links count as 23 characters; emoji and CJK characters count double."),
    "mastodon": gettext_lazy("Links count as 23 characters; a mention counts its user name only."),
    "graphemes": gettext_lazy(
        "Counted as people see characters: an emoji or an accented letter counts once."
    ),
}


def counter(channel: Channel, text: str) -> dict:
    """What the editor's counter shows: the size as the platform counts it, its limit, what is left."""
    limits = limits_for(channel)
    size = length(text, limits.count)
    left = None if limits.max_chars is None else limits.max_chars - size
    return {
        "size": size,
        "max": limits.max_chars,
        "left": left,
        "over": left is not None and left < 0,
        "over_by": -left if left is not None and left < 0 else 0,
        "rule": str(COUNTING_RULES.get(limits.count, "")),
        "max_media": limits.max_media,
        "needs_media": limits.needs_media,
    }


def problems(channel: Channel, text: str, media: Sequence[dict]) -> list[tuple[str, dict]]:
    """(explanation, params) for every limit the variant breaks; empty when it fits."""
    limits = limits_for(channel)
    found = []
    size = length(text, limits.count)
    name = channel.get_platform_display()
    if limits.max_chars is not None and size > limits.max_chars:
        values = {"platform": name, "size": size, "max": limits.max_chars, "over": size - limits.max_chars}
        found.append(
            (
                _(
                    "%(size)s characters: %(platform)s takes at most %(max)s. Shorten it by %(over)s "
                    "characters for this channel."
                )
                % values,
                values,
            )
        )
    if len(media) > limits.max_media:
        values = {"platform": name, "count": len(media), "max": limits.max_media}
        found.append((_("%(count)s files: %(platform)s takes at most %(max)s per post.") % values, values))
    wrong = [m for m in media if not str(m.get("mime_type", "")).startswith(limits.media_types)]
    if wrong:
        values = {"platform": name, "type": str(wrong[0].get("mime_type", "?"))}
        found.append((_("%(platform)s does not take files of type %(type)s.") % values, values))
    videos = [m for m in media if str(m.get("mime_type", "")).startswith("video/")]
    if limits.max_videos is not None and len(videos) > limits.max_videos:
        values = {"platform": name, "max": limits.max_videos}
        found.append((_("%(platform)s takes at most %(max)s video per post.") % values, values))
    heavy = [
        m
        for m in media
        if limits.max_image_bytes
        and str(m.get("mime_type", "")).startswith("image/")
        and int(m.get("size") or 0) > limits.max_image_bytes
    ]
    if heavy:
        values = {
            "platform": name,
            "name": str(heavy[0].get("filename") or "?"),
            "max": f"{limits.max_image_bytes / 1_000_000:g}",
        }
        found.append(
            (
                _("%(name)s is too heavy for %(platform)s, which takes pictures of at most %(max)s MB.")
                % values,
                values,
            )
        )
    if limits.needs_media and not media:
        values = {"platform": name}
        found.append((_("%(platform)s needs at least one picture or video.") % values, values))
    return found
