"""Crisis mode: switched on and off through the service, listeners called on commit, audited."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from palabre.listening import hooks
from palabre.listening.models import CrisisMode
from palabre.listening.services import (
    DEFAULT_PLAYBOOK,
    is_crisis_active,
    set_checklist_step,
    switch_crisis_mode,
    update_playbook,
)
from palabre.orgs.models import AuditEvent


@pytest.fixture
def heard():
    calls = []

    def listener(sender, *, organisation, active, actor, **kwargs):
        calls.append((organisation.pk, active, actor.label))

    hooks.crisis_mode_changed.connect(listener, dispatch_uid="test")
    yield calls
    hooks.crisis_mode_changed.disconnect(dispatch_uid="test")


def test_switching_on_and_off_calls_listeners_on_commit_and_is_audited(
    org, owner_actor, heard, django_capture_on_commit_callbacks
):
    assert not is_crisis_active(org)
    with django_capture_on_commit_callbacks(execute=True):
        crisis = switch_crisis_mode(actor=owner_actor, on=True, reason="Rappel produit")
    assert is_crisis_active(org)
    assert heard == [(org.pk, True, owner_actor.label)]
    assert [step["text"] for step in crisis.checklist] == DEFAULT_PLAYBOOK
    with django_capture_on_commit_callbacks(execute=True):
        again = switch_crisis_mode(actor=owner_actor, on=True)
    assert again.pk == crisis.pk and len(heard) == 1  # idempotent: no second call
    with django_capture_on_commit_callbacks(execute=True):
        switch_crisis_mode(actor=owner_actor, on=False)
    assert not is_crisis_active(org)
    assert heard[-1] == (org.pk, False, owner_actor.label)
    actions = list(AuditEvent.objects.filter(organisation=org).values_list("action", flat=True))
    assert "crisis.started" in actions and "crisis.ended" in actions


def test_listeners_are_not_called_when_the_transaction_rolls_back(org, owner_actor, heard):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        switch_crisis_mode(actor=owner_actor, on=True)
        raise RuntimeError("rolled back")
    assert heard == [] and not is_crisis_active(org)


def test_a_failing_listener_does_not_stop_the_others(
    org, owner_actor, heard, django_capture_on_commit_callbacks
):
    def broken(sender, **kwargs):
        raise ValueError("boom")

    hooks.crisis_mode_changed.connect(broken, dispatch_uid="broken")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            switch_crisis_mode(actor=owner_actor, on=True)
    finally:
        hooks.crisis_mode_changed.disconnect(dispatch_uid="broken")
    assert heard == [(org.pk, True, owner_actor.label)]


def test_roles_without_listening_manage_cannot_switch(org, make_member, actor_for):
    analyst = make_member(org, "analyst")
    with pytest.raises(PermissionDenied):
        switch_crisis_mode(actor=actor_for(analyst.user, org), on=True)
    assert not CrisisMode.objects.exists()


def test_crisis_mode_of_one_organisation_is_not_another_s(org, make_org, owner_of, actor_for, owner_actor):
    other = make_org("Autre Maison")
    switch_crisis_mode(actor=owner_actor, on=True)
    assert is_crisis_active(org) and not is_crisis_active(other)


def test_checklist_steps_and_custom_playbook_are_audited(org, owner_actor):
    update_playbook(actor=owner_actor, steps="Prévenir la direction\n\nSuspendre les jeux concours\n")
    crisis = switch_crisis_mode(actor=owner_actor, on=True)
    assert [s["text"] for s in crisis.checklist] == ["Prévenir la direction", "Suspendre les jeux concours"]
    crisis = set_checklist_step(actor=owner_actor, crisis=crisis, index=1, done=True)
    assert crisis.checklist[1]["done"] and crisis.checklist[1]["by"] == owner_actor.label
    actions = set(AuditEvent.objects.filter(organisation=org).values_list("action", flat=True))
    assert {"crisis.playbook_updated", "crisis.started", "crisis.step_done"} <= actions
