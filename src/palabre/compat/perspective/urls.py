"""The Perspective-compatible API, at the paths Google's clients use (mounted at the site's root)."""

from django.urls import path, re_path

from palabre.compat.perspective import views

urlpatterns = [
    path("v1alpha1/comments:analyze", views.analyze, name="perspective-analyze"),
    path("v1alpha1/comments:suggestscore", views.suggestscore, name="perspective-suggestscore"),
    re_path(r"^v1alpha1/(?P<rest>.*)$", views.unknown_method, name="perspective-unknown"),
    path("$discovery/rest", views.discovery, name="perspective-discovery"),
]
