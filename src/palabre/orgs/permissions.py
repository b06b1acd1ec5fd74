"""The one permission matrix: the UI, the API and the tests all read it from here."""

from __future__ import annotations

from enum import StrEnum

from django.utils.translation import gettext_lazy as _


class Role(StrEnum):
    OWNER = "owner"
    ADMIN = "admin"
    COMMUNITY_MANAGER = "community_manager"
    MODERATOR = "moderator"
    CONTRIBUTOR = "contributor"
    ANALYST = "analyst"
    AGENCY_GUEST = "agency_guest"


ROLE_LABELS = {
    Role.OWNER: _("Owner"),
    Role.ADMIN: _("Administrator"),
    Role.COMMUNITY_MANAGER: _("Community manager"),
    Role.MODERATOR: _("Moderator"),
    Role.CONTRIBUTOR: _("Contributor"),
    Role.ANALYST: _("Analyst"),
    Role.AGENCY_GUEST: _("Agency guest"),
}


class Perm(StrEnum):
    ORG_MANAGE = "org.manage"
    MEMBERS_VIEW = "members.view"
    MEMBERS_MANAGE = "members.manage"
    OWNERS_MANAGE = "owners.manage"
    CHANNELS_VIEW = "channels.view"
    CHANNELS_MANAGE = "channels.manage"
    SPOKESPERSON_APPROVE = "spokesperson.approve"
    AUDIT_VIEW = "audit.view"
    TOKENS_MANAGE = "tokens.manage"
    ITEMS_VIEW = "items.view"
    ITEMS_INGEST = "items.ingest"
    CONTACTS_MANAGE = "contacts.manage"
    MODERATION_ACT = "moderation.act"
    MODERATION_RULES = "moderation.rules"
    INBOX_REPLY = "inbox.reply"
    INBOX_MANAGE = "inbox.manage"
    POSTS_DRAFT = "posts.draft"
    POSTS_APPROVE = "posts.approve"
    LISTENING_MANAGE = "listening.manage"
    ANALYTICS_VIEW = "analytics.view"
    PROGRAMMES_MANAGE = "programmes.manage"


PERM_LABELS = {
    Perm.ORG_MANAGE: _("Change the organisation's settings"),
    Perm.MEMBERS_VIEW: _("See the members"),
    Perm.MEMBERS_MANAGE: _("Add, change and remove members (not owners)"),
    Perm.OWNERS_MANAGE: _("Add and remove owners"),
    Perm.CHANNELS_VIEW: _("See the channels"),
    Perm.CHANNELS_MANAGE: _("Connect and change channels"),
    Perm.SPOKESPERSON_APPROVE: _("Approve a personal account as a spokesperson channel"),
    Perm.AUDIT_VIEW: _("Read the audit log"),
    Perm.TOKENS_MANAGE: _("Create and revoke API tokens"),
    Perm.ITEMS_VIEW: _("Read conversations"),
    Perm.ITEMS_INGEST: _("Import conversations"),
    Perm.CONTACTS_MANAGE: _("Merge and edit contacts"),
    Perm.MODERATION_ACT: _("Moderate (approve, hide, reject)"),
    Perm.MODERATION_RULES: _("Edit moderation rules"),
    Perm.INBOX_REPLY: _("Reply in the inbox"),
    Perm.INBOX_MANAGE: _("Manage saved replies and the knowledge base, hand threads to others"),
    Perm.POSTS_DRAFT: _("Draft posts"),
    Perm.POSTS_APPROVE: _("Approve and schedule posts"),
    Perm.LISTENING_MANAGE: _("Edit listening queries"),
    Perm.ANALYTICS_VIEW: _("See analytics and reports"),
    Perm.PROGRAMMES_MANAGE: _("Run contests and polls"),
}

_ALL = frozenset(Perm)

MATRIX: dict[Role, frozenset[Perm]] = {
    Role.OWNER: _ALL,
    Role.ADMIN: _ALL - {Perm.OWNERS_MANAGE, Perm.SPOKESPERSON_APPROVE},
    Role.COMMUNITY_MANAGER: frozenset(
        {
            Perm.MEMBERS_VIEW,
            Perm.CHANNELS_VIEW,
            Perm.CHANNELS_MANAGE,
            Perm.AUDIT_VIEW,
            Perm.ITEMS_VIEW,
            Perm.ITEMS_INGEST,
            Perm.CONTACTS_MANAGE,
            Perm.MODERATION_ACT,
            Perm.MODERATION_RULES,
            Perm.INBOX_REPLY,
            Perm.INBOX_MANAGE,
            Perm.POSTS_DRAFT,
            Perm.POSTS_APPROVE,
            Perm.LISTENING_MANAGE,
            Perm.ANALYTICS_VIEW,
            Perm.PROGRAMMES_MANAGE,
        }
    ),
    Role.MODERATOR: frozenset(
        {Perm.MEMBERS_VIEW, Perm.CHANNELS_VIEW, Perm.ITEMS_VIEW, Perm.MODERATION_ACT, Perm.INBOX_REPLY}
    ),
    Role.CONTRIBUTOR: frozenset({Perm.CHANNELS_VIEW, Perm.ITEMS_VIEW, Perm.POSTS_DRAFT}),
    Role.ANALYST: frozenset({Perm.CHANNELS_VIEW, Perm.ITEMS_VIEW, Perm.ANALYTICS_VIEW}),
    # An agency working for the brand: answers (with the team's library, on threads it takes itself)
    # and drafts; sees no members, no audit, no credentials; the library is the team's to manage.
    Role.AGENCY_GUEST: frozenset({Perm.CHANNELS_VIEW, Perm.ITEMS_VIEW, Perm.INBOX_REPLY, Perm.POSTS_DRAFT}),
}


def role_has(role: str, perm: Perm | str) -> bool:
    try:
        return Perm(perm) in MATRIX[Role(role)]
    except ValueError:
        return False


def roles_with(perm: Perm) -> list[Role]:
    return [role for role in Role if perm in MATRIX[role]]
