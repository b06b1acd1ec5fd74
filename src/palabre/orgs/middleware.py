from django.utils import translation
from django.utils.functional import SimpleLazyObject

from palabre.orgs.models import Membership, UserPreference


def _active_membership(request) -> Membership | None:
    user = request.user
    if not user.is_authenticated:
        return None
    memberships = Membership.objects.active().filter(user=user).select_related("organisation")
    preference = UserPreference.objects.filter(user=user).first()
    if preference and preference.active_organisation_id:
        chosen = memberships.filter(organisation_id=preference.active_organisation_id).first()
        if chosen is not None:
            return chosen
    return memberships.order_by("organisation__name").first()


class ActiveOrganisationMiddleware:
    """Sets request.membership / request.organisation for the signed-in person, and their language."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.membership = SimpleLazyObject(lambda: _active_membership(request))
        if request.user.is_authenticated:
            language = (
                UserPreference.objects.filter(user=request.user).values_list("language", flat=True).first()
            )
            if language:
                # The interface follows the person's own choice, on any device.
                translation.activate(language)
                request.LANGUAGE_CODE = language
        return self.get_response(request)
