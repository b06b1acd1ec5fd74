from django.urls import path

from palabre.publishing import views

app_name = "publishing"

urlpatterns = [
    path("", views.calendar, name="calendar"),
    path("new/", views.post_new, name="post_new"),
    path("check/", views.check, name="check"),
    path("settings/", views.policy, name="policy"),
    path("held/release/", views.release, name="release"),
    path("posts/<int:post_id>/", views.post, name="post"),
    path("posts/<int:post_id>/variants/<int:variant_id>/", views.variant_save, name="variant_save"),
    path("posts/<int:post_id>/submit/", views.post_submit, name="post_submit"),
    path("posts/<int:post_id>/approve/", views.post_approve, name="post_approve"),
    path("posts/<int:post_id>/reject/", views.post_reject, name="post_reject"),
    path("posts/<int:post_id>/comments/", views.post_comment, name="post_comment"),
    path("variants/<int:variant_id>/move/", views.move, name="move"),
]
