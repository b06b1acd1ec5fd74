"""Priority of a thread, 0 to 100, with the reasons that make it: negativity, an unanswered
question, the author's reach, waiting time, a crisis. Pure: `palabre triage` uses it too."""

from __future__ import annotations

import math
from dataclasses import dataclass

URGENT = 70


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
    if not answered and waiting_minutes >= 30:
        hours = waiting_minutes / 60
        points = min(20, int(round(5 + 5 * math.log2(max(hours, 0.5) * 2))))
        reasons.append(PriorityReason("waiting", points, {"hours": round(hours, 1)}))
    score = min(100, sum(r.points for r in reasons))
    return score, reasons
