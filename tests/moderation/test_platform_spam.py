"""The channel's platform reaches the spam classifier: a YouTube message is known to be a video's
comment, so the text-message expert is left out of its spam score (engine.PLATFORM_KINDS). The
pipeline's part is in test_services.py (it shares that file's first ingestion)."""

from __future__ import annotations

from palabre.moderation import engine

# Written for these tests: a spam comment that reads a little like a text message.
RAP = "If you like rap, check my stuff"


def test_the_engine_scores_a_youtube_message_as_a_video_comment():
    unknown = engine.moderate(RAP, engine.ModerationContext(lang="en"))
    site = engine.moderate(RAP, engine.ModerationContext(lang="en", platform="site"))
    youtube = engine.moderate(RAP, engine.ModerationContext(lang="en", platform="youtube"))
    assert unknown.action == site.action == engine.HOLD
    assert site.scores == unknown.scores
    assert youtube.action == engine.REJECT
    assert youtube.scores["spam"] > unknown.scores["spam"]
    assert "score_spam" in {reason.code for reason in youtube.reasons}
