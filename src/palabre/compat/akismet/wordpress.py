"""What WordPress's Akismet plugin sends, read as WordPress means it.

The plugin (`class.akismet.php`) calls Akismet in three ways, and Palabre reads each as it is:

- the check of a new comment (`auto_check_comment`, on WordPress's `preprocess_comment` filter,
  before the comment is stored): WordPress hands the comment over *slashed* (`wp_slash` on the
  form's fields, and its "magic quotes" on `$_POST` and `$_SERVER`), so `d'avance` arrives as
  `d\\'avance`. It carries `comment_post_ID` and `comment_parent` but no `comment_ID` and no date.
  Palabre unslashes it (PHP's `stripslashes`) when the request's User-Agent is the plugin's
  (`WordPress/<version> | Akismet/<version>`) and it carries no `comment_ID` and no
  `recheck_reason`; the fields the plugin adds from WordPress's own options (`blog`, `permalink`,
  `blog_lang`, `blog_charset`...) are never slashed and are kept as sent;
- a re-check (`check_db_comment`, with `recheck_reason`) and the reports (`submit-spam`,
  `submit-ham`): the stored comment's row (`comment_ID`, `comment_date_gmt`...) merged with what
  the check sent, as the plugin kept it (`akismet_as_submitted`, unslashed by WordPress when it
  stored it): taken as sent.

A WordPress comment is then known by its post (`comment_post_ID`), its author, e-mail and text,
which the check and the reports share (the check has no date and no id: `comment_guid` leaves the
date out for them). What the reports add (`comment_ID`) is kept on the item, so that a later report
or a reply (`comment_parent`, a WordPress comment id) finds it.
"""

from __future__ import annotations

import html
import re

from django.http import HttpRequest

PLUGIN_AGENT = re.compile(r"^\s*WordPress/\S+\s*\|\s*Akismet/", re.IGNORECASE)
# Fields the plugin fills from WordPress's options or its own state: never slashed.
NOT_SLASHED = frozenset(
    {
        "api_key",
        "key",
        "blog",
        "blog_lang",
        "blog_charset",
        "permalink",
        "comment_post_modified_gmt",
        "akismet_comment_nonce",
        "is_test",
        "user_role",
        "user_ip",
        "guid",
        "comment_parent_guid",
    }
)
# Kept on the item: what finds a WordPress comment again (reports, replies).
KEPT_FIELDS = ("comment_post_ID", "comment_ID", "comment_parent", "comment_parent_guid")
_SLASHED = re.compile(r"\\(.?)", re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def from_plugin(request: HttpRequest) -> bool:
    return bool(PLUGIN_AGENT.match(request.META.get("HTTP_USER_AGENT", "")))


def is_wordpress(params: dict[str, str]) -> bool:
    """A call about a WordPress comment: the plugin always sends the comment's post."""
    return params.get("comment_post_ID", "").strip() not in {"", "0"}


def slashed(request: HttpRequest, params: dict[str, str]) -> bool:
    """The plugin's check of a new comment, which WordPress hands over slashed."""
    return (
        from_plugin(request)
        and is_wordpress(params)
        and not params.get("comment_ID", "").strip()
        and not params.get("recheck_reason", "").strip()
    )


def unslash(value: str) -> str:
    """PHP's `stripslashes`: a backslash escapes the next character (`\\0` is NUL, dropped)."""
    return _SLASHED.sub(lambda m: "" if m.group(1) == "0" else m.group(1), value)


def normalised(request: HttpRequest, params: dict[str, str]) -> dict[str, str]:
    """The call's fields as the person typed them, and WordPress's names for the ones Akismet
    names otherwise (a report without the check's `user_ip` carries the stored comment's IP)."""
    if slashed(request, params):
        params = {name: value if name in NOT_SLASHED else unslash(value) for name, value in params.items()}
    if is_wordpress(params):
        params = dict(params)
        for akismet_name, wordpress_name in (
            ("user_ip", "comment_author_IP"),
            ("user_agent", "comment_agent"),
        ):
            if not params.get(akismet_name, "").strip() and params.get(wordpress_name, "").strip():
                params[akismet_name] = params[wordpress_name]
    return params


def comparable(text: str) -> str:
    """A comment's text with what WordPress changes when it stores one (HTML it filters, entities,
    spacing, case) set aside: the check's text and the stored one compare equal."""
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", text or ""))).strip().casefold()


def wordpress_id(value: str) -> str:
    """A WordPress comment or post id as sent ("0" or "" for none)."""
    value = (value or "").strip()
    return value if value.isdigit() and value != "0" else ""
