from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InboxConfig(AppConfig):
    name = "palabre.inbox"
    label = "inbox"
    verbose_name = _("Inbox")

    def ready(self) -> None:
        from palabre import hooks
        from palabre.inbox import plugin
        from palabre.inbox.handover import hand_over_threads
        from palabre.moderation.hooks import spam_review_committed
        from palabre.orgs.signals import member_leaving

        hooks.register(plugin, name="palabre.inbox")
        member_leaving.connect(hand_over_threads, dispatch_uid="inbox.hand_over_threads")
        spam_review_committed.connect(_review_committed, dispatch_uid="inbox.refresh_after_review")


def _review_committed(sender, *, item_id: int, **kwargs) -> None:
    from palabre.inbox.services.threads import refresh_after_review

    refresh_after_review(item_id)
