"""Publishing's implementations of Palabre's hooks (palabre.hooks), registered in its AppConfig.ready()."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy

from palabre.hooks import Contribution, hookimpl


@hookimpl
def demo_extensions() -> list[Contribution]:
    from palabre.demo.loader import ORDER
    from palabre.publishing.demo import load_calendar

    return [Contribution("publishing", ORDER["publishing"], load_calendar)]


@hookimpl
def dashboard_panels() -> list[Contribution]:
    from palabre.orgs.views import PANEL_ORDER
    from palabre.publishing.views import dashboard_panel

    return [Contribution("publishing", PANEL_ORDER["publishing"], dashboard_panel)]


@hookimpl
def audit_labels() -> dict[str, dict[str, Any]]:
    return {
        "actions": {
            "post.handed_over_to_member": gettext_lazy("Draft handed over to a colleague"),
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
        "targets": {
            "publishing.post": gettext_lazy("Post"),
            "publishing.campaign": gettext_lazy("Campaign"),
            "publishing.publishingpolicy": gettext_lazy("Guardrail settings"),
        },
        "sentences": {
            "post.handed_over_to_member": gettext_lazy("%(who)s handed the draft “%(target)s” over")
        },
    }
