"""Every answer under /api/ is JSON, errors included.

The API's own handlers (palabre.api) answer `{"error": ..., "message": ...}`. Some errors are
answered before or around them, in HTML or plain text: a path the URL resolver does not know
(Django's 404 page), a method the route does not take (ninja's plain-text 405), a server error
(Django's 500 page, once the traceback is logged), a refusal by a middleware. This middleware gives
those the same JSON shape, keeping the status and the `Allow` header.
"""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus

from django.http import HttpRequest, HttpResponse, JsonResponse

API_PREFIX = "/api/"

# The codes the API's own handlers use; other statuses get their HTTP reason, in snake case.
ERROR_CODES = {
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    413: "too_large",
    422: "invalid",
    500: "server_error",
}

MESSAGES = {
    404: "Not found: no such path or object in this API.",
    500: "The server could not answer; the error is written to its log.",
}


def is_api_path(path: str) -> bool:
    return path == API_PREFIX.rstrip("/") or path.startswith(API_PREFIX)


def error_body(status: int, *, allowed: str = "") -> dict[str, str]:
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Error"
    code = ERROR_CODES.get(status, reason.lower().replace(" ", "_").replace("-", "_"))
    message = MESSAGES.get(status, reason + ".")
    if status == 405 and allowed:
        message = f"Method not allowed here; allowed: {allowed}."
    return {"error": code, "message": message}


class JsonApiErrorsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code < 400
            or not is_api_path(request.path_info)
            or response.get("Content-Type", "").startswith("application/json")
        ):
            return response
        allowed = response.get("Allow", "")
        answer = JsonResponse(error_body(response.status_code, allowed=allowed), status=response.status_code)
        for header in ("Allow", "WWW-Authenticate", "Retry-After"):
            if response.has_header(header):
                answer[header] = response[header]
        return answer
