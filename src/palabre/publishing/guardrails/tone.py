"""Guardrails on how a post speaks and who sends it: shouting, toxic words, off-charter words, an unapproved personal account, words of an open brand alert."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from palabre.nlp.normalize import fold
from palabre.publishing.guardrails.content import _promotional
from palabre.publishing.guardrails.verdicts import (
    BLOCK,
    CAPS_MIN_WORDS,
    CAPS_SHARE,
    CHARTER,
    OPEN_ALERT,
    SHOUTING,
    SPOKESPERSON,
    TOXIC,
    WARN,
    AlertSubject,
    Finding,
    GuardrailContext,
)
from palabre.publishing.guardrails.words import (
    _HASHTAG,
    _URL,
    _WORD,
    _organisation_lexicon,
    _span_of,
    _Token,
    tokenize,
)

ACRONYMS = {
    "ok",
    "usa",
    "uk",
    "ue",
    "eu",
    "onu",
    "un",
    "tva",
    "vat",
    "sncf",
    "ratp",
    "edf",
    "cnil",
    "rgpd",
    "gdpr",
    "pdf",
    "html",
    "faq",
    "diy",
    "ceo",
    "pdg",
    "rh",
    "hr",
    "seo",
    "api",
    "url",
    "sms",
    "tv",
    "dj",
    "nba",
    "nfl",
    "fifa",
    "uefa",
    "psg",
    "om",
    "ol",
    "nasa",
    "unesco",
    "unicef",
    "ong",
    "ngo",
    "covid",
    "led",
    "usb",
    "gps",
    "wifi",
    "ps",
    "nb",
    "cv",
    "rdv",
    "asap",
    "bio",
    "made",
    "in",
    "france",
    "vip",
    "xxl",
    "xl",
    "xs",
    "ikea",
    "bnp",
    "lvmh",
    "ibm",
    "bmw",
    "sav",
    "ttc",
    "ht",
    "cgv",
    "qr",
    "ia",
    "ai",
}


def check_shouting(text: str, context: GuardrailContext) -> list[Finding]:
    plain = _HASHTAG.sub(" ", _URL.sub(" ", text))
    words = [m for m in _WORD.finditer(plain) if sum(c.isalpha() for c in m.group(0)) >= 2]
    if len(words) < CAPS_MIN_WORDS:
        return []
    shouted = [
        m for m in words if m.group(0).isupper() and len(m.group(0)) >= 3 and fold(m.group(0)) not in ACRONYMS
    ]
    share = len(shouted) / len(words)
    if len(shouted) < CAPS_MIN_WORDS or share < CAPS_SHARE:
        return []
    values = {"share": round(share * 100)}
    explanation = (
        _(
            "%(share)s%% of the words are in capitals: it reads as shouting. Write in ordinary case and "
            "keep capitals for one word that matters."
        )
        % values
    )
    return [Finding(SHOUTING, WARN, explanation, (shouted[0].start(), shouted[-1].end()), values)]


_TOXIC_LABELS = {
    "toxicity": lambda: _("toxic"),
    "insult": lambda: _("insulting"),
    "identity_attack": lambda: _("an attack on a group of people"),
    "threat": lambda: _("threatening"),
    "sexual": lambda: _("sexual"),
}
_LEXICON_LABELS = {
    "insult": lambda: _("an insult"),
    "slur": lambda: _("a slur"),
    "dehumanizing": lambda: _("dehumanising language"),
    "threat": lambda: _("a threat"),
    "sexual": lambda: _("sexual content"),
}
# A brand signs its posts: the bar is lower than for a commenter's words.
TOXIC_BLOCK = 0.6
TOXIC_WARN = 0.5
# A listed word counts only when the models agree a little: "victime de son succès" is no insult.
LEXICON_CONFIRM = 0.3


def moderate_post(text: str, moderation: Any = None) -> Any:
    """The moderation engine's decision on a post, read in the post's language: a word that is a
    slur in the other language only ("retard" is a delay in French) is left out of the scores."""
    from dataclasses import replace

    from palabre.moderation.engine import ModerationContext, moderate
    from palabre.nlp.classifiers import explain
    from palabre.nlp.language import detect_language

    lang = detect_language(text)
    context = replace(moderation or ModerationContext(), lang=lang if lang in ("fr", "en") else None)
    if context.lang is None:
        return moderate(text, context)
    other = "en" if context.lang == "fr" else "fr"
    spans = explain(text)
    own = {(s.start, s.end) for s in spans if s.source in (context.lang, f"ldnoobw_{context.lang}")}
    foreign = [s for s in spans if s.source in (other, f"ldnoobw_{other}") and (s.start, s.end) not in own]
    if not foreign:
        return moderate(text, context)
    masked = list(text)
    for span in foreign:
        masked[span.start : span.end] = " " * (span.end - span.start)
    return moderate("".join(masked), context)


def check_toxic(text: str, context: GuardrailContext, decision: Any = None) -> list[Finding]:
    """The moderation engine's classifiers and lexicons, read for a post the brand signs."""
    if decision is None:
        if not context.run_moderation:
            return []
        decision = moderate_post(text, context.moderation)
    findings = []
    scores = decision.scores
    spans: dict[str, tuple[int, int]] = {}
    for span in decision.spans:
        spans.setdefault(span["label"], (span["start"], span["end"]))
    reported: set[str] = set()
    for label, labeller in _TOXIC_LABELS.items():
        score = float(scores.get(label, 0.0))
        if score < TOXIC_WARN:
            continue
        severity = BLOCK if score >= TOXIC_BLOCK else WARN
        values = {"label": labeller(), "score": round(score * 100)}
        explanation = (
            _(
                "The moderation models read this post as %(label)s (%(score)s%%). The brand signs "
                "every word: rephrase it so nobody can take it the wrong way."
            )
            % values
        )
        span = (
            spans.get(label) or spans.get("insult") if label in {"toxicity", "insult"} else spans.get(label)
        )
        findings.append(Finding(TOXIC, severity, explanation, span, {"label": label, "score": score}))
        reported.add(label)
    offensive = max(float(scores.get(k, 0.0)) for k in ("toxicity", "insult", "identity_attack"))
    for reason in decision.reasons:
        if reason.code.startswith("lexicon_"):
            category = reason.params.get("category", "")
            if category in reported or (
                category in {"insult", "slur", "dehumanizing"} and offensive < LEXICON_CONFIRM
            ):
                continue
            reported.add(category)
            word = reason.params.get("word", "")
            labeller = _LEXICON_LABELS.get(category)
            explanation = _("“%(word)s” is listed as %(label)s. Remove it or use another word.") % {
                "word": word,
                "label": labeller() if labeller else category,
            }
            severity = BLOCK if category in {"insult", "slur", "dehumanizing"} else WARN
            findings.append(
                Finding(
                    TOXIC, severity, explanation, spans.get(category), {"word": word, "category": category}
                )
            )
        elif reason.code == "banned_word":
            word = reason.params.get("word", "")
            start = text.lower().find(word.lower()) if word else -1
            explanation = _("“%(word)s” is banned by the organisation's moderation rules. Remove it.") % {
                "word": word
            }
            span = (start, start + len(word)) if start >= 0 else None
            findings.append(Finding(TOXIC, BLOCK, explanation, span, {"word": word}))
    return findings


def check_charter(text: str, context: GuardrailContext, tokens: list[_Token] | None = None) -> list[Finding]:
    if not context.charter_words:
        return []
    tokens = tokens if tokens is not None else tokenize(text)
    lexicon = _organisation_lexicon(tuple(context.charter_words), "charter")
    findings = []
    seen: set[tuple[int, int]] = set()
    for term, first, last in lexicon.match(tokens):
        span = _span_of(tokens, first, last)
        if span in seen:
            continue
        seen.add(span)
        words = text[span[0] : span[1]]
        explanation = _(
            "“%(words)s” is on the organisation's list of words the brand does not use (its editorial "
            "charter). Choose another word."
        ) % {"words": words}
        findings.append(Finding(CHARTER, BLOCK, explanation, span, {"words": words, "term": term.term}))
    return findings


def check_spokesperson(text: str, context: GuardrailContext) -> list[Finding]:
    if context.channel_kind != "spokesperson" or context.spokesperson_approved:
        return []
    explanation = _(
        "This channel is a person's own account, and no owner has approved it as a spokesperson "
        "channel. Publish from a brand channel, or ask an owner to approve it first."
    )
    return [Finding(SPOKESPERSON, BLOCK, explanation, None, {})]


def _alert_spans(alert: AlertSubject, text: str) -> list[tuple[int, int]]:
    """Where the text speaks of what the alert is about, matched as listening matches (accents,
    case, elision, plurals folded)."""
    from palabre.nlp.matcher import matches
    from palabre.nlp.query import QuerySyntaxError

    if not alert.terms:
        return []
    # A link's words (maison-lumiere.fr/lampes) are an address, not what the post speaks of.
    text = _URL.sub(lambda m: " " * len(m.group()), text)
    try:
        found = matches(" OR ".join(alert.terms), text)
    except QuerySyntaxError:
        return []
    return list(found.spans) if found else []


def check_open_alerts(text: str, context: GuardrailContext) -> list[Finding]:
    """A post on the subject of an open crisis alert is held; a promotion while one is open is
    flagged (the bad buzz of selling during a recall)."""
    findings: list[Finding] = []
    promotional = _promotional(text, context)
    for alert in context.open_alerts:
        spans = _alert_spans(alert, text)
        if spans:
            words = text[spans[0][0] : spans[0][1]]
            params = {"alert": alert.alert_id, "name": alert.name, "url": alert.url, "words": words}
            findings.append(
                Finding(
                    OPEN_ALERT,
                    BLOCK,
                    _(
                        "Open alert: %(name)s. “%(words)s” is what this crisis is about: hold the post "
                        "until the alert is closed, and answer the people concerned first."
                    )
                    % params,
                    spans[0],
                    params,
                )
            )
    if promotional and context.open_alerts and not findings:
        alert = context.open_alerts[0]
        params = {"alert": alert.alert_id, "name": alert.name, "url": alert.url, "words": ""}
        findings.append(
            Finding(
                OPEN_ALERT,
                WARN,
                _(
                    "A promotion while a crisis alert is open (%(name)s) reads as ignoring the people "
                    "concerned: check the alert before it goes out, or keep the promotion for later."
                )
                % params,
                None,
                params,
            )
        )
    return findings
