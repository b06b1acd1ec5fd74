from django.urls import path

from palabre.moderation import site_views, views

app_name = "moderation"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("bulk/", views.bulk, name="bulk"),
    path("items/<id:item_id>/", views.entry, name="entry"),
    path("items/<id:item_id>/review/", views.review, name="review"),
    path("items/<id:item_id>/undo/", views.undo, name="undo"),
    path("rules/", views.rules, name="rules"),
    path("rules/simulate/", views.rule_simulate, name="rule_simulate"),
    path("rules/<id:rule_id>/toggle/", views.rule_toggle, name="rule_toggle"),
    path("rules/<id:rule_id>/delete/", views.rule_delete, name="rule_delete"),
    path("settings/", views.policy, name="policy"),
    path("sites/", site_views.sites, name="sites"),
    path("sites/<id:site_id>/", site_views.site_edit, name="site_edit"),
    path("sites/<id:site_id>/revoke/", site_views.site_revoke, name="site_revoke"),
]
