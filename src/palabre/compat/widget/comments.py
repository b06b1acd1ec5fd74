"""A comment through the site widget: the site and where it may be embedded, the signed form tokens,
the one path of a comment (`submit_comment`: ingest, then the moderation decision at once so the
reader gets an answer), and what the page shows back (see `compat.widget.views` for the endpoints)."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from palabre.compat.models import UsedFormToken
from palabre.compat.widget.forms import MAX_PAGE_CHARS
from palabre.connectors.site import receive_comment
from palabre.conversations.models import Item
from palabre.conversations.services import IncomingAuthor, IncomingItem
from palabre.moderation import engine
from palabre.moderation.models import ItemModeration, ModerationSite, ModerationStatus
from palabre.moderation.services import origin_of

logger = logging.getLogger(__name__)

# A person needs more than this to read a post and write even a short comment.
MIN_SECONDS_TO_SUBMIT = 3.0
FORM_TOKEN_MAX_AGE = 7 * 24 * 3600
FORM_TOKEN_SALT = "palabre.widget.form"
MAX_BODY_BYTES = 64 * 1024
MAX_LISTED = 200
AUTHOR_HEADER = "X-Palabre-Author"
AUTHOR_COOKIE = "palabre_widget_author"
_AUTHOR_TOKEN = re.compile(r"[A-Za-z0-9_-]{32}")

PUBLISHED = "published"
HELD = "held"
REJECTED = "rejected"
_SHOWN = (ModerationStatus.PUBLISHED, ModerationStatus.APPROVED)
_AWAITING = (ModerationStatus.PENDING, ModerationStatus.HELD, ModerationStatus.REPORTED)


# --- how often ---------------------------------------------------------------------------------

# Anyone may post through a site's widget (a script sends any Origin): without a brake, one client
# could store comments, and have them moderated on the shared workers, as fast as it can send them.
# A reader writes one comment in a minute, rarely a few: one address (an IPv6 /64) may send this
# many to one site in a minute; all of a site's posts also count in the site's per-minute limit
# (PALABRE_AKISMET_RATE_LIMIT, with its Akismet and Perspective requests).
POSTS_PER_ADDRESS_A_MINUTE = 10
_POSTS_PREFIX = "palabre:widget-posts"


def post_wait(site: ModerationSite, address: str, *, now: float | None = None) -> int:
    """Count one comment from this address to this site; 0 if it may be taken, else the seconds
    to wait. Counted in the `throttle` cache, shared by the processes (and machines, on Redis)."""
    from django.core.cache import caches

    from palabre.compat.akismet.limits import take_request
    from palabre.orgs.throttle import client_group

    now = time.time() if now is None else now
    minute = int(now // 60)
    wait = max(1, int((minute + 1) * 60 - now + 0.999))
    cache = caches["throttle"]
    key = f"{_POSTS_PREFIX}:{site.pk}:{client_group(address)}:{minute}"
    cache.add(key, 0, timeout=120)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between the two calls
        cache.add(key, 0, timeout=120)
        count = cache.incr(key)
    if count > POSTS_PER_ADDRESS_A_MINUTE:
        return wait
    return take_request(site, now=now)


def too_many_message(wait: int) -> str:
    return _("Too many comments sent from here: send yours again in %(n)s seconds, it is kept.") % {"n": wait}


# --- sites and origins ------------------------------------------------------------------------


def active_site(public_id: str) -> ModerationSite:
    site = (
        ModerationSite.objects.select_related("organisation", "channel")
        .filter(public_id=public_id, revoked_at__isnull=True)
        .first()
    )
    if site is None:
        raise Http404("No such comment form.")
    return site


def site_origins(site: ModerationSite) -> list[str]:
    """Where the widget may be embedded: the site's own address and its allowed origins."""
    found = [origin_of(site.url)] + [origin_of(str(o)) for o in site.allowed_origins or []]
    return list(dict.fromkeys(o for o in found if o))


def clean_page(site: ModerationSite, page: str) -> str | None:
    """The page's address without its fragment, if it is on the site; None otherwise."""
    page = (page or "").strip()
    if not page or len(page) > MAX_PAGE_CHARS or origin_of(page) not in site_origins(site):
        return None
    parts = urlsplit(page)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, ""))


def issue_form_token(site: ModerationSite, *, issued_at: float | None = None) -> str:
    """Signed: which site's form was shown, and when (for the time to submit); the nonce makes each
    token unique, as it serves one comment."""
    issued_at = time.time() if issued_at is None else issued_at
    payload = {"site": site.public_id, "at": issued_at, "n": secrets.token_urlsafe(9)}
    return signing.dumps(payload, salt=FORM_TOKEN_SALT, compress=True)


def claim_form_token(site: ModerationSite, token: str) -> bool:
    """Marks a (valid) token used; False if it already served a comment. Race-safe: of two posts
    with one token, the unique constraint lets one insert win."""
    now = timezone.now()
    digest = hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
    UsedFormToken.objects.filter(site=site, used_at__lt=now - timedelta(seconds=FORM_TOKEN_MAX_AGE)).delete()
    try:
        with transaction.atomic():
            UsedFormToken.objects.create(site=site, digest=digest, used_at=now)
    except IntegrityError:
        return False
    return True


def form_token_age(site: ModerationSite, token: str) -> float | None:
    """Seconds since the form was shown, or None if the token is missing, forged, expired or another site's."""
    if not token:
        return None
    try:
        payload = signing.loads(token, salt=FORM_TOKEN_SALT, max_age=FORM_TOKEN_MAX_AGE)
        issued_at = float(payload["at"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    age = max(time.time() - issued_at, 0.0)
    if payload.get("site") != site.public_id or age > FORM_TOKEN_MAX_AGE:
        return None
    return age


def new_author_token() -> str:
    return secrets.token_urlsafe(24)


def author_key(token: str | None) -> str | None:
    """What is stored of a reader's token (its hash): enough to find their comments, never to show it."""
    if not token or not _AUTHOR_TOKEN.fullmatch(token):
        return None
    return hashlib.sha256(token.encode()).hexdigest()


# --- comments -----------------------------------------------------------------------------------


@dataclass
class Outcome:
    status: str  # published, held or rejected, as the reader is told
    item: Item
    author_token: str
    reasons: list[str] = field(default_factory=list)  # why it was refused, in plain words


def submit_comment(
    *,
    site: ModerationSite,
    name: str,
    email: str,
    text: str,
    page: str,
    seconds_to_submit: float,
    honeypot: str = "",
    author_token: str = "",
    ip: str = "",
    user_agent: str = "",
) -> Outcome:
    """A reader's comment: stored in the site's channel, decided on at once.

    Once stored, a comment is never lost: if the decision fails here, the analysis task makes it.
    A filled honeypot is answered as "awaiting moderation", so a robot learns nothing.
    """
    if author_key(author_token) is None:
        author_token = new_author_token()
    signals = []
    if honeypot:
        signals.append({"code": "honeypot"})
    if seconds_to_submit < MIN_SECONDS_TO_SUBMIT:
        signals.append({"code": "too_fast", "params": {"seconds": round(seconds_to_submit, 1)}})
    incoming = IncomingItem(
        external_id=f"widget:{uuid.uuid4().hex}",
        kind="comment",
        text=text,
        created_at=timezone.now(),
        author=IncomingAuthor(handle=email, display_name=name),
        url=page,
        raw={
            "author": {"name": name, "email": email, "ip": ip, "url": "", "user_agent": user_agent[:300]},
            "page": page,
            "palabre_widget": {"site": site.public_id, "author": author_key(author_token)},
            "palabre_signals": signals,
        },
    )
    item, _created = receive_comment(site.channel, incoming)
    state = ItemModeration.objects.filter(item=item).select_related("last_decision").first()
    if state is None or state.status == ModerationStatus.PENDING:
        from palabre.moderation.services import moderate_item

        try:
            moderate_item(item)
        except Exception:  # the analysis task decides later; the reader is told it awaits moderation
            logger.exception("widget: moderating item %s failed", item.pk)
        state = ItemModeration.objects.filter(item=item).select_related("last_decision").first()
    status = state.status if state else ModerationStatus.PENDING
    if honeypot or status in _AWAITING:
        return Outcome(HELD, item, author_token)
    if status in _SHOWN:
        return Outcome(PUBLISHED, item, author_token)
    reasons = state.last_decision.reasons if state.last_decision else []
    return Outcome(REJECTED, item, author_token, refusal_reasons(reasons))


def comments_for_page(site: ModerationSite, page: str, *, author_token: str | None = None) -> dict[str, list]:
    """The page's published comments, oldest first, and the reader's own comments awaiting moderation."""
    items = Item.objects.filter(channel=site.channel, url=page, kind="comment").select_related("author")
    published = list(items.filter(moderation__status__in=_SHOWN).order_by("-created_at", "-pk")[:MAX_LISTED])
    key = author_key(author_token)
    pending = (
        list(
            items.filter(moderation__status__in=_AWAITING, raw__palabre_widget__author=key).order_by(
                "created_at", "pk"
            )[:MAX_LISTED]
        )
        if key
        else []
    )
    return {"published": published[::-1], "pending": pending, "replies": brand_replies(site, published)}


def brand_replies(site: ModerationSite, comments: list[Item]) -> dict[int, list[Item]]:
    """The brand's answers (sent through the connectors' outbox), by the comment they answer."""
    found: dict[int, list[Item]] = {}
    replies = Item.objects.filter(
        channel=site.channel,
        kind="reply",
        parent__in=[c.pk for c in comments],
        raw__has_key="palabre_outbound",
    ).select_related("author")
    for reply in replies.order_by("created_at", "pk"):
        found.setdefault(reply.parent_id, []).append(reply)
    return found


def author_name(item: Item) -> str:
    raw_author = item.raw.get("author") if isinstance(item.raw.get("author"), dict) else {}
    name = str(raw_author.get("name") or "")
    return name or (item.author.display_name if item.author else "") or _("Anonymous")


def comment_json(item: Item, status: str, replies: list[Item] = ()) -> dict[str, Any]:
    """What the page shows of a comment: never the e-mail address."""
    return {
        "id": item.external_id.removeprefix("widget:"),
        "name": author_name(item),
        "text": item.text,
        "created_at": item.created_at.isoformat(),
        "status": status,
        "replies": [
            {
                "name": reply.author.display_name if reply.author else "",
                "text": reply.text,
                "created_at": reply.created_at.isoformat(),
            }
            for reply in replies
        ],
    }


# Why a comment was refused, told to the person who wrote it: plain words, no scores.
_REFUSALS = {
    "banned_word": gettext_lazy("It contains a word this site does not accept: “%(word)s”."),
    "regex": gettext_lazy("It contains an expression this site does not accept."),
    "blocked_domain": gettext_lazy("It links to a site this blog does not accept (%(domain)s)."),
    "known_spammer": gettext_lazy("Comments from this author are not accepted here."),
    "known_spam": gettext_lazy("It reads as advertising (spam)."),
    "score_spam": gettext_lazy("It reads as advertising (spam)."),
    "score_toxicity": gettext_lazy("It reads as aggressive or insulting."),
    "score_insult": gettext_lazy("It reads as aggressive or insulting."),
    "score_identity_attack": gettext_lazy("It reads as an attack on a group of people."),
    "score_threat": gettext_lazy("It reads as a threat."),
    "score_sexual": gettext_lazy("It contains sexual content."),
}


def refusal_reasons(reasons: list[dict[str, Any]]) -> list[str]:
    found: list[str] = []
    for reason in reasons or []:
        if not isinstance(reason, dict) or reason.get("action") != engine.REJECT:
            continue
        template = _REFUSALS.get(str(reason.get("code")))
        try:
            text = str(template) % (reason.get("params") or {}) if template else ""
        except (KeyError, TypeError, ValueError):
            text = ""
        text = text or _("It does not follow this site's rules.")
        if text not in found:
            found.append(text)
    return found or [_("It does not follow this site's rules.")]


def outcome_message(status: str) -> str:
    return {
        PUBLISHED: _("Thank you, your comment is published."),
        HELD: _("Thank you! Your comment awaits moderation: only you can see it until then."),
        REJECTED: _("Your comment was not published. You can change it and send it again."),
    }[status]


# --- requests -----------------------------------------------------------------------------------


def reader_language(value: str | None) -> str:
    value = (value or "").strip().lower()
    for code, _name in settings.LANGUAGES:
        if value == code or value.startswith(code + "-") or value.startswith(code + "_"):
            return code
    return translation.get_language() or settings.LANGUAGE_CODE


def widget_strings() -> dict[str, str]:
    """What widget.js says, in the active language."""
    return {
        "heading": _("Comments"),
        "form_heading": _("Leave a comment"),
        "name": _("Name"),
        "email": _("E-mail"),
        "email_help": _("Never shown publicly."),
        "text": _("Comment"),
        "honeypot": _("Leave this field empty"),
        "send": _("Send"),
        "sending": _("Sending…"),
        "empty": _("No comments yet."),
        "pending": _("Awaiting moderation: only you can see it."),
        "load_failed": _("The comments could not be loaded. You can still write yours."),
        "network_error": _(
            "Your comment could not be sent: the comment server cannot be reached. "
            "It is kept here: try again in a moment."
        ),
        "server_error": _(
            "The comment server had a problem. Your comment is kept here: try again in a moment."
        ),
        "fix_errors": _("Your comment was not sent: see the message next to the field. Your text is kept."),
        "draft_restored": _("Your unsent comment was restored."),
        "counter": _("%(count)s / %(max)s characters"),
        "too_long": _("%(count)s / %(max)s characters: too long"),
    }


# --- JSON endpoint ----------------------------------------------------------------------------
