"""HTTP side of the Perspective-compatible API: the key, the JSON body, Google's error answers.

The protocol itself lives beside: the requests and errors in `parsing`, the scores in `analysis`,
the discovery document in `discovery`.
"""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, InternalError, OperationalError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from palabre.compat.akismet.limits import rate_limit, take_request
from palabre.compat.perspective import analysis, parsing
from palabre.compat.perspective.discovery import discovery_document
from palabre.moderation.models import ModerationSite
from palabre.moderation.services import site_for_key
from palabre.orgs.throttle import key_guess_failed, key_guess_message, key_guess_wait

logger = logging.getLogger(__name__)

_JSON = {"ensure_ascii": False}


def _error(error: parsing.PerspectiveError, **headers: str) -> JsonResponse:
    if getattr(error, "retry_after", 0):
        headers["Retry-After"] = str(error.retry_after)
    return JsonResponse(error.as_dict(), status=error.code, headers=headers, json_dumps_params=_JSON)


def _method_not_allowed(request: HttpRequest, allowed: str) -> JsonResponse:
    error = parsing.PerspectiveError(
        f"HTTP method {request.method} is not supported by this URL; use {allowed}.",
        code=405,
        status="METHOD_NOT_ALLOWED",
    )
    return _error(error, Allow=allowed)


def _site(request: HttpRequest) -> ModerationSite:
    # Google takes the key from the query string or the X-Goog-Api-Key header.
    key = request.GET.get("key") or request.headers.get("X-Goog-Api-Key", "")
    if not key.strip():
        raise parsing.missing_key_error()
    guessing = key_guess_wait(request)
    if guessing:
        raise _quota_error(key_guess_message(guessing), guessing)
    site = site_for_key(key)
    if site is None:
        key_guess_failed(request)
        raise parsing.invalid_key_error()
    # The site's per-minute limit, counted with its Akismet requests: analysing and storing a
    # comment costs the shared server's CPU, so a key cannot ask without bound.
    wait = take_request(site)
    if wait:
        raise _quota_error(f"Too many requests for this key: at most {rate_limit()} a minute.", wait)
    return site


def _quota_error(message: str, wait: int) -> parsing.PerspectiveError:
    """Google's shape for a quota refusal: RESOURCE_EXHAUSTED with a RetryInfo detail."""
    error = parsing.PerspectiveError(
        message,
        code=429,
        status="RESOURCE_EXHAUSTED",
        details=[{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{wait}s"}],
    )
    error.retry_after = wait
    return error


def _payload(request: HttpRequest) -> object:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    length = request.META.get("CONTENT_LENGTH") or "0"
    if limit is not None and length.isdigit() and int(length) > limit:
        raise parsing.body_too_large_error(limit)
    try:
        body = request.body
    except RequestDataTooBig:
        raise parsing.body_too_large_error(limit) from None
    if not body.strip():
        return {}
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        # RecursionError: valid JSON nested deeper than the parser goes (found by the hypothesis test).
        raise parsing.payload_error(f"Invalid JSON payload received. {_json_problem(error)}") from None


def _json_problem(error: Exception) -> str:
    if isinstance(error, json.JSONDecodeError):
        return f"Unexpected token at line {error.lineno}, column {error.colno}: {error.msg}."
    if isinstance(error, RecursionError):
        return "The JSON nests too deeply."
    return "The body is not UTF-8 text."


@csrf_exempt
def analyze(request: HttpRequest) -> JsonResponse:
    """POST /v1alpha1/comments:analyze?key=...: Perspective's AnalyzeComment."""
    return _answer(request, parsing.parse_analyze_request, analysis.analyze_comment)


@csrf_exempt
def suggestscore(request: HttpRequest) -> JsonResponse:
    """POST /v1alpha1/comments:suggestscore?key=...: Perspective's SuggestCommentScore (feedback)."""
    return _answer(request, parsing.parse_suggest_request, analysis.suggest_score)


def _answer(request: HttpRequest, parse, run) -> JsonResponse:
    if request.method != "POST":
        return _method_not_allowed(request, "POST")
    try:
        site = _site(request)
        parsed = parse(_payload(request))
        answer = run(parsed, site=site)
    except parsing.PerspectiveError as error:
        return _error(error)
    except (OperationalError, InterfaceError, InternalError) as error:
        # The database refuses (down, read-only, disk full): Google's shape for a passing outage.
        logger.warning("Perspective API: the database refused (%s); answered 503", error)
        unavailable = parsing.PerspectiveError(
            "The service cannot store the comment now; try again later.", code=503, status="UNAVAILABLE"
        )
        return _error(unavailable, **{"Retry-After": "30"})
    return JsonResponse(answer, json_dumps_params=_JSON)


@csrf_exempt
def unknown_method(request: HttpRequest, rest: str = "") -> JsonResponse:
    """Anything else under /v1alpha1/."""
    return _error(parsing.PerspectiveError("Method not found.", code=404, status="NOT_FOUND"))


def discovery(request: HttpRequest) -> JsonResponse:
    """GET /$discovery/rest?version=v1alpha1: what googleapiclient.discovery.build reads."""
    if request.method not in ("GET", "HEAD"):
        return _method_not_allowed(request, "GET")
    if request.GET.get("version", parsing.API_VERSION) != parsing.API_VERSION:
        return _error(
            parsing.PerspectiveError("Requested entity was not found.", code=404, status="NOT_FOUND")
        )
    document = discovery_document(request.build_absolute_uri("/"))
    return JsonResponse(document, json_dumps_params=_JSON)
