from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ModerationConfig(AppConfig):
    name = "palabre.moderation"
    label = "moderation"
    verbose_name = _("Moderation")

    def ready(self) -> None:
        from palabre.conversations.pipeline import ORDER, register_stage
        from palabre.moderation.services import moderate_batch

        register_stage("moderation", moderate_batch, order=ORDER["moderation"])
        from palabre.connectors.site import register_site_moderation
        from palabre.moderation.services import hide_site_comment

        register_site_moderation(hide_site_comment)
        from django.utils.translation import gettext_lazy

        from palabre.orgs.views import register_audit_labels

        register_audit_labels(
            actions={
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
            targets={
                "moderation.moderationrule": gettext_lazy("Moderation rule"),
                "moderation.moderationpolicy": gettext_lazy("Moderation thresholds"),
                "moderation.moderationsite": gettext_lazy("Site"),
            },
            sentences={
                "moderation.approve": gettext_lazy("%(who)s approved “%(target)s”"),
                "moderation.reject": gettext_lazy("%(who)s rejected “%(target)s”"),
                "moderation.spam": gettext_lazy("%(who)s marked “%(target)s” as spam"),
                "moderation.ham": gettext_lazy("%(who)s marked “%(target)s” as not spam"),
                "moderation.restore": gettext_lazy("%(who)s restored “%(target)s”"),
                "moderation.undo": gettext_lazy("%(who)s undid the last decision on “%(target)s”"),
                "moderation.reported": gettext_lazy("%(who)s reported “%(target)s”"),
                "moderation.rule_created": gettext_lazy(
                    "%(who)s wrote the rule “%(target)s” (in simulation)"
                ),
                "moderation.rule_enabled": gettext_lazy("%(who)s enabled the rule “%(target)s”"),
                "moderation.rule_disabled": gettext_lazy("%(who)s disabled the rule “%(target)s”"),
                "moderation.rule_updated": gettext_lazy("%(who)s changed the rule “%(target)s”"),
                "moderation.rule_deleted": gettext_lazy("%(who)s deleted the rule “%(target)s”"),
                "moderation.policy_updated": gettext_lazy("%(who)s changed the moderation thresholds"),
            },
        )
