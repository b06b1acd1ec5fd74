from django.urls import path

from palabre.inbox import views

app_name = "inbox"

urlpatterns = [
    path("", views.inbox, name="list"),
    path("bulk/", views.bulk, name="bulk"),
    path("bulk/restore/", views.bulk_restore, name="bulk_restore"),
    path("views/", views.view_save, name="view_save"),
    path("views/<id:view_id>/delete/", views.view_delete, name="view_delete"),
    path("t/<id:conversation_id>/", views.thread, name="thread"),
    path("t/<id:conversation_id>/assign/", views.assign, name="assign"),
    path("t/<id:conversation_id>/status/", views.status, name="status"),
    path("t/<id:conversation_id>/notes/", views.note, name="note"),
    path("t/<id:conversation_id>/reply/", views.reply, name="reply"),
    path("t/<id:conversation_id>/check/", views.check, name="check"),
    path("t/<id:conversation_id>/presence/", views.presence, name="presence"),
    path("t/<id:conversation_id>/items/<id:item_id>/correct/", views.correct, name="correct"),
    path("t/<id:conversation_id>/saved/<id:saved_id>/", views.fill, name="fill"),
    path("replies/<id:reply_id>/retry/", views.retry, name="retry"),
    path("saved-replies/", views.saved_replies, name="saved_replies"),
    path("saved-replies/<id:saved_id>/", views.saved_replies, name="saved_reply_edit"),
    path("saved-replies/<id:saved_id>/delete/", views.saved_reply_delete, name="saved_reply_delete"),
    path("knowledge/", views.articles, name="articles"),
    path("knowledge/<id:article_id>/", views.articles, name="article_edit"),
    path("knowledge/<id:article_id>/delete/", views.article_delete, name="article_delete"),
    path("settings/", views.inbox_settings, name="settings"),
    path("profile/", views.profile, name="profile"),
    path("notifications/", views.notifications, name="notifications"),
    path("digest/", views.digest, name="digest"),
]
