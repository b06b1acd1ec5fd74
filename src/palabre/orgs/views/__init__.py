"""Pages of the organisation: home, channels, members, audit log, API tokens.

Thin on purpose: each view reads through `queries`, changes through `services`, and renders.
Another organisation's objects answer 404; a page the role may not use answers 403.
"""

from __future__ import annotations

from palabre.orgs.views.account import home, language, no_organisation, switch_organisation
from palabre.orgs.views.audit import audit
from palabre.orgs.views.channels import (
    REFRESH_FIELDS,
    channel_approve,
    channel_create,
    channel_credentials,
    channel_edit,
    channels,
)
from palabre.orgs.views.members import (
    invitation,
    invitation_code,
    invitation_revoke,
    member_invite,
    member_remove,
    member_report,
    member_role,
    members,
    permission_matrix,
)
from palabre.orgs.views.pages import (
    ACTION_LABELS,
    AUDIT_SENTENCES,
    PANEL_ORDER,
    REACH_LABELS,
    TARGET_LABELS,
    DashboardPanel,
    action_labels,
    audit_sentence,
    audit_sentences,
    channel_health,
    channel_reach,
    dashboard_panels,
    member_view,
    no_store,
    paginate,
    safe_next,
    target_labels,
    wants_partial,
)
from palabre.orgs.views.tokens import token_create, token_revoke, tokens

__all__ = [
    "ACTION_LABELS",
    "AUDIT_SENTENCES",
    "DashboardPanel",
    "PANEL_ORDER",
    "REACH_LABELS",
    "REFRESH_FIELDS",
    "TARGET_LABELS",
    "audit",
    "audit_sentence",
    "channel_approve",
    "channel_create",
    "channel_credentials",
    "channel_edit",
    "channel_health",
    "channel_reach",
    "channels",
    "home",
    "invitation",
    "invitation_code",
    "invitation_revoke",
    "language",
    "member_invite",
    "member_remove",
    "member_report",
    "member_role",
    "member_view",
    "members",
    "no_organisation",
    "no_store",
    "paginate",
    "safe_next",
    "permission_matrix",
    "action_labels",
    "audit_sentences",
    "dashboard_panels",
    "target_labels",
    "switch_organisation",
    "token_create",
    "token_revoke",
    "tokens",
    "wants_partial",
]
