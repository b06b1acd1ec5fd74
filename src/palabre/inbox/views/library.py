"""The team's library pages: saved replies and knowledge-base articles."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from palabre.inbox import queries, services
from palabre.inbox.forms import (
    ArticleForm,
    SavedReplyForm,
)
from palabre.orgs.forms import apply_service_errors
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor
from palabre.orgs.views import member_view


@member_view(Perm.INBOX_REPLY)
def saved_replies(request: HttpRequest, actor: Actor, saved_id: int | None = None) -> HttpResponse:
    # Those who answer read the library; changing it is inbox.manage (the form is not shown).
    can_edit = actor.can(Perm.INBOX_MANAGE)
    if request.method == "POST" or saved_id:
        actor.require(Perm.INBOX_MANAGE)
    saved = queries.saved_reply(actor, saved_id) if saved_id else None
    initial = {"title": saved.title, "text": saved.text, "language": saved.language} if saved else None
    form = SavedReplyForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_saved_reply(actor=actor, saved=saved, **form.cleaned_data)
            messages.success(request, _("Saved reply saved."))
            return redirect("inbox:saved_replies")
        except ValidationError as failure:
            apply_service_errors(form, failure)
    context = {"form": form, "editing": saved, "rows": queries.saved_replies(actor), "can_edit": can_edit}
    return render(request, "inbox/saved_replies.html", context, status=422 if form.errors else 200)


@require_POST
@member_view(Perm.INBOX_MANAGE)
def saved_reply_delete(request: HttpRequest, actor: Actor, saved_id: int) -> HttpResponse:
    services.delete_saved_reply(actor=actor, saved=queries.saved_reply(actor, saved_id))
    messages.success(request, _("Saved reply deleted."))
    return redirect("inbox:saved_replies")


@member_view(Perm.ITEMS_VIEW)
def articles(request: HttpRequest, actor: Actor, article_id: int | None = None) -> HttpResponse:
    if request.method == "POST" or article_id:
        actor.require(Perm.INBOX_MANAGE)
    article = queries.article(actor, article_id) if article_id else None
    initial = (
        {
            "title": article.title,
            "body": article.body,
            "category": article.category,
            "language": article.language,
        }
        if article
        else None
    )
    form = ArticleForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.save_article(actor=actor, article=article, **form.cleaned_data)
            messages.success(request, _("Article saved."))
            return redirect("inbox:articles")
        except ValidationError as failure:
            apply_service_errors(form, failure)
    context = {
        "form": form,
        "editing": article,
        "rows": queries.articles(actor),
        "can_edit": actor.can(Perm.INBOX_MANAGE),
    }
    return render(request, "inbox/articles.html", context, status=422 if form.errors else 200)


@require_POST
@member_view(Perm.INBOX_MANAGE)
def article_delete(request: HttpRequest, actor: Actor, article_id: int) -> HttpResponse:
    services.delete_article(actor=actor, article=queries.article(actor, article_id))
    messages.success(request, _("Article deleted."))
    return redirect("inbox:articles")
