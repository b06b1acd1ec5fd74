"""The HTTP API (django-ninja): one NinjaAPI, a router per app, organisation token or session auth.

Every error is JSON: 401 without valid credentials, 403 when the role or token scope does not
allow the action, 404 for what does not exist in the caller's organisation, 413 for oversized
bodies, 422 with the fields named for invalid input.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import (
    ObjectDoesNotExist,
    PermissionDenied,
    RequestDataTooBig,
    SuspiciousOperation,
    ValidationError,
)
from django.db import InterfaceError, InternalError, OperationalError
from django.http import Http404, HttpRequest
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyCookie, HttpBearer

from palabre.orgs.models import Organisation
from palabre.orgs.services import Actor, authenticate_token
from palabre.orgs.throttle import key_guess_failed, key_guess_message, key_guess_wait
from palabre.publishing.media import MAX_BYTES
from palabre.publishing.uploads import UploadTooBig, megabytes

logger = logging.getLogger(__name__)


class KeyGuessing(Throttled):
    """The caller's address sent too many unknown tokens: refused before its token is looked up."""


class OrganisationToken(HttpBearer):
    """`Authorization: Bearer plb_...`: an organisation's API token, limited to its scopes."""

    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        guessing = key_guess_wait(request)
        if guessing:
            raise KeyGuessing(wait=guessing)
        api_token = authenticate_token(token)
        if api_token is None:
            key_guess_failed(request)
            return None
        return Actor.for_token(api_token)


class MemberSession(APIKeyCookie):
    """A signed-in person (the UI's session cookie), acting in their active organisation or the one
    named by the `X-Palabre-Organisation` header (its short name)."""

    param_name = settings.SESSION_COOKIE_NAME

    def authenticate(self, request: HttpRequest, key: str | None) -> Actor | None:
        if not request.user.is_authenticated:
            return None
        slug = request.headers.get("X-Palabre-Organisation")
        if slug:
            organisation = Organisation.objects.filter(slug=slug).first()
        else:
            membership = getattr(request, "membership", None)
            organisation = membership.organisation if membership else None
        if organisation is None:
            return None
        try:
            return Actor.for_user(request.user, organisation)
        except PermissionDenied:
            return None


api = NinjaAPI(
    title="Palabre API",
    version="1",
    description="Organisations, channels, members, conversations and moderation of a Palabre install.",
    urls_namespace="api",
    auth=[OrganisationToken(), MemberSession()],
)


def field_errors(error: ValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {
            field: [str(m) for e in errors for m in e.messages] for field, errors in error.error_dict.items()
        }
    return {"__all__": [str(m) for m in error.messages]}


@api.exception_handler(ValidationError)
def django_validation_error(request, error: ValidationError):
    fields = field_errors(error)
    detail = [
        {"loc": ["body", field], "msg": msg, "type": "value_error"}
        for field, msgs in fields.items()
        for msg in msgs
    ]
    message = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in fields.items())
    return api.create_response(
        request, {"error": "invalid", "message": message, "fields": fields, "detail": detail}, status=422
    )


@api.exception_handler(NinjaValidationError)
def schema_validation_error(request, error: NinjaValidationError):
    fields: dict[str, list[str]] = {}
    for problem in error.errors:
        location = [str(part) for part in problem.get("loc", ())]
        # Drop ninja's wrappers (where the value came from, the body parameter's name) so the field
        # reads as the client sent it; a query parameter may well be called `query`.
        if location and location[0] in {"body", "query", "path", "header", "cookie", "form", "file"}:
            source, location = location[0], location[1:]
            if source == "body" and location[:1] == ["payload"]:
                location = location[1:]
        readable = location
        fields.setdefault(".".join(readable) or "body", []).append(problem.get("msg", "invalid"))
    message = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in fields.items())
    return api.create_response(
        request,
        {"error": "invalid", "message": message, "fields": fields, "detail": error.errors},
        status=422,
    )


@api.exception_handler(PermissionDenied)
def permission_denied(request, error: PermissionDenied):
    return api.create_response(
        request, {"error": "forbidden", "message": str(error) or "Forbidden"}, status=403
    )


@api.exception_handler(ObjectDoesNotExist)
@api.exception_handler(Http404)
def not_found(request, error: ObjectDoesNotExist | Http404):
    return api.create_response(request, {"error": "not_found", "message": "Not found"}, status=404)


@api.exception_handler(AuthenticationError)
def unauthenticated(request, error: AuthenticationError):
    return api.create_response(
        request,
        {"error": "unauthenticated", "message": "Give a valid API token (Authorization: Bearer plb_...)."},
        status=401,
    )


def _file_fields(request: HttpRequest) -> list[str]:
    """The file parameters (`file`) of the operation asked for: ninja offers no public way from a
    request to its operation, so it is found by its URL name (the view's name) and the method."""
    match = request.resolver_match
    found = []
    for _prefix, router in api._routers:
        for path_view in router.path_operations.values():
            if match is None or all(op.view_func.__name__ != match.url_name for op in path_view.operations):
                continue
            for operation in path_view.operations:
                if request.method in operation.methods:
                    found += [
                        name
                        for model in operation.models
                        if getattr(model, "__ninja_param_source__", "") == "file"
                        for name in model.model_fields
                    ]
    return found


@api.exception_handler(RequestDataTooBig)
def too_big(request, error: RequestDataTooBig):
    """413 with the limit hit: a body carrying files (UploadTooBig) may weigh the largest file kept
    plus PALABRE_MAX_BODY_BYTES, any other body PALABRE_MAX_BODY_BYTES alone."""
    body = f"{megabytes(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)} MB (PALABRE_MAX_BODY_BYTES)"
    if not isinstance(error, UploadTooBig):
        message = f"The body is larger than {body}."
        return api.create_response(request, {"error": "too_large", "message": message}, status=413)
    fields = _file_fields(request) or ["body"]
    message = (
        f"The body is larger than {megabytes(error.limit)} MB: a file may weigh at most "
        f"{megabytes(MAX_BYTES)} MB, the other fields {body}. Send a lighter file."
    )
    return api.create_response(
        request,
        {
            "error": "too_large",
            "message": "; ".join(f"{field}: {message}" for field in fields),
            "fields": {field: [message] for field in fields},
        },
        status=413,
    )


@api.exception_handler(KeyGuessing)
def key_guessing(request, error: KeyGuessing):
    response = api.create_response(
        request, {"error": "throttled", "message": key_guess_message(error.wait or 1)}, status=429
    )
    response["Retry-After"] = str(error.wait or 1)
    return response


@api.exception_handler(HttpError)
def http_error(request, error: HttpError):
    return api.create_response(request, {"error": "http", "message": str(error)}, status=error.status_code)


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
@api.exception_handler(InternalError)
def database_unavailable(request, error: OperationalError | InterfaceError | InternalError):
    """The database refuses (down, read-only, disk full; PostgreSQL says read-only with an
    InternalError): a JSON 503 the client can retry."""
    logger.warning("API: the database refused (%s); answered 503", error)
    response = api.create_response(
        request,
        {"error": "unavailable", "message": "The database cannot be written now; try again later."},
        status=503,
    )
    response["Retry-After"] = "30"
    return response


def _nul_fields(value: Any, path: tuple[str, ...] = ()) -> list[str]:
    """The paths (`variants.0.text`) of the strings, keys included, that hold a NUL character."""
    if isinstance(value, str):
        return [".".join(path) or "body"] if "\x00" in value else []
    if isinstance(value, dict):
        found = []
        for key, inner in value.items():
            where = (*path, str(key))
            if "\x00" in str(key):
                found.append(".".join(where))
            found.extend(_nul_fields(inner, where))
        return found
    if isinstance(value, list):
        return [field for i, inner in enumerate(value) for field in _nul_fields(inner, (*path, str(i)))]
    return []


def refuse_nul_characters(run):
    """Every operation: a NUL character in the query string, the form fields or the JSON body is
    refused (422, the field named) before anything reads it. PostgreSQL cannot store NUL in text
    (psycopg raises DataError, which would be a server error) and SQLite would keep it silently;
    Django's forms refuse it on the pages the same way."""

    @functools.wraps(run)
    def checked(request: HttpRequest, *args, **kwargs):
        found = [key for key, values in request.GET.lists() if _nul_fields([key, *values])]
        # Too large or unreadable: the operation answers that itself (413, 400).
        with contextlib.suppress(SuspiciousOperation, MultiPartParserError, ValueError):
            if request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
                found += [key for key, values in request.POST.lists() if _nul_fields([key, *values])]
            elif request.content_type == "application/json" and b"\\u0000" in request.body:
                # A NUL in JSON text is always written \u0000: only such a body is parsed again.
                found += _nul_fields(json.loads(request.body))
        if found:
            message = "Remove the NUL character (\\u0000): it cannot be stored."
            return django_validation_error(request, ValidationError({field: [message] for field in found}))
        return run(request, *args, **kwargs)

    return checked


api.add_decorator(refuse_nul_characters, mode="view")


def _register_routers() -> None:
    from palabre.conversations.api import router as conversations_router
    from palabre.moderation.api import router as moderation_router
    from palabre.orgs.api import router as orgs_router

    api.add_router("", orgs_router)
    api.add_router("", conversations_router)
    api.add_router("", moderation_router)
    # Later capabilities: a `palabre.<app>.api` module with a `router`.
    import importlib
    import importlib.util

    for app in ("connectors", "inbox", "listening", "publishing", "analytics"):
        name = f"palabre.{app}.api"
        if importlib.util.find_spec(name) is not None:
            api.add_router("", importlib.import_module(name).router)


_register_routers()
