from django.urls import path, re_path

from palabre.analytics import views

app_name = "analytics"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("crises/<id:alert_id>/", views.crisis_timeline, name="crisis"),
    re_path(r"^report\.(?P<fmt>html|pdf|csv)$", views.download, name="report"),
]
