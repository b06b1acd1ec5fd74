"""People's corrections of the analysis of a text (sentiment, intent): record, read, and hand them
to `palabre train --include-feedback`.

The inbox (items) and listening (mentions) call `record_correction` with their own subject; what a
correction changes downstream (a thread's priority, a mention's tone) is theirs to do.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from palabre import bulk
from palabre.conversations.models import CorrectedField, Correction
from palabre.nlp.classifiers import SENTIMENTS
from palabre.nlp.intent import INTENTS
from palabre.orgs.models import Organisation
from palabre.orgs.permissions import Perm
from palabre.orgs.services import Actor, NotInOrganisation, record

VALUES: dict[str, tuple[str, ...]] = {
    CorrectedField.SENTIMENT: SENTIMENTS,
    CorrectedField.INTENT: INTENTS,
}

LABELS = {
    "positive": gettext_lazy("Positive"),
    "neutral": gettext_lazy("Neutral"),
    "negative": gettext_lazy("Negative"),
    "question": gettext_lazy("Question"),
    "complaint": gettext_lazy("Complaint"),
    "praise": gettext_lazy("Praise"),
    "lead": gettext_lazy("Lead"),
    "crisis": gettext_lazy("Crisis"),
    "other": gettext_lazy("Other"),
}


def choices(field: str) -> list[tuple[str, str]]:
    return [(value, str(LABELS[value])) for value in VALUES[field]]


@dataclass(frozen=True)
class Shown:
    """What a page shows for one field of one subject: the value, and who corrected it (if anyone)."""

    value: str
    detected: str
    correction: Correction | None = None

    @property
    def corrected(self) -> bool:
        return self.correction is not None

    @property
    def label(self) -> str:
        return str(LABELS.get(self.value, self.value))

    @property
    def detected_label(self) -> str:
        return str(LABELS.get(self.detected, self.detected or "?"))


def clean(field: str, value: str) -> tuple[str, str]:
    """The field and value, or a ValidationError naming the wrong one."""
    field, value = (field or "").strip(), (value or "").strip()
    if field not in VALUES:
        raise ValidationError({"field": _("Choose sentiment or intent.")})
    if value not in VALUES[field]:
        raise ValidationError(
            {"value": _("Choose one of: %(values)s.") % {"values": ", ".join(VALUES[field])}}
        )
    return field, value


def apply_posted(posted, shown, correct) -> tuple[int, list[str]]:
    """Record, through `correct(field, value)`, each field of a posted form whose value differs
    from what the page showed (`shown.sentiment`, `shown.intent`): how many changed, and the
    errors in words."""
    changed, errors = 0, []
    for field, current in (("sentiment", shown.sentiment), ("intent", shown.intent)):
        value = posted.get(field)
        if value is None or value == current.value:
            continue
        try:
            correct(field, value)
            changed += 1
        except ValidationError as failure:
            errors += failure.messages
    return changed, errors


def record_correction(
    *,
    actor: Actor,
    subject: models.Model,
    field: str,
    value: str,
    previous: str,
    text: str,
    language: str,
) -> Correction:
    """Store a person's correction of ``field`` on ``subject`` (an item or a mention of the actor's
    organisation), with the value shown before, and audit it."""
    actor.require(Perm.MODERATION_ACT)
    if getattr(subject, "organisation_id", None) != actor.organisation.pk:
        raise NotInOrganisation
    field, value = clean(field, value)
    correction = Correction.objects.create(
        organisation=actor.organisation,
        content_type=ContentType.objects.get_for_model(subject),
        object_id=subject.pk,
        field=field,
        old_value=previous or "",
        new_value=value,
        text=text,
        language=(language or "")[:8],
        corrected_by=actor.user,
        corrected_by_label=actor.label[:200],
    )
    record(
        actor,
        f"{field}.corrected",
        subject,
        before={field: previous or ""},
        after={field: value, "correction": correction.pk},
        # Not the text: the log outlives the message, the copy of its text must not.
        label=f"{subject._meta.model_name} {subject.pk}",
    )
    return correction


def correct(
    *,
    actor: Actor,
    subject: models.Model,
    field: str,
    value: str,
    triage_of: Callable[[list], list],
    then: Callable[[str, str], None] | None = None,
) -> Correction:
    """A person's correction of a message's or mention's sentiment or intent: recorded with the
    value shown before it (``triage_of([subject])`` tells what is shown), and ``then(field, value)``
    run in the same transaction (the inbox recomputes the thread, listening keeps the sentiment)."""
    field, value = clean(field, value)
    [current] = triage_of([subject])
    previous = current.sentiment.value if field == "sentiment" else current.intent.value
    with transaction.atomic():
        correction = record_correction(
            actor=actor,
            subject=subject,
            field=field,
            value=value,
            previous=previous,
            text=subject.text,
            language=subject.language,
        )
        if then is not None:
            then(field, value)
    return correction


# The pipeline's inbox stage reads them for every batch: compiled once (palabre.bulk.Prepared).
_latest_rows = bulk.Prepared(
    lambda content_type_id, object_ids: (
        Correction.objects.filter(content_type_id=content_type_id, object_id__any=object_ids)
        .select_related("corrected_by")
        .order_by("object_id", "field", "-corrected_at", "-id")
    )
)


def latest(subjects: list[models.Model]) -> dict[tuple[int, str], Correction]:
    """The latest correction of each field of each subject (all of one model), by (pk, field)."""
    if not subjects:
        return {}
    content_type = ContentType.objects.get_for_model(subjects[0])
    rows = _latest_rows(content_type.pk, [s.pk for s in subjects])
    found: dict[tuple[int, str], Correction] = {}
    for row in rows:
        key = (row.object_id, row.field)
        found.setdefault(key, row)
        # What the analysis first said: the value the earliest correction replaced.
        found[key].first_old_value = row.old_value
    return found


def history(subject: models.Model) -> list[Correction]:
    """Every correction of one subject, newest first."""
    return list(
        Correction.objects.filter(
            content_type=ContentType.objects.get_for_model(subject), object_id=subject.pk
        ).select_related("corrected_by")
    )


def shown(
    found: dict[tuple[int, str], Correction], subject_id: int, field: str, detected: str | None = None
) -> Shown:
    """The value to show: the latest correction's, else ``detected``. When the subject stores the
    corrected value itself (``detected`` None), what was detected is what the first correction replaced."""
    correction = found.get((subject_id, field))
    if detected is None:
        detected = getattr(correction, "first_old_value", "") if correction else ""
    return Shown(correction.new_value if correction else detected, detected, correction)


def as_dict(correction: Correction) -> dict[str, Any]:
    return {
        "id": correction.pk,
        "field": correction.field,
        "old_value": correction.old_value,
        "new_value": correction.new_value,
        "language": correction.language,
        "corrected_by": correction.corrected_by_label,
        "corrected_at": correction.corrected_at,
    }


def for_training(*, organisation: Organisation | None = None) -> list[dict[str, str]]:
    """The latest correction of each field of each subject (a later one replaces an earlier one),
    for `palabre train --include-feedback`: text, language, field, label and the value it replaced."""
    rows = Correction.objects.all()
    if organisation is not None:
        rows = rows.for_org(organisation)
    newest = Correction.objects.filter(
        content_type=OuterRef("content_type"), object_id=OuterRef("object_id"), field=OuterRef("field")
    ).order_by("-corrected_at", "-id")
    rows = rows.filter(pk=Subquery(newest.values("pk")[:1])).order_by("pk")
    return [
        {
            "text": r.text,
            "language": r.language,
            "field": r.field,
            "label": r.new_value,
            "previous": r.old_value,
        }
        for r in rows.only("text", "language", "field", "new_value", "old_value")
        if r.text.strip()
    ]
