"""The Perspective-compatible API, at the paths Google's clients use (mounted at the site's root)."""

from django.urls import path, re_path

from palabre.moderation import perspective_views

urlpatterns = [
    path("v1alpha1/comments:analyze", perspective_views.analyze, name="perspective-analyze"),
    path("v1alpha1/comments:suggestscore", perspective_views.suggestscore, name="perspective-suggestscore"),
    re_path(r"^v1alpha1/(?P<rest>.*)$", perspective_views.unknown_method, name="perspective-unknown"),
    path("$discovery/rest", perspective_views.discovery, name="perspective-discovery"),
]
