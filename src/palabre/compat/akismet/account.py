"""The Akismet calls about the key rather than a comment, as WordPress's Akismet plugin makes them.

Its settings page asks `GET /1.1/test` (is the service reachable: `connected`), then
`POST /1.1/get-subscription` (the key's account, JSON; the page says the key works when its
`status` is `active`) and `POST /1.1/get-stats` twice (`from=6-months`, `from=all`: the spam
caught, missed spam, false positives, accuracy). Deactivating the plugin posts
`/1.1/deactivate`, answered `deactivated`. Every call but `/1.1/test` carries `key` and `blog`,
checked as verify-key checks them (`invalid` with the reason in `X-akismet-debug-help`).

Palabre has no subscription: a key of an active site is `active`, of account type `palabre`,
never billed, never over a limit. A revoked key is `invalid`, as any unknown key.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from palabre.compat.akismet import views
from palabre.compat.akismet.comments import site_actor
from palabre.compat.akismet.limits import month_stats
from palabre.moderation.models import ModerationSite
from palabre.orgs.services import record

_PERIOD = re.compile(r"(\d{1,4})-(days|months)")


@csrf_exempt
def test(request: HttpRequest) -> HttpResponse:
    """The plugin's connectivity check: no key, one word."""
    if request.method not in {"GET", "POST", "HEAD"}:
        response = views._text("Use GET.", 405)
        response["Allow"] = "GET, POST"
        return response
    return views._text("connected")


def _key_and_blog(
    request: HttpRequest, params: dict[str, str]
) -> tuple[ModerationSite | None, HttpResponse | None]:
    site, refusal = views.authenticate(request, params, key_field="key")
    if refusal is not None:
        return None, refusal
    problem = views._check_blog(site, params)
    if problem:
        return None, views._invalid(problem)
    return site, None


@views.protocol_view
def get_subscription(request: HttpRequest, params: dict[str, str]) -> HttpResponse:
    site, refusal = _key_and_blog(request, params)
    if refusal is not None:
        return refusal
    return JsonResponse(
        {
            "account_id": site.pk,
            "account_name": f"Palabre: {site.name}",
            "account_type": "palabre",
            "status": "active",
            "next_billing_date": None,
            "limit_reached": False,
        }
    )


def period_start(site: ModerationSite, value: str, *, now: datetime) -> datetime | None:
    """The start of `from`: `all` (since the site was registered), `N-days` or `N-months`
    (30 days a month); None when it is none of these."""
    value = value.strip().lower() or "all"
    if value == "all":
        return site.created_at
    match = _PERIOD.fullmatch(value)
    if match is None:
        return None
    days = int(match.group(1)) * (30 if match.group(2) == "months" else 1)
    return max(site.created_at, now - timedelta(days=days))


@views.protocol_view
def get_stats(request: HttpRequest, params: dict[str, str]) -> HttpResponse:
    """The comments stored through the key since `from`: spam caught, ham, missed spam and false
    positives (a moderator's correction, in WordPress or in Palabre), and the accuracy they give."""
    site, refusal = _key_and_blog(request, params)
    if refusal is not None:
        return refusal
    now = timezone.now()
    start = period_start(site, params.get("from", ""), now=now)
    if start is None:
        return views._invalid('The "from" value must be all, N-days or N-months.')
    stats = month_stats(site, start, now + timedelta(seconds=1))
    judged = stats["spam"] + stats["ham"]
    wrong = stats["missed_spam"] + stats["false_positives"]
    accuracy = round(100 * (judged - min(wrong, judged)) / judged, 2) if judged else 100
    return JsonResponse(
        {
            "spam": stats["spam"],
            "ham": stats["ham"],
            "missed_spam": stats["missed_spam"],
            "false_positives": stats["false_positives"],
            "accuracy": accuracy,
            "api_calls": stats["api_calls"],
        }
    )


@views.protocol_view
def deactivate(request: HttpRequest, params: dict[str, str]) -> HttpResponse:
    """The plugin was deactivated on a blog: recorded in the audit log; the key stays valid (an
    Akismet key outlives a plugin's deactivation; revoke it on the site's page)."""
    site, refusal = _key_and_blog(request, params)
    if refusal is not None:
        return refusal
    record(
        site_actor(site),
        "moderation.site_plugin_deactivated",
        site,
        after={"blog": params.get("blog", "").strip()[:500]},
    )
    return views._text("deactivated")
