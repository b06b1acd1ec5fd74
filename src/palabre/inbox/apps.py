from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InboxConfig(AppConfig):
    name = "palabre.inbox"
    label = "inbox"
    verbose_name = _("Inbox")

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy

        from palabre.conversations.pipeline import ORDER, register_stage
        from palabre.demo.loader import register_demo_extension
        from palabre.inbox.demo import load_inbox_demo
        from palabre.inbox.handover import hand_over_threads
        from palabre.inbox.services.reading import is_out_of_hours
        from palabre.inbox.services.threads import analyse_batch_for_inbox, refresh_after_review
        from palabre.moderation.hooks import register_off_hours_provider, register_review_listener
        from palabre.orgs.signals import member_leaving
        from palabre.orgs.views import register_audit_labels

        member_leaving.connect(hand_over_threads, dispatch_uid="inbox.hand_over_threads")
        register_audit_labels(
            actions={},
            targets={},
            sentences={"inbox.assigned": gettext_lazy("%(who)s assigned the thread “%(target)s”")},
        )
        register_stage("inbox", analyse_batch_for_inbox, order=ORDER["inbox"])
        register_off_hours_provider(is_out_of_hours)
        register_review_listener("inbox", refresh_after_review)
        register_demo_extension("inbox", load_inbox_demo)
        register_audit_labels(
            actions={
                "inbox.assigned": gettext_lazy("Thread assigned"),
                "inbox.status": gettext_lazy("Thread status changed"),
                "inbox.tagged": gettext_lazy("Thread tags changed"),
                "inbox.priority_set": gettext_lazy("Thread priority set by hand"),
                "inbox.note_added": gettext_lazy("Internal note added"),
                "inbox.replied": gettext_lazy("Reply sent from the inbox"),
                "inbox.acknowledged": gettext_lazy("Out-of-hours acknowledgement sent"),
                "inbox.on_call_alerted": gettext_lazy("On-call person alerted"),
                "inbox.saved_reply_created": gettext_lazy("Saved reply created"),
                "inbox.saved_reply_updated": gettext_lazy("Saved reply changed"),
                "inbox.saved_reply_deleted": gettext_lazy("Saved reply deleted"),
                "inbox.article_created": gettext_lazy("Knowledge article created"),
                "inbox.article_updated": gettext_lazy("Knowledge article changed"),
                "inbox.article_deleted": gettext_lazy("Knowledge article deleted"),
                "inbox.view_saved": gettext_lazy("Inbox view saved"),
                "inbox.view_deleted": gettext_lazy("Inbox view deleted"),
                "inbox.settings_updated": gettext_lazy("Business hours and inbox settings changed"),
                "inbox.profile_updated": gettext_lazy("Inbox profile changed"),
            },
            targets={
                "inbox.conversation": gettext_lazy("Inbox thread"),
                "inbox.savedreply": gettext_lazy("Saved reply"),
                "inbox.knowledgearticle": gettext_lazy("Knowledge article"),
                "inbox.savedview": gettext_lazy("Inbox view"),
                "inbox.memberprofile": gettext_lazy("Inbox profile"),
            },
        )
