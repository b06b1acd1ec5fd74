"""The Akismet-compatible API, at Akismet's own paths (see `palabre.compat.akismet.views`)."""

from django.urls import path

from palabre.compat.akismet import account, views

urlpatterns = [
    path("1.1/verify-key", views.verify_key, name="akismet_verify_key"),
    path("1.2/verify-key", views.verify_key),
    path("1.1/comment-check", views.comment_check, name="akismet_comment_check"),
    path("1.1/submit-spam", views.submit_spam, name="akismet_submit_spam"),
    path("1.1/submit-ham", views.submit_ham, name="akismet_submit_ham"),
    path("1.2/usage-limit", views.usage_limit, name="akismet_usage_limit"),
    path("1.2/key-sites", views.key_sites, name="akismet_key_sites"),
    # What WordPress's Akismet plugin also calls (see `palabre.compat.akismet.account`).
    path("1.1/test", account.test, name="akismet_test"),
    path("1.1/get-subscription", account.get_subscription, name="akismet_get_subscription"),
    path("1.1/get-stats", account.get_stats, name="akismet_get_stats"),
    path("1.1/deactivate", account.deactivate, name="akismet_deactivate"),
]
