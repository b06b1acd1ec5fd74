"""The inbox's implementations of Palabre's hooks (palabre.hooks), registered in its AppConfig.ready()."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy

from palabre.hooks import Contribution, hookimpl


@hookimpl
def pipeline_stages() -> list[Any]:
    from palabre.conversations.pipeline import ORDER, Stage
    from palabre.inbox.services.threads import analyse_batch_for_inbox

    return [Stage(name="inbox", order=ORDER["inbox"], run=analyse_batch_for_inbox)]


@hookimpl
def is_off_hours(organisation_id: int, moment: Any) -> bool:
    from palabre.inbox.services.reading import is_out_of_hours

    return is_out_of_hours(organisation_id, moment)


@hookimpl
def demo_extensions() -> list[Contribution]:
    from palabre.demo.loader import ORDER
    from palabre.inbox.demo import load_inbox_demo

    return [Contribution("inbox", ORDER["inbox"], load_inbox_demo)]


@hookimpl
def dashboard_panels() -> list[Contribution]:
    from palabre.inbox.views.preferences import dashboard_panel
    from palabre.orgs.views import PANEL_ORDER

    return [Contribution("inbox", PANEL_ORDER["inbox"], dashboard_panel)]


@hookimpl
def audit_labels() -> dict[str, dict[str, Any]]:
    return {
        "actions": {
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
        "targets": {
            "inbox.conversation": gettext_lazy("Inbox thread"),
            "inbox.savedreply": gettext_lazy("Saved reply"),
            "inbox.knowledgearticle": gettext_lazy("Knowledge article"),
            "inbox.savedview": gettext_lazy("Inbox view"),
            "inbox.memberprofile": gettext_lazy("Inbox profile"),
        },
        "sentences": {"inbox.assigned": gettext_lazy("%(who)s assigned the thread “%(target)s”")},
    }
