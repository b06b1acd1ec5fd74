"""Listening's implementations of Palabre's hooks (palabre.hooks), registered in its AppConfig.ready()."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy

from palabre.hooks import Contribution, hookimpl


@hookimpl
def pipeline_stages() -> list[Any]:
    from palabre.conversations.pipeline import ORDER, Stage
    from palabre.listening.services import analyse_items_for_listening

    return [Stage(name="listening", order=ORDER["listening"], run=analyse_items_for_listening)]


@hookimpl
def demo_extensions() -> list[Contribution]:
    from palabre.demo.loader import ORDER
    from palabre.listening.demo import load_demo_listening

    return [Contribution("listening", ORDER["listening"], load_demo_listening)]


@hookimpl
def dashboard_panels() -> list[Contribution]:
    from palabre.listening.views import dashboard_panel
    from palabre.orgs.views import PANEL_ORDER

    return [Contribution("listening", PANEL_ORDER["listening"], dashboard_panel)]


@hookimpl
def audit_labels() -> dict[str, dict[str, Any]]:
    return {
        "actions": {
            "listening.query_created": gettext_lazy("Listening query created"),
            "listening.backfill_started": gettext_lazy("Listening query run over what was already collected"),
            "listening.query_updated": gettext_lazy("Listening query changed"),
            "listening.query_deleted": gettext_lazy("Listening query deleted"),
            "listening.source_created": gettext_lazy("Listening source added"),
            "listening.source_updated": gettext_lazy("Listening source changed"),
            "listening.source_deleted": gettext_lazy("Listening source removed"),
            "crisis.started": gettext_lazy("Crisis mode switched on"),
            "crisis.ended": gettext_lazy("Crisis mode switched off"),
            "crisis.step_done": gettext_lazy("Crisis step done"),
            "crisis.step_reopened": gettext_lazy("Crisis step reopened"),
            "crisis.playbook_updated": gettext_lazy("Crisis playbook changed"),
            "crisis.alert_raised": gettext_lazy("Crisis alert raised"),
            "crisis.alert_acknowledged": gettext_lazy("Crisis alert acknowledged"),
            "crisis.alert_dismissed": gettext_lazy("Crisis alert dismissed"),
            "crisis.alert_open": gettext_lazy("Crisis alert reopened"),
            "crisis.subscription_added": gettext_lazy("Alert recipient added"),
            "crisis.subscription_removed": gettext_lazy("Alert recipient removed"),
        },
        "targets": {
            "listening.listeningquery": gettext_lazy("Listening query"),
            "listening.listeningsource": gettext_lazy("Listening source"),
            "listening.crisismode": gettext_lazy("Crisis"),
            "listening.crisisalert": gettext_lazy("Crisis alert"),
            "listening.crisisplaybook": gettext_lazy("Crisis playbook"),
            "listening.alertsubscription": gettext_lazy("Alert recipient"),
        },
    }
