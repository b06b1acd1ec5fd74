"""The Akismet-compatible API, at Akismet's own paths (see `palabre.moderation.akismet`)."""

from django.urls import path

from palabre.moderation import akismet

urlpatterns = [
    path("1.1/verify-key", akismet.verify_key, name="akismet_verify_key"),
    path("1.2/verify-key", akismet.verify_key),
    path("1.1/comment-check", akismet.comment_check, name="akismet_comment_check"),
    path("1.1/submit-spam", akismet.submit_spam, name="akismet_submit_spam"),
    path("1.1/submit-ham", akismet.submit_ham, name="akismet_submit_ham"),
    path("1.2/usage-limit", akismet.usage_limit, name="akismet_usage_limit"),
    path("1.2/key-sites", akismet.key_sites, name="akismet_key_sites"),
]
