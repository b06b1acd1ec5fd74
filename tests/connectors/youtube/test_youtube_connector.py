"""YouTube through Google's own client (google-api-python-client, its shipped discovery document),
against a loopback server answering with payloads shaped as the YouTube Data API documents them."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import time_machine
from platform_server import Answer, load_fixture

from palabre.connectors import services
from palabre.connectors.base import (
    Capability,
    Media,
    PermanentError,
    PermissionMissing,
    RateLimited,
    TokenExpired,
)
from palabre.connectors.models import ActionStatus, ChannelSync, QuotaUsage
from palabre.connectors.sync import pull_channel
from palabre.connectors.youtube import (
    SCOPE,
    YouTubeConnector,
    quota_today,
    until_pacific_midnight,
    upload_tag,
)
from palabre.conversations.models import Item

FIXTURES = Path(__file__).parent / "fixtures"
THREADS = "/youtube/v3/commentThreads"
COMMENTS = "/youtube/v3/comments"
MODERATE = "/youtube/v3/comments/setModerationStatus"
CHANNELS = "/youtube/v3/channels"
TOKENINFO = "/tokeninfo"
UPLOAD = "/upload/youtube/v3/videos"
PLAYLIST_ITEMS = "/youtube/v3/playlistItems"
VIDEOS = "/youtube/v3/videos"
OWN = "UCmaisonDupontFr0000000a"
# 10:00 UTC, 02:00 in California: the Pacific day is still 5 December.
NOW = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)


def fixture(name):
    return load_fixture(FIXTURES, name)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def tube(org, make_channel, platform_server):
    channel = make_channel(
        org,
        "youtube",
        handle="@maisondupont",
        name="Maison Dupont sur YouTube",
        credentials={
            "client_id": "1234567890-palabre.apps.googleusercontent.com",
            "client_secret": "GOCSPX-secret",
            "access_token": "ya29.secret-token",
            "refresh_token": "1//refresh",
            "channel_id": OWN,
        },
    )
    channel.options = {**channel.options, "api_base_url": platform_server.url}
    channel.save(update_fields=["options"])
    return channel


def used(channel) -> int:
    return QuotaUsage.objects.get(channel=channel, day=date(2026, 12, 5)).units


def test_the_oauth_spec_is_googles_with_offline_access():
    spec = YouTubeConnector.oauth
    assert spec.authorize_url == "https://accounts.google.com/o/oauth2/v2/auth"
    assert spec.token_url == "https://oauth2.googleapis.com/token"
    assert spec.scopes == ("https://www.googleapis.com/auth/youtube.force-ssl",)
    assert dict(spec.extra_authorize_params) == {"access_type": "offline", "prompt": "consent"}
    assert {Capability.PUBLISH, Capability.PUBLISH_MEDIA} <= YouTubeConnector.capabilities


def test_first_pull_pages_through_threads_and_the_held_ones(tube, platform_server):
    platform_server.on(
        "GET",
        THREADS,
        Answer(body=fixture("comment_threads_page1.json")),
        Answer(body=fixture("comment_threads_page2.json")),
        Answer(body=fixture("comment_threads_held.json")),
    )
    result = YouTubeConnector().pull(tube, "")
    first, second, held = platform_server.made("GET", THREADS)
    assert first.headers["Authorization"] == "Bearer ya29.secret-token"
    assert first.query["allThreadsRelatedToChannelId"] == [OWN]
    assert first.query["part"] == ["snippet,replies"] and first.query["textFormat"] == ["plainText"]
    assert first.query["moderationStatus"] == ["published"] and "pageToken" not in first.query
    assert second.query["pageToken"] == ["QURTSl9pMlVXdlBlWWpVQzVJNG5fYmc"]
    assert held.query["moderationStatus"] == ["heldForReview"]
    by_id = {item.external_id: item for item in result.items}
    # The brand's own answer is left out: it comes back through the outbox.
    assert set(by_id) == {
        "UgzCamille1Thread",
        "UgzCamille1Thread.9zJulesToo0002",
        "UgxPraise2Thread",
        "UgwOlder3Thread",
        "UgySpam4Thread",
    }
    top = by_id["UgzCamille1Thread"]
    assert top.kind == "comment" and top.parent_external_id == ""
    assert top.text == "Ma commande n'est toujours pas arrivée !"
    assert top.author.handle == "@camille-r" and top.author.profile_url == "http://www.youtube.com/@camille-r"
    assert top.url == "https://www.youtube.com/watch?v=mD7Vq3xL9aQ&lc=UgzCamille1Thread"
    assert top.created_at == datetime(2026, 12, 4, 9, 12, tzinfo=UTC)
    reply = by_id["UgzCamille1Thread.9zJulesToo0002"]
    assert reply.kind == "reply" and reply.parent_external_id == "UgzCamille1Thread"
    assert by_id["UgySpam4Thread"].raw["moderation_status"] == "heldForReview"
    assert json.loads(result.cursor) == {
        "heldForReview": "2026-12-04T11:00:00+00:00",
        "published": "2026-12-04T10:05:00+00:00",
    }
    json.dumps([item.raw for item in result.items])  # storable as JSON
    assert used(tube) == 3  # three list calls, one unit each


def test_next_pull_goes_down_to_the_cursor_and_threads_the_reply(tube, platform_server):
    platform_server.on(
        "GET",
        THREADS,
        Answer(body=fixture("comment_threads_page1.json")),
        Answer(body=fixture("comment_threads_page2.json")),
        Answer(body=fixture("comment_threads_held.json")),
    )
    assert pull_channel(tube.pk)["items"] == 5
    platform_server.on(
        "GET",
        THREADS,
        Answer(body=fixture("comment_threads_newer.json")),
        # The next page holds nothing newer than the cursor: the pull stops there.
        Answer(body=fixture("comment_threads_page1.json")),
        Answer(body=fixture("comment_threads_held.json")),
        Answer(body=fixture("comment_threads_page2.json")),
    )
    assert pull_channel(tube.pk, force=True)["items"] == 1
    assert len(platform_server.made("GET", THREADS)) == 6  # page 2 was never asked again
    thanks = Item.objects.get(channel=tube, external_id="UgzCamille1Thread.9zCamilleThanks3")
    question = Item.objects.get(channel=tube, external_id="UgzCamille1Thread")
    assert thanks.parent == question
    cursor = json.loads(ChannelSync.objects.get(channel=tube).cursor)
    assert cursor["published"] == "2026-12-05T08:00:00+00:00"
    assert Item.objects.filter(channel=tube).count() == 6


def test_a_reply_names_the_threads_top_level_comment(tube, platform_server, owner_actor, ingest):
    platform_server.on(
        "GET",
        THREADS,
        Answer(body=fixture("comment_threads_page1.json")),
        Answer(body=fixture("comment_threads_page2.json")),
        Answer(body=fixture("comment_threads_empty.json")),
    )
    pull_channel(tube.pk)
    jules = Item.objects.get(channel=tube, external_id="UgzCamille1Thread.9zJulesToo0002")
    platform_server.on("POST", COMMENTS, Answer(body=fixture("comment_inserted.json")))
    action = services.queue_reply(actor=owner_actor, item=jules, text="Bonjour Jules, nous regardons aussi.")
    assert services.deliver(action.pk).outcome == "sent"
    sent = platform_server.made("POST", COMMENTS)[0]
    assert sent.query["part"] == ["snippet"]
    assert sent.json() == {
        "snippet": {"parentId": "UgzCamille1Thread", "textOriginal": "Bonjour Jules, nous regardons aussi."}
    }
    action.refresh_from_db()
    assert action.external_id == "UgzCamille1Thread.9zBrandReply0004"
    assert action.url == "https://www.youtube.com/watch?v=mD7Vq3xL9aQ&lc=UgzCamille1Thread.9zBrandReply0004"
    assert used(tube) == 3 + 50
    # Answering the brand's own reply (stored by the outbox) stays in Camille's thread.
    brand_reply = Item.objects.get(channel=tube, external_id="UgzCamille1Thread.9zBrandReply0004")
    YouTubeConnector().reply(
        tube, in_reply_to=brand_reply, text="Précision : livraison jeudi.", idempotency_key="k2"
    )
    assert platform_server.made("POST", COMMENTS)[1].json()["snippet"]["parentId"] == "UgzCamille1Thread"


def test_a_reply_that_timed_out_after_it_was_posted_is_found_not_posted_twice(
    tube, platform_server, owner_actor, ingest, monkeypatch
):
    monkeypatch.setenv("PALABRE_CONNECTORS_HTTP_TIMEOUT", "0.3")
    question = ingest(tube, "UgzCamille1Thread", author="@camille-r")
    # YouTube creates the comment, then answers too late; it takes no idempotency key.
    platform_server.on("POST", COMMENTS, Answer(body=fixture("comment_inserted.json"), delay=0.8))
    platform_server.on("GET", COMMENTS, Answer(body=fixture("comments_of_thread.json")))
    action = services.queue_reply(
        actor=owner_actor, item=question, text="Bonjour Camille, votre colis part demain."
    )
    assert services.deliver(action.pk).outcome == "sent"
    assert services.deliver(action.pk).outcome == "skipped:sent"
    assert len(platform_server.made("POST", COMMENTS)) == 1
    looked = platform_server.made("GET", COMMENTS)[0]
    assert looked.query["parentId"] == ["UgzCamille1Thread"]
    action.refresh_from_db()
    # Found the new reply, not the brand's older answer in the same thread.
    assert action.external_id == "UgzCamille1Thread.9zBrandReply0004"


def test_hide_holds_for_review_unhide_publishes_ban_rejects(tube, platform_server, ingest, owner_actor):
    comment = ingest(tube, "UgySpam4Thread", author="@promo-cash-2026")
    platform_server.on("POST", MODERATE, Answer(204, b""))
    connector = YouTubeConnector()
    action = services.queue_hide(actor=owner_actor, item=comment)
    step = services.deliver(action.pk)
    action.refresh_from_db()
    assert step.outcome == "sent", action.last_error
    connector.unhide(tube, comment)
    connector.ban_author(tube, comment)
    hide, unhide, ban = platform_server.made("POST", MODERATE)
    assert hide.query == {"id": ["UgySpam4Thread"], "moderationStatus": ["heldForReview"]}
    assert unhide.query["moderationStatus"] == ["published"] and "banAuthor" not in unhide.query
    assert ban.query["moderationStatus"] == ["rejected"] and ban.query["banAuthor"] == ["true"]
    assert used(tube) == 150


def test_delete_removes_own_comments_and_rejects_others(tube, platform_server, ingest):
    theirs = ingest(tube, "UgxPraise2Thread", author="@sam-lee")
    ours = ingest(tube, "UgzCamille1Thread.9zBrandAnswer01", author="@maisondupont")
    Item.objects.filter(pk=ours.pk).update(raw={"author_channel_id": OWN})
    ours.refresh_from_db()
    platform_server.on("DELETE", COMMENTS, Answer(204, b""))
    platform_server.on("POST", MODERATE, Answer(204, b""))
    YouTubeConnector().delete(tube, ours)
    YouTubeConnector().delete(tube, theirs)
    assert platform_server.made("DELETE", COMMENTS)[0].query["id"] == ["UgzCamille1Thread.9zBrandAnswer01"]
    rejected = platform_server.made("POST", MODERATE)[0]
    assert rejected.query["id"] == ["UgxPraise2Thread"] and rejected.query["moderationStatus"] == ["rejected"]


def test_a_call_that_would_overspend_the_day_is_refused_until_pacific_midnight(tube, platform_server, ingest):
    comment = ingest(tube, "UgySpam4Thread", author="@promo-cash-2026")
    QuotaUsage.objects.create(channel=tube, day=date(2026, 12, 5), units=9_960)
    with pytest.raises(RateLimited, match="daily quota \\(10000 units\\) is spent") as error:
        YouTubeConnector().hide(tube, comment)
    # 02:00 in California: 22 hours to the quota's reset.
    assert error.value.retry_after == 22 * 3600
    assert platform_server.made("POST", MODERATE) == []
    assert used(tube) == 9_960
    # A list call (one unit) still fits.
    platform_server.on("GET", THREADS, Answer(body=fixture("comment_threads_empty.json")))
    YouTubeConnector().pull(tube, "")
    assert used(tube) == 9_962


def test_quota_exceeded_from_google_stops_calls_until_its_next_day(tube, platform_server, frozen):
    platform_server.on("GET", THREADS, Answer(403, fixture("error_quota_exceeded.json")))
    with pytest.raises(RateLimited, match="quotaExceeded") as error:
        YouTubeConnector().pull(tube, "")
    assert error.value.retry_after == until_pacific_midnight(NOW) == 22 * 3600
    outcome = pull_channel(tube.pk)
    assert outcome["error"] == "rate_limited"
    assert len(platform_server.made("GET", THREADS)) == 1  # refused here, not sent again
    assert quota_today(tube)["quota_exhausted"] is True and quota_today(tube)["quota_left"] == 0
    # Midnight in California: a new day, a new quota.
    frozen.move_to(datetime(2026, 12, 6, 8, 0, 1, tzinfo=UTC))
    platform_server.on("GET", THREADS, Answer(body=fixture("comment_threads_empty.json")))
    YouTubeConnector().pull(tube, "")
    assert QuotaUsage.objects.get(channel=tube, day=date(2026, 12, 6)).units == 2


def test_expired_token_and_missing_scope(tube, platform_server, ingest):
    platform_server.on("GET", THREADS, Answer(401, fixture("error_401.json")))
    with pytest.raises(TokenExpired, match="YouTube 401 authError"):
        YouTubeConnector().pull(tube, "")
    assert pull_channel(tube.pk)["error"] == "token_expired"
    comment = ingest(tube, "UgxPraise2Thread", author="@sam-lee")
    platform_server.on("POST", COMMENTS, Answer(403, fixture("error_403_scopes.json")))
    with pytest.raises(PermissionMissing, match="youtube.force-ssl"):
        YouTubeConnector().reply(tube, in_reply_to=comment, text="Merci !", idempotency_key="k")


def test_health_names_the_channel_the_scopes_and_the_quota(tube, platform_server):
    platform_server.on("GET", CHANNELS, Answer(body=fixture("channels_mine.json")))
    platform_server.on("GET", TOKENINFO, Answer(body=fixture("tokeninfo.json")))
    info = YouTubeConnector().health(tube)
    assert platform_server.made("GET", CHANNELS)[0].query["mine"] == ["true"]
    assert platform_server.made("GET", TOKENINFO)[0].query["access_token"] == ["ya29.secret-token"]
    assert info.account == "@maisondupont" and info.scopes == (SCOPE,)
    assert info.permissions_checked == "verified"
    assert info.token_expires_at == datetime(2026, 12, 5, 10, 59, 59, tzinfo=UTC)
    assert info.details["quota_used"] == 1 and info.details["quota_limit"] == 10_000
    assert info.details["quota_resets_at"] == "2026-12-06T08:00:00+00:00"
    read_only = {**fixture("tokeninfo.json"), "scope": "https://www.googleapis.com/auth/youtube.readonly"}
    platform_server.on("GET", TOKENINFO, Answer(body=read_only))
    with pytest.raises(
        PermissionMissing, match="lacks the scope https://www.googleapis.com/auth/youtube.force-ssl"
    ):
        YouTubeConnector().health(tube)


def test_the_channel_page_shows_the_days_quota_from_the_last_check(tube, platform_server, client, owner, org):
    from django.urls import reverse

    from palabre.connectors.services.health import refresh_health

    platform_server.on("GET", CHANNELS, Answer(body=fixture("channels_mine.json")))
    platform_server.on("GET", TOKENINFO, Answer(body=fixture("tokeninfo.json")))
    QuotaUsage.objects.create(channel=tube, day=date(2026, 12, 5), units=2_399)
    refresh_health(tube)
    org.language = "fr"
    org.save()
    client.force_login(owner)
    page = client.get(reverse("connectors:channel", args=[tube.pk]))
    text = " ".join(page.content.decode().split())
    assert "<dt>Unités de quota dépensées aujourd’hui</dt><dd>2400</dd>" in text
    assert "<dt>Quota quotidien (unités)</dt><dd>10000</dd>" in text
    assert "<dt>Unités de quota restantes aujourd’hui</dt><dd>7600</dd>" in text
    assert "<dt>Quota renouvelé à</dt>" in text


# --- publishing a video --------------------------------------------------------------------------

CLIP = Media(
    content=b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8, mime_type="video/mp4", filename="hiver.mp4"
)
POST_TEXT = "La collection d'hiver arrive\nTrois fauteuils, deux tables basses.\nEn boutique dès lundi."


def upload_session(platform_server, *, delay: float = 0.0):
    """The resumable protocol's two answers: the session's address in `Location`, then the video."""
    session = (
        f"{platform_server.url}{UPLOAD}?uploadType=resumable&part=snippet,status&upload_id=ADPycdv3-Hiver"
    )
    platform_server.on("POST", UPLOAD, Answer(200, b"", headers={"Location": session}))
    platform_server.on("PUT", UPLOAD, Answer(body=fixture("video_inserted.json"), delay=delay))


def test_a_video_is_published_once_through_the_resumable_upload(tube, platform_server, owner_actor):
    upload_session(platform_server)
    action = services.queue_publication(
        actor=owner_actor, channel=tube, text=POST_TEXT, media=[CLIP], idempotency_key="publish-winter-video"
    )
    assert services.deliver(action.pk).outcome == "sent"
    (start,) = platform_server.made("POST", UPLOAD)
    assert start.query["uploadType"] == ["resumable"] and start.query["part"] == ["snippet,status"]
    assert start.headers["Authorization"] == "Bearer ya29.secret-token"
    assert start.headers["X-Upload-Content-Type"] == "video/mp4"
    assert start.headers["X-Upload-Content-Length"] == str(len(CLIP.content))
    assert start.json() == {
        "snippet": {
            "title": "La collection d'hiver arrive",
            "description": "Trois fauteuils, deux tables basses.\nEn boutique dès lundi.",
            "tags": [upload_tag("publish-winter-video")],
        },
        # No privacy option on the channel: private, never public by mistake.
        "status": {"privacyStatus": "private"},
    }
    (put,) = platform_server.made("PUT", UPLOAD)
    assert put.query["upload_id"] == ["ADPycdv3-Hiver"]
    assert put.body == CLIP.content
    assert put.headers["Content-Range"] == f"bytes 0-{len(CLIP.content) - 1}/{len(CLIP.content)}"
    action.refresh_from_db()
    assert action.status == ActionStatus.SENT
    assert action.external_id == "Wv3nTrHiv9Q" and action.url == "https://www.youtube.com/watch?v=Wv3nTrHiv9Q"
    assert used(tube) == 1_600  # videos.insert, counted once for the whole upload
    assert services.deliver(action.pk).outcome == "skipped:sent"
    assert len(platform_server.made("PUT", UPLOAD)) == 1


def test_an_upload_that_timed_out_is_found_by_its_tag_not_uploaded_twice(
    tube, platform_server, owner_actor, monkeypatch
):
    monkeypatch.setenv("PALABRE_CONNECTORS_HTTP_TIMEOUT", "0.3")
    # YouTube keeps the video, then answers the bytes too late.
    upload_session(platform_server, delay=0.8)
    platform_server.on("GET", CHANNELS, Answer(body=fixture("channels_content_details.json")))
    platform_server.on("GET", PLAYLIST_ITEMS, Answer(body=fixture("uploads_playlist_items.json")))
    platform_server.on("GET", VIDEOS, Answer(body=fixture("videos_with_tags.json")))
    action = services.queue_publication(
        actor=owner_actor, channel=tube, text=POST_TEXT, media=[CLIP], idempotency_key="publish-winter-video"
    )
    assert services.deliver(action.pk).outcome == "sent"
    assert services.deliver(action.pk).outcome == "skipped:sent"
    assert len(platform_server.made("POST", UPLOAD)) == 1 and len(platform_server.made("PUT", UPLOAD)) == 1
    looked_up = platform_server.made("GET", CHANNELS)[0].query
    assert looked_up["part"] == ["contentDetails"] and looked_up["id"] == [OWN]
    listed = platform_server.made("GET", PLAYLIST_ITEMS)[0]
    assert listed.query["playlistId"] == ["UUmaisonDupontFr0000000a"]
    assert platform_server.made("GET", VIDEOS)[0].query["id"] == ["Wv3nTrHiv9Q,PastVid0001"]
    action.refresh_from_db()
    # The video with this action's tag, not the older upload with another action's.
    assert action.external_id == "Wv3nTrHiv9Q" and action.status == ActionStatus.SENT
    assert used(tube) == 1_600 + 3  # the upload and the three list calls of the look-up


def test_an_upload_that_never_arrived_is_not_found(tube, platform_server, owner_actor):
    platform_server.on("GET", CHANNELS, Answer(body=fixture("channels_content_details.json")))
    platform_server.on("GET", PLAYLIST_ITEMS, Answer(body=fixture("uploads_playlist_items.json")))
    platform_server.on("GET", VIDEOS, Answer(body=fixture("videos_with_tags.json")))
    action = services.queue_publication(
        actor=owner_actor, channel=tube, text=POST_TEXT, media=[CLIP], idempotency_key="publish-lost-video"
    )
    assert YouTubeConnector().find_delivered(tube, action.idempotency_key) is None


def test_a_picture_or_two_files_are_refused_before_any_call(tube, platform_server, owner_actor):
    picture = Media(content=b"\xff\xd8\xff\xe0JFIF", mime_type="image/jpeg", filename="affiche.jpg")
    action = services.queue_publication(
        actor=owner_actor, channel=tube, text="Affiche", media=[picture], idempotency_key="publish-picture"
    )
    assert services.deliver(action.pk).outcome == "failed"
    action.refresh_from_db()
    assert action.last_error == "YouTube publishes only videos; affiche.jpg is image/jpeg."
    with pytest.raises(PermanentError, match="exactly one video per post; this post has 2 files"):
        YouTubeConnector().publish(tube, text="Deux", media=[CLIP, CLIP], idempotency_key="k")
    with pytest.raises(PermanentError, match="exactly one video per post; this post has 0 files"):
        YouTubeConnector().publish(tube, text="Rien", media=[], idempotency_key="k")
    assert platform_server.requests == []
    assert not QuotaUsage.objects.filter(channel=tube).exists()


def test_an_upload_that_would_overspend_the_day_waits_for_pacific_midnight(tube, platform_server):
    QuotaUsage.objects.create(channel=tube, day=date(2026, 12, 5), units=8_401)
    with pytest.raises(RateLimited, match="videos.insert costs 1600") as error:
        YouTubeConnector().publish(tube, text=POST_TEXT, media=[CLIP], idempotency_key="k")
    assert error.value.retry_after == 22 * 3600
    assert platform_server.requests == [] and used(tube) == 8_401


def test_the_channels_privacy_option_a_long_title_and_a_bad_option(tube, platform_server):
    upload_session(platform_server)
    tube.options = {**tube.options, "privacy_status": "unlisted"}
    tube.save(update_fields=["options"])
    long_line = "Découvrez " + "la collection d'hiver de Maison Dupont, " * 4
    YouTubeConnector().publish(
        tube, text=f"{long_line}\nEn boutique <lundi>.", media=[CLIP], idempotency_key="k"
    )
    sent = platform_server.made("POST", UPLOAD)[0].json()
    assert sent["status"] == {"privacyStatus": "unlisted"}
    title = sent["snippet"]["title"]
    assert len(title) == 100 and title.endswith("…") and long_line.startswith(title[:-1])
    # The whole line stays readable in the description; YouTube refuses < and >.
    assert sent["snippet"]["description"] == f"{long_line.strip()}\nEn boutique ‹lundi›."
    tube.options = {**tube.options, "privacy_status": "everyone"}
    tube.save(update_fields=["options"])
    with pytest.raises(PermanentError, match="privacy_status option is 'everyone'; it takes one of private"):
        YouTubeConnector().publish(tube, text=POST_TEXT, media=[CLIP], idempotency_key="k2")
