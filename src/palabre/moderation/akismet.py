"""The Akismet-compatible API: blogs, forums and existing Akismet clients plug into Palabre unchanged.

The endpoints, parameters and answers are Akismet's own (https://akismet.com/developers/):
`/1.1/verify-key`, `/1.1/comment-check`, `/1.1/submit-spam`, `/1.1/submit-ham`, `/1.2/usage-limit`
and `/1.2/key-sites`. Every answer is HTTP 200 with a plain-text body (`valid`/`invalid`,
`true`/`false`, the submission thanks) and Akismet's headers, except three refusals Akismet does not
have: 413 (body too large), 400 (a body that cannot be read, or a field Palabre cannot store), 429 (this key's
per-minute limit, with `Retry-After`) and 503 (the database refuses to write, with `Retry-After`:
nothing is answered for that would not be kept).

The key of a `ModerationSite` is read from `api_key` (or `key`, as verify-key sends it), or from
the first label of the host name (the old `{key}.rest.akismet.com` form). `blog` must be that site's
address or one of its other addresses (`blog_matches`). Bodies may be form-encoded (every Akismet
client) or JSON (Coral sends submit-spam/ham so). What WordPress's plugin sends is read as WordPress
means it (`akismet_wordpress`); its other calls (`/1.1/test`, `get-subscription`, `get-stats`,
`deactivate`) are answered by `akismet_account`.

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
(`X-akismet-guid`) or by the same derivation; an unknown comment is stored first, then reviewed.

The per-key limit (`PALABRE_AKISMET_RATE_LIMIT` requests per minute) is counted in the database,
so it holds whatever the number of server processes (`KeyRequestCounter`).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import math
import re
import threading
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from django.conf import settings
from django.core.exceptions import BadRequest as DjangoBadRequest
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, ValidationError
from django.db import InterfaceError, InternalError, OperationalError, connection, transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from palabre import config
from palabre.conversations.models import Item
from palabre.conversations.services import MAX_TEXT_CHARS, IncomingAuthor, IncomingItem, ingest_item
from palabre.moderation import akismet_wordpress as wordpress
from palabre.moderation import engine, journal, lookups, services
from palabre.moderation.batching import batcher
from palabre.moderation.models import (
    ItemModeration,
    ModerationDecision,
    ModerationSite,
    ModerationStatus,
    SiteRequestCount,
    ToxicAnswer,
)
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor
from palabre.orgs.throttle import key_guess_failed, key_guess_message, key_guess_wait

logger = logging.getLogger(__name__)

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


@dataclass(frozen=True)
class SiteActor(Actor):
    """A site's feedback (submit-spam, submit-ham, a filled honeypot), recorded in its name."""

    site_name: str = ""

    @property
    def label(self) -> str:
        return f"akismet:{self.site_name}"


def site_actor(site: ModerationSite) -> Actor:
    return SiteActor(
        organisation=site.organisation,
        system=True,
        permissions=frozenset({Perm.ITEMS_VIEW.value, Perm.MODERATION_ACT.value}),
        site_name=site.name,
    )


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


def _held_in_palabre(decision: engine.Decision, held: str) -> engine.Decision:
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
        split = urlsplit(url)
        host = (split.hostname or "").lower().removeprefix("www.")
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


def _external_id(guid: str) -> str:
    return f"akismet-{guid}"


def _created_at(value: str, *, default: datetime | None = None) -> datetime:
    value = (value or "").strip()
    if value:
        try:
            parsed = datetime.fromisoformat(value.replace(" ", "T", 1).replace("Z", "+00:00"))
            return parsed if timezone.is_aware(parsed) else parsed.replace(tzinfo=UTC)
        except ValueError:
            pass
    return default or timezone.now()


def _short_url(value: str, limit: int = MAX_URL) -> str:
    value = (value or "").strip()
    return value if value.startswith(("http://", "https://")) and len(value) <= limit else ""


def _author_handle(params: dict[str, str]) -> str:
    return (
        params.get("comment_author_email", "").strip().lower()
        or params.get("comment_author", "").strip()
        or params.get("user_ip", "").strip()
    )[:300]


def _incoming(
    params: dict[str, str], guid: str, *, now: datetime | None = None, parent: str = ""
) -> IncomingItem:
    handle = _author_handle(params)
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
        external_id=_external_id(guid),
        kind=KIND_FOR_TYPE.get(params.get("comment_type", "").strip().lower(), "comment"),
        text=params.get("comment_content", ""),
        created_at=_created_at(params.get("comment_date_gmt", ""), default=now),
        author=author,
        url=_short_url(params.get("permalink", ""), 1000),
        parent_external_id=parent if parent != _external_id(guid) else "",
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


def _honeypot(params: dict[str, str]) -> str:
    """The name of the form field hidden from people, when the site sends one."""
    return params.get("honeypot_field_name", "").strip()


def _honeypot_filled(params: dict[str, str]) -> bool:
    name = _honeypot(params)
    return bool(name and params.get(name, "").strip())


def _context(
    site: ModerationSite,
    params: dict[str, str],
    *,
    checked_at: datetime,
    reads: lookups.CheckReads | None = None,
    at: datetime | None = None,
) -> engine.ModerationContext:
    """The organisation's rules and marked messages for this text, and what `reads` found of its
    author (written `at`; nothing for a test call, which reads nothing). Checked outside business
    hours (`checked_at`, now: nobody is there to read what the site publishes), the night policy
    applies."""
    text = params.get("comment_content", "")
    author = engine.Author(
        name=params.get("comment_author", ""),
        handle=_author_handle(params),
        url=params.get("comment_author_url", ""),
        email=params.get("comment_author_email", ""),
        ip=params.get("user_ip", ""),
    )
    if reads is not None and reads.author is not None:
        author = services.author_before_storing(
            channel=site.channel, author=author, at=at, record=reads.author
        )
    return replace(
        services.organisation_context(
            site.organisation,
            texts=[text],
            marks=reads.marks if reads is not None else None,
            cached=True,
            at=checked_at,
        ),
        author=author,
    )


def check_comment(site: ModerationSite, params: dict[str, str]) -> Verdict:
    """comment-check: decide at once, answer, and store the comment and the decision in a task.

    The answer is the engine's decision on the organisation's rules and what moderators taught it;
    the item and its decision are written by a background task from one row this request writes
    (`moderation.journal`; in the request itself with the immediate task backend), so a burst of
    comments costs the site a few milliseconds each.
    """
    guid = params.get("guid", "").strip()[:64] or _stored_guid(site, params)
    author = params.get("comment_author", "").strip().lower()
    email = params.get("comment_author_email", "").strip().lower()
    if author in GUARANTEED_SPAM_AUTHORS or email == GUARANTEED_SPAM_EMAIL:
        return Verdict(spam=True, guid=guid)
    administrator = params.get("user_role", "").strip().lower() == "administrator"
    honeypot = _honeypot_filled(params)
    if is_true(params.get("is_test")):
        if administrator:
            return Verdict(spam=False, guid=guid)
        decision = batcher.decide(
            params.get("comment_content", ""), _context(site, params, checked_at=timezone.now())
        )
        spam, discard, held = verdict_for(
            decision.action, [(r.code, r.action) for r in decision.reasons], site.toxic_answer
        )
        return Verdict(spam=spam or honeypot, discard=discard, guid=guid, held="" if honeypot else held)

    checked_at = timezone.now()
    at = _created_at(params.get("comment_date_gmt", ""), default=checked_at)
    text = params.get("comment_content", "")
    reads = lookups.check_reads(
        channel_id=site.channel_id,
        external_id=_external_id(guid),
        organisation_id=site.organisation_id,
        platform=site.channel.platform,
        handle=_author_handle(params),
        at=at,
        fingerprint=engine.fingerprint(text),
    )
    # The same comment checked again (a retry, `recheck_reason`): a moderator's word stands.
    state = reads.state
    person_decided = state is not None and (
        state.status == ModerationStatus.APPROVED or state.source == ModerationDecision.Source.MODERATOR
    )
    decision = None
    verdict = None
    if not person_decided:
        decision = batcher.decide(text, _context(site, params, checked_at=checked_at, reads=reads, at=at))
        verdict = verdict_for(
            decision.action, [(r.code, r.action) for r in decision.reasons], site.toxic_answer
        )
        decision = _held_in_palabre(decision, verdict[2])
    journal.record(
        site.pk,
        {name: value for name, value in params.items() if name in STORED_PARAMS or name == _honeypot(params)},
        guid,
        json.dumps(decision.as_dict()) if decision else "",
        checked_at,
    )
    if honeypot and not (person_decided and state.status == ModerationStatus.APPROVED):
        return Verdict(spam=True, guid=guid)
    if administrator:
        return Verdict(spam=False, guid=guid)
    if verdict is None:
        verdict = _verdict_from_state(state, site.toxic_answer)
    spam, discard, held = verdict
    return Verdict(spam=spam, discard=discard, guid=guid, held=held)


@transaction.atomic
def store_checked_comment(
    site: ModerationSite,
    params: dict[str, str],
    guid: str,
    decision: engine.Decision | None,
    *,
    checked_at,
    analyse: bool = True,
) -> tuple[Item, bool | None]:
    """The comment a check answered, as an item with the decision given (and the honeypot's).
    Returns (item, created), created None when it was stored already. With `analyse` False the
    caller runs the item's analysis (`analyse_item`) once this is committed."""
    stored = ModerationDecision.objects.filter(
        item__channel=site.channel, item__external_id=_external_id(guid), created_at__gte=checked_at
    ).first()
    if stored is not None:
        return stored.item, None  # this task ran already
    item, created = ingest_item(
        channel=site.channel,
        incoming=_incoming(params, guid, now=checked_at, parent=_parent_external_id(site, params)),
        analyse=analyse,
    )
    if decision is not None:
        services.moderate_item(item, decided=decision)
    if _honeypot_filled(params):
        state = ItemModeration.objects.filter(item=item).values_list("status", flat=True).first()
        if state not in {ModerationStatus.REJECTED, ModerationStatus.APPROVED}:
            services.review_item(
                actor=site_actor(site),
                item_id=item.pk,
                action="spam",
                note=f"Honeypot field {params['honeypot_field_name'].strip()[:80]} filled.",
            )
    return item, created


def _verdict_from_state(state: lookups.StoredState, toxic_answer: str) -> tuple[bool, bool, str]:
    if state.source is None or state.source == ModerationDecision.Source.MODERATOR:
        if state.status == ModerationStatus.APPROVED:
            return False, False, ""
        if state.status == ModerationStatus.REJECTED:
            return True, False, ""
    if state.action is None:
        return False, False, ""
    return verdict_for(
        state.action, [(r.get("code", ""), r.get("action", "")) for r in state.reasons], toxic_answer
    )


def _wordpress_items(site: ModerationSite, params: dict[str, str]):
    """The site's stored comments on the same WordPress post."""
    return Item.objects.filter(
        channel=site.channel,
        external_id__startswith="akismet-",
        raw__akismet__comment_post_ID=wordpress.wordpress_id(params.get("comment_post_ID", "")),
    )


def _reported_item(site: ModerationSite, params: dict[str, str]) -> Item | None:
    """The stored WordPress comment a report (or a re-check) is about, when its fields differ from
    the check's (WordPress filtered the stored text, the plugin lost what it sent): the comment of
    the same post with the same WordPress id, else by the same author with the same text (HTML,
    entities, spacing and case aside) and no other id."""
    if not wordpress.is_wordpress(params):
        return None
    items = _wordpress_items(site, params)
    comment_id = wordpress.wordpress_id(params.get("comment_ID", ""))
    if comment_id:
        found = items.filter(raw__akismet__comment_ID=comment_id).first()
        if found is not None:
            return found
    handle = _author_handle(params)
    text = wordpress.comparable(params.get("comment_content", ""))
    for item in items.filter(author__handle__iexact=handle).order_by("-pk")[:50]:
        known_id = (item.raw.get("akismet") or {}).get("comment_ID", "")
        if wordpress.comparable(item.text) == text and (not known_id or not comment_id):
            return item
    return None


def _stored_guid(site: ModerationSite, params: dict[str, str]) -> str:
    """The guid of a comment: derived from its fields; for a re-check of a stored WordPress
    comment whose fields changed, the guid of the item it is about."""
    guid = comment_guid(params)
    if wordpress.wordpress_id(params.get("comment_ID", "")) and not (
        Item.objects.filter(channel=site.channel, external_id=_external_id(guid)).exists()
    ):
        found = _reported_item(site, params)
        if found is not None:
            return found.external_id.removeprefix("akismet-")
    return guid


def _parent_external_id(site: ModerationSite, params: dict[str, str]) -> str:
    """The item a reply answers: the guid its site sent for the parent (`comment_parent_guid`,
    sent by Palabre's WordPress companion plugin), else the stored comment carrying the WordPress
    id in `comment_parent`."""
    guid = params.get("comment_parent_guid", "").strip()[:64]
    if guid:
        return _external_id(guid)
    parent = wordpress.wordpress_id(params.get("comment_parent", ""))
    if not parent or not wordpress.is_wordpress(params):
        return ""
    found = _wordpress_items(site, params).filter(raw__akismet__comment_ID=parent)
    return found.values_list("external_id", flat=True).first() or ""


def _remember_wordpress_id(item: Item, params: dict[str, str]) -> None:
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


def submit_feedback(site: ModerationSite, params: dict[str, str], *, spam: bool) -> Item | None:
    """submit-spam / submit-ham: the site's moderator says what the comment was; Palabre learns.
    The report updates the item its check stored: found by the `guid` the check answered, by the
    same derivation, or (WordPress) by its post, id, author and text; only a comment never checked
    is stored here."""
    if is_true(params.get("is_test")):
        return None
    guid = params.get("guid", "").strip()[:64]
    item = None
    if guid:
        item = Item.objects.filter(channel=site.channel, external_id=_external_id(guid)).first()
    if item is None:
        guid = comment_guid(params)
        item = Item.objects.filter(channel=site.channel, external_id=_external_id(guid)).first()
    if item is None:
        item = _reported_item(site, params)
    if item is None:
        item, _created = ingest_item(
            channel=site.channel,
            incoming=_incoming(params, guid, parent=_parent_external_id(site, params)),
        )
    _remember_wordpress_id(item, params)
    action = "spam" if spam else "ham"
    last = (
        ItemModeration.objects.filter(item=item)
        .values_list("last_decision__source", "last_decision__action")
        .first()
    )
    if last == (ModerationDecision.Source.MODERATOR, action):
        return item  # the same feedback twice teaches nothing more
    services.review_item(
        actor=site_actor(site), item_id=item.pk, action=action, note=f"submit-{action} from {site.name}"
    )
    return item


def month_stats(site: ModerationSite, month_start: datetime, month_end: datetime) -> dict[str, int]:
    """What this site's channel received through the API in a month, as Akismet counts it."""
    items = Item.objects.filter(
        channel=site.channel,
        external_id__startswith="akismet-",
        received_at__gte=month_start,
        received_at__lt=month_end,
    )
    counts = items.aggregate(
        total=Count("pk"),
        spam=Count("pk", filter=Q(moderation__status=ModerationStatus.REJECTED)),
    )
    feedback = ModerationDecision.objects.filter(
        item__in=items, source=ModerationDecision.Source.MODERATOR
    ).aggregate(
        missed_spam=Count("pk", filter=Q(action="spam")),
        false_positives=Count("pk", filter=Q(action="ham")),
    )
    return {
        "api_calls": counts["total"],
        "spam": counts["spam"],
        "ham": counts["total"] - counts["spam"],
        "missed_spam": feedback["missed_spam"],
        "false_positives": feedback["false_positives"],
    }


def _month_bounds(month: str) -> tuple[str, datetime, datetime] | None:
    now = timezone.now()
    try:
        year, number = (int(part) for part in month.split("-")) if month else (now.year, now.month)
        start = datetime(year, number, 1, tzinfo=UTC)
    except ValueError:
        return None
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=UTC)
    return f"{year:04d}-{number:02d}", start, end


# --- rate limit ----------------------------------------------------------------------------------


def rate_limit() -> int:
    try:
        return max(int(config.AKISMET_RATE_LIMIT.raw()), 0)
    except ValueError:
        return int(config.AKISMET_RATE_LIMIT.default)


@dataclass
class _KeyTokens:
    """What one process holds of a key's current minute."""

    minute: int
    tokens: int = 0  # requests this process may still accept: claimed, not used yet
    claimed: int = 0  # the database's count after this process's last claim
    full: bool = False  # the minute's `limit` tokens are all handed out: refuse without asking
    # For the size of the next block (kept from one minute to the next):
    used: int = 0  # tokens used since the last claim
    claimed_at: float = -math.inf  # when (monotonic) the last claim was made


class KeyRequestCounter:
    """Requests per key and minute, held exactly across threads, processes and machines.

    The database counts the tokens handed out for a key and minute, one atomic upsert per claim;
    a process accepts a request only with a token it claimed, so no more than `limit` requests
    are ever accepted in a minute, whatever the number of processes. A claim asks for a block:
    about `WRITE_EVERY` seconds of this process's own traffic, at most a `SHARE`th of what is
    left of the limit, at least one token. Far from the limit, a busy process claims about once
    a second; near it, blocks shrink to one token, so every request writes. A claim that goes
    past the limit gets only the tokens below it; once the limit is reached, the process refuses
    without asking again until the next minute. Tokens a process claimed and did not use before
    the minute ends are lost to the others: a few fewer requests than the limit may be accepted
    in that minute, never more."""

    WRITE_EVERY = 1.0
    SHARE = 8

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[int, _KeyTokens] = {}
        self._claiming: dict[int, threading.Lock] = {}

    def _entry(self, site_id: int, minute: int) -> _KeyTokens:
        entry = self._keys.get(site_id)
        if entry is None or entry.minute != minute:
            entry = _KeyTokens(minute)
            previous = self._keys.get(site_id)
            if previous is not None:
                entry.used, entry.claimed_at = previous.used, previous.claimed_at
            self._keys[site_id] = entry
        return entry

    def _block(self, entry: _KeyTokens, limit: int, clock: float) -> int:
        if entry.claimed_at == -math.inf:  # this process's first request for the key
            return 1
        # Tokens used per second since the last claim (at most one per millisecond measured).
        elapsed = max(clock - entry.claimed_at, 0.001)
        wanted = math.ceil(entry.used * self.WRITE_EVERY / elapsed)
        return max(1, min(wanted, (limit - entry.claimed) // self.SHARE))

    @staticmethod
    def _spend(entry: _KeyTokens) -> bool:
        if entry.tokens <= 0:
            return False
        entry.tokens -= 1
        entry.used += 1
        return True

    def take(self, site_id: int, limit: int, *, now: float) -> int:
        """Count one request; 0 if allowed, else the seconds to wait."""
        minute = int(now // 60)
        wait = max(1, math.ceil((minute + 1) * 60 - now))
        with self._lock:
            entry = self._entry(site_id, minute)
            if self._spend(entry):
                return 0
            if entry.full:
                return wait
            claiming = self._claiming.setdefault(site_id, threading.Lock())
        # One claim at a time per key in a process: the threads waiting share its block.
        with claiming:
            with self._lock:
                entry = self._entry(site_id, minute)
                if self._spend(entry):
                    return 0
                if entry.full:
                    return wait
                clock = time.monotonic()
                size = self._block(entry, limit, clock)
            total = self._claim(site_id, minute, size)
            granted = max(0, min(size, limit - (total - size)))
            with self._lock:
                entry.claimed = max(entry.claimed, total)
                entry.full = entry.full or total >= limit
                entry.tokens += granted
                entry.used, entry.claimed_at = 0, clock
                if self._spend(entry):
                    return 0
        return wait

    @staticmethod
    def _claim(site_id: int, minute: int, size: int) -> int:
        """Add `size` tokens to the key's minute; the count after them (tokens `total - size` to
        `total` are this claim's: the upsert is atomic)."""
        [(total,)] = lookups.run(lookups.statement(_count_sql), [site_id, minute, size, size])
        if total == size:  # this minute's first claim: forget the minutes before the last
            SiteRequestCount.objects.filter(site_id=site_id, minute__lt=minute - 1).delete()
        return total

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()


def _count_sql() -> str:
    table = connection.ops.quote_name(SiteRequestCount._meta.db_table)
    return (
        f"INSERT INTO {table} (site_id, minute, count) VALUES (%s, %s, %s) "
        f"ON CONFLICT (site_id, minute) DO UPDATE SET count = {table}.count + %s RETURNING count"
    )


request_counter = KeyRequestCounter()


def take_request(site: ModerationSite, *, now: float | None = None) -> int:
    """Count one request for this key in the current minute; 0 if allowed, else seconds to wait."""
    limit = rate_limit()
    if not limit:
        return 0
    return request_counter.take(site.pk, limit, now=time.time() if now is None else now)


# --- HTTP ----------------------------------------------------------------------------------------


class BadRequest(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _text(body: str, status: int = 200, **headers: str) -> HttpResponse:
    response = HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def _invalid(help: str) -> HttpResponse:
    return _text("invalid", **{"X-akismet-debug-help": help})


def _scalar(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def read_params(request: HttpRequest) -> dict[str, str]:
    """The query string and the body, form-encoded or JSON; unknown fields are kept but unused.
    NUL characters are dropped: no database stores them, and no comment needs them."""
    return {key: value.replace("\x00", "") for key, value in _raw_params(request).items()}


def _raw_params(request: HttpRequest) -> dict[str, str]:
    length = request.META.get("CONTENT_LENGTH") or "0"
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is not None and length.isdigit() and int(length) > limit:
        raise BadRequest(413, f"The request body is larger than {limit} bytes.")
    query = request.META.get("QUERY_STRING", "")
    try:
        query_pairs = _form_pairs(query.encode("latin-1"))
    except UnicodeEncodeError:  # a test client's str rather than a server's bytes as latin-1
        query_pairs = _form_pairs(query.encode("utf-8"))
    body_pairs: list[tuple[bytes, bytes]] = []
    posted: dict[str, str] = {}
    try:
        if request.method != "POST":
            pass
        elif request.content_type == "application/json":
            try:
                body = json.loads(request.body or b"{}")
            except (ValueError, UnicodeDecodeError, RecursionError):
                raise BadRequest(400, "The JSON body could not be parsed.") from None
            if not isinstance(body, dict):
                raise BadRequest(400, "The JSON body must be an object of fields.")
            for key, value in body.items():
                text = _scalar(value)
                if text is not None:
                    posted[str(key)] = text
        elif request.content_type in FORM_TYPES:
            body_pairs = _form_pairs(request.body)
        else:
            try:
                posted = dict(request.POST.items())
            except (SuspiciousOperation, DjangoBadRequest, MultiPartParserError) as error:
                raise BadRequest(400, f"The form body could not be read: {error}") from None
    except RequestDataTooBig:
        raise BadRequest(413, f"The request body is larger than {limit} bytes.") from None
    charset = _charset(body_pairs, query_pairs, request.content_params.get("charset", ""))
    params = {_decoded(key, charset): _decoded(value, charset) for key, value in query_pairs}
    params.update((_decoded(key, charset), _decoded(value, charset)) for key, value in body_pairs)
    params.update(posted)
    return params


def _form_pairs(data: bytes) -> list[tuple[bytes, bytes]]:
    """The (name, value) pairs of a form-encoded body or query string, as bytes: their encoding is
    only known once `blog_charset` is read. (Latin-1 maps each byte to one character and back.)"""
    most = settings.DATA_UPLOAD_MAX_NUMBER_FIELDS
    try:
        pairs = parse_qsl(
            data.decode("latin-1"), keep_blank_values=True, encoding="latin-1", max_num_fields=most
        )
    except ValueError:
        raise BadRequest(400, f"Too many fields: at most {most}.") from None
    return [(name.encode("latin-1"), value.encode("latin-1")) for name, value in pairs]


def _charset(body: list[tuple[bytes, bytes]], query: list[tuple[bytes, bytes]], declared: str) -> str:
    """The encoding of the form's values, as Akismet reads it: `blog_charset` (in the body, else in
    the query string), else the Content-Type's charset, else UTF-8. An unknown one is refused."""
    for pairs, field in ((body, "blog_charset"), (query, "blog_charset"), ([], "")):
        named = [value for name, value in pairs if name == b"blog_charset"]
        name = named[-1].decode("latin-1").strip() if named else ""
        if not field:
            name, field = declared.strip(), "the Content-Type charset"
        if not name:
            continue
        try:
            b"a".decode(name)  # also refuses bytes-to-bytes codecs (base64, zlib...)
        except UnicodeDecodeError:
            pass  # a text encoding in which one byte means nothing (UTF-16)
        except LookupError:
            raise BadRequest(400, f'{field}: unknown character encoding "{name[:40]}".') from None
        return name
    return "utf-8"


def _decoded(value: bytes, charset: str) -> str:
    # Bytes the declared encoding cannot read become U+FFFD, as Django does for UTF-8 forms.
    try:
        return value.decode(charset)
    except UnicodeDecodeError:
        return value.decode(charset, "replace")


def _host_key(request: HttpRequest) -> str:
    """The key of the `{key}.rest.akismet.com` form: the first label of a host of 3+ labels."""
    host = request.META.get("HTTP_HOST", "").split(":")[0].lower()
    labels = host.split(".")
    if len(labels) >= 3 and HOST_KEY.fullmatch(labels[0]) and not labels[-1].isdigit():
        return labels[0]
    return ""


def authenticate(
    request: HttpRequest, params: dict[str, str], *, key_field: str = "api_key"
) -> tuple[ModerationSite | None, HttpResponse | None]:
    """The key's site, or the answer to give: invalid (with the reason) or 429."""
    raw = params.get(key_field) or params.get("api_key") or params.get("key") or _host_key(request)
    if not raw.strip():
        return None, _invalid(f'Empty "{key_field}" value')
    guessing = key_guess_wait(request)
    if guessing:
        return None, _too_many(key_guess_message(guessing), guessing)
    site = services.site_for_key(raw, cached=True)
    if site is None:
        key_guess_failed(request)
        return None, _invalid("The API key is unknown or was revoked.")
    wait = take_request(site, now=None)
    if wait:
        message = (
            f"Too many requests for this key: at most {rate_limit()} a minute. "
            f"Retry in {wait} second{'s' if wait > 1 else ''}."
        )
        return None, _too_many(message, wait)
    return site, None


def _too_many(message: str, wait: int) -> HttpResponse:
    response = _text(message, 429, **{"X-akismet-debug-help": message, "X-akismet-alert-msg": message})
    response["Retry-After"] = str(wait)
    return response


def _check_blog(site: ModerationSite, params: dict[str, str]) -> str:
    blog = params.get("blog", "").strip()
    if not blog:
        return 'Empty "blog" value'
    if not blog_matches(site, blog):
        return f"The blog {blog[:200]} is not the site of this key ({site.url})."
    return ""


def protocol_view(view):
    """csrf-exempt, GET or POST, parameters read once, refusals answered in plain text."""

    @csrf_exempt
    def wrapper(request: HttpRequest) -> HttpResponse:
        if request.method not in {"GET", "POST"}:
            response = _text("Use POST.", 405)
            response["Allow"] = "GET, POST"
            return response
        try:
            params = read_params(request)
            return view(request, params)
        except BadRequest as error:
            return _text(error.message, error.status, **{"X-akismet-debug-help": error.message})
        except ValidationError as error:
            fields = getattr(error, "message_dict", {"": error.messages})
            message = "; ".join(
                f"{name}: {' '.join(msgs)}" if name else " ".join(msgs) for name, msgs in fields.items()
            )
            return _text(message, 400, **{"X-akismet-debug-help": message})
        except (OperationalError, InterfaceError, InternalError) as error:
            # The database refuses (down, read-only, disk full): nothing could be kept, so nothing
            # is answered for; the client keeps the comment and tries again.
            logger.warning("Akismet API: the database refused (%s); answered 503", error)
            message = "The service cannot store the comment now; try again later."
            response = _text(message, 503, **{"X-akismet-debug-help": message})
            response["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER)
            return response

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return wrapper


@protocol_view
def verify_key(request: HttpRequest, params: dict[str, str]) -> HttpResponse:
    site, refusal = authenticate(request, params, key_field="key")
    if refusal is not None:
        return refusal
    problem = _check_blog(site, params)
    if problem:
        return _invalid(problem)
    return _text("valid")


def _standard(
    request: HttpRequest, params: dict[str, str]
) -> tuple[ModerationSite | None, HttpResponse | None]:
    site, refusal = authenticate(request, params)
    if refusal is not None:
        return None, refusal
    problem = _check_blog(site, params)
    if problem:
        return None, _invalid(problem)
    if not params.get("user_ip", "").strip():
        # Akismet's own answer: this body, and the reason in its debug header.
        return None, _text(
            "Missing required field: user_ip.", **{"X-akismet-debug-help": 'Empty "user_ip" value'}
        )
    return site, None


@protocol_view
def comment_check(request: HttpRequest, params: dict[str, str]) -> HttpResponse:
    params = wordpress.normalised(request, params)
    site, refusal = _standard(request, params)
    if refusal is not None:
        return refusal
    if len(params.get("comment_content", "")) > MAX_TEXT_CHARS:
        # Palabre keeps no item of that size: no verdict for what would not be kept. Akismet
        # clients hold a comment answered `invalid` for a person (and check it again later).
        return _invalid(
            f"comment_content is longer than {MAX_TEXT_CHARS} characters: "
            "Palabre neither checks nor stores it."
        )
    verdict = check_comment(site, params)
    response = _text("true" if verdict.spam else "false", **{"X-akismet-guid": verdict.guid})
    if verdict.spam and verdict.discard:
        response["X-akismet-pro-tip"] = "discard"
    if verdict.held:
        response["X-Palabre-Held"] = verdict.held
    return response


@protocol_view
def submit_spam(request: HttpRequest, params: dict[str, str]) -> HttpResponse:
    params = wordpress.normalised(request, params)
    site, refusal = _standard(request, params)
    if refusal is not None:
        return refusal
    submit_feedback(site, params, spam=True)
    return _text(THANKS)


@protocol_view
def submit_ham(request: HttpRequest, params: dict[str, str]) -> HttpResponse:
    params = wordpress.normalised(request, params)
    site, refusal = _standard(request, params)
    if refusal is not None:
        return refusal
    submit_feedback(site, params, spam=False)
    return _text(THANKS)


@protocol_view
def usage_limit(request: HttpRequest, params: dict[str, str]) -> HttpResponse:
    """No monthly quota in Palabre (`limit: none`); `usage` is the month's comment-check calls, as
    Akismet counts them (not the comments stored: a re-check is a call too); `throttled` says this
    minute's requests have reached the per-minute limit."""
    site, refusal = authenticate(request, params)
    if refusal is not None:
        return refusal
    _month, start, end = _month_bounds("")
    usage = journal.month_usage(site.pk, start, end)
    limit = rate_limit()
    this_minute = SiteRequestCount.objects.filter(site=site, minute=int(time.time() // 60))
    throttled = bool(limit) and (this_minute.values_list("count", flat=True).first() or 0) >= limit
    return JsonResponse({"limit": "none", "usage": usage, "percentage": "0.00", "throttled": throttled})


@protocol_view
def key_sites(request: HttpRequest, params: dict[str, str]) -> HttpResponse:
    """The key's site and its month's counts, in Akismet's JSON or CSV shape."""
    site, refusal = authenticate(request, params)
    if refusal is not None:
        return refusal
    bounds = _month_bounds(params.get("month", "").strip())
    if bounds is None:
        return _invalid('The "month" value must be YYYY-MM.')
    month, start, end = bounds
    url_filter = params.get("filter", "").strip().lower()
    rows = []
    if not url_filter or url_filter in site.url.lower():
        host = urlsplit(site.url).hostname or site.url
        rows.append({"site": host, **month_stats(site, start, end), "is_revoked": not site.is_active})
    if params.get("format", "json").strip().lower() == "csv":
        out = io.StringIO()
        out.write(f"Active sites for your key during {month} (limit:500, offset: 0, total: {len(rows)})\n")
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(
            ["Site", "Total API Calls", "Spam", "Ham", "Missed Spam", "False Positives", "Is Revoked"]
        )
        for row in rows:
            writer.writerow(
                [
                    row["site"],
                    row["api_calls"],
                    row["spam"],
                    row["ham"],
                    row["missed_spam"],
                    row["false_positives"],
                    "true" if row["is_revoked"] else "false",
                ]
            )
        return HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    return JsonResponse({month: rows, "limit": 500, "offset": 0, "total": len(rows)})
