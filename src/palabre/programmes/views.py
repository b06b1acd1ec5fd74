"""Programme pages: contests (entries, review, close, draw, announcement) and polls; the public
page of a draw. Thin: reads through `queries`, every change through `services`."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palabre.orgs.forms import apply_service_errors
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor
from palabre.orgs.views import member_view
from palabre.programmes import ambassadors, queries, services
from palabre.programmes import ideas as ideas_service
from palabre.programmes.forms import AmbassadorForm, ContestForm, ExclusionForm, PollForm
from palabre.programmes.models import ContestStatus, IdeaStatus


def _say(request: HttpRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


@member_view(Perm.ITEMS_VIEW)
def overview(request: HttpRequest, actor: Actor) -> HttpResponse:
    zone = actor.organisation.time_zone
    posts = queries.brand_posts(actor)
    contest_form = ContestForm(
        request.POST if request.POST.get("form") == "contest" else None,
        posts=posts,
        zone=zone,
        prefix="contest",
    )
    poll_form = PollForm(
        request.POST if request.POST.get("form") == "poll" else None, posts=posts, zone=zone, prefix="poll"
    )
    if request.method == "POST":
        actor.require(Perm.PROGRAMMES_MANAGE)
        if contest_form.is_bound and contest_form.is_valid():
            data = contest_form.cleaned_data
            try:
                contest = services.create_contest(
                    actor=actor,
                    title=data["title"],
                    rules=data["rules"],
                    post_ids=[post.pk for post in data["posts"]],
                    closes_at=data["closes_at"],
                    winners=data["winners"],
                )
            except ValidationError as error:
                apply_service_errors(contest_form, error, aliases={"winners_wanted": "winners"})
            else:
                messages.success(request, _("Contest created: publish its commitment with the rules."))
                return redirect("programmes:contest", contest.pk)
        if poll_form.is_bound and poll_form.is_valid():
            data = poll_form.cleaned_data
            try:
                poll = services.create_poll(
                    actor=actor,
                    post_id=data["post"].pk,
                    question=data["question"],
                    options=data["options"],
                    closes_at=data["closes_at"],
                )
            except ValidationError as error:
                apply_service_errors(poll_form, error)
            else:
                messages.success(request, _("Poll created."))
                return redirect("programmes:poll", poll.pk)
    bound = contest_form if contest_form.is_bound else poll_form
    return render(
        request,
        "programmes/overview.html",
        {
            "contests": queries.contests(actor),
            "polls": queries.polls(actor),
            "contest_form": contest_form,
            "poll_form": poll_form,
            "has_posts": posts.exists(),
        },
        status=400 if bound.is_bound and bound.errors else 200,
    )


@member_view(Perm.ITEMS_VIEW)
def contest_detail(request: HttpRequest, actor: Actor, contest_id: int) -> HttpResponse:
    contest = services.get_contest(actor=actor, contest_id=contest_id)
    entries = list(contest.entries.select_related("item").order_by("-hunter_score", "reference"))
    return render(
        request,
        "programmes/contest.html",
        {
            "contest": contest,
            "entries": entries,
            "flagged": sum(1 for e in entries if e.hunter_score >= 0.5),
            "exclusion_form": ExclusionForm(),
            "public_url": request.build_absolute_uri(reverse("programmes:public", args=[contest.commitment])),
            "Status": ContestStatus,
        },
    )


@require_POST
@member_view(Perm.PROGRAMMES_MANAGE)
def contest_action(request: HttpRequest, actor: Actor, contest_id: int, action: str) -> HttpResponse:
    contest = services.get_contest(actor=actor, contest_id=contest_id)
    try:
        if action == "collect":
            count = services.collect_entries(actor=actor, contest=contest)
            messages.success(request, _("%(count)s entries read.") % {"count": count})
        elif action == "close":
            services.close_contest(actor=actor, contest=contest)
            messages.success(request, _("Contest closed: its entries are frozen."))
        elif action == "draw":
            services.draw_contest(actor=actor, contest=contest)
            messages.success(request, _("Draw made: the seed is revealed and the winners chosen."))
        elif action == "announce":
            url = request.build_absolute_uri(reverse("programmes:public", args=[contest.commitment]))
            post = services.draft_winners_announcement(actor=actor, contest=contest, check_url=url)
            messages.success(request, _("The announcement is drafted: it goes through approval."))
            return redirect("publishing:post", post.pk)
        else:
            raise Http404
    except ValidationError as error:
        _say(request, error)
    return redirect("programmes:contest", contest.pk)


@require_POST
@member_view(Perm.PROGRAMMES_MANAGE)
def entry_review(request: HttpRequest, actor: Actor, contest_id: int, entry_id: int) -> HttpResponse:
    contest = services.get_contest(actor=actor, contest_id=contest_id)
    entry = queries.entry(actor, contest, entry_id)
    keep = request.POST.get("decision") == "keep"
    try:
        services.review_entry(actor=actor, entry=entry, keep=keep, note=request.POST.get("note", ""))
    except ValidationError as error:
        _say(request, error)
    return redirect(f"{reverse('programmes:contest', args=[contest.pk])}#entry-{entry.pk}")


@member_view(Perm.ITEMS_VIEW)
def poll_detail(request: HttpRequest, actor: Actor, poll_id: int) -> HttpResponse:
    poll = queries.poll(actor, poll_id)
    voters = poll.result.get("voters", 0) if poll.result else 0
    rows = []
    for number, option in enumerate(poll.options, start=1):
        votes = poll.result.get("counts", {}).get(str(number), 0) if poll.result else 0
        rows.append(
            {"number": number, **option, "votes": votes, "share": 100 * votes / voters if voters else 0}
        )
    return render(request, "programmes/poll.html", {"poll": poll, "rows": rows, "voters": voters})


@require_POST
@member_view(Perm.PROGRAMMES_MANAGE)
def poll_action(request: HttpRequest, actor: Actor, poll_id: int, action: str) -> HttpResponse:
    poll = queries.poll(actor, poll_id)
    try:
        if action == "count":
            services.count_poll(actor=actor, poll=poll)
            messages.success(request, _("Votes counted."))
        elif action == "announce":
            post = services.draft_poll_result(actor=actor, poll=poll)
            messages.success(request, _("The result is drafted: it goes through approval."))
            return redirect("publishing:post", post.pk)
        else:
            raise Http404
    except ValidationError as error:
        _say(request, error)
    return redirect("programmes:poll", poll.pk)


def public_draw(request: HttpRequest, commitment: str) -> HttpResponse:
    """The draw's public page, for entrants and anyone: nothing secret before its time."""
    contest = queries.published_contest(commitment)
    if contest is None:
        raise Http404
    record = services.published_record(contest)
    if request.GET.get("format") == "json":
        response = JsonResponse(record, json_dumps_params={"ensure_ascii": False, "indent": 2})
        response["Content-Disposition"] = f'attachment; filename="draw-{commitment[:12]}.json"'
        return response
    return render(request, "programmes/public.html", {"contest": contest, "record": record})


@member_view(Perm.ITEMS_VIEW)
def idea_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    ideas = queries.ideas(actor)
    return render(request, "programmes/ideas.html", {"ideas": ideas, "statuses": IdeaStatus.choices})


@require_POST
@member_view(Perm.PROGRAMMES_MANAGE)
def ideas_collect(request: HttpRequest, actor: Actor) -> HttpResponse:
    summary = ideas_service.collect_ideas(actor=actor)
    messages.success(
        request,
        _("%(suggestions)s new suggestions read, %(ideas)s new ideas, %(supports)s replies backing one.")
        % {
            "suggestions": summary["suggestions"],
            "ideas": summary["ideas_created"],
            "supports": summary["supports"],
        },
    )
    return redirect("programmes:ideas")


@require_POST
@member_view(Perm.PROGRAMMES_MANAGE)
def idea_action(request: HttpRequest, actor: Actor, idea_id: int, action: str) -> HttpResponse:
    idea = ideas_service.get_idea(actor=actor, idea_id=idea_id)
    try:
        if action == "status":
            ideas_service.set_status(actor=actor, idea=idea, status=request.POST.get("status", ""))
            messages.success(request, _("Status saved."))
        elif action == "announce":
            summary = ideas_service.announce_status(actor=actor, idea=idea)
            messages.success(
                request,
                _(
                    "%(queued)s people will get an answer under their message; %(impossible)s could not (channel without replies)."
                )
                % summary,
            )
        else:
            raise Http404
    except ValidationError as error:
        _say(request, error)
    return redirect(f"{reverse('programmes:ideas')}#idea-{idea.pk}")


@member_view()
def ambassador_page(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The person's own page: opt in or out, and the brand's posts offered to share."""
    form = AmbassadorForm(request.POST or None, channels=ambassadors.own_channels(actor))
    if request.method == "POST" and request.POST.get("action") == "leave":
        ambassadors.opt_out(actor=actor)
        messages.success(request, _("You are no longer an ambassador."))
        return redirect("programmes:ambassadors")
    if request.method == "POST" and form.is_valid():
        try:
            ambassadors.opt_in(
                actor=actor,
                channel_id=form.cleaned_data["channel"].pk,
                disclosure=form.cleaned_data["disclosure"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request, _("You are an ambassador: the brand's approved posts are offered to you below.")
            )
            return redirect("programmes:ambassadors")
    return render(
        request,
        "programmes/ambassadors.html",
        {
            "form": form,
            "me": ambassadors.ambassador_of(actor),
            "offers": ambassadors.offers(actor),
            "team": ambassadors.ambassadors(actor) if actor.can(Perm.PROGRAMMES_MANAGE) else None,
        },
        status=400 if form.errors else 200,
    )


@require_POST
@member_view()
def ambassador_share(request: HttpRequest, actor: Actor, post_id: int) -> HttpResponse:
    try:
        shared = ambassadors.share(actor=actor, post_id=post_id)
    except ValidationError as error:
        _say(request, error)
        return redirect("programmes:ambassadors")
    messages.success(request, _("Your draft is ready: read it, then submit it for approval."))
    return redirect("publishing:post", shared.draft_id)
