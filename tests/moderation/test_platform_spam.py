"""The channel's platform reaches the spam classifier: a YouTube message is known to be a video's
comment, so the text-message expert is left out of its spam score (engine.PLATFORM_KINDS)."""

from __future__ import annotations

import pytest

from palabre.moderation import engine, services
from palabre.moderation.models import ItemModeration, ModerationStatus

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


@pytest.mark.django_db
def test_the_pipeline_passes_the_channels_platform(
    org, make_channel, ingest, django_capture_on_commit_callbacks
):
    youtube = make_channel(org, "youtube", handle="UC-maison-dupont", name="YouTube")
    blog = make_channel(org, "site", handle="blog.maison-dupont.fr", name="Blog")
    with django_capture_on_commit_callbacks(execute=True):
        on_youtube = ingest(youtube, "yt-1", text=RAP, author="rapfan")
        on_blog = ingest(blog, "blog-1", text=RAP, author="rapfan")
    states = {state.item_id: state for state in ItemModeration.objects.filter(item__in=[on_youtube, on_blog])}
    assert states[on_youtube.pk].status == ModerationStatus.REJECTED
    assert states[on_blog.pk].status == ModerationStatus.HELD
    assert (
        states[on_youtube.pk].last_decision.scores["spam"] > states[on_blog.pk].last_decision.scores["spam"]
    )
    # One item at a time (moderate_item, as a retried analysis does) decides the same.
    again = services.context_for_item(on_youtube, services.organisation_context(org))
    assert again.platform == "youtube"
    assert engine.moderate(on_youtube.text, again).action == engine.REJECT
