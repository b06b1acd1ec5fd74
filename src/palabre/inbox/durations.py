"""Analytics' business durations stored on the threads' rows, counted again for a whole
organisation: when its business hours or holidays change (a task enqueued by the settings' update)
and in the migration that added them (which passes its historical models).

A row's durations follow its moments (`Conversation.keep_durations`, called wherever the inbox
writes them); this counts them for the rows whose calendar (`hours_key`) is not the organisation's
current one, in chunks, each chunk's rows locked while they are counted and written.
"""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction
from django.db.models import Q

from palabre.inbox.hours import DEFAULT_WEEK, BusinessHours

CHUNK = 5000


def organisation_hours(settings_rows: Any, organisation_model: Any, organisation_id: int) -> BusinessHours:
    """The calendar analytics counts the organisation's business time with (`business_hours` of
    its inbox settings, `settings_rows` being the organisation's settings rows; without them, the
    defaults `settings_for` would create: its time zone, Monday to Friday 9:00 to 18:00), read now,
    with the model given (the migration's is historical)."""
    row = settings_rows.values_list("time_zone", "weekly_hours", "holidays").first()
    if row is not None:
        return BusinessHours.of(*row)
    zone = organisation_model.objects.filter(pk=organisation_id).values_list("time_zone", flat=True).first()
    return BusinessHours.of(zone or "UTC", DEFAULT_WEEK, [])


def recount(conversations: Any, hours: BusinessHours) -> int:
    """Count the stored durations of `conversations` (one organisation's thread rows) not counted
    with `hours`; returns how many rows were written."""
    conversation_model = conversations.model
    table = connection.ops.quote_name(conversation_model._meta.db_table)
    stale = conversations.filter(Q(hours_key__isnull=True) | ~Q(hours_key=hours.key)).order_by("pk")
    written, after = 0, 0
    while True:
        with transaction.atomic():
            ids = list(stale.filter(pk__gt=after).values_list("pk", flat=True)[:CHUNK])
            if not ids:
                return written
            after = ids[-1]
            rows = list(
                conversation_model.objects.select_for_update()
                .filter(pk__in=ids)
                .values_list("pk", "began_at", "first_responded_at", "status_changed_at")
            )
            values = []
            for pk, began, first, changed in rows:
                values.append(
                    (
                        hours.business_seconds(began, first) if began and first else None,
                        hours.business_seconds(began, changed) if began and changed else None,
                        hours.closed_at(first) if first else None,
                        pk,
                    )
                )
            _write(table, values, hours.key)
            written += len(values)


def recount_organisation(organisation_id: int) -> int:
    """`recount` with the organisation's current hours (the task after a change of hours)."""
    from palabre.inbox.models import Conversation, InboxSettings
    from palabre.orgs.models import Organisation

    hours = organisation_hours(InboxSettings.objects.for_org(organisation_id), Organisation, organisation_id)
    return recount(Conversation.objects.for_org(organisation_id), hours)


def _write(table: str, values: list[tuple], key: int) -> None:
    columns = "business_to_first_response, business_to_status_change, first_response_out_of_hours"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            first, changed, shut, ids = (list(column) for column in zip(*values, strict=True))
            cursor.execute(
                f"UPDATE {table} AS c SET ({columns}, hours_key) = (v.f, v.c, v.s, %s) "
                "FROM unnest(%s::float8[], %s::float8[], %s::boolean[], %s::bigint[]) AS v(f, c, s, id) "
                "WHERE c.id = v.id",
                [key, first, changed, shut, ids],
            )
        else:
            cursor.executemany(
                f"UPDATE {table} SET business_to_first_response = %s, business_to_status_change = %s, "
                "first_response_out_of_hours = %s, hours_key = %s WHERE id = %s",
                [(first, changed, shut, key, pk) for first, changed, shut, pk in values],
            )
