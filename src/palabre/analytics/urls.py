from django.urls import path, re_path

from palabre.analytics import views

app_name = "analytics"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("crises/<id:alert_id>/", views.crisis_timeline, name="crisis"),
    path("emails/", views.report_emails, name="emails"),
    path("emails/recipients/", views.recipient_add, name="recipient_add"),
    path("emails/recipients/<id:recipient_id>/delete/", views.recipient_remove, name="recipient_remove"),
    re_path(r"^report\.(?P<fmt>html|pdf|csv)$", views.download, name="report"),
]
