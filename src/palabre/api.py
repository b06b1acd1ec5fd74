"""The HTTP API (django-ninja): one NinjaAPI, routers from each app, token or session auth."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from ninja import NinjaAPI

api = NinjaAPI(title="Palabre API", version="1", urls_namespace="api")
