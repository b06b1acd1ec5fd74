"""Analytics API: the figures of a period and of the one before, as the dashboard shows them."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from palabre.analytics import crisis, queries, report, services
from palabre.analytics.forms import MAX_DAYS
from palabre.analytics.metrics import Filters, Period, cached
from palabre.analytics.models import ReportRecipient
from palabre.orgs.models import Channel, Membership
from palabre.orgs.permissions import Perm
from palabre.publishing.models import Campaign
from palabre.storable import RowId

router = Router(tags=["analytics"])


class ReportQuery(Schema):
    # "from" is a Python word: the attribute has another name, the parameter keeps the URL's.
    first: date | None = Field(
        None, alias="from", description="first local day (the organisation's time zone)"
    )
    last: date | None = Field(None, alias="to", description="last local day, included")
    channel: RowId | None = None
    member: RowId | None = Field(None, description="a member's user id")
    campaign: RowId | None = Field(None, description="a campaign: its posts and the conversations under them")


def _period_and_filters(actor, query: ReportQuery) -> tuple[Period, Filters]:
    organisation = actor.organisation
    default = report.default_period(organisation)
    first = query.first or (
        query.last - timedelta(days=report.DEFAULT_DAYS - 1) if query.last else default.first
    )
    last = query.last or max(first, default.last)
    errors: dict[str, list[str]] = {}
    if last < first:
        errors["to"] = ["The end of the period comes before its start."]
    elif (last - first).days >= MAX_DAYS:
        errors["to"] = [f"Choose a period of at most {MAX_DAYS} days."]
    if (
        query.channel is not None
        and not Channel.objects.for_org(organisation).filter(pk=query.channel).exists()
    ):
        errors["channel"] = ["No such channel in this organisation."]
    if (
        query.member is not None
        and not Membership.objects.for_org(organisation).filter(user_id=query.member).exists()
    ):
        errors["member"] = ["No such member in this organisation."]
    if (
        query.campaign is not None
        and not Campaign.objects.for_org(organisation).filter(pk=query.campaign).exists()
    ):
        errors["campaign"] = ["No such campaign in this organisation."]
    if errors:
        raise ValidationError(errors)
    return Period(first, last, organisation.time_zone), Filters(
        channel_id=query.channel, member_id=query.member, campaign_id=query.campaign
    )


@router.get(
    "/analytics/report",
    response=dict[str, Any],
    summary="Care, conversation quality, community health, listening and team figures of a period",
)
def analytics_report(request, query: Query[ReportQuery]):
    actor = request.auth
    actor.require(Perm.ANALYTICS_VIEW)
    period, filters = _period_and_filters(actor, query)
    return _jsonable(
        report.name_members(cached.report(actor.organisation, period, filters, now=timezone.now()))
    )


@router.get(
    "/analytics/crises/{int:alert_id}",
    response=dict[str, Any],
    summary="The crisis timeline of one alert: first signal, alert, first answer, volume curve, posts held",
)
def crisis_timeline(request, alert_id: RowId):
    """Another organisation's alert, like one that does not exist, answers 404."""
    actor = request.auth
    actor.require(Perm.ANALYTICS_VIEW)
    return crisis.timeline_figures(crisis.crisis_timeline(actor.organisation, alert_id))


class RecipientIn(Schema):
    member: RowId | None = Field(None, description="a member's user id (their role must allow analytics)")
    email: str = Field(
        "",
        max_length=254,
        description="or an address outside the organisation (needs `org.manage`; removed when the "
        "person who added it leaves)",
    )
    language: str = Field(..., description="the language of the mails and reports: `fr` or `en`")
    weekly: bool = True
    monthly: bool = False


class RecipientOut(Schema):
    id: int
    member: int | None = Field(None, alias="user_id")
    email: str
    language: str
    weekly: bool
    monthly: bool
    added_by: str | None = Field(None, description="who added the recipient (their login)")

    @staticmethod
    def resolve_added_by(recipient: ReportRecipient) -> str | None:
        return recipient.created_by.get_username() if recipient.created_by_id else None


@router.get(
    "/analytics/report-recipients",
    response=list[RecipientOut],
    summary="Who receives the weekly and monthly report e-mails",
)
def report_recipients(request):
    return queries.report_recipients(request.auth)


@router.post(
    "/analytics/report-recipients",
    response={201: RecipientOut},
    summary="Send the report e-mails to a member who may see analytics, or to an address",
)
def add_report_recipient(request, payload: RecipientIn):
    recipient = services.add_recipient(
        actor=request.auth,
        member_id=payload.member,
        email=payload.email,
        language=payload.language,
        weekly=payload.weekly,
        monthly=payload.monthly,
    )
    return Status(201, recipient)


@router.delete("/analytics/report-recipients/{int:recipient_id}", response={204: None})
def remove_report_recipient(request, recipient_id: RowId):
    """Another organisation's recipient, like one that does not exist, answers 404."""
    actor = request.auth
    services.remove_recipient(actor=actor, recipient=queries.report_recipient(actor, recipient_id))
    return Status(204, None)


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if isinstance(value, date):
        return value.isoformat()
    return value
