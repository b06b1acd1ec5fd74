"""Changing one's own password: Django's page, with the current password guarded like sign-in.

A wrong current password counts as a wrong sign-in of that account from that address (django-axes),
so a borrowed or stolen session cannot try passwords here once the sign-in page would refuse them;
once locked, the page answers as the sign-in page does. The new password passes the install's
rules (AUTH_PASSWORD_VALIDATORS, through Django's form).
"""

from __future__ import annotations

from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse

from palabre.orgs.throttle import sign_in_locked


class GuardedPasswordChangeForm(PasswordChangeForm):
    def __init__(self, user, *args, request: HttpRequest | None = None, **kwargs):
        super().__init__(user, *args, **kwargs)
        self.request = request

    def clean_old_password(self):
        try:
            return super().clean_old_password()
        except ValidationError:
            user_login_failed.send(
                sender=__name__, credentials={"username": self.user.get_username()}, request=self.request
            )
            raise


class PasswordChangeView(auth_views.PasswordChangeView):
    form_class = GuardedPasswordChangeForm
    template_name = "orgs/password_change.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def post(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not AxesProxyHandler.is_allowed(request, {"username": request.user.get_username()}):
            return sign_in_locked(request)
        return super().post(request, *args, **kwargs)
