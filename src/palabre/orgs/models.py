from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from palabre.orgs import crypto
from palabre.orgs.permissions import ROLE_LABELS, Perm, Role, role_has
from palabre.orgs.scoping import OrgScopedQuerySet


class Organisation(models.Model):
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("short name"), max_length=60, unique=True)
    language = models.CharField(_("main language"), max_length=8, default="fr")
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Paris")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")

    def __str__(self) -> str:
        return self.name


class MembershipQuerySet(OrgScopedQuerySet):
    def active(self) -> MembershipQuerySet:
        return self.filter(removed_at__isnull=True)


class Membership(models.Model):
    """A person's role in an organisation. Removal keeps the row, for the record."""

    ROLE_CHOICES = [(role.value, label) for role, label in ROLE_LABELS.items()]

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=32, choices=ROLE_CHOICES)
    signature = models.CharField(
        _("signature"), max_length=40, blank=True, help_text=_("Initials appended to your replies.")
    )
    created_at = models.DateTimeField(default=timezone.now)
    removed_at = models.DateTimeField(null=True, blank=True)
    removed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    offboarding_report = models.JSONField(default=dict, blank=True)

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["organisation", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "user"],
                condition=Q(removed_at__isnull=True),
                name="one_active_membership_per_org",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organisation} ({self.role})"

    @property
    def is_active(self) -> bool:
        return self.removed_at is None

    def can(self, perm: Perm | str) -> bool:
        return self.is_active and role_has(self.role, perm)

    @property
    def role_label(self) -> str:
        return str(ROLE_LABELS.get(Role(self.role), self.role))


class UserPreference(models.Model):
    """Per-person settings that follow them across organisations."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preference")
    language = models.CharField(max_length=8, blank=True)
    active_organisation = models.ForeignKey(Organisation, null=True, blank=True, on_delete=models.SET_NULL)

    def __str__(self) -> str:
        return f"preferences of {self.user}"


class Platform(models.TextChoices):
    SITE = "site", _("Site comments")
    RSS = "rss", _("RSS/Atom feed")
    EMAIL = "email", _("E-mail")
    MASTODON = "mastodon", "Mastodon"
    BLUESKY = "bluesky", "Bluesky"
    X = "x", "X (Twitter)"
    FACEBOOK = "facebook", _("Facebook page")
    INSTAGRAM = "instagram", "Instagram"
    YOUTUBE = "youtube", "YouTube"
    REDDIT = "reddit", "Reddit"
    DISCOURSE = "discourse", _("Discourse forum")
    DISCORD = "discord", "Discord"
    LINKEDIN = "linkedin", _("LinkedIn page")
    IRC = "irc", _("IRC channel")


class Channel(models.Model):
    """An account or space of the brand. It belongs to the organisation, never to a person."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        PAUSED = "paused", _("Paused")
        AWAITING_APPROVAL = "awaiting_approval", _("Awaiting the owner's approval")
        FAILING = "failing", _("Failing")
        ARCHIVED = "archived", _("Archived")

    class Kind(models.TextChoices):
        BRAND = "brand", _("Brand account")
        # The small-business exception: the founder is the brand's face.
        SPOKESPERSON = "spokesperson", _("Spokesperson (personal account)")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="channels")
    platform = models.CharField(_("platform"), max_length=32, choices=Platform.choices)
    handle = models.CharField(_("handle"), max_length=200)
    name = models.CharField(_("name"), max_length=200)
    status = models.CharField(_("status"), max_length=32, choices=Status.choices, default=Status.ACTIVE)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.BRAND)
    spokesperson = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    spokesperson_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    spokesperson_approved_at = models.DateTimeField(null=True, blank=True)
    credentials_ciphertext = models.TextField(blank=True, editable=False)
    credentials_updated_at = models.DateTimeField(null=True, blank=True)
    options = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        ordering = ["organisation", "platform", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "platform", "handle"], name="channel_handle_unique"
            ),
            models.CheckConstraint(
                condition=Q(kind="brand") | Q(spokesperson__isnull=False),
                name="spokesperson_channel_names_person",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_platform_display()})"

    @property
    def has_credentials(self) -> bool:
        return bool(self.credentials_ciphertext)

    def read_credentials(self) -> dict:
        """For connectors only; never rendered in the UI nor returned by the API."""
        return crypto.decrypt_json(self.credentials_ciphertext)

    @property
    def can_publish(self) -> bool:
        if self.status != self.Status.ACTIVE:
            return False
        return self.kind == self.Kind.BRAND or self.spokesperson_approved_at is not None


class ApiToken(models.Model):
    """An organisation's machine credential. Only a hash is stored; the token is shown once."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=200)
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    scopes = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="api_tokens"
    )
    # The person the token acts for: its creator, or the person behind the token that created it.
    # Each use is capped by this person's current role; empty only for Palabre's own tokens. The
    # token goes with the person's account, so it can never outlive them uncapped.
    on_behalf_of = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_usable(self) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > timezone.now()


class Invitation(models.Model):
    """An invitation to join an organisation: a single-use code, sent by e-mail or handed over.

    Only a hash of the code is kept. The person becomes a member when they accept it, signed in.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        REVOKED = "revoked", _("Revoked")
        EXPIRED = "expired", _("Expired")

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("e-mail"))
    role = models.CharField(_("role"), max_length=32, choices=Membership.ROLE_CHOICES)
    code_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    mailed = models.BooleanField(default=False)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    objects = OrgScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"invitation of {self.email} to {self.organisation} ({self.role})"

    @property
    def status(self) -> str:
        if self.accepted_at is not None:
            return self.Status.ACCEPTED
        if self.revoked_at is not None:
            return self.Status.REVOKED
        if self.expires_at <= timezone.now():
            return self.Status.EXPIRED
        return self.Status.PENDING

    @property
    def status_label(self) -> str:
        return str(self.Status(self.status).label)

    @property
    def role_label(self) -> str:
        return str(ROLE_LABELS.get(Role(self.role), self.role))


class AuditQuerySet(OrgScopedQuerySet):
    def update(self, **kwargs):
        raise PermissionError("The audit log is append-only.")

    def delete(self):
        raise PermissionError("The audit log is append-only.")


class AuditEvent(models.Model):
    """One change: who, what, when, before and after. Append-only."""

    organisation = models.ForeignKey(
        Organisation, null=True, blank=True, on_delete=models.PROTECT, related_name="audit_events"
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    actor_token = models.ForeignKey(ApiToken, null=True, blank=True, on_delete=models.SET_NULL)
    # Kept as text so the record still names the person once their account is gone.
    actor_label = models.CharField(max_length=200)
    action = models.CharField(max_length=64, db_index=True)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=300, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["organisation", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.target_label}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("The audit log is append-only.")


class LoginSession(models.Model):
    """Which sessions belong to whom, so offboarding can end them at once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    session_key = models.CharField(max_length=40, db_index=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"session of {self.user}"
