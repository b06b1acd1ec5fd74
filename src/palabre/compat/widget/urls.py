"""The site widget (M3): the script a blog embeds, its JSON endpoint, and the page without JavaScript."""

from django.urls import path

from palabre.moderation import widget

urlpatterns = [
    path("<slug:public_id>/embed.js", widget.embed_js, name="widget_embed"),
    path("<slug:public_id>/comments", widget.comments, name="widget_comments"),
    path("<slug:public_id>/form", widget.comment_form, name="widget_form"),
]
