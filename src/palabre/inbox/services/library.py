"""The team's library: saved replies, knowledge-base articles and saved views."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from palabre.inbox.models import (
    KnowledgeArticle,
    SavedReply,
    SavedView,
)
from palabre.inbox.services.reading import _own
from palabre.inbox.services.replies import MAX_REPLY_CHARS
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, record


def _require_text(errors: dict, name: str, value: str, limit: int, message: str) -> str:
    value = (value or "").strip()
    if not value:
        errors[name] = message
    elif len(value) > limit:
        errors[name] = _("At most %(n)s characters.") % {"n": limit}
    return value


@transaction.atomic
def save_saved_reply(
    *, actor: Actor, title: str, text: str, language: str = "", saved: SavedReply | None = None
) -> SavedReply:
    actor.require(Perm.INBOX_MANAGE)
    if saved is not None:
        _own(actor, saved)
    errors: dict[str, str] = {}
    title = _require_text(errors, "title", title, 120, _("Give the saved reply a title."))
    text = _require_text(errors, "text", text, MAX_REPLY_CHARS, _("Write the text of the saved reply."))
    if language not in ("", "fr", "en"):
        errors["language"] = _("Choose French, English or any language.")
    if errors:
        raise ValidationError(errors)
    created = saved is None
    saved = saved or SavedReply(organisation=actor.organisation, created_by=actor.user)
    saved.title, saved.text, saved.language, saved.updated_at = title, text, language, timezone.now()
    saved.save()
    record(actor, "inbox.saved_reply_created" if created else "inbox.saved_reply_updated", saved)
    return saved


@transaction.atomic
def delete_saved_reply(*, actor: Actor, saved: SavedReply) -> None:
    actor.require(Perm.INBOX_MANAGE)
    _own(actor, saved)
    record(actor, "inbox.saved_reply_deleted", saved)
    saved.delete()


@transaction.atomic
def save_article(
    *,
    actor: Actor,
    title: str,
    body: str,
    category: str,
    language: str = "",
    article: KnowledgeArticle | None = None,
) -> KnowledgeArticle:
    actor.require(Perm.INBOX_MANAGE)
    if article is not None:
        _own(actor, article)
    errors: dict[str, str] = {}
    title = _require_text(errors, "title", title, 200, _("Give the article a title."))
    body = _require_text(errors, "body", body, 50_000, _("Write the article."))
    if category not in KnowledgeArticle.Category.values:
        errors["category"] = _("Choose a category.")
    if language not in ("", "fr", "en"):
        errors["language"] = _("Choose French, English or any language.")
    if errors:
        raise ValidationError(errors)
    created = article is None
    article = article or KnowledgeArticle(organisation=actor.organisation)
    article.title, article.body, article.category, article.language = title, body, category, language
    article.updated_at = timezone.now()
    article.save()
    record(actor, "inbox.article_created" if created else "inbox.article_updated", article)
    return article


@transaction.atomic
def delete_article(*, actor: Actor, article: KnowledgeArticle) -> None:
    actor.require(Perm.INBOX_MANAGE)
    _own(actor, article)
    record(actor, "inbox.article_deleted", article)
    article.delete()


@transaction.atomic
def save_view(*, actor: Actor, name: str, filters: dict[str, str], shared: bool = False) -> SavedView:
    actor.require(Perm.ITEMS_VIEW)
    if actor.user is None:
        raise ValidationError({"name": _("Saved views belong to a person.")})
    errors: dict[str, str] = {}
    name = _require_text(errors, "name", name, 80, _("Name the view."))
    if errors:
        raise ValidationError(errors)
    view = SavedView.objects.create(
        organisation=actor.organisation, owner=actor.user, name=name, filters=filters, shared=shared
    )
    record(actor, "inbox.view_saved", view, after={"filters": filters, "shared": shared})
    return view


@transaction.atomic
def delete_view(*, actor: Actor, view: SavedView) -> None:
    actor.require(Perm.ITEMS_VIEW)
    _own(actor, view)
    if view.owner_id != actor.user_id and not actor.can(Perm.ORG_MANAGE):
        raise ValidationError({"view": _("Only its author or an administrator removes a shared view.")})
    record(actor, "inbox.view_deleted", view)
    view.delete()
