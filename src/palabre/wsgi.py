"""The WSGI application `palabre serve` runs.

The drop-in protocol APIs (Akismet's and Perspective's paths) are called by machines, many times
a second, with a key: they skip the middleware the site's pages need (session, user, CSRF,
language, messages, htmx, organisation), which cost them a good share of a request for nothing.
They keep the security headers, the request metrics (/metrics: about 5 us a request) and the check
of the host against `PALABRE_ALLOWED_HOSTS`.
"""

import os

from django.core.handlers.exception import convert_exception_to_response
from django.core.handlers.wsgi import WSGIHandler
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "palabre.settings")

# Akismet's versions, Perspective's API and its discovery document (see palabre.urls).
PROTOCOL_PREFIXES = ("/1.1/", "/1.2/", "/v1alpha1/", "/$discovery/")


class ProtocolHandler(WSGIHandler):
    """Django's request handling with the security middleware, the request metrics and the host
    check alone (in the site's order), and a Content-Length."""

    def load_middleware(self, is_async: bool = False) -> None:
        from django.middleware.security import SecurityMiddleware

        from palabre.metrics.middleware import RequestMetricsMiddleware

        self._view_middleware = []
        self._template_response_middleware = []
        self._exception_middleware = []
        views = convert_exception_to_response(self._get_response)
        checked = convert_exception_to_response(_allowed_host(views))
        counted = convert_exception_to_response(RequestMetricsMiddleware(checked))
        self._middleware_chain = convert_exception_to_response(SecurityMiddleware(counted))

    def get_response(self, request):
        response = super().get_response(request)
        # As the site's CommonMiddleware does: a length rather than a chunked body.
        if not response.streaming and not response.has_header("Content-Length"):
            response.headers["Content-Length"] = str(len(response.content))
        return response


def _allowed_host(get_response):
    """`PALABRE_ALLOWED_HOSTS` holds here too: a request for another host is refused as the site
    refuses it (Django's DisallowedHost: 400, through the site's handler), before any view runs."""

    def check(request):
        request.get_host()
        return get_response(request)

    return check


class PalabreApplication:
    """Sends the protocol paths to the lean handler, everything else to the site's."""

    def __init__(self) -> None:
        self.site = get_wsgi_application()  # sets Django up
        self.protocols = ProtocolHandler()

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith(PROTOCOL_PREFIXES):
            return self.protocols(environ, start_response)
        return self.site(environ, start_response)


application = PalabreApplication()
