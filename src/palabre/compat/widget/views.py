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

import json
import time
from functools import wraps
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from palabre.compat.widget.comments import (
    AUTHOR_COOKIE,
    AUTHOR_HEADER,
    HELD,
    MAX_BODY_BYTES,
    PUBLISHED,
    REJECTED,
    Outcome,
    active_site,
    author_name,
    clean_page,
    comment_json,
    comments_for_page,
    issue_form_token,
    outcome_message,
    post_wait,
    reader_language,
    site_origins,
    submit_comment,
    too_many_message,
    widget_strings,
)
from palabre.compat.widget.forms import MAX_TEXT_CHARS, WidgetCommentForm
from palabre.moderation.models import ModerationSite
from palabre.moderation.services import origin_of
from palabre.orgs.throttle import client_address


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


def _client_ip(request: HttpRequest) -> str:
    # The reader's address, not the reverse proxy's: a spammer's address listed by a moderator
    # must not reject every reader of the site.
    return client_address(request)


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
    wait = post_wait(site, _client_ip(request))
    if wait:
        response = _json_error({"text": [too_many_message(wait)]}, 429, form_token=issue_form_token(site))
        response["Retry-After"] = str(wait)
        return response
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

_SCRIPT = Path(__file__).resolve().parents[2] / "static" / "palabre" / "widget.js"
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
            "compat/widget_form.html",
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
                "compat/widget_form.html",
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
        elif form.is_valid() and (wait := post_wait(site, _client_ip(request))):
            # Too many from here: the text stays in the form, to be sent again later.
            form.add_error("text", too_many_message(wait))
            status = 429
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
        "compat/widget_form.html",
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
