from django.urls import path

from palabre.listening import views

app_name = "listening"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("mentions/", views.mentions, name="mentions"),
    path("mentions.csv", views.mentions_csv, name="mentions_csv"),
    path("mentions/<id:mention_id>/correct/", views.mention_correct, name="mention_correct"),
    path("queries/", views.query_list, name="queries"),
    path("queries/<id:query_id>/", views.query_edit, name="query_edit"),
    path("queries/<id:query_id>/delete/", views.query_delete, name="query_delete"),
    path("queries/<id:query_id>/backfill/", views.query_backfill, name="query_backfill"),
    path("queries/preview/", views.query_preview, name="query_preview"),
    path("sources/", views.source_list, name="sources"),
    path("sources/<id:source_id>/", views.source_edit, name="source_edit"),
    path("sources/<id:source_id>/toggle/", views.source_toggle, name="source_toggle"),
    path("sources/<id:source_id>/poll/", views.source_poll, name="source_poll"),
    path("sources/<id:source_id>/delete/", views.source_delete, name="source_delete"),
    path("alerts/", views.alert_list, name="alerts"),
    path("alerts/<id:alert_id>/", views.alert_detail, name="alert"),
    path("alerts/<id:alert_id>/status/", views.alert_status, name="alert_status"),
    path("crisis/", views.crisis, name="crisis"),
    path("crisis/switch/", views.crisis_switch, name="crisis_switch"),
    path("crisis/<id:crisis_id>/steps/<id:index>/", views.crisis_step, name="crisis_step"),
    path("crisis/playbook/", views.playbook, name="playbook"),
    path("crisis/recipients/", views.subscription_add, name="subscription_add"),
    path(
        "crisis/recipients/<id:subscription_id>/delete/",
        views.subscription_remove,
        name="subscription_remove",
    ),
]
