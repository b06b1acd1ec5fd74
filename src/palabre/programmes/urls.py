from django.urls import path

from palabre.programmes import views

app_name = "programmes"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("contests/<id:contest_id>/", views.contest_detail, name="contest"),
    path("contests/<id:contest_id>/entries/<id:entry_id>/", views.entry_review, name="entry_review"),
    path("contests/<id:contest_id>/<slug:action>/", views.contest_action, name="contest_action"),
    path("polls/<id:poll_id>/", views.poll_detail, name="poll"),
    path("polls/<id:poll_id>/<slug:action>/", views.poll_action, name="poll_action"),
    path("ideas/", views.idea_list, name="ideas"),
    path("ideas/collect/", views.ideas_collect, name="ideas_collect"),
    path("ideas/<id:idea_id>/<slug:action>/", views.idea_action, name="idea_action"),
    path("ambassadors/", views.ambassador_page, name="ambassadors"),
    path("ambassadors/share/<id:post_id>/", views.ambassador_share, name="ambassador_share"),
    path("draws/<str:commitment>/", views.public_draw, name="public"),
]
