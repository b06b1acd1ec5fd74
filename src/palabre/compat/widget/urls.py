"""The site widget (M3): the script a blog embeds, its JSON endpoint, and the page without JavaScript."""

from django.urls import path

from palabre.compat.widget import views

urlpatterns = [
    path("<slug:public_id>/embed.js", views.embed_js, name="widget_embed"),
    path("<slug:public_id>/comments", views.comments, name="widget_comments"),
    path("<slug:public_id>/form", views.comment_form, name="widget_form"),
]
