from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProgrammesConfig(AppConfig):
    name = "palabre.programmes"
    label = "programmes"
    verbose_name = _("Community programmes")

    def ready(self) -> None:
        from palabre.orgs.views import register_audit_labels

        register_audit_labels(
            actions={
                "programmes.contest_created": _("Contest created"),
                "programmes.entries_collected": _("Contest entries collected"),
                "programmes.entry_reviewed": _("Contest entry reviewed"),
                "programmes.contest_closed": _("Contest closed and its entries frozen"),
                "programmes.contest_drawn": _("Contest drawn: seed revealed, winners chosen"),
                "programmes.poll_created": _("Poll created"),
                "programmes.poll_counted": _("Poll counted"),
                "programmes.ideas_collected": _("Community ideas collected"),
                "programmes.idea_status": _("Idea status changed"),
                "programmes.idea_announced": _("Idea status announced to the people who asked"),
                "programmes.ambassador_joined": _("Ambassador joined"),
                "programmes.ambassador_left": _("Ambassador left"),
                "programmes.ambassador_shared": _("Ambassador shared a brand post"),
            },
            targets={
                "programmes.contest": _("Contest"),
                "programmes.contestentry": _("Contest entry"),
                "programmes.poll": _("Poll"),
                "programmes.idea": _("Idea"),
                "programmes.ambassador": _("Ambassador"),
                "programmes.ambassadorshare": _("Ambassador's share"),
            },
        )
