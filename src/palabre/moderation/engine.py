"""The moderation decision: publish, hold for a person, or reject, with the reasons why.

Pure: no database. Services build a `ModerationContext` (the organisation's rules, thresholds,
what is known of the author) and store the `Decision`; `palabre check` calls it directly.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from palabre.moderation.patterns import WORD_REGEX_PREFIX, PatternRefused, compile_rule_pattern
from palabre.nlp.classifiers import LABELS, Assessment, load_models
from palabre.nlp.features import group_targets
from palabre.nlp.inflection import word_forms
from palabre.nlp.lexicon import ContextReading, Lexicon, load_lexicon, masked_text, read_context
from palabre.nlp.normalize import normalize

log = logging.getLogger(__name__)

PUBLISH, HOLD, REJECT = "publish", "hold", "reject"
# Reasons that make a rejection blatant spam (not a rude message from a real person).
BLATANT_SPAM_REASONS = frozenset({"score_spam", "known_spam", "known_spammer", "blocked_domain"})
SEVERITY = {PUBLISH: 0, HOLD: 1, REJECT: 2}

DEFAULT_HOLD = {
    "spam": 0.6,
    "toxicity": 0.6,
    "insult": 0.6,
    "identity_attack": 0.5,
    "threat": 0.45,
    "sexual": 0.5,
}
DEFAULT_REJECT = {
    "spam": 0.93,
    "toxicity": 0.95,
    "insult": 0.95,
    "identity_attack": 0.9,
    "threat": 0.95,
    "sexual": 0.9,
}
# Words of Palabre's curated lexicons that put a message before a person, whatever the scores.
FLAGGED_CATEGORIES = {
    "insult": "an insult",
    "slur": "a slur",
    "dehumanizing": "dehumanising language",
    "threat": "a threat",
    "sexual": "sexual content",
}
# A hostile generalisation or call to exclusion said of a group (lexicons/context_*.tsv, kind
# group_hostile, with a group of targets.tsv) scores at least this much as an identity attack and
# as toxicity: over the hold thresholds, under the reject ones (a person reads it).
GROUP_HOSTILE_SCORES = {"identity_attack": 0.75, "toxicity": 0.7}
# The lowest a hold threshold may go, out of business hours included.
MIN_HOLD = 0.05
# How far a trusted author (many approved comments, none rejected) moves the hold thresholds up,
# and a distrusted one down, in the manner of Coral's karma.
TRUST_SHIFT = 0.12

_URL = re.compile(
    r"(?i)\b(?:https?://|www\.)[^\s<>\"']+|\b[a-z0-9][a-z0-9-]{1,62}\.(?:com|fr|net|org|info|biz|io|shop|store|xyz|online|site|top|be|ch|ca|co)\b(?:/[^\s<>\"']*)?"
)
_NAME_URL = re.compile(
    r"(?i)(?:https?://|www\.|\.(?:com|fr|net|org|info|biz|shop|store|xyz|online|site|top)\b)"
)
# Words that make a commenter "name" read as a keyword or a shop rather than a person.
_SHOP_NAME_WORDS = {
    "formation",
    "formations",
    "ecommerce",
    "e-commerce",
    "boutique",
    "shop",
    "store",
    "agence",
    "seo",
    "pas cher",
    "achat",
    "vente",
    "promo",
    "casino",
    "credit",
    "pret",
    "assurance",
    "immobilier",
    "piscine",
    "piscines",
    "poele",
    "pellet",
    "pellets",
    "climatisation",
    "plombier",
    "serrurier",
    "demenagement",
    "rachat",
    "voyance",
    "marabout",
    "travaux",
    "renovation",
    "isolation",
    "toiture",
    "cbd",
    "vape",
    "replica",
    "discount",
    "cheap",
    "buy",
    "best",
    "online",
    "loans",
    "insurance",
    "marketing",
    "backlinks",
    "followers",
    "crypto",
    "bitcoin",
    "forex",
    "trading",
    "escort",
    "dating",
    "pharmacie",
    "viagra",
    "cialis",
    "rencontre",
    "devis",
    "artisan",
    "expert",
    "depannage",
}
_GENERIC_COMPLIMENT = re.compile(
    r"(?i)\b(?:great|nice|good|awesome|amazing|excellent|informative|useful|helpful|interesting)\s+"
    r"(?:post|article|blog|content|read|write-?up|site|website|information|info|share)"
    r"|\bthanks?\s+(?:you\s+)?for\s+(?:sharing|this|the\s+(?:post|article|info))"
    r"|\bkeep\s+(?:it\s+up|up\s+the\s+good\s+work)"
    r"|\b(?:super|tr[eè]s\s+bon|bel|excellent|tr[eè]s\s+bel|chouette)\s+(?:article|billet|post|blog|site)"
    r"|\bmerci\s+(?:pour|de)\s+(?:cet?|ce|votre|ton|l['’])\s*(?:article|partage|billet|post|info)"
    r"|\b(?:tr[eè]s\s+)?(?:int[ée]ressant|instructif|enrichissant)\b"
    r"|\bj['’]adore\s+(?:votre|ton|ce)\s+(?:blog|site|article)"
)


@dataclass(frozen=True)
class Rule:
    """One organisation rule, as the engine sees it."""

    id: str
    kind: str  # banned_word, suspect_word, allowed_word, regex, blocked_domain, allowed_domain, known_spammer
    pattern: str
    action: str = HOLD
    note: str = ""
    # Word rules: False catches plurals and simple inflections too (nlp.inflection).
    exact: bool = False


@dataclass
class RuleSet:
    """An organisation's rules compiled once for many decisions."""

    rules: list[Rule] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.by_id = {rule.id: rule for rule in self.rules}
        # Rules stored before RE2 ran them may hold a pattern it refuses: skipped, and said so.
        self.refused: dict[str, PatternRefused] = {}
        words = []
        for rule in self.rules:
            if rule.kind in {"banned_word", "suspect_word", "allowed_word"} and rule.pattern.strip():
                if rule.pattern.strip().startswith(WORD_REGEX_PREFIX):
                    # The lexicon would run it with Python's backtracking `re`.
                    self.refused[rule.id] = PatternRefused("word_regex")
                    log.warning("Word rule %s skipped: %r is a pattern, not a word", rule.id, rule.pattern)
                    continue
                words.extend((rule.kind, form, rule.id) for form in _word_rule_forms(rule))
        self.words = Lexicon(words) if words else None
        self.regexes = []
        for rule in self.rules:
            if rule.kind == "regex":
                try:
                    self.regexes.append((rule, compile_rule_pattern(rule.pattern)))
                except PatternRefused as refusal:
                    self.refused[rule.id] = refusal
                    log.warning("Regex rule %s skipped: RE2 refuses %r (%s)", rule.id, rule.pattern, refusal)
        # A rule naming no site (stored before such patterns were refused) must not match every
        # link that names none either.
        self.blocked_domains = {domain_key(r.pattern) for r in self.rules if r.kind == "blocked_domain"} - {
            ""
        }
        self.allowed_domains = {domain_key(r.pattern) for r in self.rules if r.kind == "allowed_domain"} - {
            ""
        }
        self.spammers = {r.pattern.strip().lower(): r for r in self.rules if r.kind == "known_spammer"}


def _word_rule_forms(rule: Rule) -> list[str]:
    """The entries a word rule adds to the lexicon: the words as written, or, unless the rule
    is exact, with the last word's plurals and simple inflections ("escroc" → "escrocs")."""
    written = rule.pattern.strip()
    words = written.split()
    if rule.exact or not words or words[-1].endswith("*"):
        return [written]
    head = " ".join(words[:-1])
    return [f"{head} {form}" if head else form for form in sorted(word_forms(words[-1]))]


@dataclass
class Thresholds:
    hold: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_HOLD))
    reject: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_REJECT))
    max_links: int = 2
    first_time_hold_until: int = 0  # hold authors until they have this many approved comments
    rate_limit_per_hour: int = 0  # 0: no limit


@dataclass(frozen=True)
class OffHours:
    """The organisation's stricter policy while nobody is there to read (outside business hours).

    `tightening` is taken off every label's hold threshold (never below MIN_HOLD; reject thresholds
    do not move: at night more waits for a person, nothing more is refused for good).
    `hold_first_messages` holds a public message whose author has no approved message yet."""

    tightening: float = 0.15
    hold_first_messages: bool = False


@dataclass
class Author:
    name: str = ""
    handle: str = ""
    url: str = ""
    email: str = ""
    ip: str = ""
    approved: int = 0
    rejected: int = 0
    recent_count: int = 0  # items in the last hour, this one excluded


@dataclass
class ModerationContext:
    lang: str | None = None
    author: Author = field(default_factory=Author)
    rules: RuleSet = field(default_factory=RuleSet)
    thresholds: Thresholds = field(default_factory=Thresholds)
    # A direct message is never published: a score alone holds it for a person, never rejects it.
    private: bool = False
    spam_fingerprints: frozenset[str] = frozenset()  # messages moderators marked as spam
    ham_fingerprints: frozenset[str] = frozenset()  # messages moderators approved
    # What the channel saw of how the message was sent (see `signal_reasons`).
    signals: tuple[Reason, ...] = ()
    # Set when the message arrived outside the organisation's business hours and its policy is
    # stricter then (see `OffHours`).
    off_hours: OffHours | None = None


@dataclass
class Reason:
    code: str
    action: str
    message: str  # English; the UI renders `code` + `params` in the reader's language
    params: dict[str, Any] = field(default_factory=dict)
    rule_id: str = ""

    def as_dict(self) -> dict[str, Any]:
        data = {"code": self.code, "action": self.action, "message": self.message, "params": self.params}
        if self.rule_id:
            data["rule"] = self.rule_id
        return data


@dataclass
class Decision:
    action: str
    scores: dict[str, float]
    reasons: list[Reason]
    spans: list[dict[str, Any]]
    language: str | None
    model_version: str

    @property
    def rules_fired(self) -> list[str]:
        return [reason.rule_id for reason in self.reasons if reason.rule_id]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Decision:
        """The inverse of as_dict (a decision taken in a request, stored by a task)."""
        return cls(
            action=data["action"],
            scores=dict(data["scores"]),
            reasons=[
                Reason(
                    code=r["code"],
                    action=r["action"],
                    message=r["message"],
                    params=dict(r.get("params", {})),
                    rule_id=r.get("rule", ""),
                )
                for r in data["reasons"]
            ],
            spans=list(data["spans"]),
            language=data.get("language"),
            model_version=data["model_version"],
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "scores": self.scores,
            "language": self.language,
            "reasons": [reason.as_dict() for reason in self.reasons],
            "rules_fired": self.rules_fired,
            "spans": self.spans,
            "model_version": self.model_version,
        }


# How a message was sent, as the channel observed it: the comment form's field hidden from people
# (a honeypot) was filled in, or the form was sent faster than a person writes. The channel stores
# the codes on the item (raw["palabre_signals"]); the action is decided here, never taken from it.
SIGNALS = {
    "honeypot": (REJECT, "A field hidden from people was filled in, as robots do."),
    "too_fast": (HOLD, "Sent {seconds} s after the form was shown, faster than a person writes."),
}


def signal_reasons(signals: Any) -> tuple[Reason, ...]:
    """Reasons for the known signals in an item's raw["palabre_signals"]; anything else is ignored."""
    found = []
    for signal in signals if isinstance(signals, list) else []:
        code = signal.get("code") if isinstance(signal, dict) else None
        if code not in SIGNALS:
            continue
        params = signal.get("params") if isinstance(signal.get("params"), dict) else {}
        action, message = SIGNALS[code]
        for name, value in params.items():
            message = message.replace("{" + str(name) + "}", str(value))
        found.append(Reason(code, action, message, params))
    return tuple(found)


def domain_key(value: str) -> str:
    """The site a link or a site rule names: its host, lower case, without `www.`; "" for none."""
    value = value.strip().lower()
    if "//" not in value:
        value = "//" + value
    try:
        host = urlsplit(value).hostname or ""
    except ValueError:  # an unclosed IPv6 bracket, "http://[promo": anyone may write one in a comment
        return ""
    return host.removeprefix("www.")


def _matches_domain(host: str, domains: set[str]) -> bool:
    return any(host == d or host.endswith("." + d) for d in domains)


def fingerprint(text: str) -> str:
    """Same message modulo case, accents, digits, links and spacing: a spam wave's signature."""
    folded = normalize(_URL.sub(" ", text)).text
    core = re.sub(r"[\d\W_]+", " ", folded).strip()
    return hashlib.sha1(core.encode()).hexdigest()[:16] if len(core) >= 12 else ""


def links_in(text: str) -> list[tuple[int, int, str]]:
    return [(m.start(), m.end(), domain_key(m.group(0))) for m in _URL.finditer(text)]


@lru_cache(maxsize=4096)
def name_looks_commercial(name: str) -> bool:
    folded = normalize(name).text
    words = set(re.findall(r"[a-z0-9-]+", folded))
    if words & _SHOP_NAME_WORDS:
        return True
    return any(" " in w and w in folded for w in _SHOP_NAME_WORDS)


def moderate(text: str, context: ModerationContext | None = None) -> Decision:
    return moderate_many([text], [context or ModerationContext()])[0]


def moderate_many(texts: list[str], contexts: list[ModerationContext]) -> list[Decision]:
    """Decide for many texts at once (the classifiers score them in one batch)."""
    models = load_models()
    clean = [_clean(t) for t in texts]
    langs = [c.lang for c in contexts]
    assessments = models.assess_many(clean, langs)
    readings = []
    lowest_of: dict[int, tuple[dict[str, float], float]] = {}  # a batch often shares one context
    for assessment, context in zip(assessments, contexts, strict=True):
        lowest, lowest_any = lowest_of.get(id(context)) or lowest_of.setdefault(
            id(context), _lowest_hold(context)
        )
        scores = assessment.scores
        if (
            any(s.category in FLAGGED_CATEGORIES or s.category == "target" for s in assessment.spans)
            or max(scores.values(), default=0.0) >= lowest_any
        ):
            reading = read_context(
                assessment.normalized,
                assessment.spans,
                context.lang,
                references=scores.get("spam", 0.0) >= lowest.get("spam", 1.0),
            )
        else:
            reading = _NOTHING_TO_READ
        if reading.masked and max(scores.values(), default=0.0) < lowest_any:
            reading = replace(reading, masked=())  # scoring again could only lower low scores
        readings.append(reading)
    assessments = _in_context(models, clean, langs, assessments, readings)
    return [
        _decide(text, assessment, reading, context, models.version)
        for text, assessment, reading, context in zip(clean, assessments, readings, contexts, strict=True)
    ]


_NOTHING_TO_READ = ContextReading("und")


def _lowest_hold(context: ModerationContext) -> tuple[dict[str, float], float]:
    """The lowest hold threshold of each label this context may apply (a distrusted author, out of
    business hours). Below all of them, reading the context cannot change a decision: it only
    lowers scores, except for hostile statements about a group, which need a group named."""
    tightening = TRUST_SHIFT + (context.off_hours.tightening if context.off_hours else 0.0)
    lowest = {label: max(value - tightening, MIN_HOLD) for label, value in context.thresholds.hold.items()}
    return lowest, min(lowest.values(), default=1.0)


def _in_context(models, texts, langs, assessments, readings: list[ContextReading]) -> list[Assessment]:
    """Scores of the words that are the author's own: a text with words its context excuses
    (a quoted or reported insult, "en retard", counter-speech, an order number) is scored again
    without them, and each label keeps the lower score; a hostile statement about a group
    scores at least GROUP_HOSTILE_SCORES."""
    out = list(assessments)
    again = [i for i, reading in enumerate(readings) if reading.masked]
    if again:
        rescored = models.assess_many(
            [masked_text(texts[i], readings[i].masked) for i in again], [langs[i] for i in again]
        )
        for i, second in zip(again, rescored, strict=True):
            first = out[i]
            scores = {
                label: min(value, second.scores.get(label, value)) for label, value in first.scores.items()
            }
            out[i] = Assessment(scores, first.spans, first.normalized)
    for i, reading in enumerate(readings):
        if reading.group_hostile and _names_a_group(out[i]):
            scores = dict(out[i].scores)
            for label, floor in GROUP_HOSTILE_SCORES.items():
                scores[label] = max(scores.get(label, 0.0), floor)
            out[i] = Assessment(scores, out[i].spans, out[i].normalized)
    return out


def _names_a_group(assessment: Assessment) -> bool:
    if not any(span.category == "target" for span in assessment.spans):
        return False
    targets = load_lexicon("targets").match(assessment.normalized)
    return group_targets(assessment.normalized.text, targets) > 0


def _clean(text: str) -> str:
    # Lone surrogates (from invalid UTF-16/UTF-8 upstream) cannot be encoded anywhere: replace them.
    return text.encode("utf-8", "replace").decode("utf-8") if text else ""


def _decide(
    text: str, assessment: Assessment, reading: ContextReading, context: ModerationContext, model_version: str
) -> Decision:
    scores = assessment.scores
    reasons: list[Reason] = []
    spans: list[dict[str, Any]] = []
    rules, thresholds, author = context.rules, context.thresholds, context.author
    allowed_ranges: list[tuple[int, int]] = []

    def add_span(start: int, end: int, label: str, source: str) -> None:
        if not any(a <= start and end <= b for a, b in allowed_ranges):
            spans.append({"start": start, "end": end, "label": label, "source": source})

    if rules.words is not None:
        hits = rules.words.match(assessment.normalized).spans()
        allowed_ranges = [(s.start, s.end) for s in hits if s.category == "allowed_word"]
        for span in hits:
            if span.category == "allowed_word" or any(
                a <= span.start and span.end <= b for a, b in allowed_ranges
            ):
                continue
            banned = span.category == "banned_word"
            word = text[span.start : span.end]
            reasons.append(
                Reason(
                    "banned_word" if banned else "suspect_word",
                    REJECT if banned else HOLD,
                    f"Contains the {'banned' if banned else 'suspect'} word “{word}”.",
                    {"word": word},
                    rule_id=span.source,
                )
            )
            add_span(span.start, span.end, span.category, span.source)

    for rule, pattern in rules.regexes:
        match = pattern.search(text)
        if match is not None:
            reasons.append(
                Reason(
                    "regex",
                    rule.action,
                    f"Matches the pattern “{rule.pattern}”.",
                    {"pattern": rule.pattern},
                    rule.id,
                )
            )
            add_span(match[0], match[1], "regex", rule.id)

    _link_reasons(text, rules, thresholds, author, reasons, add_span)
    _author_reasons(text, rules, thresholds, author, reasons)
    reasons.extend(context.signals)
    off_hours = context.off_hours

    # Only worth computing when moderators have marked messages.
    fp = fingerprint(text) if context.spam_fingerprints or context.ham_fingerprints else ""
    if fp and fp in context.spam_fingerprints:
        reasons.append(Reason("known_spam", REJECT, "Same message as one a moderator marked as spam."))
    ham = bool(fp and fp in context.ham_fingerprints)

    shift = _trust_shift(author)
    tightening = off_hours.tightening if off_hours else 0.0
    tightened: list[str] = []  # labels held only because of the stricter out-of-hours thresholds
    for label in LABELS:
        score = scores.get(label, 0.0)
        reject_at = thresholds.reject.get(label, 1.01)
        usual_hold = min(thresholds.hold.get(label, 1.01) + shift, reject_at)
        hold_at = min(usual_hold, max(usual_hold - tightening, MIN_HOLD))
        if hold_at <= score < usual_hold and score < reject_at and not ham:
            tightened.append(label)
        if score >= reject_at and not context.private:
            reasons.append(
                Reason(
                    f"score_{label}",
                    REJECT,
                    f"Very likely {label.replace('_', ' ')} ({score:.2f}).",
                    {"label": label, "score": score},
                )
            )
        elif (score >= hold_at and not ham) or (score >= reject_at and context.private):
            reasons.append(
                Reason(
                    f"score_{label}",
                    HOLD,
                    f"Possibly {label.replace('_', ' ')} ({score:.2f}).",
                    {"label": label, "score": score},
                )
            )

    if tightened:
        reasons.append(
            Reason(
                "off_hours",
                HOLD,
                f"Outside business hours: held under thresholds lowered by {tightening:.2f} "
                f"({', '.join(label.replace('_', ' ') for label in tightened)}).",
                {"labels": tightened, "tightening": tightening},
            )
        )
    if (
        off_hours
        and off_hours.hold_first_messages
        and not context.private
        and author.approved == 0
        and not any(reason.code == "first_time_author" for reason in reasons)
    ):
        reasons.append(
            Reason(
                "off_hours_first_message",
                HOLD,
                "Outside business hours: a first message from this author waits for a person.",
            )
        )

    flagged = set()
    for span in assessment.spans:
        if span.source.startswith("ldnoobw") or span.category in {"target", "neg_attribute"}:
            continue  # features for the model, too noisy to show as a reason
        if reading.is_excused(span):
            continue  # quoted, reported, harmless in this phrase or an ordinary word of this language
        add_span(span.start, span.end, span.category, "lexicon")
        if span.category in FLAGGED_CATEGORIES and span.category not in flagged:
            flagged.add(span.category)
            word = text[span.start : span.end]
            reasons.append(
                Reason(
                    f"lexicon_{span.category}",
                    HOLD,
                    f"Contains “{word}”, listed as {FLAGGED_CATEGORIES[span.category]}.",
                    {"word": word, "category": span.category},
                )
            )

    if reading.group_hostile and _names_a_group(assessment):
        predicate = reading.group_hostile[0]
        word = text[predicate.start : predicate.end]
        add_span(predicate.start, predicate.end, "identity_attack", "lexicon")
        if "identity_attack" not in flagged:
            reasons.append(
                Reason(
                    "lexicon_group_hostile",
                    HOLD,
                    f"Says “{word}” of a group of people, as hate speech does.",
                    {"word": word, "category": "identity_attack"},
                )
            )

    action = max((reason.action for reason in reasons), key=SEVERITY.__getitem__, default=PUBLISH)
    spans.sort(key=lambda s: (s["start"], s["end"]))
    return Decision(action, scores, reasons, spans, context.lang, model_version)


def _trust_shift(author: Author) -> float:
    if author.rejected == 0 and author.approved >= 3:
        return TRUST_SHIFT
    if author.rejected > author.approved:
        return -TRUST_SHIFT
    return 0.0


def _link_reasons(text, rules: RuleSet, thresholds: Thresholds, author: Author, reasons, add_span) -> None:
    links = links_in(text)
    outside = [link for link in links if not _matches_domain(link[2], rules.allowed_domains)]
    for start, end, host in outside:
        if _matches_domain(host, rules.blocked_domains):
            reasons.append(
                Reason("blocked_domain", REJECT, f"Links to the blocked site {host}.", {"domain": host})
            )
            add_span(start, end, "blocked_domain", "rules")
    if thresholds.max_links and len(outside) > thresholds.max_links:
        reasons.append(
            Reason(
                "too_many_links",
                HOLD,
                f"{len(outside)} links (more than {thresholds.max_links}).",
                {"count": len(outside), "max": thresholds.max_links},
            )
        )
        for start, end, _host in outside:
            add_span(start, end, "link", "rules")
    if outside and _GENERIC_COMPLIMENT.search(text) and len(text) < 400:
        reasons.append(
            Reason(
                "compliment_with_link", HOLD, "A generic compliment followed by a link, as comment spam does."
            )
        )


def _author_reasons(text, rules: RuleSet, thresholds: Thresholds, author: Author, reasons) -> None:
    for key in (author.handle, author.email, author.ip, author.name):
        rule = rules.spammers.get(key.strip().lower()) if key else None
        if rule is not None:
            reasons.append(
                Reason("known_spammer", REJECT, f"{key} is listed as a spammer.", {"author": key}, rule.id)
            )
            break
    if author.name and _NAME_URL.search(author.name):
        reasons.append(
            Reason("url_in_name", HOLD, "The commenter's name is a web address.", {"name": author.name})
        )
    elif author.name and name_looks_commercial(author.name):
        reasons.append(
            Reason(
                "commercial_name",
                HOLD,
                f"The commenter's name “{author.name}” reads as a keyword or a shop.",
                {"name": author.name},
            )
        )
    if author.url and links_in(author.url) and _GENERIC_COMPLIMENT.search(text) and not links_in(text):
        reasons.append(
            Reason(
                "compliment_with_link",
                HOLD,
                "A generic compliment signed with a website, as comment spam does.",
            )
        )
    if thresholds.first_time_hold_until and author.approved < thresholds.first_time_hold_until:
        reasons.append(
            Reason(
                "first_time_author",
                HOLD,
                f"New author: held until {thresholds.first_time_hold_until} approved comment(s).",
                {"approved": author.approved, "needed": thresholds.first_time_hold_until},
            )
        )
    if thresholds.rate_limit_per_hour and author.recent_count >= thresholds.rate_limit_per_hour:
        reasons.append(
            Reason(
                "rate_limited",
                HOLD,
                f"{author.recent_count + 1} messages within an hour.",
                {"count": author.recent_count + 1, "limit": thresholds.rate_limit_per_hour},
            )
        )


def is_blatant_spam(action: str, reasons: list[dict[str, Any]]) -> bool:
    """Rejected for one of BLATANT_SPAM_REASONS (reasons as stored: dicts with code and action)."""
    return action == REJECT and any(
        r.get("code") in BLATANT_SPAM_REASONS and r.get("action") == REJECT for r in reasons
    )
