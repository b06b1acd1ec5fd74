"""Conversations' implementations of Palabre's hooks (palabre.hooks), registered in its AppConfig.ready()."""

from __future__ import annotations

from typing import Any

from palabre.hooks import Contribution, hookimpl


@hookimpl
def pipeline_stages() -> list[Any]:
    from palabre.conversations.pipeline import LANGUAGE_STAGE

    return [LANGUAGE_STAGE]


@hookimpl
def dashboard_panels() -> list[Contribution]:
    from palabre.conversations.views import dashboard_panel
    from palabre.orgs.views import PANEL_ORDER

    return [Contribution("conversations", PANEL_ORDER["conversations"], dashboard_panel)]
