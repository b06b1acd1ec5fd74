"""Publishing is a video upload: `videos.insert` (part=snippet,status) with the one video through
the client's `MediaInMemoryUpload`, resumable as the Data API documents it (a POST to the upload
URL with `uploadType=resumable` carrying the video resource, answered with the session's
`Location`; then a PUT of the bytes there, answered with the video). The title is the text's first
line (100 characters at most), the description the rest; the privacy is the channel's
`options["privacy_status"]`, "private" unless it says otherwise: a video made public by mistake
is a bad buzz that a private one is not, and Google makes every upload of an unverified API
project private anyway. YouTube takes no idempotency key, so the upload carries a tag made from
the action's key (`palabre-<hash>`; viewers do not see tags on the video's page, unlike the
description), and `find_delivered` looks for that tag among the videos of the channel's uploads
playlist before anything is uploaded again.
"""

from __future__ import annotations

import hashlib

from palabre.connectors.base import (
    Delivered,
    MalformedPayload,
    Media,
    PermanentError,
)

TITLE_MAX = 100
PRIVACY_STATUSES = ("private", "unlisted", "public")
DEFAULT_PRIVACY = "private"


def upload_tag(idempotency_key: str) -> str:
    """The tag an upload carries for its action: short (YouTube allows 500 characters of tags in
    all) and free of the key's own characters (commas and quotes count against that limit)."""
    return "palabre-" + hashlib.sha256(idempotency_key.encode()).hexdigest()[:20]


def _one_video(media) -> Media:
    """YouTube publishes one video per post, nothing else (a picture, two files, no file)."""
    if len(media) != 1:
        raise PermanentError(
            f"YouTube publishes exactly one video per post; this post has {len(media)} files."
        )
    video = media[0]
    if not video.mime_type.startswith("video/"):
        raise PermanentError(
            f"YouTube publishes only videos; {video.filename or 'the file'} is {video.mime_type or 'untyped'}."
        )
    return video


def _title_and_description(text: str, video: Media) -> tuple[str, str]:
    """The title: the text's first line, 100 characters at most; the description: the rest. YouTube
    refuses < and > in both."""
    cleaned = (text or "").replace("<", "‹").replace(">", "›").strip()
    first, _newline, rest = cleaned.partition("\n")
    title = first.strip()
    if not title:
        title = video.filename.rsplit(".", 1)[0].strip() if video.filename else ""
    if not title:
        raise PermanentError("YouTube needs a title: write one on the post's first line.")
    if len(title) > TITLE_MAX:
        rest = f"{title}\n{rest}".strip()
        title = title[: TITLE_MAX - 1].rstrip() + "…"
    return title, rest.strip()


class VideoPublishing:
    """Publishing a post as one video, for `YouTubeConnector` (which gives `service`, `_call` and
    `youtube_channel_id`)."""

    def publish(self, channel, *, text: str, media=(), idempotency_key: str) -> Delivered:
        """Upload the one video (resumable), titled by the text's first line, described by the rest,
        tagged with the action's key so that an interrupted upload is found, not made twice."""
        video = _one_video(media)
        privacy = str((channel.options or {}).get("privacy_status") or DEFAULT_PRIVACY)
        if privacy not in PRIVACY_STATUSES:
            raise PermanentError(
                f"YouTube: the channel's privacy_status option is {privacy!r}; it takes one of "
                f"{', '.join(PRIVACY_STATUSES)}."
            )
        title, description = _title_and_description(text, video)
        body = {
            "snippet": {"title": title, "description": description, "tags": [upload_tag(idempotency_key)]},
            "status": {"privacyStatus": privacy},
        }
        api = self.service(channel)
        from googleapiclient.http import MediaInMemoryUpload

        upload = MediaInMemoryUpload(video.content, mimetype=video.mime_type, resumable=True)
        request = api.videos().insert(part="snippet,status", body=body, media_body=upload)
        answer = self._call(channel, request, "videos.insert", sending=True)
        try:
            video_id = str(answer["id"])
        except KeyError as error:
            raise MalformedPayload(
                "YouTube answered the upload without the video id.", maybe_delivered=True
            ) from error
        return Delivered(external_id=video_id, url=f"https://www.youtube.com/watch?v={video_id}")

    def _find_upload(self, channel, action) -> Delivered | None:
        """The video an interrupted upload created: among the newest of the channel's uploads
        playlist (its owner sees private ones too), the one carrying the action's tag. Tags are
        read with videos.list (playlist items carry none)."""
        api = self.service(channel)
        playlist = self._uploads_playlist(channel, api)
        request = api.playlistItems().list(part="contentDetails", playlistId=playlist, maxResults=50)
        page = self._call(channel, request, "playlistItems.list")
        entries = page.get("items")
        if not isinstance(entries, list):
            raise MalformedPayload("YouTube's playlistItems.list answer has no items list.")
        try:
            ids = [str(entry["contentDetails"]["videoId"]) for entry in entries]
        except (KeyError, TypeError) as error:
            raise MalformedPayload(f"A YouTube playlist item lacks {error}") from error
        if not ids:
            return None
        answer = self._call(channel, api.videos().list(part="snippet", id=",".join(ids)), "videos.list")
        tag = upload_tag(action.idempotency_key)
        for video in answer.get("items") or []:
            if isinstance(video, dict) and tag in ((video.get("snippet") or {}).get("tags") or []):
                video_id = str(video.get("id") or "")
                if video_id:
                    return Delivered(external_id=video_id, url=f"https://www.youtube.com/watch?v={video_id}")
        return None

    def _uploads_playlist(self, channel, api) -> str:
        """The channel's uploads playlist (contentDetails.relatedPlaylists.uploads), kept once known."""
        from palabre.connectors.services import connector_state, save_connector_state

        state = connector_state(channel)
        if state.get("uploads_playlist"):
            return str(state["uploads_playlist"])
        own = self.youtube_channel_id(channel, api)
        answer = self._call(channel, api.channels().list(part="contentDetails", id=own), "channels.list")
        try:
            playlist = str(answer["items"][0]["contentDetails"]["relatedPlaylists"]["uploads"])
        except (KeyError, IndexError, TypeError) as error:
            raise MalformedPayload(f"YouTube's channel lacks its uploads playlist ({error}).") from error
        save_connector_state(channel, {**connector_state(channel), "uploads_playlist": playlist})
        return playlist
