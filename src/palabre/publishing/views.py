"""Publishing pages: the editorial calendar (month, week), a post with its variants, guardrail
coaching, comments and approval, the guardrail settings.

Thin on purpose: reads here and in `services`, every change through `services`.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import require_POST

from palabre.conversations.models import Item, ItemKind
from palabre.orgs.forms import apply_service_errors
from palabre.orgs.models import Channel
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor
from palabre.orgs.views import member_view
from palabre.publishing import limits, services
from palabre.publishing import media as post_media
from palabre.publishing.forms import (
    CommentForm,
    DescribeForm,
    MediaForm,
    PolicyForm,
    PostForm,
    RejectForm,
    VariantForm,
    local_input,
)
from palabre.publishing.models import PostStatus, PostVariant, VariantState

STATE_STYLES = {
    VariantState.DRAFT: "draft",
    VariantState.SCHEDULED: "scheduled",
    VariantState.HELD: "held",
    VariantState.BLOCKED: "blocked",
    VariantState.HANDED_OVER: "published",
    VariantState.CANCELLED: "draft",
}


# A post is "une publication" in French: its statuses agree with it (the model's labels are shared
# with moderation's decisions, masculine there).
POST_STATUS_LABELS = {
    PostStatus.DRAFT: pgettext_lazy("post status", "Draft"),
    PostStatus.PENDING: pgettext_lazy("post status", "Awaiting approval"),
    PostStatus.APPROVED: pgettext_lazy("post status", "Approved"),
    PostStatus.REJECTED: pgettext_lazy("post status", "Rejected"),
}


def _can_see(actor: Actor) -> None:
    if not (actor.can(Perm.POSTS_DRAFT) or actor.can(Perm.POSTS_APPROVE)):
        raise PermissionDenied


def highlight(text: str, findings: list[dict]) -> list[dict[str, Any]]:
    """The text cut into pieces, those a finding points at marked with its severity."""
    marks = sorted(
        (f["span"][0], f["span"][1], f["severity"])
        for f in findings
        if f.get("span") and 0 <= f["span"][0] < f["span"][1] <= len(text)
    )
    pieces, position = [], 0
    for start, end, severity in marks:
        if start < position:
            continue
        if start > position:
            pieces.append({"text": text[position:start], "mark": ""})
        pieces.append({"text": text[start:end], "mark": severity})
        position = end
    if position < len(text):
        pieces.append({"text": text[position:], "mark": ""})
    return pieces


# --- calendar ---------------------------------------------------------------------------------


def _day(value: str | None, zone: ZoneInfo) -> date:
    try:
        return date.fromisoformat(value) if value else timezone.now().astimezone(zone).date()
    except ValueError:
        return timezone.now().astimezone(zone).date()


def _range(view: str, day: date) -> tuple[date, date, date, date]:
    """(first shown day, day after the last, previous period's day, next period's day)."""
    if view == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=7), start - timedelta(days=7), start + timedelta(days=7)
    first = day.replace(day=1)
    start = first - timedelta(days=first.weekday())
    following = (first + timedelta(days=32)).replace(day=1)
    end = following + timedelta(days=(7 - following.weekday()) % 7)
    previous = (first - timedelta(days=1)).replace(day=1)
    return start, end, previous, following


@member_view()
def calendar(request: HttpRequest, actor: Actor) -> HttpResponse:
    _can_see(actor)
    zone = ZoneInfo(actor.organisation.time_zone)
    view = "week" if request.GET.get("view") == "week" else "month"
    day = _day(request.GET.get("date"), zone)
    start, end, previous, following = _range(view, day)
    start_at = datetime.combine(start, time.min, tzinfo=zone)
    end_at = datetime.combine(end, time.min, tzinfo=zone)
    variants = list(
        PostVariant.objects.filter(
            organisation=actor.organisation, scheduled_at__gte=start_at, scheduled_at__lt=end_at
        )
        .exclude(state=VariantState.CANCELLED)
        .select_related("post", "channel", "action")
        .order_by("scheduled_at", "pk")
    )
    by_day: dict[date, list[dict]] = {}
    for variant in variants:
        local = variant.scheduled_at.astimezone(zone)
        by_day.setdefault(local.date(), []).append(
            {
                "variant": variant,
                "time": local.strftime("%H:%M"),
                "style": STATE_STYLES.get(variant.state, "draft"),
                "post_status": variant.post.status,
                "movable": variant.state != VariantState.HANDED_OVER
                and (
                    actor.can(Perm.POSTS_APPROVE)
                    or variant.post.status in {PostStatus.DRAFT, PostStatus.REJECTED}
                ),
            }
        )
    # What the brand published itself, as its channels show it (posts written outside Palabre too).
    handed_over = {
        v.action.external_id for v in variants if v.action_id and v.action and v.action.external_id
    }
    published = (
        Item.objects.filter(
            organisation=actor.organisation,
            kind=ItemKind.POST,
            created_at__gte=start_at,
            created_at__lt=end_at,
            author__handle__in=Channel.objects.filter(organisation=actor.organisation).values("handle"),
        )
        .select_related("channel")
        .order_by("created_at")[:500]
    )
    for item in published:
        if item.external_id in handed_over or item.author_id is None:
            continue
        local = item.created_at.astimezone(zone)
        by_day.setdefault(local.date(), []).append(
            {"item": item, "time": local.strftime("%H:%M"), "style": "published", "movable": False}
        )
    for entries in by_day.values():
        entries.sort(key=lambda e: e["time"])
    today = timezone.now().astimezone(zone).date()
    days = [
        {
            "date": start + timedelta(days=n),
            "entries": by_day.get(start + timedelta(days=n), []),
            "outside": view == "month" and (start + timedelta(days=n)).month != day.month,
            "today": start + timedelta(days=n) == today,
        }
        for n in range((end - start).days)
    ]
    weeks = [days[i : i + 7] for i in range(0, len(days), 7)]
    best = services.best_posting_times(actor)
    context = {
        "view": view,
        "day": day,
        "weeks": weeks,
        "weekdays": [WEEKDAYS[n] for n in range(7)],
        "previous": previous.isoformat(),
        "following": following.isoformat(),
        "today": today.isoformat(),
        "pending": services.posts_for(actor).filter(status=PostStatus.PENDING)[:20],
        "unscheduled": PostVariant.objects.filter(
            organisation=actor.organisation, scheduled_at__isnull=True, state=VariantState.DRAFT
        ).select_related("post", "channel")[:20],
        "held": services.held_variants(actor)[:50],
        "crisis": services.crisis_active(actor.organisation),
        "best": [{**b, "weekday_name": WEEKDAYS[b["weekday"]]} for b in best],
        "can_approve": actor.can(Perm.POSTS_APPROVE),
        "keeps_approval": services.keeps_approval_on_reschedule(actor),
    }
    return render(request, "publishing/calendar.html", context)


@require_POST
@member_view()
def move(request: HttpRequest, actor: Actor, variant_id: int) -> HttpResponse:
    """Drag and drop, or the keyboard: a new day (same time of day), or a shift in days or hours."""
    _can_see(actor)
    variant = services.get_variant(actor=actor, variant_id=variant_id)
    zone = ZoneInfo(actor.organisation.time_zone)
    current = (variant.scheduled_at or timezone.now()).astimezone(zone)
    try:
        if request.POST.get("date"):
            target = date.fromisoformat(request.POST["date"])
            new = datetime.combine(target, current.timetz().replace(tzinfo=None), tzinfo=zone)
        else:
            days = int(request.POST.get("days") or 0)
            hours = int(request.POST.get("hours") or 0)
            if abs(days) > 366 or abs(hours) > 24 * 366:
                raise ValueError
            local = current.replace(tzinfo=None) + timedelta(days=days, hours=hours)
            new = local.replace(tzinfo=zone)
    except ValueError:
        return JsonResponse({"error": _("Give a date as YYYY-MM-DD.")}, status=422)
    try:
        services.schedule_variant(actor=actor, variant=variant, at=new)
    except ValidationError as error:
        return JsonResponse({"error": " ".join(error.messages)}, status=422)
    return JsonResponse(
        {"scheduled_at": new.isoformat(), "date": new.date().isoformat(), "time": new.strftime("%H:%M")}
    )


# --- posts ------------------------------------------------------------------------------------


@member_view(Perm.POSTS_DRAFT)
def post_new(request: HttpRequest, actor: Actor) -> HttpResponse:
    organisation = actor.organisation
    form = PostForm(request.POST or None, organisation=organisation)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        variants = [
            {"channel": channel, "text": data["text"], "scheduled_at": data["scheduled_at"]}
            for channel in data["channels"]
        ]
        try:
            post = services.create_post(
                actor=actor,
                title=data["title"],
                variants=variants,
                campaign=data["campaign"],
                promotional=data["promotional"],
            )
        except ValidationError as error:
            apply_service_errors(form, error, aliases={"variants": "channels", "campaign": "campaign"})
        else:
            messages.success(request, _("Draft saved. Read the guardrails' advice below."))
            return redirect("publishing:post", post_id=post.pk)
    return render(request, "publishing/post_new.html", {"form": form})


def preview_context(variant: PostVariant, text: str, files: list) -> dict[str, Any]:
    """The variant as its network will show it: the text as sent, its pictures, the counter."""
    return {
        "variant": variant,
        "channel": variant.channel,
        "text": text,
        "files": files,
        "counter": limits.counter(variant.channel, text),
    }


def _variant_entries(
    actor: Actor, post, forms: dict[int, VariantForm] | None = None, media_forms: dict | None = None
) -> list[dict]:
    zone = actor.organisation.time_zone
    entries = []
    attachments = list(post.attachments.all())
    for variant in post.variants.select_related("channel", "action").order_by("channel__name"):
        form = (forms or {}).get(variant.pk) or VariantForm(
            initial={"text": variant.text, "scheduled_at": local_input(variant.scheduled_at, zone)},
            organisation=actor.organisation,
            prefix=f"v{variant.pk}",
        )
        form.fields["text"].widget.attrs.update(
            {
                "hx-post": reverse(
                    "publishing:preview", kwargs={"post_id": post.pk, "variant_id": variant.pk}
                ),
                "hx-trigger": "input changed delay:250ms",
                "hx-target": f"#preview-{variant.pk}",
                "hx-swap": "outerHTML",
                "aria-describedby": f"counter-{variant.pk}",
            }
        )
        files = [m for m in attachments if m.variant_id in (None, variant.pk)]
        findings = variant.guardrail_findings
        if variant.state != VariantState.HANDED_OVER:
            # Checked again for the reader: in their language, against today's trends and posts.
            variant.post = post
            findings = [f.as_dict() for f in services.check_variant(variant, save=False).findings]
        entries.append(
            {
                "variant": variant,
                "form": form,
                "pieces": highlight(variant.text, findings),
                # A channel that cannot publish is said once, above the text, not among the coaching.
                "blocks": [
                    f for f in findings if f["severity"] == "block" and f["guardrail"] != "channel_ready"
                ],
                "warnings": [f for f in findings if f["severity"] == "warn"],
                "style": STATE_STYLES.get(variant.state, "draft"),
                "editable": variant.state != VariantState.HANDED_OVER,
                "cannot_publish": [f for f in findings if f["guardrail"] == "channel_ready"],
                "files": files,
                "preview": preview_context(variant, variant.text, files),
                "media_form": (media_forms or {}).get(variant.pk) or MediaForm(prefix=f"m{variant.pk}"),
                "droppable": variant.state
                not in {VariantState.HANDED_OVER, VariantState.SCHEDULED, VariantState.HELD},
            }
        )
    return entries


def _can_edit(actor: Actor, post) -> bool:
    if actor.can(Perm.POSTS_APPROVE):
        return True
    return post.created_by_id == actor.user_id and post.status in {PostStatus.DRAFT, PostStatus.REJECTED}


def _time_notice(actor: Actor, post) -> dict[str, str]:
    """What saving a variant of an approved post does to its approval, said before saving."""
    if post.status != PostStatus.APPROVED:
        return {}
    if services.keeps_approval_on_reschedule(actor):
        return {
            "notice": _(
                "This post is approved. A new time keeps the approval (you approve posts; the change "
                "is recorded). A change to the text sends the post back for approval."
            ),
            "confirm_text": _("Changing the text will send the post back for approval. Save anyway?"),
        }
    return {
        "notice": _("This post is approved. Changing the time or the text sends it back for approval."),
        "confirm_time": _("Changing the time will send the post back for approval. Save anyway?"),
        "confirm_text": _("Changing the text will send the post back for approval. Save anyway?"),
    }


def _post_page(
    request, actor, post, *, forms=None, comment_form=None, reject_form=None, media_forms=None, status=200
):
    entries = _variant_entries(actor, post, forms, media_forms)
    context = {
        "time_notice": _time_notice(actor, post),
        "status_label": POST_STATUS_LABELS.get(post.status, post.get_status_display()),
        "can_delete": _can_edit(actor, post) and post.status in {PostStatus.DRAFT, PostStatus.REJECTED},
        "cannot_publish": any(e["cannot_publish"] for e in entries),
        "post": post,
        "entries": entries,
        "comments": post.comments.all(),
        "comment_form": comment_form or CommentForm(),
        "reject_form": reject_form or RejectForm(),
        "can_edit": _can_edit(actor, post),
        "can_approve": actor.can(Perm.POSTS_APPROVE),
        "has_blocks": any(e["blocks"] or e["cannot_publish"] for e in entries),
        "has_warnings": any(e["warnings"] for e in entries),
        "calendar_date": next(
            (
                e["variant"]
                .scheduled_at.astimezone(ZoneInfo(actor.organisation.time_zone))
                .date()
                .isoformat()
                for e in entries
                if e["variant"].scheduled_at
            ),
            "",
        ),
    }
    return render(request, "publishing/post.html", context, status=status)


@member_view()
def post(request: HttpRequest, actor: Actor, post_id: int) -> HttpResponse:
    return _post_page(request, actor, services.get_post(actor=actor, post_id=post_id))


@require_POST
@member_view()
def variant_save(request: HttpRequest, actor: Actor, post_id: int, variant_id: int) -> HttpResponse:
    found = services.get_post(actor=actor, post_id=post_id)
    variant = services.get_variant(actor=actor, variant_id=variant_id)
    if variant.post_id != found.pk:
        return redirect("publishing:post", post_id=found.pk)
    form = VariantForm(request.POST, organisation=actor.organisation, prefix=f"v{variant.pk}")
    if form.is_valid():
        specs = [
            {
                "channel": v.channel_id,
                "text": form.cleaned_data["text"] if v.pk == variant.pk else v.text,
                "media": v.media,
                "scheduled_at": form.cleaned_data["scheduled_at"] if v.pk == variant.pk else v.scheduled_at,
            }
            for v in found.variants.all()
        ]
        try:
            services.update_post(actor=actor, post=found, variants=specs)
        except ValidationError as error:
            apply_service_errors(form, error, aliases={"variants": "text"})
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Saved; the guardrails have checked it again."))
            return redirect("publishing:post", post_id=found.pk)
    return _post_page(request, actor, found, forms={variant.pk: form}, status=422)


def _act(request, actor, post_id, action):
    found = services.get_post(actor=actor, post_id=post_id)
    try:
        action(found)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    except PermissionDenied as error:
        messages.error(request, str(error))
    return found


@require_POST
@member_view()
def preview(request: HttpRequest, actor: Actor, post_id: int, variant_id: int) -> HttpResponse:
    """The editor's live preview and counter (htmx), for the text being typed."""
    found = services.get_post(actor=actor, post_id=post_id)
    variant = services.get_variant(actor=actor, variant_id=variant_id)
    if variant.post_id != found.pk:
        raise services.NotInOrganisation
    text = (request.POST.get(f"v{variant.pk}-text") or request.POST.get("text") or "")[:63_206]
    return render(
        request,
        "publishing/_preview.html",
        preview_context(variant, text.strip(), post_media.media_of(variant)),
    )


@require_POST
@member_view()
def media_upload(request: HttpRequest, actor: Actor, post_id: int, variant_id: int) -> HttpResponse:
    found = services.get_post(actor=actor, post_id=post_id)
    variant = services.get_variant(actor=actor, variant_id=variant_id)
    if variant.post_id != found.pk:
        raise services.NotInOrganisation
    form = MediaForm(request.POST, request.FILES, prefix=f"m{variant.pk}")
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > post_media.MAX_BYTES:
                raise ValidationError(
                    {"file": _("The file weighs more than %(mb)s MB: make it lighter.") % {"mb": 8}}
                )
            post_media.attach_media(
                actor=actor,
                post=found,
                content=upload.read(),
                filename=upload.name,
                description=form.cleaned_data["description"],
                variant=variant if form.cleaned_data["scope"] == "variant" else None,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("File attached; the guardrails have checked the post again."))
            return redirect(
                reverse("publishing:post", kwargs={"post_id": found.pk}) + f"#variant-{variant.pk}"
            )
    return _post_page(request, actor, found, media_forms={variant.pk: form}, status=422)


@member_view()
def media_file(request: HttpRequest, actor: Actor, media_id: int) -> HttpResponse:
    """A post's picture (or its thumbnail), to members of its organisation only."""
    found = post_media.get_media(actor=actor, media_id=media_id)
    stored = found.thumbnail if request.GET.get("size") == "thumb" and found.thumbnail else found.file
    content_type = "image/jpeg" if stored is found.thumbnail else found.mime_type
    response = FileResponse(stored.open("rb"), content_type=content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response


@require_POST
@member_view()
def media_describe(request: HttpRequest, actor: Actor, media_id: int) -> HttpResponse:
    found = post_media.get_media(actor=actor, media_id=media_id)
    form = DescribeForm(request.POST)
    if form.is_valid():
        try:
            post_media.describe_media(actor=actor, media=found, description=form.cleaned_data["description"])
        except (ValidationError, PermissionDenied) as error:
            for message in getattr(error, "messages", [str(error)]):
                messages.error(request, message)
        else:
            messages.success(request, _("Alternative text saved."))
    return redirect(reverse("publishing:post", kwargs={"post_id": found.post_id}) + "#media-" + str(found.pk))


@require_POST
@member_view()
def media_remove(request: HttpRequest, actor: Actor, media_id: int) -> HttpResponse:
    found = post_media.get_media(actor=actor, media_id=media_id)
    post_id = found.post_id
    try:
        post_media.remove_media(actor=actor, media=found)
    except (ValidationError, PermissionDenied) as error:
        for message in getattr(error, "messages", [str(error)]):
            messages.error(request, message)
    else:
        messages.success(request, _("File removed."))
    return redirect("publishing:post", post_id=post_id)


@require_POST
@member_view()
def variant_remove(request: HttpRequest, actor: Actor, post_id: int, variant_id: int) -> HttpResponse:
    found = services.get_post(actor=actor, post_id=post_id)
    variant = services.get_variant(actor=actor, variant_id=variant_id)
    if variant.post_id != found.pk:
        raise services.NotInOrganisation
    try:
        services.remove_variant(actor=actor, variant=variant)
    except (ValidationError, PermissionDenied) as error:
        for message in getattr(error, "messages", [str(error)]):
            messages.error(request, message)
    else:
        messages.success(request, _("%(channel)s dropped from the post.") % {"channel": variant.channel.name})
    return redirect("publishing:post", post_id=found.pk)


@require_POST
@member_view()
def post_delete(request: HttpRequest, actor: Actor, post_id: int) -> HttpResponse:
    found = services.get_post(actor=actor, post_id=post_id)
    if request.POST.get("confirm") != "on":
        messages.error(request, _("Tick the box to confirm that the post is deleted."))
        return redirect("publishing:post", post_id=found.pk)
    try:
        services.delete_post(actor=actor, post=found)
    except (ValidationError, PermissionDenied) as error:
        for message in getattr(error, "messages", [str(error)]):
            messages.error(request, message)
        return redirect("publishing:post", post_id=found.pk)
    messages.success(request, _("Post “%(title)s” deleted.") % {"title": found.title})
    return redirect("publishing:calendar")


@require_POST
@member_view()
def post_submit(request: HttpRequest, actor: Actor, post_id: int) -> HttpResponse:
    found = _act(request, actor, post_id, lambda p: services.submit_post(actor=actor, post=p))
    found.refresh_from_db()
    if found.status == PostStatus.PENDING:
        messages.success(request, _("Sent to the approvers."))
    return redirect("publishing:post", post_id=found.pk)


@require_POST
@member_view(Perm.POSTS_APPROVE)
def post_approve(request: HttpRequest, actor: Actor, post_id: int) -> HttpResponse:
    acknowledged = request.POST.get("acknowledge_warnings") == "on"
    found = _act(
        request,
        actor,
        post_id,
        lambda p: services.approve_post(actor=actor, post=p, acknowledge_warnings=acknowledged),
    )
    found.refresh_from_db()
    if found.status == PostStatus.APPROVED:
        messages.success(request, _("Approved. Variants with a time are scheduled."))
    return redirect("publishing:post", post_id=found.pk)


@require_POST
@member_view(Perm.POSTS_APPROVE)
def post_reject(request: HttpRequest, actor: Actor, post_id: int) -> HttpResponse:
    found = services.get_post(actor=actor, post_id=post_id)
    form = RejectForm(request.POST)
    if form.is_valid():
        try:
            services.reject_post(actor=actor, post=found, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Sent back to its author with your reason."))
            return redirect("publishing:post", post_id=found.pk)
    return _post_page(request, actor, found, reject_form=form, status=422)


@require_POST
@member_view()
def post_comment(request: HttpRequest, actor: Actor, post_id: int) -> HttpResponse:
    found = services.get_post(actor=actor, post_id=post_id)
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            services.add_comment(actor=actor, post=found, text=form.cleaned_data["text"])
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            return redirect(reverse("publishing:post", kwargs={"post_id": found.pk}) + "#comments")
    return _post_page(request, actor, found, comment_form=form, status=422)


@require_POST
@member_view(Perm.POSTS_APPROVE)
def release(request: HttpRequest, actor: Actor) -> HttpResponse:
    try:
        released = services.release_held(actor=actor)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("%(count)s held post(s) back on the calendar.") % {"count": len(released)}
        )
    return redirect("publishing:calendar")


@require_POST
@member_view()
def check(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The editor's live check (htmx): the guardrails on the text being typed."""
    _can_see(actor)
    text = request.POST.get("text", "")[:63_206]
    channel_ids = [int(c) for c in request.POST.getlist("channels") if c.isdigit()]
    channels = list(Channel.objects.filter(organisation=actor.organisation, pk__in=channel_ids)) or [None]
    promotional = {"yes": True, "no": False}.get(request.POST.get("promotional", ""))
    results = []
    if text.strip():
        for channel in channels:
            verdict = services.check_text(actor=actor, text=text, channel=channel, promotional=promotional)
            findings = [f.as_dict() for f in verdict.findings]
            results.append({"channel": channel, "verdict": verdict.verdict, "findings": findings})
    return render(request, "publishing/_check.html", {"results": results})


@member_view(Perm.POSTS_APPROVE)
def policy(request: HttpRequest, actor: Actor) -> HttpResponse:
    current = services.policy_for(actor.organisation)
    initial = {
        "sensitive_terms": "\n".join(current.sensitive_terms),
        "charter_words": "\n".join(current.charter_words),
        "competitor_texts": "\n".join(current.competitor_texts),
        "promotion_window": current.promotion_window,
        "promotion_share": current.promotion_share,
        "reschedule_keeps_approval": current.reschedule_keeps_approval,
    }
    form = PolicyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_policy(actor=actor, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("Guardrail settings saved."))
            return redirect("publishing:policy")
    return render(request, "publishing/policy.html", {"form": form})


def dashboard_panel(request: HttpRequest, actor: Actor) -> dict | None:
    if not (actor.can(Perm.POSTS_DRAFT) or actor.can(Perm.POSTS_APPROVE)):
        return None
    now = timezone.now()
    week = PostVariant.objects.filter(
        organisation=actor.organisation,
        state=VariantState.SCHEDULED,
        scheduled_at__gte=now,
        scheduled_at__lt=now + timedelta(days=7),
    ).count()
    pending = services.posts_for(actor).filter(status=PostStatus.PENDING).count()
    held = PostVariant.objects.filter(organisation=actor.organisation, state=VariantState.HELD).count()
    url = reverse("publishing:calendar")
    counts = [
        {"label": _("Posts awaiting approval"), "value": pending, "url": url},
        {"label": _("Posts scheduled this week"), "value": week, "url": url},
    ]
    if held:
        counts.append({"label": _("Posts held for a crisis"), "value": held, "url": url})
    return {"counts": counts}
