"""Intent of a message to a brand: question, complaint, praise, lead, crisis or other.

No train-licensed intent data exists (complaints_en is evaluation-only), so intent is rules on
the normalised text, helped by the sentiment model: cue phrases in French and English, weighed,
the strongest intent wins. Measured on complaints_en (eval) and reported in the model card.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from palabre.nlp.normalize import normalize

INTENTS = ("question", "complaint", "praise", "lead", "crisis", "other")


def _cues(*phrases: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(phrases) + r")\b")


# Patterns run on normalised text: lower case, no accents, leetspeak undone.
QUESTION = _cues(
    r"est ce que",
    r"est ce qu",
    r"savez vous",
    r"pouvez vous",
    r"pourriez vous",
    r"vous avez",
    r"avez vous",
    r"comment (?:faire|puis je|on|je)",
    r"combien",
    r"quand (?:est ce|arrive|sera|allez)",
    r"ou (?:est|puis je|trouver)",
    r"quel(?:le)?s? (?:est|sont|taille|couleur|delai)",
    r"existe t il",
    r"existe t elle",
    r"y a t il",
    r"c est possible",
    r"how (?:do|can|much|long|to)",
    r"when (?:will|is|does|do)",
    r"where (?:is|can|do)",
    r"what (?:is|are|time|size)",
    r"do you (?:have|ship|deliver|sell|know)",
    r"can i",
    r"could you",
    r"is there",
    r"are you (?:open|going)",
    r"any (?:idea|news|update)",
)
COMPLAINT = _cues(
    r"toujours pas",
    r"toujours rien",
    r"jamais recu",
    r"pas recu",
    r"pas encore recu",
    r"en retard",
    r"retard",
    r"rembourse(?:ment|z|r)?",
    r"casse(?:e|s)?",
    r"abime(?:e|s)?",
    r"defectueu(?:x|se)",
    r"decu(?:e|s)?",
    r"deception",
    r"inadmissible",
    r"inacceptable",
    r"scandaleux",
    r"honte(?:ux)?",
    r"arnaque",
    r"service client",
    r"sav",
    r"personne ne (?:repond|rappelle)",
    r"aucune reponse",
    r"sans reponse",
    r"ne fonctionne (?:pas|plus)",
    r"marche pas",
    r"plus jamais",
    r"lamentable",
    r"nul(?:le)?",
    r"catastrophe",
    r"annul(?:er|ation|e)",
    r"still (?:no|not|waiting)",
    r"never (?:arrived|received|got)",
    r"not (?:received|working|happy)",
    r"refund",
    r"broken",
    r"damaged",
    r"disappointed",
    r"disappointing",
    r"unacceptable",
    r"terrible",
    r"awful",
    r"worst",
    r"horrible",
    r"ridiculous",
    r"rip ?off",
    r"scam",
    r"customer service",
    r"no (?:one|response|reply)",
    r"doesn t work",
    r"does not work",
    r"stopped working",
    r"waste of",
    r"cancel(?:led|ed)?",
    r"fix (?:this|it)",
    r"fail(?:ed|s|ing)?",
    r"sucks",
    r"delayed",
    r"late again",
    r"charged (?:me )?twice",
    r"on hold for",
)
PRAISE = _cues(
    r"merci(?: beaucoup)?(?! d avance)",
    r"bravo",
    r"super",
    r"genial(?:e)?",
    r"parfait(?:e)?",
    r"magnifique",
    r"superbe",
    r"j adore",
    r"top",
    r"excellent(?:e)?",
    r"ravi(?:e|s)?",
    r"content(?:e|s)?",
    r"satisfait(?:e|s)?",
    r"au top",
    r"nickel",
    r"thank(?:s| you)",
    r"love (?:it|this|your|the)",
    r"great",
    r"amazing",
    r"awesome",
    r"perfect",
    r"beautiful",
    r"well done",
    r"impressed",
    r"happy with",
    r"best",
)
LEAD = _cues(
    r"devis",
    r"tarif(?:s)? (?:pro|professionnel|entreprise)",
    r"pour (?:mon|notre) (?:entreprise|hotel|restaurant|bureau|magasin)",
    r"en gros",
    r"grossiste",
    r"revendeur",
    r"partenariat",
    r"je cherche a (?:acheter|meubler|equiper)",
    r"commande groupee",
    r"quote",
    r"wholesale",
    r"bulk (?:order|price)",
    r"reseller",
    r"distributor",
    r"partnership",
    r"b2b",
    r"for (?:my|our) (?:company|office|hotel|restaurant|business)",
    r"looking to (?:buy|order|furnish)",
)
CRISIS = _cues(
    r"danger(?:eux|euse)?",
    r"brule(?:e|s|r|ure)?",
    r"incendie",
    r"feu",
    r"explos(?:e|ion|er)",
    r"intoxication",
    r"rappel (?:produit|de produit)",
    r"blesse(?:e|s)?",
    r"hopital",
    r"urgences",
    r"boycott(?:ez|er)?",
    r"scandale",
    r"plainte",
    r"avocat",
    r"justice",
    r"mise en danger",
    r"electrocut(?:e|ion)",
    r"dangerous",
    r"burn(?:ed|t|s)?",
    r"fire",
    r"explod(?:e|ed)",
    r"injur(?:ed|y)",
    r"hospital",
    r"recall",
    r"lawsuit",
    r"lawyer",
    r"boycott",
    r"poison(?:ed|ing)?",
    r"unsafe",
    r"toxic",
)


@dataclass(frozen=True)
class Intent:
    label: str
    scores: dict[str, float]


def detect_intent(text: str, sentiment: str = "neutral") -> Intent:
    folded = normalize(text).text
    question = len(QUESTION.findall(folded)) + (1.5 if "?" in text else 0.0)
    # Negativity addressed to a brand is a complaint unless something stronger is said.
    complaint = len(COMPLAINT.findall(folded)) * 1.2 + (1.0 if sentiment == "negative" else 0.0)
    praise = len(PRAISE.findall(folded)) + (0.8 if sentiment == "positive" else 0.0)
    lead = len(LEAD.findall(folded)) * 1.5
    crisis = len(CRISIS.findall(folded)) * 1.3
    if sentiment == "positive":
        complaint *= 0.5
    if sentiment == "negative":
        praise *= 0.4  # "merci pour rien", "thanks for nothing"
    # In this order, the first wins a tie: a lead asked as a question is a lead.
    scores = {"crisis": crisis, "lead": lead, "complaint": complaint, "question": question, "praise": praise}
    # A crisis needs a negative tone or several cues; a complaint outranks a question asked in anger.
    if crisis and sentiment != "negative" and crisis < 2.6:
        scores["crisis"] = crisis * 0.5
    best = max(scores, key=scores.get)
    if scores[best] < 1.0:
        best = "other"
    total = sum(scores.values()) or 1.0
    return Intent(best, {name: round(value / total, 3) for name, value in scores.items()})
