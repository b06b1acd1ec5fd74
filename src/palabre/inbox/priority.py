"""Priority of a thread, 0 to 100, with the reasons that make it: negativity, an unanswered
question, the author's reach, waiting time, a crisis. Pure: `palabre triage` uses it too."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta

URGENT = 70

# A wait earns its full points (20) from about 3 h 44 min: past this, waiting longer changes no
# priority, only the hours shown (which the pages count at display time, `Conversation.reasons_now`).
WAITING_FULL_AFTER = timedelta(hours=4)


@dataclass(frozen=True)
class PriorityReason:
    code: str
    points: int
    params: dict

    def as_dict(self) -> dict:
        return {"code": self.code, "points": self.points, "params": self.params}


def priority(
    *,
    sentiment: str,
    sentiment_scores: dict[str, float] | None = None,
    intent: str,
    followers: int | None = None,
    waiting_minutes: float = 0.0,
    answered: bool = False,
) -> tuple[int, list[PriorityReason]]:
    reasons: list[PriorityReason] = []
    if intent == "crisis":
        reasons.append(PriorityReason("crisis", 55, {}))
    if sentiment == "negative":
        strength = (sentiment_scores or {}).get("negative", 0.6)
        reasons.append(PriorityReason("negative", int(round(10 + 20 * strength)), {"score": strength}))
    if intent == "complaint":
        reasons.append(PriorityReason("complaint", 10, {}))
    if intent in ("question", "lead") and not answered:
        reasons.append(PriorityReason("unanswered_" + intent, 15, {}))
    if followers and followers >= 500:
        # 1k followers: +6, 10k: +12, 100k: +18, 1M and more: +24.
        points = min(24, int(round(6 * math.log10(followers / 100))))
        if points > 0:
            reasons.append(PriorityReason("reach", points, {"followers": followers}))
    if not answered and (waited := waiting_reason(waiting_minutes)) is not None:
        reasons.append(waited)  # last: `with_wait` replaces it in place
    score = min(100, sum(r.points for r in reasons))
    return score, reasons


def waiting_points(waiting_minutes: float) -> int:
    """5 points at half an hour, 5 more each time the wait doubles, 20 at most."""
    if waiting_minutes < 30:
        return 0
    return min(20, int(round(5 + 5 * math.log2(waiting_minutes / 30))))


def waiting_reason(waiting_minutes: float) -> PriorityReason | None:
    points = waiting_points(waiting_minutes)
    return PriorityReason("waiting", points, {"hours": round(waiting_minutes / 60, 1)}) if points else None


def with_wait(reasons: list[dict], waiting_minutes: float) -> tuple[int, list[dict]]:
    """A computed thread's reasons (`PriorityReason.as_dict`) with the wait counted anew and the
    others as they are, and their score: what `priority` gives for the same thread and this wait,
    without its messages or the models."""
    kept = [reason for reason in reasons if reason["code"] != "waiting"]
    waited = waiting_reason(waiting_minutes)
    if waited is not None:
        kept.append(waited.as_dict())
    return min(100, sum(reason["points"] for reason in kept)), kept
