"""What the guardrails answer: the guardrail codes, severities and thresholds, a `Finding`, the `Verdict` that gathers them, and the `GuardrailContext` services fill with the organisation's data."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

BLOCK, WARN = "block", "warn"
PASS = "pass"
SEVERITY = {PASS: 0, WARN: 1, BLOCK: 2}

SENSITIVE = "sensitive_topic"
TRENDING = "trending_topic"
PROMOTION_RATIO = "promotion_ratio"
COMPETITOR_COPY = "competitor_similarity"
OWN_DUPLICATE = "own_post_similarity"
HASHTAG_STUFFING = "hashtag_stuffing"
EMOJI_STUFFING = "emoji_stuffing"
FF_FILLER = "follow_friday"
SHOUTING = "all_caps"
TOXIC = "toxic_words"
CHARTER = "off_charter"
SPOKESPERSON = "spokesperson_unapproved"
CHANNEL_LIMITS = "channel_limits"
OPEN_ALERT = "open_alert"
CONTEST_RULES = "platform_contest_rules"

GUARDRAILS = (
    SENSITIVE,
    TRENDING,
    PROMOTION_RATIO,
    COMPETITOR_COPY,
    OWN_DUPLICATE,
    HASHTAG_STUFFING,
    EMOJI_STUFFING,
    FF_FILLER,
    SHOUTING,
    TOXIC,
    CHARTER,
    SPOKESPERSON,
    CHANNEL_LIMITS,
    OPEN_ALERT,
    CONTEST_RULES,
)


# Campaign kinds that promote by nature; polls and co-design ask the community something.
PROMOTIONAL_CAMPAIGNS = {"exclusive_offer", "contest", "photo_contest"}

MAX_HASHTAGS = 5
HASHTAG_WORD_SHARE = 0.5
MAX_EMOJI = 6
EMOJI_SHARE = 0.35
CAPS_SHARE = 0.5
CAPS_MIN_WORDS = 3
COMPETITOR_BLOCK = 0.8
COMPETITOR_WARN = 0.6
OWN_WARN = 0.85
# A trending term counts as tragic when this share of what listening saw about it is negative.
TRENDING_NEGATIVE_SHARE = 0.5


@dataclass(frozen=True)
class Finding:
    guardrail: str
    severity: str
    explanation: str
    span: tuple[int, int] | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "guardrail": self.guardrail,
            "severity": self.severity,
            "explanation": self.explanation,
            "span": list(self.span) if self.span is not None else None,
            "params": self.params,
        }


@dataclass(frozen=True)
class Verdict:
    verdict: str
    findings: tuple[Finding, ...]

    @property
    def blocks(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == BLOCK]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == WARN]

    def as_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "findings": [f.as_dict() for f in self.findings]}


@dataclass(frozen=True)
class RecentPost:
    text: str
    promotional: bool


@dataclass(frozen=True)
class TrendingTopic:
    """A term listening sees rising, and how negative the conversation around it is."""

    term: str
    negative_share: float = 0.0


@dataclass(frozen=True)
class AlertSubject:
    """An open crisis alert: its name, what it is about (query terms), and where to read it."""

    alert_id: int
    name: str
    terms: tuple[str, ...]
    url: str = ""


@dataclass
class GuardrailContext:
    """What the guardrails know beyond the text. Every field has a harmless default, so
    `palabre guardrails check` without an organisation lints the text alone."""

    campaign_kind: str = ""
    promotional: bool | None = None  # None: decided from the campaign kind and the vocabulary
    channel_kind: str = "brand"
    channel_platform: str = ""
    spokesperson_approved: bool = True
    organisation_sensitive_terms: Sequence[str] = ()
    trending: Sequence[TrendingTopic] = ()
    recent_posts: Sequence[RecentPost] = ()  # the channel's last posts, newest first
    competitor_texts: Sequence[str] = ()
    charter_words: Sequence[str] = ()
    promotion_window: int = 10
    promotion_share: float = 0.5
    moderation: Any = None  # a moderation engine context; None: the default thresholds
    open_alerts: Sequence[AlertSubject] = ()
    run_moderation: bool = True


def verdict_of(findings: Iterable[Finding]) -> Verdict:
    findings = tuple(findings)
    worst = max((f.severity for f in findings), key=SEVERITY.__getitem__, default=PASS)
    return Verdict(worst, findings)
