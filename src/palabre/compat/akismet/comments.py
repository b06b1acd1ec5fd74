"""What an Akismet comment is to Palabre: its parameters, its guid and item, and how Palabre's decision
becomes Akismet's answer.

How Palabre's decision becomes Akismet's answer (Akismet's `true` means spam):

- the engine holds or rejects the comment and one of the reasons is about spam (spam score,
  links, a commercial name, a generic compliment with a link, a known spammer, a blocked site...):
  `true`, with `X-akismet-pro-tip: discard` when it is blatant spam, that is rejected for a spam
  reason (spam score over the reject threshold, a message a moderator marked as spam, a known
  spammer, a blocked site); a held one stays in the site's spam queue while Palabre's moderators
  see it held;
- it holds or rejects it as toxic and not as spam (a toxicity, insult, identity-attack, threat or
  sexual score, a listed insult or threat, the organisation's banned or suspect words and
  patterns): as the site chose (`ModerationSite.toxic_answer`): by default `false` with the
  header `X-Palabre-Held: toxic`, and the comment waits in Palabre's review queue (held, not
  rejected: the site may publish it, so a person must see it); or `true`, so that the site files
  it with its spam;
- it holds it for another reason only (a new author, a rate limit, the night policy): `false`
  with `X-Palabre-Held: review`; the site publishes it as Akismet would, and it waits in Palabre's
  review queue;
- a person already decided on this comment (approved, rejected): their decision wins
  (`false` for approved, `true` for rejected);
- the honeypot field named by `honeypot_field_name` is filled: `true`; the comment is marked as
  spam by the site (as a moderator would), which teaches its fingerprint to later decisions.

Akismet's documented test triggers answer at once: `comment_author=akismet-guaranteed-spam` (or
the e-mail `akismet-guaranteed-spam@example.com`, or the older `viagra-test-123`) answers `true`
and stores nothing; `user_role=administrator` answers `false` (the comment is stored and moderated
like any other, so the conversation stays whole). `is_test=1` is moderated with the organisation's
rules but stores nothing and trains nothing; submit calls with it are thanked and ignored.

Each checked comment becomes an item of the site's channel, keyed by a guid derived from the
comment (permalink, author, e-mail, content, date): a re-check (`recheck_reason`) of the same
comment updates that item, and submit-spam/submit-ham find it by the `guid` Akismet returned
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import urlsplit

from django.utils import timezone

from palabre.compat import actors
from palabre.compat.akismet import wordpress
from palabre.conversations.models import Item
from palabre.conversations.services import IncomingAuthor, IncomingItem
from palabre.moderation import engine
from palabre.moderation.models import (
    ModerationSite,
    ToxicAnswer,
)
from palabre.orgs.services import Actor
from palabre.storable import FIRST_YEAR, LAST_YEAR

THANKS = "Thanks for making the web a better place."
# Seconds a client waits before it sends again a call the database could not keep.
UNAVAILABLE_RETRY_AFTER = 30
GUARANTEED_SPAM_AUTHORS = {"akismet-guaranteed-spam", "viagra-test-123"}
GUARANTEED_SPAM_EMAIL = "akismet-guaranteed-spam@example.com"
# Reasons that say "spam" rather than "rude": a hold for one of them answers true.
SPAM_REASONS = {
    "score_spam",
    "known_spam",
    "known_spammer",
    "blocked_domain",
    "too_many_links",
    "compliment_with_link",
    "url_in_name",
    "commercial_name",
    "lexicon_self_promotion",
    "lexicon_phishing",
}
KIND_FOR_TYPE = {
    "": "comment",
    "comment": "comment",
    "trackback": "comment",
    "pingback": "comment",
    "signup": "comment",
    "reply": "reply",
    "forum-post": "post",
    "blog-post": "post",
    "contact-form": "direct_message",
    "message": "direct_message",
    "review": "review",
}
TRUE_VALUES = {"1", "true", "yes", "on"}
# Bodies read as forms (decoded with `blog_charset`); no type at all is read as a form too.
FORM_TYPES = {"application/x-www-form-urlencoded", "", "text/plain"}
MAX_URL = 500
# A key in a host name (`{key}.rest.akismet.com`): 12 hexadecimal characters, or 24 (older keys).
HOST_KEY = re.compile(r"[0-9a-f]{12}|[0-9a-f]{24}")
# What an item keeps of a call, besides the comment and its author.
RAW_KEPT = (
    "permalink",
    "comment_type",
    "referrer",
    "user_role",
    "blog",
    "blog_lang",
    "blog_charset",
    "comment_context",
    "comment_post_modified_gmt",
    "recheck_reason",
    *wordpress.KEPT_FIELDS,
)
# What the storing task needs of a comment-check call (WordPress sends many more fields).
STORED_PARAMS = frozenset(
    {
        *RAW_KEPT,
        "comment_author",
        "comment_author_email",
        "comment_author_url",
        "comment_content",
        "comment_date_gmt",
        "user_ip",
        "user_agent",
        "honeypot_field_name",
    }
)


# --- the protocol, without HTTP ------------------------------------------------------------------


def site_actor(site: ModerationSite) -> Actor:
    """A site's feedback (submit-spam, submit-ham, a filled honeypot), recorded in its name."""
    return actors.site_actor(site, protocol="akismet")


@dataclass
class Verdict:
    spam: bool
    discard: bool = False
    guid: str = ""
    item: Item | None = None
    held: str = ""  # answered `false` and held in Palabre: why ("toxic", "review"), sent as X-Palabre-Held


# Reasons that say "rude" or "against the organisation's rules" rather than "spam".
TOXIC_REASONS = frozenset(
    {f"score_{label}" for label in ("toxicity", "insult", "identity_attack", "threat", "sexual")}
    | {f"lexicon_{category}" for category in engine.FLAGGED_CATEGORIES}
    | {"lexicon_group_hostile", "banned_word", "suspect_word", "regex"}
)


def verdict_for(
    action: str, reasons: list[tuple[str, str]], toxic_answer: str = ToxicAnswer.HOLD
) -> tuple[bool, bool, str]:
    """(spam, discard, held) for an engine decision: its action and its reasons as (code, action),
    and the site's choice for toxic comments that are not spam (see the module's docstring)."""
    if action not in (engine.REJECT, engine.HOLD):
        return False, False, ""
    if any(code in SPAM_REASONS or code in engine.SIGNALS for code, _act in reasons):
        blatant = action == engine.REJECT and any(
            code in engine.BLATANT_SPAM_REASONS and act == engine.REJECT for code, act in reasons
        )
        return True, blatant, ""
    toxic = any(code in TOXIC_REASONS for code, _act in reasons)
    if toxic and toxic_answer == ToxicAnswer.SPAM:
        return True, False, ""
    return False, False, "toxic" if toxic else "review"


def held_in_palabre(decision: engine.Decision, held: str) -> engine.Decision:
    """A comment answered `false` is published by the site: in Palabre it waits for a person,
    held rather than rejected."""
    if held and decision.action == engine.REJECT:
        return replace(decision, action=engine.HOLD)
    return decision


def blog_matches(site: ModerationSite, blog: str) -> bool:
    """`blog` is the site's address or one of its other addresses (`allowed_origins`, listed on
    the site's page), leniently: same host (scheme, `www.` and port aside) and one path a prefix
    of the other (an other address is an origin: any path of its host)."""
    return any(_address_matches(address, blog) for address in [site.url, *(site.allowed_origins or [])])


def _address_matches(address: str, blog: str) -> bool:

    def parts(url: str) -> tuple[str, str]:
        url = url.strip()
        if "//" not in url:
            url = "//" + url
        try:
            split = urlsplit(url)
            host = (split.hostname or "").lower().removeprefix("www.")
        except ValueError:  # "[" and other addresses urlsplit refuses: they match nothing
            return "", ""
        return host, split.path.rstrip("/").lower()

    site_host, site_path = parts(str(address))
    blog_host, blog_path = parts(blog)
    if not blog_host or blog_host != site_host:
        return False
    return blog_path.startswith(site_path) or site_path.startswith(blog_path)


def is_true(value: str | None) -> bool:
    return (value or "").strip().lower() in TRUE_VALUES


def comment_guid(params: dict[str, str]) -> str:
    """Stable for one comment: a re-check or a submit of the same comment finds the same item.
    A WordPress comment is known by its post rather than its date, which its check lacks."""
    if wordpress.is_wordpress(params):
        parts = [
            "wordpress",
            params.get("comment_post_ID", "").strip(),
            params.get("comment_author", "").strip(),
            params.get("comment_author_email", "").strip().lower(),
            params.get("comment_content", ""),
        ]
    else:
        parts = [
            params.get("permalink", "").strip(),
            params.get("comment_author", "").strip(),
            params.get("comment_author_email", "").strip().lower(),
            params.get("comment_content", ""),
            params.get("comment_date_gmt", "").strip(),
        ]
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8", "replace")).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


# A guid a client sends back is one Akismet or Palabre gave it: visible ASCII, at most 64 characters.
# Anything else is not one (it is echoed in the X-akismet-guid header, where a line break or a
# character beyond latin-1 would break the answer): the comment's own guid is used instead.
_CLIENT_GUID = re.compile(r"[!-~]{1,64}")


def client_guid(params: dict[str, str]) -> str:
    """The `guid` parameter when it can be a guid Akismet or Palabre answered, else ""."""
    guid = params.get("guid", "").strip()
    return guid if _CLIENT_GUID.fullmatch(guid) else ""


def external_id_of(guid: str) -> str:
    return f"akismet-{guid}"


def created_at_of(value: str, *, default: datetime | None = None) -> datetime:
    value = (value or "").strip()
    if value:
        try:
            parsed = datetime.fromisoformat(value.replace(" ", "T", 1).replace("Z", "+00:00"))
            # A date the API would refuse (year 1 or 9999 overflowed when stored in UTC: a server
            # error) is taken as no date, as an unreadable one is.
            if FIRST_YEAR <= parsed.year <= LAST_YEAR:
                return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=UTC)
        except ValueError:
            pass
    return default or timezone.now()


def _short_url(value: str, limit: int = MAX_URL) -> str:
    value = (value or "").strip()
    return value if value.startswith(("http://", "https://")) and len(value) <= limit else ""


def author_handle(params: dict[str, str]) -> str:
    return (
        params.get("comment_author_email", "").strip().lower()
        or params.get("comment_author", "").strip()
        or params.get("user_ip", "").strip()
    )[:300]


def incoming_item(
    params: dict[str, str], guid: str, *, now: datetime | None = None, parent: str = ""
) -> IncomingItem:
    handle = author_handle(params)
    author = (
        IncomingAuthor(
            handle=handle,
            display_name=params.get("comment_author", "").strip()[:200],
            profile_url=_short_url(params.get("comment_author_url", "")),
        )
        if handle
        else None
    )
    return IncomingItem(
        external_id=external_id_of(guid),
        kind=KIND_FOR_TYPE.get(params.get("comment_type", "").strip().lower(), "comment"),
        text=params.get("comment_content", ""),
        created_at=created_at_of(params.get("comment_date_gmt", ""), default=now),
        author=author,
        url=_short_url(params.get("permalink", ""), 1000),
        parent_external_id=parent if parent != external_id_of(guid) else "",
        raw={
            "author": {
                "email": params.get("comment_author_email", "").strip(),
                "ip": params.get("user_ip", "").strip(),
                "url": params.get("comment_author_url", "").strip()[:1000],
                "user_agent": params.get("user_agent", "")[:1000],
            },
            "akismet": {name: params[name][:1000] for name in RAW_KEPT if params.get(name)},
        },
    )


def honeypot_name(params: dict[str, str]) -> str:
    """The name of the form field hidden from people, when the site sends one."""
    return params.get("honeypot_field_name", "").strip()


def honeypot_filled(params: dict[str, str]) -> bool:
    name = honeypot_name(params)
    return bool(name and params.get(name, "").strip())


def wordpress_items(site: ModerationSite, params: dict[str, str]):
    """The site's stored comments on the same WordPress post."""
    return Item.objects.filter(
        channel=site.channel,
        external_id__startswith="akismet-",
        raw__akismet__comment_post_ID=wordpress.wordpress_id(params.get("comment_post_ID", "")),
    )


def reported_item(site: ModerationSite, params: dict[str, str]) -> Item | None:
    """The stored WordPress comment a report (or a re-check) is about, when its fields differ from
    the check's (WordPress filtered the stored text, the plugin lost what it sent): the comment of
    the same post with the same WordPress id, else by the same author with the same text (HTML,
    entities, spacing and case aside) and no other id."""
    if not wordpress.is_wordpress(params):
        return None
    items = wordpress_items(site, params)
    comment_id = wordpress.wordpress_id(params.get("comment_ID", ""))
    if comment_id:
        found = items.filter(raw__akismet__comment_ID=comment_id).first()
        if found is not None:
            return found
    handle = author_handle(params)
    text = wordpress.comparable(params.get("comment_content", ""))
    for item in items.filter(author__handle__iexact=handle).order_by("-pk")[:50]:
        known_id = (item.raw.get("akismet") or {}).get("comment_ID", "")
        if wordpress.comparable(item.text) == text and (not known_id or not comment_id):
            return item
    return None


def stored_guid(site: ModerationSite, params: dict[str, str]) -> str:
    """The guid of a comment: derived from its fields; for a re-check of a stored WordPress
    comment whose fields changed, the guid of the item it is about."""
    guid = comment_guid(params)
    if wordpress.wordpress_id(params.get("comment_ID", "")) and not (
        Item.objects.filter(channel=site.channel, external_id=external_id_of(guid)).exists()
    ):
        found = reported_item(site, params)
        if found is not None:
            return found.external_id.removeprefix("akismet-")
    return guid


def parent_external_id(site: ModerationSite, params: dict[str, str]) -> str:
    """The item a reply answers: the guid its site sent for the parent (`comment_parent_guid`,
    sent by Palabre's WordPress companion plugin), else the stored comment carrying the WordPress
    id in `comment_parent`."""
    guid = params.get("comment_parent_guid", "").strip()[:64]
    if guid:
        return external_id_of(guid)
    parent = wordpress.wordpress_id(params.get("comment_parent", ""))
    if not parent or not wordpress.is_wordpress(params):
        return ""
    found = wordpress_items(site, params).filter(raw__akismet__comment_ID=parent)
    return found.values_list("external_id", flat=True).first() or ""


def remember_wordpress_id(item: Item, params: dict[str, str]) -> None:
    """Keep the WordPress id a report carries: later reports and replies find the item by it."""
    comment_id = wordpress.wordpress_id(params.get("comment_ID", ""))
    kept = dict(item.raw.get("akismet") or {})
    if not comment_id or kept.get("comment_ID") == comment_id:
        return
    kept["comment_ID"] = comment_id
    if params.get("comment_post_ID", "").strip():
        kept.setdefault("comment_post_ID", params["comment_post_ID"].strip()[:1000])
    item.raw = {**item.raw, "akismet": kept}
    Item.objects.filter(pk=item.pk).update(raw=item.raw)
