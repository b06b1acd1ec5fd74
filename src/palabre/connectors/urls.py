from django.urls import path

from palabre.connectors import moderation_views, oauth_views, views

app_name = "connectors"

urlpatterns = [
    path("", views.health, name="health"),
    path("channels/<id:channel_id>/", views.channel, name="channel"),
    path("channels/<id:channel_id>/settings/", views.channel_settings, name="channel_settings"),
    path("channels/<id:channel_id>/options/", views.channel_options, name="channel_options"),
    path("channels/<id:channel_id>/pull/", views.channel_pull, name="channel_pull"),
    path("channels/<id:channel_id>/check/", views.channel_check, name="channel_check"),
    path("channels/<id:channel_id>/oauth/", oauth_views.oauth_start, name="oauth_start"),
    path("oauth/callback/", oauth_views.oauth_callback, name="oauth_callback"),
    path(
        "channels/<id:channel_id>/moderation/",
        moderation_views.channel_moderation,
        name="channel_moderation",
    ),
    path("items/<id:item_id>/<str:action>/", moderation_views.item_action, name="item_action"),
    path("outbox/", views.outbox, name="outbox"),
    path("outbox/<id:action_id>/retry/", views.action_retry, name="action_retry"),
    path("outbox/<id:action_id>/cancel/", views.action_cancel, name="action_cancel"),
    path("outbox/<id:action_id>/confirm/", views.action_confirm, name="action_confirm"),
    path("webhooks/<str:public_id>/", views.webhook, name="webhook"),
]
