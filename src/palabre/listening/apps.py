from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ListeningConfig(AppConfig):
    name = "palabre.listening"
    label = "listening"
    verbose_name = _("Listening")

    def ready(self) -> None:
        from palabre.conversations.pipeline import ORDER, register_stage
        from palabre.listening.services import analyse_items_for_listening

        register_stage("listening", analyse_items_for_listening, order=ORDER["listening"])

        from palabre.orgs.views import register_audit_labels

        register_audit_labels(
            actions={
                "listening.query_created": _("Listening query created"),
                "listening.backfill_started": _("Listening query run over what was already collected"),
                "listening.query_updated": _("Listening query changed"),
                "listening.query_deleted": _("Listening query deleted"),
                "listening.source_created": _("Listening source added"),
                "listening.source_updated": _("Listening source changed"),
                "listening.source_deleted": _("Listening source removed"),
                "crisis.started": _("Crisis mode switched on"),
                "crisis.ended": _("Crisis mode switched off"),
                "crisis.step_done": _("Crisis step done"),
                "crisis.step_reopened": _("Crisis step reopened"),
                "crisis.playbook_updated": _("Crisis playbook changed"),
                "crisis.alert_raised": _("Crisis alert raised"),
                "crisis.alert_acknowledged": _("Crisis alert acknowledged"),
                "crisis.alert_dismissed": _("Crisis alert dismissed"),
                "crisis.alert_open": _("Crisis alert reopened"),
                "crisis.subscription_added": _("Alert recipient added"),
                "crisis.subscription_removed": _("Alert recipient removed"),
            },
            targets={
                "listening.listeningquery": _("Listening query"),
                "listening.listeningsource": _("Listening source"),
                "listening.crisismode": _("Crisis"),
                "listening.crisisalert": _("Crisis alert"),
                "listening.crisisplaybook": _("Crisis playbook"),
                "listening.alertsubscription": _("Alert recipient"),
            },
        )

        from palabre.demo.loader import register_demo_extension
        from palabre.listening.demo import load_demo_listening

        register_demo_extension("listening", load_demo_listening)
