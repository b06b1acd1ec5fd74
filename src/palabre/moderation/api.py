"""Moderation API: check a text, review items, the queue, rules (with simulation) and thresholds."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from ninja import Field, Query, Router, Schema, Status
from pydantic import WithJsonSchema

from palabre.moderation import services
from palabre.moderation.models import ModerationRule, ModerationSite, ModerationStatus, ToxicAnswer
from palabre.orgs.permissions import Perm
from palabre.storable import RowId

router = Router(tags=["moderation"])

# The enum's own name, "Kind", is also the campaigns' kind: the schema names this one in full.
RuleKind = Annotated[
    ModerationRule.Kind,
    WithJsonSchema({"title": "RuleKind", "type": "string", "enum": list(ModerationRule.Kind.values)}),
]


class ModerationCheckIn(Schema):
    text: str = Field(..., max_length=100_000)
    lang: str | None = Field(None, max_length=8)
    author: str = Field("", max_length=300, description="The commenter's name as they typed it")
    author_url: str = Field("", max_length=1000)
    author_email: str = Field("", max_length=254)
    author_ip: str = Field("", max_length=64)


class ReasonOut(Schema):
    code: str
    action: str
    message: str
    params: dict[str, Any]
    rule: str | None = None


class SpanOut(Schema):
    start: int
    end: int
    label: str
    source: str


class DecisionOut(Schema):
    action: str
    scores: dict[str, float]
    language: str | None
    reasons: list[ReasonOut]
    rules_fired: list[str]
    spans: list[SpanOut]
    model_version: str


class ReviewIn(Schema):
    action: str = Field(..., description="approve, reject, spam, ham or restore")
    note: str = Field("", max_length=500)


class ReviewOut(Schema):
    id: int = Field(..., description="The decision's id: POST it to .../undo to take the decision back")
    item_id: int
    action: str
    status: str = Field(..., alias="status_after")
    decided_by: str | None
    created_at: datetime
    undoes: int | None = Field(None, alias="undoes_id", description="For an undo: the decision taken back")
    cannot_undo: list[str] = Field(
        default_factory=list, description="What an undo does not take back (a site already answered)"
    )

    @staticmethod
    def resolve_decided_by(decision) -> str | None:
        return decision.decided_by.get_username() if decision.decided_by_id else None

    @staticmethod
    def resolve_cannot_undo(decision) -> list[str]:
        return services.undo_limits(decision.item)


class UndoIn(Schema):
    decision_id: RowId | None = Field(
        None, description="The decision to take back; refused (422) when another came since"
    )


class QueueEntry(Schema):
    item_id: int
    status: str
    is_spam: bool
    reports: int
    text: str
    channel: str
    author: str | None
    reasons: list[dict[str, Any]]
    scores: dict[str, float]
    updated_at: datetime

    @staticmethod
    def resolve_text(state) -> str:
        return state.item.text

    @staticmethod
    def resolve_channel(state) -> str:
        return state.item.channel.name

    @staticmethod
    def resolve_author(state) -> str | None:
        return state.item.author.handle if state.item.author_id else None

    @staticmethod
    def resolve_reasons(state) -> list:
        return state.last_decision.reasons if state.last_decision else []

    @staticmethod
    def resolve_scores(state) -> dict:
        return state.last_decision.scores if state.last_decision else {}


class RuleIn(Schema):
    kind: RuleKind
    pattern: str = Field(..., min_length=1, max_length=500)
    action: ModerationRule.Action = ModerationRule.Action.HOLD
    note: str = Field("", max_length=300)
    enabled: bool = Field(
        False,
        description="False (default): the rule is created in simulation and decides nothing until "
        "enabled (PATCH enabled: true), after POST /moderation/rules/simulate",
    )
    exact_match: bool = Field(
        False, description="Word rules: match the word as written only, not its plurals and inflections"
    )


class RulePatch(Schema):
    pattern: str | None = Field(None, min_length=1, max_length=500)
    action: ModerationRule.Action | None = None
    note: str | None = Field(None, max_length=300)
    enabled: bool | None = None
    exact_match: bool | None = None


class RuleOut(Schema):
    id: int
    kind: str
    pattern: str
    action: str
    note: str
    enabled: bool
    exact_match: bool
    state: str = Field(..., description="simulating (never enabled), enabled or disabled")
    enabled_at: datetime | None
    created_at: datetime


class SimulationIn(Schema):
    kind: RuleKind
    pattern: str = Field(..., min_length=1, max_length=500)
    action: ModerationRule.Action = ModerationRule.Action.HOLD
    days: int = Field(30, ge=1, le=90)
    exact_match: bool = False


class ModerationPolicyIn(Schema):
    hold_thresholds: dict[str, float] | None = None
    reject_thresholds: dict[str, float] | None = None
    max_links: int | None = Field(None, ge=0, le=100)
    first_time_hold_until: int | None = Field(None, ge=0, le=100)
    rate_limit_per_hour: int | None = Field(None, ge=0, le=10_000)
    # Outside the inbox's business hours: hold thresholds lowered by off_hours_tightening (0 to 0.5).
    off_hours_enabled: bool | None = None
    off_hours_tightening: float | None = None
    off_hours_hold_first_messages: bool | None = None


class ModerationPolicyOut(Schema):
    hold_thresholds: dict[str, float]
    reject_thresholds: dict[str, float]
    learned_offsets: dict[str, float]
    max_links: int
    first_time_hold_until: int
    rate_limit_per_hour: int
    off_hours_enabled: bool
    off_hours_tightening: float
    off_hours_hold_first_messages: bool


def _policy_out(policy) -> dict:
    thresholds = policy.thresholds()
    return {
        "hold_thresholds": thresholds.hold,
        "reject_thresholds": thresholds.reject,
        "learned_offsets": policy.learned_offsets,
        "max_links": policy.max_links,
        "first_time_hold_until": policy.first_time_hold_until,
        "rate_limit_per_hour": policy.rate_limit_per_hour,
        "off_hours_enabled": policy.off_hours_enabled,
        "off_hours_tightening": policy.off_hours_tightening,
        "off_hours_hold_first_messages": policy.off_hours_hold_first_messages,
    }


@router.post("/moderation/check", response=DecisionOut, summary="Moderate a text (nothing is stored)")
def check(request, payload: ModerationCheckIn):
    decision = services.check_text(
        actor=request.auth,
        text=payload.text,
        lang=payload.lang,
        author={
            "name": payload.author,
            "url": payload.author_url,
            "email": payload.author_email,
            "ip": payload.author_ip,
        },
    )
    return decision.as_dict()


@router.get("/moderation/queue", response=list[QueueEntry])
def queue(
    request,
    status: ModerationStatus = ModerationStatus.HELD,
    limit: int = Query(50, ge=1, le=200),
    channel: RowId | None = None,
    reason: str = Query("", max_length=80, description="rule:<id>, or a reason code such as score_toxicity"),
):
    return services.queue(actor=request.auth, status=status, channel=channel, reason=reason)[:limit]


@router.post("/moderation/items/{int:item_id}/review", response=ReviewOut)
def review(request, item_id: RowId, payload: ReviewIn):
    return services.review_item(actor=request.auth, item_id=item_id, action=payload.action, note=payload.note)


@router.post(
    "/moderation/items/{int:item_id}/undo",
    response=ReviewOut,
    summary="Take back the latest moderator's decision on an item",
)
def undo(request, item_id: RowId, payload: UndoIn | None = None):
    return services.undo_review(
        actor=request.auth, item_id=item_id, decision_id=payload.decision_id if payload else None
    )


@router.post("/moderation/items/{int:item_id}/report", response={202: None})
def report(request, item_id: RowId):
    services.report_item(actor=request.auth, item_id=item_id)
    return Status(202, None)


@router.get("/moderation/rules", response=list[RuleOut])
def list_rules(request):
    actor = request.auth
    actor.require(Perm.MODERATION_ACT)
    return ModerationRule.objects.visible_to(actor)


@router.post("/moderation/rules", response={201: RuleOut})
def create_rule(request, payload: RuleIn):
    return Status(201, services.create_rule(actor=request.auth, **payload.dict()))


@router.patch("/moderation/rules/{int:rule_id}", response=RuleOut)
def update_rule(request, rule_id: RowId, payload: RulePatch):
    actor = request.auth
    rule = ModerationRule.objects.visible_to(actor).get(pk=rule_id)
    return services.update_rule(actor=actor, rule=rule, **payload.dict(exclude_none=True))


@router.delete("/moderation/rules/{int:rule_id}", response={204: None})
def delete_rule(request, rule_id: RowId):
    actor = request.auth
    services.delete_rule(actor=actor, rule=ModerationRule.objects.visible_to(actor).get(pk=rule_id))
    return Status(204, None)


@router.post(
    "/moderation/rules/simulate", response=dict[str, Any], summary="What a rule would change on the last days"
)
def simulate(request, payload: SimulationIn):
    return services.simulate_rule(actor=request.auth, **payload.dict())


class SiteOut(Schema):
    id: int
    name: str
    url: str
    allowed_origins: list[str] = Field(
        ...,
        description="The site's other addresses (origins): their pages may embed the comment form, "
        "and the Akismet API accepts them as the blog of the site's key",
    )
    toxic_answer: str = Field(
        ..., description="What comment-check answers for a toxic comment that is not spam: hold or spam"
    )
    key_hint: str = Field(..., alias="api_key_hint", description="The last characters of the site's key")
    created_at: datetime
    revoked_at: datetime | None


class SitePatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    allowed_origins: list[Annotated[str, Field(max_length=500)]] | None = Field(
        None,
        max_length=100,
        description="The site's other addresses, each https://host[:port]: they may embed the comment "
        "form, and the Akismet API accepts them as blog",
    )
    toxic_answer: ToxicAnswer | None = Field(
        None,
        description="hold: hold it in Palabre, answer false with X-Palabre-Held: toxic (default); "
        "spam: answer true",
    )


@router.get("/moderation/sites", response=list[SiteOut], summary="Sites that use the Akismet-compatible API")
def list_sites(request):
    actor = request.auth
    actor.require(Perm.MODERATION_RULES)
    return ModerationSite.objects.visible_to(actor)


@router.patch("/moderation/sites/{int:site_id}", response=SiteOut)
def update_site(request, site_id: RowId, payload: SitePatch):
    actor = request.auth
    actor.require(Perm.MODERATION_RULES)
    site = ModerationSite.objects.visible_to(actor).get(pk=site_id)
    return services.update_moderation_site(
        actor=actor,
        site=site,
        name=site.name if payload.name is None else payload.name,
        allowed_origins=site.allowed_origins if payload.allowed_origins is None else payload.allowed_origins,
        toxic_answer=payload.toxic_answer,
    )


@router.get("/moderation/policy", response=ModerationPolicyOut)
def get_policy(request):
    actor = request.auth
    actor.require(Perm.MODERATION_ACT)
    return _policy_out(services.policy_for(actor.organisation))


@router.patch("/moderation/policy", response=ModerationPolicyOut)
def update_policy(request, payload: ModerationPolicyIn):
    return _policy_out(services.update_policy(actor=request.auth, **payload.dict(exclude_none=True)))
