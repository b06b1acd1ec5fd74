from django.urls import path

from palabre.conversations import views

app_name = "conversations"

urlpatterns = [
    path("", views.items, name="items"),
    path("<id:item_id>/", views.item_detail, name="item"),
]
