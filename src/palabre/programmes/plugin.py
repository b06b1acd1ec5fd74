"""Community programmes' implementations of Palabre's hooks (palabre.hooks), registered in their AppConfig.ready()."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy

from palabre.hooks import hookimpl


@hookimpl
def audit_labels() -> dict[str, dict[str, Any]]:
    return {
        "actions": {
            "programmes.contest_created": gettext_lazy("Contest created"),
            "programmes.entries_collected": gettext_lazy("Contest entries collected"),
            "programmes.entry_reviewed": gettext_lazy("Contest entry reviewed"),
            "programmes.contest_closed": gettext_lazy("Contest closed and its entries frozen"),
            "programmes.contest_drawn": gettext_lazy("Contest drawn: seed revealed, winners chosen"),
            "programmes.poll_created": gettext_lazy("Poll created"),
            "programmes.poll_counted": gettext_lazy("Poll counted"),
            "programmes.ideas_collected": gettext_lazy("Community ideas collected"),
            "programmes.idea_status": gettext_lazy("Idea status changed"),
            "programmes.idea_announced": gettext_lazy("Idea status announced to the people who asked"),
            "programmes.ambassador_joined": gettext_lazy("Ambassador joined"),
            "programmes.ambassador_left": gettext_lazy("Ambassador left"),
            "programmes.ambassador_shared": gettext_lazy("Ambassador shared a brand post"),
        },
        "targets": {
            "programmes.contest": gettext_lazy("Contest"),
            "programmes.contestentry": gettext_lazy("Contest entry"),
            "programmes.poll": gettext_lazy("Poll"),
            "programmes.idea": gettext_lazy("Idea"),
            "programmes.ambassador": gettext_lazy("Ambassador"),
            "programmes.ambassadorshare": gettext_lazy("Ambassador's share"),
        },
    }
