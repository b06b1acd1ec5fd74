"""Every state change of organisations, members, channels and tokens: checks, write, audit entry.

Views and API handlers call these functions; they never write the models themselves.
"""

from __future__ import annotations

from palabre.orgs.services.actors import Actor, NotInOrganisation
from palabre.orgs.services.audit import record, snapshot
from palabre.orgs.services.channels import (
    CHANNEL_FIELDS,
    approve_spokesperson_channel,
    check_connection,
    create_channel,
    rotate_credential_keys,
    set_channel_credentials,
    update_channel,
)
from palabre.orgs.services.invitations import (
    INVITATION_LIFETIME,
    INVITATION_PREFIX,
    InvitationIssued,
    accept_invitation,
    find_invitation,
    invitation_path,
    invite_member,
    join_with_new_account,
    revoke_invitation,
)
from palabre.orgs.services.members import (
    access_report,
    add_member,
    change_role,
    create_organisation,
    memberships_of,
    offboard_member,
    revoke_sessions,
    set_active_organisation,
    set_language,
)
from palabre.orgs.services.tokens import TOKEN_PREFIX, authenticate_token, create_api_token, revoke_api_token

__all__ = [
    "Actor",
    "CHANNEL_FIELDS",
    "INVITATION_LIFETIME",
    "INVITATION_PREFIX",
    "InvitationIssued",
    "NotInOrganisation",
    "TOKEN_PREFIX",
    "accept_invitation",
    "access_report",
    "add_member",
    "approve_spokesperson_channel",
    "authenticate_token",
    "change_role",
    "check_connection",
    "create_api_token",
    "create_channel",
    "create_organisation",
    "find_invitation",
    "invitation_path",
    "invite_member",
    "join_with_new_account",
    "memberships_of",
    "offboard_member",
    "record",
    "revoke_api_token",
    "revoke_invitation",
    "revoke_sessions",
    "rotate_credential_keys",
    "set_active_organisation",
    "set_channel_credentials",
    "set_language",
    "snapshot",
    "update_channel",
]
