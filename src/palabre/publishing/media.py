"""Pictures and videos of posts: checked by their content when uploaded, stored under the data
directory, thumbnailed for the editor, and read back as the connectors' `Media` at send time.

A file belongs to the post (every variant carries it) or to one variant (`variant` set). What a
platform accepts (how many, which types) is checked per variant by `limits.problems`, with the
other guardrails; here only what no platform accepts is refused: a file that is not what it says,
too big, too small or too large in pixels.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import models, transaction
from django.utils.translation import gettext as _
from PIL import Image, UnidentifiedImageError

from palabre.connectors.base import Media
from palabre.orgs.services import Actor, NotInOrganisation, record
from palabre.publishing.models import Post, PostMedia, PostVariant, VariantState

# The connectors' outbox takes files of at most 8 MB, the lowest common limit (Mastodon's pictures
# are 16 MB, Bluesky's 1 MB after its own resizing: Palabre sends pictures as they are).
MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 8192  # per side: X and Mastodon refuse larger; Instagram resizes above 1080
MIN_PIXELS = 32
# A thumbnail decodes the picture: a JPEG at an eighth of its size (draft), any other format whole,
# about 4 to 15 bytes a pixel while it is made (an 8192 x 8192 WebP of 111 KB took 980 MB). Beyond
# this, every platform here shrinks the picture anyway.
MAX_DECODED_PIXELS = 16_000_000
MAX_FILES_PER_POST = 10  # Instagram's carousel, the most any platform here takes
MAX_DESCRIPTION = 1500  # Mastodon's alt-text limit; Bluesky and X take 1,000-2,000
THUMBNAIL = (320, 320)
IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
}


def sniff(content: bytes) -> tuple[str, int | None, int | None]:
    """(MIME type, width, height) read from the bytes themselves, whatever the name or the browser
    claims. Raises ValidationError({"file": ...}) for anything else."""
    if len(content) >= 12 and content[4:8] == b"ftyp":
        brand = content[8:12]
        return ("video/quicktime" if brand == b"qt  " else "video/mp4"), None, None
    try:
        with Image.open(io.BytesIO(content)) as image:
            image.verify()  # a truncated or forged file fails here
        with Image.open(io.BytesIO(content)) as image:
            kind, (width, height) = image.format, image.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationError(
            {
                "file": _(
                    "This file is not a picture or a video Palabre can publish (JPEG, PNG, GIF, WebP, MP4)."
                )
            }
        ) from None
    if kind not in IMAGE_TYPES:
        raise ValidationError(
            {
                "file": _("Pictures are published as JPEG, PNG, GIF or WebP; this one is %(kind)s.")
                % {"kind": kind}
            }
        )
    return IMAGE_TYPES[kind], width, height


def _check(content: bytes) -> tuple[str, int | None, int | None]:
    if not content:
        raise ValidationError({"file": _("The file is empty.")})
    if len(content) > MAX_BYTES:
        raise ValidationError(
            {
                "file": _("The file weighs more than %(mb)s MB: make it lighter.")
                % {"mb": MAX_BYTES // (1024 * 1024)}
            }
        )
    mime, width, height = sniff(content)
    if width is not None and height is not None:
        if max(width, height) > MAX_PIXELS:
            raise ValidationError(
                {
                    "file": _("%(w)s × %(h)s pixels: the platforms take at most %(max)s pixels a side.")
                    % {"w": width, "h": height, "max": MAX_PIXELS}
                }
            )
        if mime != "image/jpeg" and width * height > MAX_DECODED_PIXELS:
            raise ValidationError(
                {
                    "file": _(
                        "%(w)s × %(h)s pixels: a PNG, GIF or WebP picture may hold at most %(max)s million"
                        " pixels (a JPEG up to %(side)s pixels a side). Make it smaller or save it as JPEG."
                    )
                    % {
                        "w": width,
                        "h": height,
                        "max": MAX_DECODED_PIXELS // 1_000_000,
                        "side": MAX_PIXELS,
                    }
                }
            )
        if min(width, height) < MIN_PIXELS:
            raise ValidationError(
                {
                    "file": _("%(w)s × %(h)s pixels: too small to be seen; at least %(min)s pixels a side.")
                    % {"w": width, "h": height, "min": MIN_PIXELS}
                }
            )
    return mime, width, height


def _thumbnail(content: bytes) -> bytes:
    with Image.open(io.BytesIO(content)) as image:
        image.seek(0)
        # Made small before any copy: a JPEG is decoded at an eighth of its size at most (draft),
        # the others once, at full size; converting first held two or three full copies.
        image.thumbnail(THUMBNAIL)
        small = image.convert("RGB")
        out = io.BytesIO()
        small.save(out, "JPEG", quality=80)
    return out.getvalue()


def _clean_description(description: str | None) -> str:
    description = (description or "").strip()
    if len(description) > MAX_DESCRIPTION:
        raise ValidationError(
            {"description": _("At most %(n)s characters of alternative text.") % {"n": MAX_DESCRIPTION}}
        )
    return description


def _require_editable(actor: Actor, post: Post) -> None:
    from palabre.publishing.services.access import _can_edit

    _can_edit(actor, post)


def _changed(actor: Actor, post: Post) -> None:
    """Media are part of what was approved: a change sends an approved post back, like a text."""
    from palabre.publishing.services.drafts import after_content_change

    after_content_change(actor, post)


@transaction.atomic
def attach_media(
    *,
    actor: Actor,
    post: Post,
    content: bytes,
    filename: str = "",
    description: str = "",
    variant: PostVariant | None = None,
) -> PostMedia:
    """Attach a file to the post (every channel) or to one of its variants."""
    post = Post.objects.select_for_update().visible_to(actor).get(pk=post.pk)
    _require_editable(actor, post)
    if variant is not None:
        if variant.organisation_id != actor.organisation.pk or variant.post_id != post.pk:
            raise NotInOrganisation
        if variant.state == VariantState.HANDED_OVER:
            raise ValidationError({"variant": _("This variant is already published; it cannot change.")})
    if PostMedia.objects.filter(post=post).count() >= MAX_FILES_PER_POST:
        raise ValidationError({"file": _("At most %(n)s files per post.") % {"n": MAX_FILES_PER_POST}})
    description = _clean_description(description)
    mime, width, height = _check(content)
    stem = uuid.uuid4().hex
    media = PostMedia(
        organisation=actor.organisation,
        post=post,
        variant=variant,
        original_name=(filename or "")[:200],
        mime_type=mime,
        size=len(content),
        width=width,
        height=height,
        description=description,
        position=(PostMedia.objects.filter(post=post).aggregate(m=models.Max("position"))["m"] or 0) + 1,
        created_by=actor.user,
    )
    media.file.save(f"{stem}.{EXTENSIONS[mime]}", ContentFile(content), save=False)
    if width is not None:
        media.thumbnail.save(f"{stem}-thumb.jpg", ContentFile(_thumbnail(content)), save=False)
    # Every check ran before the files were written: only a database failure could leave them.
    media.save()
    record(
        actor,
        "post.media_added",
        post,
        after={
            "file": media.original_name,
            "type": mime,
            "channel": str(variant.channel) if variant else None,
            "alt_text": bool(description),
        },
    )
    _changed(actor, post)
    return media


def _get(actor: Actor, media_id: int) -> PostMedia:
    found = (
        PostMedia.objects.select_related("post", "variant", "variant__channel")
        .visible_to(actor)
        .filter(pk=media_id)
        .first()
    )
    if found is None:
        raise NotInOrganisation
    return found


def get_media(*, actor: Actor, media_id: int) -> PostMedia:
    """A file of the actor's organisation (to show it), or NotInOrganisation."""
    from palabre.publishing.services.access import posts_for

    posts_for(actor)
    return _get(actor, media_id)


@transaction.atomic
def describe_media(*, actor: Actor, media: PostMedia, description: str) -> PostMedia:
    """Set a file's alternative text."""
    media = _get(actor, media.pk)
    _require_editable(actor, media.post)
    before = {"alt_text": media.description}
    media.description = _clean_description(description)
    media.save(update_fields=["description"])
    record(actor, "post.media_described", media.post, before=before, after={"alt_text": media.description})
    _changed(actor, media.post)
    return media


@transaction.atomic
def remove_media(*, actor: Actor, media: PostMedia) -> None:
    media = _get(actor, media.pk)
    post = media.post
    _require_editable(actor, post)
    if media.variant_id and media.variant.state == VariantState.HANDED_OVER:
        raise ValidationError({"variant": _("This variant is already published; it cannot change.")})
    names = [media.file.name, media.thumbnail.name]
    storage = media.file.storage
    label = media.original_name
    media.delete()
    transaction.on_commit(lambda: [storage.delete(n) for n in names if n])
    record(actor, "post.media_removed", post, before={"file": label})
    _changed(actor, post)


def media_of(variant: PostVariant) -> list[PostMedia]:
    """The files a variant carries: the post's own, then the variant's, in their order."""
    return list(
        PostMedia.objects.filter(post_id=variant.post_id)
        .filter(models.Q(variant__isnull=True) | models.Q(variant_id=variant.pk))
        .order_by("position", "id")
    )


def limits_entries(variant: PostVariant, files: Sequence[PostMedia] | None = None) -> list[dict]:
    """What `limits.problems` counts for the variant: the stored files and the API's inline ones."""
    files = media_of(variant) if files is None else files
    return [*[m.as_limits_entry() for m in files], *list(variant.media or [])]


def to_send(variant: PostVariant) -> list[Media]:
    """The variant's files as the connectors send them (bytes, type, alternative text)."""
    found = []
    for one in media_of(variant):
        with one.file.open("rb") as handle:
            found.append(
                Media(
                    content=handle.read(),
                    mime_type=one.mime_type,
                    description=one.description,
                    filename=one.original_name,
                )
            )
    return found
