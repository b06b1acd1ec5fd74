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
means it (`compat.akismet.wordpress`); its other calls (`/1.1/test`, `get-subscription`, `get-stats`,
`deactivate`) are answered by `compat.akismet.account`.


The per-key limit (`PALABRE_AKISMET_RATE_LIMIT` requests per minute) is counted in the database,
so it holds whatever the number of server processes (`KeyRequestCounter`).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from django.conf import settings
from django.core.exceptions import BadRequest as DjangoBadRequest
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, ValidationError
from django.db import InterfaceError, InternalError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.views.decorators.csrf import csrf_exempt

from palabre.compat import journal
from palabre.compat.akismet import wordpress
from palabre.compat.akismet.check import check_comment, submit_feedback
from palabre.compat.akismet.comments import (
    FORM_TYPES,
    HOST_KEY,
    THANKS,
    UNAVAILABLE_RETRY_AFTER,
    blog_matches,
)
from palabre.compat.akismet.limits import month_bounds, month_stats, rate_limit, take_request
from palabre.compat.models import SiteRequestCount
from palabre.conversations.services import MAX_TEXT_CHARS
from palabre.moderation import services
from palabre.moderation.models import ModerationSite
from palabre.orgs.throttle import key_guess_failed, key_guess_message, key_guess_wait
from palabre.spreadsheet import safe_cell

logger = logging.getLogger(__name__)


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
    _month, start, end = month_bounds("")
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
    bounds = month_bounds(params.get("month", "").strip())
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
                    safe_cell(row["site"]),
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
