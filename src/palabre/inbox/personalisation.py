"""The personalisation check: does a reply read as a canned "official statement"?

Two smells, each explained: the reply is nearly the same as replies the organisation sent
recently (character n-gram TF-IDF cosine), or it takes up nothing of what the person wrote (no
content word of their message appears in the reply). Unfilled saved-reply variables are flagged too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from palabre.nlp.similarity import similarities
from palabre.nlp.terms import words

SIMILAR = 0.8
MIN_MESSAGE_WORDS = 3
_VARIABLE = re.compile(r"\{[a-z_]+\}")


@dataclass(frozen=True)
class Warning:
    code: str  # similar, no_overlap, unfilled
    params: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"code": self.code, "params": self.params}


def check_reply(
    reply: str,
    *,
    message: str,
    recent: list[tuple[str, str]],
    threshold: float = SIMILAR,
) -> list[Warning]:
    """`recent`: (label, text) of the organisation's latest replies, newest first."""
    warnings: list[Warning] = []
    reply = reply.strip()
    if not reply:
        return warnings
    unfilled = sorted(set(_VARIABLE.findall(reply)))
    if unfilled:
        warnings.append(Warning("unfilled", {"variables": ", ".join(unfilled)}))
    texts = [text for _label, text in recent if text.strip()]
    if texts:
        scores = similarities(reply, texts)
        best = max(range(len(scores)), key=scores.__getitem__)
        score = scores[best]
        if score >= threshold:
            count = sum(1 for s in scores if s >= threshold)
            labels = [label for label, text in recent if text.strip()]
            warnings.append(
                Warning("similar", {"percent": round(score * 100), "count": count, "example": labels[best]})
            )
    asked = dict.fromkeys(words(message))
    if len(asked) >= MIN_MESSAGE_WORDS:
        answered = set(words(reply))
        if not answered.intersection(asked):
            warnings.append(Warning("no_overlap", {"words": ", ".join(list(asked)[:6])}))
    return warnings
