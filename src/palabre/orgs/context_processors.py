from palabre.orgs.models import Membership
from palabre.orgs.permissions import Perm


def organisation(request):
    membership = getattr(request, "membership", None)
    if not membership:
        return {}
    return {
        "membership": membership,
        "organisation": membership.organisation,
        "perms_in_org": {p.name: membership.can(p) for p in Perm},
        "my_memberships": Membership.objects.active()
        .filter(user=request.user)
        .select_related("organisation")
        .order_by("organisation__name"),
    }
