from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import Signal, receiver

from palabre.orgs.models import LoginSession


@receiver(user_logged_in)
def remember_session(sender, request, user, **kwargs):
    if request.session.session_key is None:
        request.session.save()
    LoginSession.objects.create(user=user, session_key=request.session.session_key)


@receiver(user_logged_out)
def forget_session(sender, request, user, **kwargs):
    if user is not None and request.session.session_key:
        LoginSession.objects.filter(user=user, session_key=request.session.session_key).delete()


# Sent with `platform` and `credentials` (a dict) when a person enters a channel's credentials,
# before they are stored. A receiver (the connectors app: orgs cannot import it) raises a
# ValidationError naming the wrong fields, or returns the credentials tidied.
credentials_entered = Signal()

# Sent with `actor` and `channel` once a channel's new credentials are stored: a receiver (the
# connectors app) tries them on the platform at once and returns what it found as plain data
# (`status`: connected / partial / failed, `code`, `account`, `message` in the active language,
# `detail`), or None when it has nothing to try.
connection_check = Signal()

# Sent with `actor`, `membership` (the member leaving) and `successor` (the active Membership chosen
# to take over their work, or None) while a member is removed, inside the removal's transaction.
# Each receiver (inbox: open threads; publishing: drafts) hands over what it holds and returns a
# list of {"kind", "id", "label", "to"} dicts (`to`: the successor's user name, or None when left
# unassigned), which the offboarding report lists.
member_leaving = Signal()

# Sent with `actor`, `membership` (its new role saved) and `before` (the former role) when a member's
# role changes, inside the change's transaction: what the former role allowed them to set up and the
# new one does not is undone by its app (analytics: the outside report recipients they added).
member_role_changed = Signal()
