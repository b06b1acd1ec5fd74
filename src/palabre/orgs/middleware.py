from django.utils import translation
from django.utils.functional import SimpleLazyObject

from palabre.orgs.models import Membership, UserPreference


def _active_membership(user, preference: UserPreference | None) -> Membership | None:
    memberships = Membership.objects.active().filter(user=user).select_related("organisation")
    if preference and preference.active_organisation_id:
        chosen = memberships.for_org(preference.active_organisation_id).first()
        if chosen is not None:
            return chosen
    return memberships.order_by("organisation__name").first()


class ActiveOrganisationMiddleware:
    """Sets request.membership (the signed-in person's active membership) and their language."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if not user.is_authenticated:
            request.membership = None
            return self.get_response(request)
        # One read of the person's preferences serves both the language and the organisation.
        preference = UserPreference.objects.filter(user=user).first()
        request.membership = SimpleLazyObject(lambda: _active_membership(user, preference))
        if preference and preference.language:
            # The interface follows the person's own choice, on any device.
            translation.activate(preference.language)
            request.LANGUAGE_CODE = preference.language
        return self.get_response(request)
