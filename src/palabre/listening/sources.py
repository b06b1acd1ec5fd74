"""The settings of a listening source, checked before they are stored.

What each kind of source searches is the connectors' business (`connectors.search`): their
modules fetch, parse and say what failed. Listening keeps what a source is set to watch, and
refuses here a setting that names no valid address, or one inside the install's network.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.translation import gettext as _

from palabre.connectors import bluesky, outbound, reddit


def _url(config: dict, key: str, errors: dict, *, schemes=("http", "https"), required=True) -> str:
    value = str(config.get(key) or "").strip()
    if not value:
        if required:
            errors[f"config.{key}"] = [_("This setting is required.")]
        return ""
    try:
        URLValidator(schemes=list(schemes))(value)
    except ValidationError:
        errors[f"config.{key}"] = [_("Enter a valid URL.")]
        return value
    refusal = outbound.refusal_for_url(value)
    if refusal is not None:
        errors[f"config.{key}"] = [refusal.explain()]
    return value


def validate_config(kind: str, config: dict) -> dict:
    """The source's settings, cleaned; a ValidationError names the faulty `config.<key>`."""
    errors: dict[str, list[str]] = {}
    clean: dict[str, Any] = {}
    if kind in ("rss", "web_page"):
        clean["url"] = _url(config, "url", errors)
    elif kind in ("mastodon_hashtag", "mastodon_timeline"):
        clean["instance"] = _url(config, "instance", errors).rstrip("/")
        if kind == "mastodon_hashtag":
            tag = str(config.get("hashtag") or "").strip().lstrip("#")
            if not tag or not tag.replace("_", "").isalnum():
                errors["config.hashtag"] = [_("Enter a hashtag made of letters, digits or _.")]
            clean["hashtag"] = tag
        else:
            clean["local"] = bool(config.get("local", False))
        if config.get("access_token"):
            clean["access_token"] = str(config["access_token"]).strip()
    elif kind == "bluesky_jetstream":
        clean["endpoint"] = _url(
            {"endpoint": config.get("endpoint") or bluesky.JETSTREAM_DEFAULT},
            "endpoint",
            errors,
            schemes=("ws", "wss"),
        )
        clean["max_events"] = _bounded(config, "max_events", 5000, 1, 100_000, errors)
        clean["max_seconds"] = _bounded(config, "max_seconds", 20, 1, 300, errors)
    elif kind == "reddit_search":
        query = str(config.get("query") or "").strip()
        if not query or len(query) > 512:
            errors["config.query"] = [_("Enter the words to search for (at most 512 characters).")]
        clean["query"] = query
        subreddit = str(config.get("subreddit") or "").strip().removeprefix("r/")
        if subreddit and not subreddit.replace("_", "").isalnum():
            errors["config.subreddit"] = [_("Enter a subreddit name, without r/.")]
        clean["subreddit"] = subreddit
        clean["base_url"] = (
            _url({"base_url": config.get("base_url") or reddit.DEFAULT_BASE}, "base_url", errors)
        ).rstrip("/")
    elif kind == "own_channels":
        pass
    if errors:
        raise ValidationError(errors)
    return clean


def _bounded(config: dict, key: str, default: int, low: int, high: int, errors: dict) -> int:
    try:
        value = int(config.get(key, default))
        if not low <= value <= high:
            raise ValueError
        return value
    except (TypeError, ValueError):
        errors[f"config.{key}"] = [_("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high}]
        return default
