"""The site widget (M3): a comment form a brand embeds on its blog, moderated by Palabre.

Three ways in, one path for a comment (`submit_comment`: ingest, then the moderation decision at
once so the reader gets an answer):
- `embed.js`: the script the blog loads; `widget.js` with the site's configuration injected;
- `comments`: its JSON endpoint (GET the page's comments, POST one), cross-origin for the site's
  origins only;
- `form`: a small page that works without JavaScript (for `<noscript>`, in an iframe).

No CAPTCHA. Robots are stopped by a field hidden from people (the honeypot), by the time between
the form being shown and sent (a signed timestamp), and by the moderation engine; both signals are
stored on the item and weigh in every decision on it (`engine.signal_reasons`), so the analysis
task agrees with the answer given here.

Neither endpoint uses Django's CSRF cookie: in a blog's iframe it is a third-party cookie, which
browsers drop, and the reader would get a 403 page instead of their comment. There is no session to
abuse here (the reader is anonymous); what CSRF would add is done by the signed form token (it must
come from a page Palabre served for this site, and serves one comment: `claim_form_token`) and by
checking Origin (or Referer), which both endpoints require: every browser sends Origin with a POST,
forms without JavaScript included.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import secrets
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from functools import wraps
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.core import signing
from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from palabre.conversations.models import Item
from palabre.conversations.services import IncomingAuthor, IncomingItem, ingest_item
from palabre.moderation import engine
from palabre.moderation.models import ItemModeration, ModerationSite, ModerationStatus, UsedFormToken
from palabre.moderation.widget_forms import MAX_PAGE_CHARS, MAX_TEXT_CHARS, WidgetCommentForm

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


def origin_of(url: str) -> str | None:
    """scheme://host[:port] of an address, lower-cased, default port left out; None if not http(s)."""
    try:
        parts = urlsplit((url or "").strip())
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return None
    scheme, host = parts.scheme.lower(), parts.hostname.lower()
    if not re.fullmatch(r"[a-z0-9.\-_:\[\]]+", host):
        return None  # also keeps origins safe to write into a header
    if ":" in host:
        host = f"[{host}]"
    if port and port != {"http": 80, "https": 443}[scheme]:
        return f"{scheme}://{host}:{port}"
    return f"{scheme}://{host}"


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


def _request_origin(request: HttpRequest) -> str | None:
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        return origin_of(origin) or "invalid"
    referer = request.headers.get("Referer")
    return origin_of(referer) if referer else None


def _own_host(request: HttpRequest, origin: str) -> bool:
    # By host, not scheme: behind a TLS-terminating proxy Palabre may see itself as http.
    trusted = {origin_of(o) for o in settings.CSRF_TRUSTED_ORIGINS}
    return urlsplit(origin).netloc == request.get_host() or origin in trusted


# --- tokens -----------------------------------------------------------------------------------


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
    item, _created = ingest_item(channel=site.channel, incoming=incoming)
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


def _client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")[:64]


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


def _cors(site: ModerationSite, request: HttpRequest, response: HttpResponse) -> HttpResponse:
    origin = request.headers.get("Origin")
    if origin and origin_of(origin) in site_origins(site):
        response["Access-Control-Allow-Origin"] = origin_of(origin)
        response["Access-Control-Expose-Headers"] = "Content-Type"
    patch_vary_headers(response, ["Origin"])
    response["Cache-Control"] = "no-store"
    return response


def _json_error(errors: dict[str, list[str]], status: int, **extra: Any) -> JsonResponse:
    first = next(iter(errors.values()))[0] if errors else ""
    return JsonResponse({"errors": errors, "message": first, **extra}, status=status)


def _origin_refused() -> JsonResponse:
    return _json_error({"origin": [_("This site may not use this comment form.")]}, 403)


def _with_site(view):
    @wraps(view)
    def wrapper(request: HttpRequest, public_id: str) -> HttpResponse:
        site = active_site(public_id)
        return view(request, site)

    return wrapper


@csrf_exempt
@_with_site
def comments(request: HttpRequest, site: ModerationSite) -> HttpResponse:
    """GET ?page=: the page's comments (and the reader's awaiting ones, with their token); POST: one comment."""
    origin = request.headers.get("Origin")
    allowed = site_origins(site)
    if request.method == "OPTIONS":
        if origin_of(origin or "") not in allowed:
            return _cors(site, request, HttpResponse(status=403))
        response = HttpResponse(status=204)
        response["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = f"Content-Type, {AUTHOR_HEADER}"
        response["Access-Control-Max-Age"] = "600"
        return _cors(site, request, response)
    if request.method not in {"GET", "POST"}:
        return _cors(site, request, _json_error({"method": [_("Use GET or POST.")]}, 405))
    language = reader_language(request.GET.get("lang") or request.headers.get("Accept-Language"))
    with translation.override(language):
        if origin and origin_of(origin) not in allowed:
            return _cors(site, request, _origin_refused())
        response = _list(request, site) if request.method == "GET" else _post(request, site)
    return _cors(site, request, response)


def _list(request: HttpRequest, site: ModerationSite) -> JsonResponse:
    page = clean_page(site, request.GET.get("page", ""))
    if page is None:
        return _json_error({"page": [_("This page is not on the site %(site)s.") % {"site": site.url}]}, 400)
    found = comments_for_page(site, page, author_token=request.headers.get(AUTHOR_HEADER))
    return JsonResponse(
        {
            "page": page,
            "comments": [
                comment_json(item, PUBLISHED, found["replies"].get(item.pk, []))
                for item in found["published"]
            ],
            "pending": [comment_json(item, HELD) for item in found["pending"]],
            "form_token": issue_form_token(site),
        }
    )


def _read_body(request: HttpRequest) -> dict[str, Any] | None:
    if request.content_type == "application/json":
        data = json.loads(request.body or b"{}")
        if not isinstance(data, dict):
            return None
        return {key: value if isinstance(value, str) else "" for key, value in data.items()}
    return {key: request.POST.get(key, "") for key in request.POST}


def _post(request: HttpRequest, site: ModerationSite) -> JsonResponse:
    # A browser always sends Origin with a cross-origin POST; without it, the Referer must say where from.
    request_origin = _request_origin(request)
    if request_origin not in site_origins(site):
        return _origin_refused()
    try:
        if int(request.META.get("CONTENT_LENGTH") or 0) > MAX_BODY_BYTES:
            raise RequestDataTooBig
        data = _read_body(request)
    except RequestDataTooBig:
        return _json_error({"text": [_("The comment is too long.")]}, 413)
    except (ValueError, UnicodeDecodeError):
        data = None
    if data is None:
        return _json_error({"body": [_("Send the comment as a JSON object or as form fields.")]}, 400)
    form = WidgetCommentForm(data, site=site)
    if not (form.is_valid() and form.claim_token()):
        extra = {"form_token": issue_form_token(site)} if form.token_expired else {}
        return _json_error({k: [str(e) for e in v] for k, v in form.errors.items()}, 400, **extra)
    outcome = _submit(request, site, form, data.get("author_token") or request.headers.get(AUTHOR_HEADER))
    return JsonResponse(
        {
            "status": outcome.status,
            "message": outcome_message(outcome.status),
            "reasons": outcome.reasons,
            "comment": comment_json(outcome.item, outcome.status) if outcome.status != REJECTED else None,
            "author_token": outcome.author_token,
            "form_token": issue_form_token(site),
        },
        status=201,
    )


def _submit(
    request: HttpRequest, site: ModerationSite, form: WidgetCommentForm, token: str | None
) -> Outcome:
    data = form.cleaned_data
    return submit_comment(
        site=site,
        name=data["name"],
        email=data["email"],
        text=data["text"],
        page=data["page"],
        seconds_to_submit=form.seconds_to_submit or 0.0,
        honeypot=data.get("website", ""),
        author_token=token or "",
        ip=_client_ip(request),
        user_agent=request.headers.get("User-Agent", ""),
    )


# --- the script -------------------------------------------------------------------------------

_SCRIPT = Path(__file__).resolve().parent.parent / "static" / "palabre" / "widget.js"
_CONFIG_SLOT = "/*palabre-config*/null"


@require_GET
@_with_site
def embed_js(request: HttpRequest, site: ModerationSite) -> HttpResponse:
    """widget.js with the site's configuration: where to post, and its words in both languages."""
    strings = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            strings[code] = widget_strings()
    config = {
        "site": site.public_id,
        "comments": request.build_absolute_uri(reverse("widget_comments", args=[site.public_id])),
        "form": request.build_absolute_uri(reverse("widget_form", args=[site.public_id])),
        "css": request.build_absolute_uri(static("palabre/widget.css")),
        "authorHeader": AUTHOR_HEADER,
        "maxText": MAX_TEXT_CHARS,
        "defaultLang": settings.LANGUAGE_CODE,
        "strings": strings,
    }
    # Inside a <script>: no "</" may close it early.
    literal = json.dumps(config, ensure_ascii=False).replace("<", "\\u003c")
    script = _SCRIPT.read_text(encoding="utf-8").replace(_CONFIG_SLOT, literal, 1)
    response = HttpResponse(script, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    return response


# --- the page without JavaScript ----------------------------------------------------------------


def _frame_ancestors(site: ModerationSite) -> str:
    return " ".join(["'self'", *site_origins(site)])


@csrf_exempt
@xframe_options_exempt
@_with_site
def comment_form(request: HttpRequest, site: ModerationSite) -> HttpResponse:
    """The comments and the form as a page of its own, posting to itself; embeddable by the site."""
    if request.method not in {"GET", "POST"}:
        return HttpResponse(status=405)
    language = reader_language(request.GET.get("lang") or getattr(request, "LANGUAGE_CODE", ""))
    with translation.override(language):
        response = _comment_form(request, site, language)
    # The pages' policy (settings.CONTENT_SECURITY_POLICY), framed by the site's origins only.
    response._csp_replace = {"frame-ancestors": _frame_ancestors(site).split()}
    response["Cache-Control"] = "no-store"
    return response


def _comment_form(request: HttpRequest, site: ModerationSite, language: str) -> HttpResponse:
    page = clean_page(site, request.GET.get("page") or request.POST.get("page", ""))
    if page is None:
        return render(
            request,
            "moderation/widget_form.html",
            {"site": site, "language": language, "page_error": True},
            status=400,
        )
    author_token = request.COOKIES.get(AUTHOR_COOKIE)
    outcome_status, reasons = request.GET.get("sent", ""), []
    status = 200
    if request.method == "POST":
        origin = _request_origin(request)
        if origin is not None and not (origin in site_origins(site) or _own_host(request, origin)):
            return render(
                request,
                "moderation/widget_form.html",
                {"site": site, "language": language, "origin_error": True},
                status=403,
            )
        data = request.POST.copy()
        data["page"] = page
        form = WidgetCommentForm(data, site=site)
        if origin is None:
            # Browsers send Origin with every POST form (Referer too, unless the page forbids it):
            # without either, it is not a person's browser. The text stays, with a fresh form.
            form.is_valid()
            form.add_error(None, _("Your browser did not say which page sent this comment. Send it again."))
            data["form_token"] = issue_form_token(site)
            status = 403
        elif form.is_valid() and form.claim_token():
            outcome = _submit(request, site, form, author_token)
            if outcome.status != REJECTED:
                query = urlencode({"page": page, "lang": language, "sent": outcome.status})
                response = redirect(f"{request.path}?{query}#palabre-result")
                response.status_code = 303
                _remember_author(request, response, site, outcome.author_token)
                return response
            # Refused: the text stays in the form, with the reasons, to be changed and sent with a new token.
            outcome_status, reasons = REJECTED, outcome.reasons
            # (shown when the first was: the time to write it still counts)
            data["form_token"] = issue_form_token(site, issued_at=time.time() - (form.seconds_to_submit or 0))
        elif form.token_expired:
            data["form_token"] = issue_form_token(site)  # the form shows its errors with a fresh token
    else:
        form = WidgetCommentForm(initial={"page": page, "form_token": issue_form_token(site)}, site=site)
    found = comments_for_page(site, page, author_token=author_token)
    return render(
        request,
        "moderation/widget_form.html",
        {
            "site": site,
            "language": language,
            "page": page,
            "form": form,
            "published": [
                {"item": i, "name": author_name(i), "replies": found["replies"].get(i.pk, [])}
                for i in found["published"]
            ],
            "pending": [{"item": i, "name": author_name(i)} for i in found["pending"]],
            "outcome": outcome_status if outcome_status in {PUBLISHED, HELD, REJECTED} else "",
            "outcome_message": outcome_message(outcome_status)
            if outcome_status in {PUBLISHED, HELD, REJECTED}
            else "",
            "reasons": reasons,
            "max_text": MAX_TEXT_CHARS,
        },
        status=status,
    )


def _remember_author(request: HttpRequest, response: HttpResponse, site: ModerationSite, token: str) -> None:
    """So the reader sees their comment awaiting moderation; in a third-party iframe only if allowed."""
    secure = request.is_secure()
    response.set_cookie(
        AUTHOR_COOKIE,
        token,
        max_age=365 * 24 * 3600,
        path=reverse("widget_form", args=[site.public_id]),
        secure=secure,
        httponly=True,
        samesite="None" if secure else "Lax",
    )
