"""Sites of the organisation that use the Akismet-compatible API: list, register (key shown once), revoke.

Thin on purpose: every change goes through `services`; another organisation's site answers 404.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from palabre.moderation import services
from palabre.moderation.models import ModerationSite, ToxicAnswer
from palabre.orgs.forms import apply_service_errors
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, NotInOrganisation
from palabre.orgs.views import member_view, no_store


class SiteForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    # Checked by the service, which names the problem in the person's language.
    url = forms.CharField(
        label=gettext_lazy("Address"),
        max_length=500,
        help_text=gettext_lazy("The blog or forum's home page, e.g. https://blog.example.com/"),
    )


class SiteEditForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    allowed_origins = forms.CharField(
        label=gettext_lazy("Other addresses of the site"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy(
            "One per line, e.g. https://www.example.com or https://staging.example.com:8443. "
            "Their pages may embed the comment form, and the Akismet API accepts them as the blog "
            "of this site's key. The site's own address is always allowed."
        ),
    )
    toxic_answer = forms.ChoiceField(
        label=gettext_lazy("Toxic comments that are not spam, through the Akismet API"),
        choices=ToxicAnswer.choices,
        widget=forms.RadioSelect,
        required=False,  # not sent: the choice stays as it was
        help_text=gettext_lazy(
            "Akismet's “spam” answer is for spam: by default an insult, a threat or hate is held in "
            "Palabre's review queue and the site is told it is not spam."
        ),
    )


def sites_of(actor: Actor) -> QuerySet[ModerationSite]:
    return ModerationSite.objects.visible_to(actor).select_related("channel")


def _site(actor: Actor, site_id: int) -> ModerationSite:
    site = sites_of(actor).filter(pk=site_id).first()
    if site is None:
        raise NotInOrganisation
    return site


@member_view(Perm.MODERATION_RULES)
def sites(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = SiteForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            site, key = services.create_moderation_site(actor=actor, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            # Shown in this answer only: no redirect, no copy kept anywhere.
            context = {"site": site, "key": key, "endpoint": request.build_absolute_uri("/")}
            return no_store(render(request, "moderation/sites_created.html", context))
    context = {"sites": sites_of(actor), "form": form, "endpoint": request.build_absolute_uri("/")}
    return render(request, "moderation/sites.html", context)


@member_view(Perm.MODERATION_RULES)
def site_edit(request: HttpRequest, actor: Actor, site_id: int) -> HttpResponse:
    site = _site(actor, site_id)
    initial = {
        "name": site.name,
        "allowed_origins": "\n".join(site.allowed_origins or []),
        "toxic_answer": site.toxic_answer,
    }
    form = SiteEditForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_moderation_site(
                actor=actor,
                site=site,
                name=form.cleaned_data["name"],
                allowed_origins=form.cleaned_data["allowed_origins"].splitlines(),
                toxic_answer=form.cleaned_data["toxic_answer"] or None,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, _("“%(name)s” is saved.") % {"name": site.name})
            return redirect(reverse("moderation:sites"))
    return render(request, "moderation/site_edit.html", {"site": site, "form": form})


@require_POST
@member_view(Perm.MODERATION_RULES)
def site_revoke(request: HttpRequest, actor: Actor, site_id: int) -> HttpResponse:
    site = services.revoke_moderation_site(actor=actor, site=_site(actor, site_id))
    messages.success(request, _("The key of “%(name)s” is revoked.") % {"name": site.name})
    return redirect(reverse("moderation:sites"))
