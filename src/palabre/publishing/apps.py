from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PublishingConfig(AppConfig):
    name = "palabre.publishing"
    label = "publishing"
    verbose_name = _("Publishing")

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy

        from palabre.demo.loader import register_demo_extension
        from palabre.listening.hooks import register_crisis_listener
        from palabre.orgs.signals import member_leaving
        from palabre.orgs.views import register_audit_labels, register_dashboard_panel
        from palabre.publishing import demo, services, views
        from palabre.publishing.handover import hand_over_drafts

        member_leaving.connect(hand_over_drafts, dispatch_uid="publishing.hand_over_drafts")
        register_audit_labels(
            actions={"post.handed_over_to_member": gettext_lazy("Draft handed over to a colleague")},
            targets={},
            sentences={
                "post.handed_over_to_member": gettext_lazy("%(who)s handed the draft “%(target)s” over")
            },
        )
        register_crisis_listener("publishing", services.on_crisis_changed)
        register_demo_extension("publishing", demo.load_calendar)
        register_dashboard_panel("publishing", views.dashboard_panel)
        register_audit_labels(
            actions={
                "post.created": gettext_lazy("Post drafted"),
                "post.updated": gettext_lazy("Post changed"),
                "post.commented": gettext_lazy("Comment on a post"),
                "post.submitted": gettext_lazy("Post submitted for approval"),
                "post.approved": gettext_lazy("Post approved"),
                "post.rejected": gettext_lazy("Post rejected"),
                "post.scheduled": gettext_lazy("Post scheduled"),
                "post.rescheduled": gettext_lazy("Post time changed"),
                "post.held": gettext_lazy("Post held"),
                "post.blocked": gettext_lazy("Post blocked by a guardrail"),
                "post.handed_over": gettext_lazy("Post handed to the channel"),
                "post.sent_back": gettext_lazy("Post sent back for approval"),
                "post.channel_dropped": gettext_lazy("Channel dropped from a post"),
                "post.deleted": gettext_lazy("Post deleted"),
                "post.media_added": gettext_lazy("File attached to a post"),
                "post.media_described": gettext_lazy("Alternative text of a file changed"),
                "post.media_removed": gettext_lazy("File removed from a post"),
                "publishing.crisis_hold": gettext_lazy("Promotion held for a crisis"),
                "publishing.policy_updated": gettext_lazy("Guardrail settings changed"),
                "publishing.campaign_created": gettext_lazy("Campaign created"),
            },
            targets={
                "publishing.post": gettext_lazy("Post"),
                "publishing.campaign": gettext_lazy("Campaign"),
                "publishing.publishingpolicy": gettext_lazy("Guardrail settings"),
            },
        )
