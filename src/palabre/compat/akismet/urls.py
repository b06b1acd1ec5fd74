"""The Akismet-compatible API, at Akismet's own paths (see `palabre.moderation.akismet`)."""

from django.urls import path

from palabre.moderation import akismet, akismet_account

urlpatterns = [
    path("1.1/verify-key", akismet.verify_key, name="akismet_verify_key"),
    path("1.2/verify-key", akismet.verify_key),
    path("1.1/comment-check", akismet.comment_check, name="akismet_comment_check"),
    path("1.1/submit-spam", akismet.submit_spam, name="akismet_submit_spam"),
    path("1.1/submit-ham", akismet.submit_ham, name="akismet_submit_ham"),
    path("1.2/usage-limit", akismet.usage_limit, name="akismet_usage_limit"),
    path("1.2/key-sites", akismet.key_sites, name="akismet_key_sites"),
    # What WordPress's Akismet plugin also calls (see `palabre.moderation.akismet_account`).
    path("1.1/test", akismet_account.test, name="akismet_test"),
    path("1.1/get-subscription", akismet_account.get_subscription, name="akismet_get_subscription"),
    path("1.1/get-stats", akismet_account.get_stats, name="akismet_get_stats"),
    path("1.1/deactivate", akismet_account.deactivate, name="akismet_deactivate"),
]
