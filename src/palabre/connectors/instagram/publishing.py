"""Instagram's publishing, through containers: one per picture (`/{ig-user-id}/media` with `image_url`; a carousel's children with `is_carousel_item`,
then a `CAROUSEL` container), whose `status_code` is read until `FINISHED`, then
`/{ig-user-id}/media_publish`. The Graph API takes a picture's public address, not its bytes:
each picture is first stored as an unpublished photo of the linked Page (`/{page-id}/photos`,
`published=false`), whose address (`images[0].source`) the container is given.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from palabre.connectors.base import (
    Delivered,
    MalformedPayload,
    Media,
    PermanentError,
    TokenExpired,
    TransientError,
)
from palabre.connectors.meta_graph import delivery_of

MAX_CAROUSEL = 10


class ContainerPublishing:
    """Publishing through containers, for `InstagramConnector` (which gives `_account`, `_call`,
    `label` and the waits between two reads of a container)."""

    def publish(self, channel, *, text: str, media: Sequence[Media] = (), idempotency_key: str) -> Delivered:
        """One picture, or a carousel of 2 to 10, through containers; Instagram has no post without
        a picture."""
        ig_user_id, token, page_id = self._account(channel)
        if not media:
            raise PermanentError(f"{self.label}: a post needs at least one picture.")
        if len(media) > MAX_CAROUSEL:
            raise PermanentError(f"{self.label}: a carousel holds at most {MAX_CAROUSEL} pictures.")
        if any(not one.mime_type.startswith("image/") for one in media):
            raise PermanentError(f"{self.label}: only pictures are published here.")
        urls = [self.picture_url(page_id, token, one, index) for index, one in enumerate(media)]
        if len(urls) == 1:
            container = self._container(ig_user_id, token, {"image_url": urls[0], "caption": text})
        else:
            children = [
                self._container(ig_user_id, token, {"image_url": url, "is_carousel_item": "true"})
                for url in urls
            ]
            for child in children:
                self.wait_for(child, token)
            container = self._container(
                ig_user_id, token, {"media_type": "CAROUSEL", "children": ",".join(children), "caption": text}
            )
        self.wait_for(container, token)
        published = self._call(
            "POST", f"{ig_user_id}/media_publish", token, data={"creation_id": container}, sending=True
        )
        return delivery_of(published, label=self.label)

    def picture_url(self, page_id: str, token: str, media: Media, index: int) -> str:
        """A public address of the picture: stored as an unpublished photo of the linked Page, whose
        largest image's `source` Instagram fetches."""
        if not page_id:
            raise TokenExpired(
                f"{self.label}: pictures go through the linked Page: connect the channel again."
            )
        photo = self._call(
            "POST",
            f"{page_id}/photos",
            token,
            data={"published": "false", "temporary": "true"},
            files={"source": (media.filename or f"picture-{index}", media.content, media.mime_type)},
        )
        if not photo.get("id"):
            raise MalformedPayload(f"{self.label}: the picture upload answered without id.")
        node = self._call("GET", str(photo["id"]), token, params={"fields": "images"})
        images = node.get("images")
        if (
            not isinstance(images, list)
            or not images
            or not isinstance(images[0], dict)
            or not images[0].get("source")
        ):
            raise MalformedPayload(f"{self.label}: the uploaded picture has no address (images).")
        return str(max(images, key=lambda image: int(image.get("width") or 0))["source"])

    def _container(self, ig_user_id: str, token: str, data: dict[str, str]) -> str:
        created = self._call("POST", f"{ig_user_id}/media", token, data=data)
        if not created.get("id"):
            raise MalformedPayload(f"{self.label}: the container was created without id.")
        return str(created["id"])

    def wait_for(self, container: str, token: str) -> None:
        """Reads the container's `status_code` until FINISHED (ERROR and EXPIRED fail for good; a
        container still IN_PROGRESS after the last read is retried later, from new containers)."""
        for check in range(self.container_checks):
            status = self._call("GET", container, token, params={"fields": "status_code,status"})
            code = str(status.get("status_code") or "")
            if code in ("FINISHED", "PUBLISHED"):
                return
            if code in ("ERROR", "EXPIRED"):
                raise PermanentError(
                    f"{self.label}: the container {container} is {code}: {status.get('status') or ''}"
                )
            if check + 1 < self.container_checks and self.container_wait:
                time.sleep(self.container_wait)
        raise TransientError(f"{self.label}: the container {container} is still being processed.")
