from django.urls import path

from palabre.publishing import views

app_name = "publishing"

urlpatterns = [
    path("", views.calendar, name="calendar"),
    path("new/", views.post_new, name="post_new"),
    path("check/", views.check, name="check"),
    path("settings/", views.policy, name="policy"),
    path("held/release/", views.release, name="release"),
    path("posts/<id:post_id>/", views.post, name="post"),
    path("posts/<id:post_id>/variants/<id:variant_id>/", views.variant_save, name="variant_save"),
    path("posts/<id:post_id>/variants/<id:variant_id>/preview/", views.preview, name="preview"),
    path("posts/<id:post_id>/variants/<id:variant_id>/media/", views.media_upload, name="media_upload"),
    path("posts/<id:post_id>/variants/<id:variant_id>/remove/", views.variant_remove, name="variant_remove"),
    path("posts/<id:post_id>/delete/", views.post_delete, name="post_delete"),
    path("media/<id:media_id>/", views.media_file, name="media_file"),
    path("media/<id:media_id>/describe/", views.media_describe, name="media_describe"),
    path("media/<id:media_id>/remove/", views.media_remove, name="media_remove"),
    path("posts/<id:post_id>/submit/", views.post_submit, name="post_submit"),
    path("posts/<id:post_id>/approve/", views.post_approve, name="post_approve"),
    path("posts/<id:post_id>/reject/", views.post_reject, name="post_reject"),
    path("posts/<id:post_id>/comments/", views.post_comment, name="post_comment"),
    path("variants/<id:variant_id>/move/", views.move, name="move"),
]
