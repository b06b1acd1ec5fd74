from django.urls import include, path

from palabre import health, storable  # noqa: F401  (storable registers the <id:...> converter the apps' URLs use)
from palabre.api import api
from palabre.metrics import views as metrics_views

# A body too large for a page (a file over the limit) is refused while the CSRF check reads it:
# a 413 page naming the limit, not Django's bare 400.
handler400 = "palabre.publishing.uploads.bad_request"

urlpatterns = [
    # For load balancers and monitoring (docs/operations.md).
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics_views.metrics, name="metrics"),
    # Drop-in compatible APIs and the comment form (M3): paths fixed by the protocols they copy.
    path("", include("palabre.compat.akismet.urls")),
    path("", include("palabre.compat.perspective.urls")),
    path("widget/", include("palabre.compat.widget.urls")),
    path("api/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("palabre.orgs.urls")),
    path("conversations/", include("palabre.conversations.urls")),
    path("moderation/", include("palabre.moderation.urls")),
    path("connectors/", include("palabre.connectors.urls")),
    path("inbox/", include("palabre.inbox.urls")),
    path("listening/", include("palabre.listening.urls")),
    path("publishing/", include("palabre.publishing.urls")),
    path("programmes/", include("palabre.programmes.urls")),
    path("analytics/", include("palabre.analytics.urls")),
]
