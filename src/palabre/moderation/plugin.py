"""Moderation's implementations of Palabre's hooks (palabre.hooks), registered in its AppConfig.ready()."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy

from palabre.hooks import Contribution, hookimpl


@hookimpl
def pipeline_stages() -> list[Any]:
    from palabre.conversations.pipeline import ORDER, Stage
    from palabre.moderation.services import moderate_batch

    return [Stage(name="moderation", order=ORDER["moderation"], run=moderate_batch)]


@hookimpl
def hide_site_comment(item: Any, note: str) -> bool:
    from palabre.moderation.services import hide_site_comment

    hide_site_comment(item, note)
    return True


@hookimpl
def dashboard_panels() -> list[Contribution]:
    from palabre.moderation.views import dashboard_panel
    from palabre.orgs.views import PANEL_ORDER

    return [Contribution("moderation", PANEL_ORDER["moderation"], dashboard_panel)]


@hookimpl
def audit_labels() -> dict[str, dict[str, Any]]:
    return {
        "actions": {
            "moderation.approve": gettext_lazy("Item approved"),
            "moderation.reject": gettext_lazy("Item rejected"),
            "moderation.spam": gettext_lazy("Item marked as spam"),
            "moderation.ham": gettext_lazy("Item marked as not spam"),
            "moderation.restore": gettext_lazy("Item restored"),
            "moderation.reported": gettext_lazy("Item reported"),
            "moderation.rule_created": gettext_lazy("Moderation rule created"),
            "moderation.rule_updated": gettext_lazy("Moderation rule changed"),
            "moderation.rule_enabled": gettext_lazy("Moderation rule enabled"),
            "moderation.rule_disabled": gettext_lazy("Moderation rule disabled"),
            "moderation.undo": gettext_lazy("Moderation decision undone"),
            "moderation.rule_deleted": gettext_lazy("Moderation rule deleted"),
            "moderation.policy_updated": gettext_lazy("Moderation thresholds changed"),
            "moderation.site_created": gettext_lazy("Site registered"),
            "moderation.site_updated": gettext_lazy("Site changed"),
            "moderation.site_revoked": gettext_lazy("Site key revoked"),
            "moderation.site_plugin_deactivated": gettext_lazy("Akismet plugin deactivated on the site"),
        },
        "targets": {
            "moderation.moderationrule": gettext_lazy("Moderation rule"),
            "moderation.moderationpolicy": gettext_lazy("Moderation thresholds"),
            "moderation.moderationsite": gettext_lazy("Site"),
        },
        "sentences": {
            "moderation.approve": gettext_lazy("%(who)s approved “%(target)s”"),
            "moderation.reject": gettext_lazy("%(who)s rejected “%(target)s”"),
            "moderation.spam": gettext_lazy("%(who)s marked “%(target)s” as spam"),
            "moderation.ham": gettext_lazy("%(who)s marked “%(target)s” as not spam"),
            "moderation.restore": gettext_lazy("%(who)s restored “%(target)s”"),
            "moderation.undo": gettext_lazy("%(who)s undid the last decision on “%(target)s”"),
            "moderation.reported": gettext_lazy("%(who)s reported “%(target)s”"),
            "moderation.rule_created": gettext_lazy("%(who)s wrote the rule “%(target)s” (in simulation)"),
            "moderation.rule_enabled": gettext_lazy("%(who)s enabled the rule “%(target)s”"),
            "moderation.rule_disabled": gettext_lazy("%(who)s disabled the rule “%(target)s”"),
            "moderation.rule_updated": gettext_lazy("%(who)s changed the rule “%(target)s”"),
            "moderation.rule_deleted": gettext_lazy("%(who)s deleted the rule “%(target)s”"),
            "moderation.policy_updated": gettext_lazy("%(who)s changed the moderation thresholds"),
        },
    }
