"""Crisis mode: switching it on and off, its playbook and checklist."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from palabre.listening import hooks
from palabre.listening.models import (
    CrisisAlert,
    CrisisMode,
    CrisisPlaybook,
)
from palabre.listening.services.scope import _require_same_organisation
from palabre.orgs.models import Organisation
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, record

# Stored as English source text and translated when shown, so each reader sees their language.
DEFAULT_PLAYBOOK = [
    gettext_noop(
        "Scheduled promotional posts are paused (crisis mode does it); check nothing else goes out."
    ),
    gettext_noop("Name one person in charge and tell the team who answers, on which channels."),
    gettext_noop("Read the driving messages and check the facts with the teams concerned."),
    gettext_noop("Publish a first holding answer, signed by a person, within the hour."),
    gettext_noop("Answer people one by one, personally, never by pasting the official statement."),
    gettext_noop("Brief customer service and everyone who speaks for the brand."),
    gettext_noop("Follow the volume and the negative share until they are back to normal."),
    gettext_noop("Close the crisis and write down what was learned."),
]


def current_crisis(organisation: Organisation) -> CrisisMode | None:
    return CrisisMode.objects.for_org(organisation).filter(ended_at__isnull=True).first()


def is_crisis_active(organisation: Organisation) -> bool:
    """Whether crisis mode is on for the organisation (publishing asks before each promotional post)."""
    return CrisisMode.objects.for_org(organisation).filter(ended_at__isnull=True).exists()


def playbook_steps(organisation: Organisation) -> list[dict[str, Any]]:
    """The checklist a new crisis starts with: the organisation's own, else the default one."""
    playbook = CrisisPlaybook.objects.for_org(organisation).first()
    if playbook is not None and playbook.step_list():
        return [{"text": text, "default": False, "done": False} for text in playbook.step_list()]
    return [{"text": text, "default": True, "done": False} for text in DEFAULT_PLAYBOOK]


def switch_crisis_mode(
    *, actor: Actor, on: bool, reason: str = "", alert: CrisisAlert | None = None
) -> CrisisMode | None:
    """Switch crisis mode on (from an alert or by hand) or off. Returns the crisis episode.

    Idempotent: switching on while on (or off while off) changes nothing and calls no listener.
    Registered crisis listeners (publishing pauses promotional posts) run once this commits.
    """
    actor.require(Perm.LISTENING_MANAGE)
    if alert is not None:
        _require_same_organisation(actor, alert.organisation_id)
    reason = (reason or "").strip()[:2000]
    with transaction.atomic():
        # Serialises concurrent switches of one organisation (PostgreSQL; SQLite locks the database).
        Organisation.objects.select_for_update().filter(pk=actor.organisation.pk).first()
        crisis = current_crisis(actor.organisation)
        if on:
            if crisis is not None:
                return crisis
            if not reason and alert is not None:
                reason = str(alert)
            try:
                with transaction.atomic():
                    crisis = CrisisMode.objects.create(
                        organisation=actor.organisation,
                        alert=alert,
                        reason=reason,
                        started_by=actor.label,
                        checklist=playbook_steps(actor.organisation),
                    )
            except IntegrityError:  # switched on concurrently
                return current_crisis(actor.organisation)
            if alert is not None and alert.status == CrisisAlert.Status.OPEN:
                alert.status = CrisisAlert.Status.ACKNOWLEDGED
                alert.save(update_fields=["status"])
            record(
                actor,
                "crisis.started",
                crisis,
                after={"reason": reason, "alert": alert.pk if alert else None},
            )
        else:
            if crisis is None:
                return None
            crisis.ended_at = timezone.now()
            crisis.ended_by = actor.label
            crisis.save(update_fields=["ended_at", "ended_by"])
            record(actor, "crisis.ended", crisis, after={"reason": reason} if reason else None)
        organisation = actor.organisation
        transaction.on_commit(lambda: hooks.notify_crisis_listeners(organisation, active=on, actor=actor))
        return crisis


def set_checklist_step(*, actor: Actor, crisis: CrisisMode, index: int, done: bool) -> CrisisMode:
    actor.require(Perm.LISTENING_MANAGE)
    _require_same_organisation(actor, crisis.organisation_id)
    with transaction.atomic():
        crisis = CrisisMode.objects.select_for_update().get(pk=crisis.pk)
        if not 0 <= index < len(crisis.checklist):
            raise ValidationError({"step": _("This step is not in the checklist.")})
        step = crisis.checklist[index]
        if bool(step.get("done")) == done:
            return crisis
        step.update(done=done, by=actor.label if done else "", at=timezone.now().isoformat() if done else "")
        crisis.save(update_fields=["checklist"])
        record(
            actor,
            "crisis.step_done" if done else "crisis.step_reopened",
            crisis,
            after={"step": index + 1, "text": step["text"]},
        )
    return crisis


def update_playbook(*, actor: Actor, steps: str) -> CrisisPlaybook:
    """The organisation's own checklist, one step a line (empty: back to the default one)."""
    actor.require(Perm.LISTENING_MANAGE)
    lines = [line.strip() for line in (steps or "").splitlines() if line.strip()]
    if len(lines) > 40:
        raise ValidationError({"steps": _("A playbook has at most 40 steps.")})
    if any(len(line) > 500 for line in lines):
        raise ValidationError({"steps": _("A step has at most 500 characters.")})
    with transaction.atomic():
        playbook, _created = CrisisPlaybook.objects.get_or_create(organisation=actor.organisation)
        before = {"steps": playbook.step_list()}
        playbook.steps = "\n".join(lines)
        playbook.updated_at = timezone.now()
        playbook.save()
        record(actor, "crisis.playbook_updated", playbook, before=before, after={"steps": lines})
    return playbook
