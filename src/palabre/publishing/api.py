"""Publishing API: guardrail check, posts and their variants, comments, approvals, schedule."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import WithJsonSchema

from palabre.orgs.models import Channel
from palabre.orgs.services import NotInOrganisation
from palabre.pagination import keyset_page
from palabre.publishing import media as post_media
from palabre.publishing import services
from palabre.publishing.models import Campaign, Post, PostVariant
from palabre.storable import Moment, RowId, StoredInt

router = Router(tags=["publishing"])

# The enum's own name, "Kind", is also the moderation rules' kind: the schema names this one in full.
CampaignKind = Annotated[
    Campaign.Kind,
    WithJsonSchema({"title": "CampaignKind", "type": "string", "enum": list(Campaign.Kind.values)}),
]


class MediaIn(Schema):
    mime_type: str = Field(..., max_length=100)
    url: str = Field("", max_length=1000)
    filename: str = Field("", max_length=200)
    description: str = Field("", max_length=1500)
    content_b64: str = Field(
        "", max_length=12_000_000, description="The file itself, base64 (sent to the platform)"
    )


class GuardrailCheckIn(Schema):
    text: str = Field(..., max_length=63_206)
    channel: RowId | None = Field(None, description="Channel id: adds its limits, recent posts and kind")
    campaign_kind: str = Field("", max_length=32)
    promotional: bool | None = None
    media: list[MediaIn] = Field(default_factory=list, max_length=20)


class FindingOut(Schema):
    guardrail: str
    severity: str
    explanation: str
    span: list[int] | None
    params: dict[str, Any]


class VerdictOut(Schema):
    verdict: str
    findings: list[FindingOut]


class VariantIn(Schema):
    channel: RowId
    text: str = Field("", max_length=63_206)
    media: list[MediaIn] = Field(default_factory=list, max_length=20)
    scheduled_at: Moment | None = None


class PostIn(Schema):
    title: str = Field(..., max_length=200)
    campaign: RowId | None = None
    promotional: bool | None = None
    variants: list[VariantIn] = Field(..., min_length=1, max_length=20)


class PostPatch(Schema):
    title: str | None = Field(None, max_length=200)
    campaign: RowId | None = None
    promotional: bool | None = None
    variants: list[VariantIn] | None = Field(None, min_length=1, max_length=20)


class VariantOut(Schema):
    id: int
    channel: int = Field(..., alias="channel_id")
    channel_name: str
    platform: str
    text: str
    media: list[dict[str, Any]]
    scheduled_at: datetime | None
    state: str
    held_reason: str
    delivery_status: str
    external_url: str
    last_error: str
    guardrail_verdict: str
    guardrail_findings: list[dict[str, Any]]

    @staticmethod
    def resolve_channel_name(variant) -> str:
        return variant.channel.name

    @staticmethod
    def resolve_platform(variant) -> str:
        return variant.channel.platform

    @staticmethod
    def resolve_media(variant) -> list:
        # The files' bytes stay out of listings.
        return [{k: v for k, v in m.items() if k != "content_b64"} for m in variant.media]

    @staticmethod
    def resolve_external_url(variant) -> str:
        return variant.action.url if variant.action_id and variant.action else ""

    @staticmethod
    def resolve_last_error(variant) -> str:
        return variant.action.last_error if variant.action_id and variant.action else ""


class AttachmentOut(Schema):
    id: int
    variant: int | None = Field(None, alias="variant_id")
    filename: str = Field("", alias="original_name")
    mime_type: str
    size: int
    width: int | None
    height: int | None
    description: str


class CommentOut(Schema):
    author: str = Field(..., alias="author_label")
    text: str
    created_at: datetime


class PostOut(Schema):
    id: int
    title: str
    status: str
    campaign: int | None = Field(None, alias="campaign_id")
    promotional: bool | None
    created_by: str | None
    created_at: datetime
    decided_by: str | None
    rejection_reason: str
    acknowledged: list
    variants: list[VariantOut]
    attachments: list[AttachmentOut]
    comments: list[CommentOut]

    @staticmethod
    def resolve_created_by(post) -> str | None:
        return post.created_by.get_username() if post.created_by_id else None

    @staticmethod
    def resolve_decided_by(post) -> str | None:
        return post.decided_by.get_username() if post.decided_by_id else None

    @staticmethod
    def resolve_variants(post) -> list:
        return list(post.variants.all())

    @staticmethod
    def resolve_attachments(post) -> list:
        return list(post.attachments.all())

    @staticmethod
    def resolve_comments(post) -> list:
        return list(post.comments.all())


class PostPage(Schema):
    posts: list[PostOut]
    next_cursor: str | None


class CommentIn(Schema):
    text: str = Field(..., max_length=5000)


class ApproveIn(Schema):
    acknowledge_warnings: bool = False


class RejectIn(Schema):
    reason: str = Field(..., max_length=5000)


class ScheduleIn(Schema):
    scheduled_at: Moment | None


class CampaignIn(Schema):
    name: str = Field(..., max_length=200)
    kind: CampaignKind
    description: str = Field("", max_length=5000)
    starts_on: Moment | None = None
    ends_on: Moment | None = None


class CampaignOut(Schema):
    id: int
    name: str
    kind: str
    description: str


class PublishingPolicyIn(Schema):
    sensitive_terms: list[str] | None = Field(None, max_length=500)
    charter_words: list[str] | None = Field(None, max_length=500)
    competitor_texts: list[str] | None = Field(None, max_length=500)
    promotion_window: StoredInt | None = None
    promotion_share: float | None = None
    reschedule_keeps_approval: bool | None = None


class PublishingPolicyOut(Schema):
    sensitive_terms: list[str]
    charter_words: list[str]
    competitor_texts: list[str]
    promotion_window: int
    promotion_share: float
    reschedule_keeps_approval: bool


class ScheduleEntry(Schema):
    variant: int = Field(..., alias="id")
    post: int = Field(..., alias="post_id")
    title: str
    channel: str
    scheduled_at: datetime | None
    state: str
    delivery_status: str

    @staticmethod
    def resolve_title(variant) -> str:
        return variant.post.title

    @staticmethod
    def resolve_channel(variant) -> str:
        return variant.channel.name


def _with_related(queryset):
    return queryset.select_related("created_by", "decided_by", "campaign").prefetch_related(
        "variants__channel", "variants__action", "comments", "attachments"
    )


def _post(actor, post_id: int) -> Post:
    services.get_post(actor=actor, post_id=post_id)
    return _with_related(Post.objects.filter(pk=post_id)).get()


def _variants(actor, data: list[VariantIn] | None) -> list[dict] | None:
    if data is None:
        return None
    return [
        {
            "channel": v.channel,
            "text": v.text,
            "media": [m.dict(exclude_defaults=True) | {"mime_type": m.mime_type} for m in v.media],
            "scheduled_at": v.scheduled_at,
        }
        for v in data
    ]


@router.post(
    "/publishing/check", response=VerdictOut, summary="Run the guardrails on a text (nothing is stored)"
)
def check(request, payload: GuardrailCheckIn):
    actor = request.auth
    channel = None
    if payload.channel is not None:
        channel = Channel.objects.visible_to(actor).filter(pk=payload.channel).first()
        if channel is None:
            raise NotInOrganisation
    verdict = services.check_text(
        actor=actor,
        text=payload.text,
        channel=channel,
        campaign_kind=payload.campaign_kind,
        promotional=payload.promotional,
        media=[m.dict() for m in payload.media],
    )
    return verdict.as_dict()


@router.get("/publishing/posts", response=PostPage)
def list_posts(
    request, status: str | None = None, cursor: str | None = None, limit: int = Query(50, ge=1, le=200)
):
    posts = services.posts_for(request.auth)
    if status:
        posts = posts.filter(status=status)
    page = keyset_page(_with_related(posts), cursor=cursor, limit=limit)
    return {"posts": page.rows, "next_cursor": page.next_cursor}


@router.post("/publishing/posts", response={201: PostOut})
def create_post(request, payload: PostIn):
    actor = request.auth
    post = services.create_post(
        actor=actor,
        title=payload.title,
        campaign=payload.campaign,
        promotional=payload.promotional,
        variants=_variants(actor, payload.variants),
    )
    return Status(201, _post(actor, post.pk))


@router.get("/publishing/posts/{int:post_id}", response=PostOut)
def get_post(request, post_id: RowId):
    return _post(request.auth, post_id)


@router.patch("/publishing/posts/{int:post_id}", response=PostOut)
def update_post(request, post_id: RowId, payload: PostPatch):
    actor = request.auth
    post = services.get_post(actor=actor, post_id=post_id)
    changes: dict[str, Any] = {"title": payload.title, "variants": _variants(actor, payload.variants)}
    fields = payload.model_fields_set
    if "campaign" in fields:
        changes["campaign"] = payload.campaign
    if "promotional" in fields:
        changes["promotional"] = payload.promotional
    services.update_post(actor=actor, post=post, **changes)
    return _post(actor, post_id)


@router.post("/publishing/posts/{int:post_id}/comments", response={201: CommentOut})
def comment(request, post_id: RowId, payload: CommentIn):
    actor = request.auth
    post = services.get_post(actor=actor, post_id=post_id)
    return Status(201, services.add_comment(actor=actor, post=post, text=payload.text))


@router.post("/publishing/posts/{int:post_id}/submit", response=PostOut)
def submit(request, post_id: RowId):
    actor = request.auth
    services.submit_post(actor=actor, post=services.get_post(actor=actor, post_id=post_id))
    return _post(actor, post_id)


@router.post("/publishing/posts/{int:post_id}/approve", response=PostOut)
def approve(request, post_id: RowId, payload: ApproveIn):
    actor = request.auth
    post = services.get_post(actor=actor, post_id=post_id)
    services.approve_post(actor=actor, post=post, acknowledge_warnings=payload.acknowledge_warnings)
    return _post(actor, post_id)


@router.post("/publishing/posts/{int:post_id}/reject", response=PostOut)
def reject(request, post_id: RowId, payload: RejectIn):
    actor = request.auth
    services.reject_post(
        actor=actor, post=services.get_post(actor=actor, post_id=post_id), reason=payload.reason
    )
    return _post(actor, post_id)


@router.put("/publishing/variants/{int:variant_id}/schedule", response=VariantOut)
def schedule(request, variant_id: RowId, payload: ScheduleIn):
    actor = request.auth
    variant = services.get_variant(actor=actor, variant_id=variant_id)
    services.schedule_variant(actor=actor, variant=variant, at=payload.scheduled_at)
    return services.get_variant(actor=actor, variant_id=variant_id)


@router.get("/publishing/variants/{int:variant_id}", response=VariantOut)
def get_variant(request, variant_id: RowId):
    return services.get_variant(actor=request.auth, variant_id=variant_id)


@router.get(
    "/publishing/schedule", response=list[ScheduleEntry], summary="Variants on the calendar in a period"
)
def schedule_list(request, start: Moment, end: Moment, limit: int = Query(500, ge=1, le=2000)):
    services.posts_for(request.auth)
    return (
        PostVariant.objects.for_org(request.auth.organisation)
        .filter(scheduled_at__gte=start, scheduled_at__lt=end)
        .select_related("post", "channel", "action")
        .order_by("scheduled_at", "pk")[:limit]
    )


@router.get("/publishing/held", response=list[ScheduleEntry], summary="What crisis mode holds")
def held(request):
    return services.held_variants(request.auth).select_related("action")


@router.post("/publishing/held/release", response=list[ScheduleEntry])
def release(request):
    return services.release_held(actor=request.auth)


@router.get("/publishing/best-times", response=list[dict[str, Any]])
def best_times(request):
    return services.best_posting_times(request.auth)


@router.post("/publishing/campaigns", response={201: CampaignOut})
def create_campaign(request, payload: CampaignIn):
    data = payload.dict()
    for name in ("starts_on", "ends_on"):
        data[name] = data[name].date() if data[name] else None
    return Status(201, services.create_campaign(actor=request.auth, **data))


@router.get("/publishing/campaigns", response=list[CampaignOut])
def list_campaigns(request):
    services.posts_for(request.auth)
    return Campaign.objects.for_org(request.auth.organisation)


@router.get("/publishing/policy", response=PublishingPolicyOut)
def get_policy(request):
    services.posts_for(request.auth)
    return services.policy_for(request.auth.organisation)


@router.patch("/publishing/policy", response=PublishingPolicyOut)
def update_policy(request, payload: PublishingPolicyIn):
    return services.update_policy(actor=request.auth, **payload.dict(exclude_none=True))


# --- files, dropping a channel, deleting a post -------------------------------------------------


@router.post("/publishing/posts/{int:post_id}/media", response={201: AttachmentOut})
def attach_media(
    request,
    post_id: RowId,
    file: File[UploadedFile],
    description: Form[str] = "",
    variant: Form[RowId | None] = None,
):
    """Attach a picture or video (multipart) to the post, or to one of its variants."""
    actor = request.auth
    post = services.get_post(actor=actor, post_id=post_id)
    target = None
    if variant is not None:
        target = services.get_variant(actor=actor, variant_id=variant)
    if file.size and file.size > post_media.MAX_BYTES:
        from django.core.exceptions import ValidationError
        from django.utils.translation import gettext as _

        raise ValidationError(
            {"file": _("The file weighs more than %(mb)s MB: make it lighter.") % {"mb": 8}}
        )
    attached = post_media.attach_media(
        actor=actor,
        post=post,
        content=file.read(),
        filename=file.name or "",
        description=description,
        variant=target,
    )
    return Status(201, attached)


class DescribeIn(Schema):
    description: str = Field("", max_length=1500)


@router.patch("/publishing/media/{int:media_id}", response=AttachmentOut)
def describe_media(request, media_id: RowId, payload: DescribeIn):
    actor = request.auth
    found = post_media.get_media(actor=actor, media_id=media_id)
    return post_media.describe_media(actor=actor, media=found, description=payload.description)


@router.delete("/publishing/media/{int:media_id}", response={204: None})
def remove_media(request, media_id: RowId):
    actor = request.auth
    post_media.remove_media(actor=actor, media=post_media.get_media(actor=actor, media_id=media_id))
    return Status(204, None)


@router.delete("/publishing/variants/{int:variant_id}", response=PostOut)
def drop_variant(request, variant_id: RowId):
    """Drop a channel from its post (not the last one, not a scheduled or published one)."""
    actor = request.auth
    post = services.remove_variant(
        actor=actor, variant=services.get_variant(actor=actor, variant_id=variant_id)
    )
    return _post(actor, post.pk)


@router.delete("/publishing/posts/{int:post_id}", response={204: None})
def delete_post(request, post_id: RowId):
    """Delete a draft or a rejected post (audited)."""
    actor = request.auth
    services.delete_post(actor=actor, post=services.get_post(actor=actor, post_id=post_id))
    return Status(204, None)
