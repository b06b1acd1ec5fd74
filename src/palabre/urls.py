from django.urls import include, path

from palabre.api import api

urlpatterns = [
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("palabre.orgs.urls")),
    path("conversations/", include("palabre.conversations.urls")),
    path("moderation/", include("palabre.moderation.urls")),
]
