from __future__ import annotations

import time

from palabre.metrics import recorders


class RequestMetricsMiddleware:
    """Counts each request and its time, by view name (a bounded set, unlike paths)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name if match else "") or "unmatched"
        recorders.observe_request(
            method=request.method if request.method in _METHODS else "other",
            view=view,
            status=response.status_code,
            seconds=time.perf_counter() - started,
        )
        return response


# Anything else a client writes in the method would be a new label each time.
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
