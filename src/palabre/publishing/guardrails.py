"""Guardrails: lint a post before it goes out, and explain to its author what to change and why.

Pure functions over a `GuardrailContext` that services fill with the organisation's data (its
sensitive terms and charter, its channel's recent posts, what listening sees trending, its
competitors' recent texts). Each check returns `Finding`s: a guardrail code, a severity (block or
warn), an explanation in the reader's language with a suggestion, and the span of the text it
concerns. `check()` gathers them into a `Verdict` (pass, warn or block).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from palabre.nlp import similarity
from palabre.nlp.normalize import fold

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
)

LEXICON_DIR = Path(__file__).resolve().parent / "lexicons"

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


# --- text pieces ------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+")
_HASHTAG = re.compile(r"(?<![\w&])#([^\W_][\w]*)")
_TOKEN_OR_TAG = re.compile(r"(?<![\w&])#([^\W_][\w]*)|[^\W_]+")
_URL = re.compile(r"(?i)\b(?:https?://|www\.)\S+")
_EMOJI = re.compile(
    "[\U0001f1e6-\U0001f1ff]{2}|[\U0001f300-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff]"
    "[\ufe0f\U0001f3fb-\U0001f3ff]?(?:\u200d[\U0001f300-\U0001faff\u2600-\u27bf][\ufe0f]?)*"
)
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_FF = re.compile(r"(?i)(?<![\w&])#(?:ff|followfriday|fridayfollow|suivezvendredi|vendredisuivez)\b")


@dataclass(frozen=True)
class _Token:
    folded: str
    start: int
    end: int
    in_hashtag: bool = False
    glued_unknown: bool = False  # part of a one-case hashtag with unknown pieces


# --- lexicons ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Term:
    tokens: tuple[tuple[str, bool], ...]  # (folded word, is prefix)
    category: str
    term: str

    @property
    def letters(self) -> int:
        return sum(len(t) for t, _prefix in self.tokens)


class TermLexicon:
    """Whole-word phrase matcher on folded tokens; `word*` matches any ending."""

    def __init__(self, entries: Iterable[tuple[str, str]]):
        self.by_first: dict[str, list[_Term]] = {}
        self.prefixes: list[_Term] = []
        self.words: set[str] = set()
        for category, entry in entries:
            words = [w for w in re.split(r"[^\w*]+", fold(entry)) if w]
            tokens = [(w.rstrip("*"), w.endswith("*")) for w in words if w.rstrip("*")]
            if not tokens:
                continue
            term = _Term(tuple(tokens), category, entry)
            self.words.update(t for t, _prefix in tokens)
            if tokens[0][1]:
                self.prefixes.append(term)
            else:
                self.by_first.setdefault(tokens[0][0], []).append(term)

    def candidates(self, word: str) -> list[_Term]:
        found = list(self.by_first.get(word, ()))
        found += [t for t in self.prefixes if word.startswith(t.tokens[0][0])]
        return found

    def match(self, tokens: Sequence[_Token]) -> list[tuple[_Term, int, int]]:
        """(term, first token index, last token index + 1) for every hit."""
        hits = []
        for i, token in enumerate(tokens):
            for term in self.candidates(token.folded):
                n = len(term.tokens)
                if i + n > len(tokens):
                    continue
                if all(
                    (tokens[i + j].folded.startswith(w) if prefix else tokens[i + j].folded == w)
                    for j, (w, prefix) in enumerate(term.tokens)
                ):
                    hits.append((term, i, i + n))
        return hits


def _read_tsv(path: Path) -> list[tuple[str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        category, _tab, entry = line.partition("\t")
        if entry.strip():
            rows.append((category.strip(), entry.strip()))
    return rows


_lock = threading.Lock()


@lru_cache(maxsize=1)
def sensitive_lexicon() -> TermLexicon:
    with _lock:
        return TermLexicon(_read_tsv(LEXICON_DIR / "sensitive.tsv"))


@lru_cache(maxsize=1)
def segmentation_vocabulary() -> frozenset[str]:
    words: set[str] = set()
    for line in (LEXICON_DIR / "words.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            continue
        words.update(_WORD.findall(fold(line)))
    words.update(w for w in sensitive_lexicon().words if len(w) >= 2)
    return frozenset(words)


@lru_cache(maxsize=256)
def _organisation_lexicon(terms: tuple[str, ...], category: str) -> TermLexicon:
    return TermLexicon((category, t) for t in terms if t.strip())


# --- tokens, with hashtags split into words ----------------------------------------------------


def segment(glued: str, vocabulary: frozenset[str]) -> list[tuple[str, bool]]:
    """Split a one-case run of letters into known words: [(piece, known)], most letters covered by
    known words, then fewest pieces. Unknown letters are grouped into one piece."""
    n = len(glued)
    longest = 24
    # best[i] = (cost, pieces) for glued[:i]; a known word costs 1, an unknown letter 3.
    best: list[tuple[int, list[tuple[str, bool]]] | None] = [None] * (n + 1)
    best[0] = (0, [])
    for i in range(n):
        if best[i] is None:
            continue
        cost, pieces = best[i]
        for j in range(i + 1, min(n, i + longest) + 1):
            piece = glued[i:j]
            if (len(piece) >= 2 or piece in {"a", "à", "y"}) and piece in vocabulary:
                candidate = (cost + 1, [*pieces, (piece, True)])
                if best[j] is None or candidate[0] < best[j][0]:
                    best[j] = candidate
        if pieces and not pieces[-1][1]:
            merged = [*pieces[:-1], (pieces[-1][0] + glued[i], False)]
        else:
            merged = [*pieces, (glued[i], False)]
        candidate = (cost + 3, merged)
        if best[i + 1] is None or candidate[0] < best[i + 1][0]:
            best[i + 1] = candidate
    return best[n][1] if best[n] else [(glued, False)]


def hashtag_words(tag: str) -> tuple[list[str], bool]:
    """The words of a hashtag (without #), folded, and whether some piece is unknown.

    #IranElection and #AttentatParis split on case; #attentatparis through the vocabulary."""
    parts = _CAMEL.findall(tag)
    if len(parts) > 1 and any(p[0].isupper() for p in parts[1:]):
        return [fold(p) for p in parts], False
    words: list[str] = []
    unknown = False
    for chunk in re.findall(r"[^\W\d_]+|\d+", fold(tag)):
        if chunk.isdigit():
            words.append(chunk)
            continue
        for piece, known in segment(chunk, segmentation_vocabulary()):
            words.append(piece)
            unknown = unknown or not known
    return words, unknown


def tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    for match in _TOKEN_OR_TAG.finditer(text):
        tag = match.group(1)
        if tag is None:
            tokens.append(_Token(fold(match.group(0)), match.start(), match.end()))
            continue
        words, unknown = hashtag_words(tag)
        whole = fold(tag)
        if words != [whole]:
            # The glued form as well, for entries such as "jesuischarlie".
            tokens.append(_Token(whole, match.start(), match.end(), True, False))
        tokens.extend(_Token(w, match.start(), match.end(), True, unknown) for w in words)
    return tokens


def _span_of(tokens: Sequence[_Token], first: int, last: int) -> tuple[int, int]:
    return tokens[first].start, tokens[last - 1].end


# --- promotion --------------------------------------------------------------------------------

_PROMO = re.compile(
    r"(?i)(?<![\w])(?:promo(?:tion)?s?|soldes?|offres?\s+(?:spéciale?s?|exclusive?s?|limitée?s?)"
    r"|code\s*(?:promo|de\s+réduction)?\s*[:=]?\s*[A-Z0-9]{3,}|codes?\s+promo|achetez|commandez|profitez"
    r"|réductions?|remises?|rabais|prix\s+(?:cassés?|barrés?|mini)|livraison\s+(?:offerte|gratuite)"
    r"|bon\s+plan|vente\s+privée|black\s*friday|cyber\s*monday|buy\s+now|shop\s+now|order\s+now"
    r"|discounts?|sale|deals?|coupon|free\s+shipping|limited\s+offer|% off|sur\s+tout\s+le\s+site)(?![\w])"
    r"|-\s?\d{1,2}\s?%|\d{1,2}\s?%\s+(?:de\s+réduction|off|sur)"
)
_SHOP_LINK = re.compile(
    r"(?i)(?:https?://|www\.)\S*(?:/shop|/boutique|/produit|/product|/promo|/soldes|/cart)"
)


def promotional_cues(text: str) -> list[tuple[int, int]]:
    cues = [(m.start(), m.end()) for m in _PROMO.finditer(text)]
    cues += [(m.start(), m.end()) for m in _SHOP_LINK.finditer(text)]
    return sorted(cues)


def is_promotional(text: str, campaign_kind: str = "") -> bool:
    """A post sells when its campaign is an offer or a contest, or when its words do."""
    return campaign_kind in PROMOTIONAL_CAMPAIGNS or bool(promotional_cues(text))


def _promotional(text: str, context: GuardrailContext) -> bool:
    if context.promotional is not None:
        return context.promotional
    return is_promotional(text, context.campaign_kind)


# --- the checks -------------------------------------------------------------------------------

_CATEGORY_LABELS = {
    "war": lambda: _("war"),
    "terrorism": lambda: _("terrorism"),
    "violence": lambda: _("violence"),
    "disaster": lambda: _("disasters"),
    "accident": lambda: _("accidents"),
    "death": lambda: _("death and mourning"),
    "election": lambda: _("elections and political crises"),
    "unrest": lambda: _("riots and unrest"),
    "epidemic": lambda: _("epidemics"),
    "organisation": lambda: _("marked sensitive by your organisation"),
}


def category_label(category: str) -> str:
    label = _CATEGORY_LABELS.get(category)
    return label() if label else category


def check_sensitive(
    text: str, context: GuardrailContext, tokens: list[_Token] | None = None
) -> list[Finding]:
    tokens = tokens if tokens is not None else tokenize(text)
    promotional = _promotional(text, context)
    lexicons = [sensitive_lexicon()]
    if context.organisation_sensitive_terms:
        lexicons.append(_organisation_lexicon(tuple(context.organisation_sensitive_terms), "organisation"))
    findings: list[Finding] = []
    seen: set[tuple[int, int]] = set()
    for lexicon in lexicons:
        for term, first, last in lexicon.match(tokens):
            span = _span_of(tokens, first, last)
            if span in seen:
                continue
            piece = tokens[first:last]
            # In a glued hashtag with unknown pieces, a short word is more likely part of another
            # word (#warriors) than the topic.
            if any(t.glued_unknown for t in piece) and term.letters < 5:
                continue
            seen.add(span)
            words = text[span[0] : span[1]]
            hashtag = words.startswith("#")
            params = {"words": words, "category": term.category, "term": term.term, "hashtag": hashtag}
            topic = category_label(term.category)
            if promotional:
                explanation = _(
                    "“%(words)s” touches a sensitive topic (%(topic)s). A promotion next to it reads as "
                    "selling on a tragedy or a crisis, the classic bad buzz: remove it, or keep the "
                    "promotion for another day."
                ) % {"words": words, "topic": topic}
                severity = BLOCK
            else:
                explanation = _(
                    "“%(words)s” touches a sensitive topic (%(topic)s). Check that the brand has "
                    "something to say on it and that the tone fits; never use it for reach."
                ) % {"words": words, "topic": topic}
                severity = WARN
            findings.append(Finding(SENSITIVE, severity, explanation, span, params))
    return findings


def check_trending(text: str, context: GuardrailContext, tokens: list[_Token] | None = None) -> list[Finding]:
    tragic = [t for t in context.trending if t.term.strip() and t.negative_share >= TRENDING_NEGATIVE_SHARE]
    if not tragic:
        return []
    tokens = tokens if tokens is not None else tokenize(text)
    lexicon = _organisation_lexicon(tuple(t.term for t in tragic), "trending")
    shares = {fold(t.term).strip(): t.negative_share for t in tragic}
    promotional = _promotional(text, context)
    findings = []
    seen: set[tuple[int, int]] = set()
    for term, first, last in lexicon.match(tokens):
        span = _span_of(tokens, first, last)
        if span in seen:
            continue
        seen.add(span)
        words = text[span[0] : span[1]]
        share = shares.get(fold(term.term).strip(), 0.0)
        params = {"words": words, "term": term.term, "negative_share": round(share, 2)}
        values = {"words": words, "share": round(share * 100)}
        if promotional:
            explanation = (
                _(
                    "“%(words)s” is trending right now and %(share)s%% of what is said about it is "
                    "negative. Riding it with a promotion looks opportunistic: remove it."
                )
                % values
            )
            severity = BLOCK
        else:
            explanation = (
                _(
                    "“%(words)s” is trending right now and %(share)s%% of what is said about it is "
                    "negative. Read the conversation before joining it."
                )
                % values
            )
            severity = WARN
        findings.append(Finding(TRENDING, severity, explanation, span, params))
    return findings


def check_promotion_ratio(text: str, context: GuardrailContext) -> list[Finding]:
    if not _promotional(text, context):
        return []
    window = max(context.promotion_window, 1)
    recent = list(context.recent_posts)[: window - 1]
    if len(recent) < 3:
        return []  # too few posts to speak of a stream
    promotional = 1 + sum(1 for post in recent if post.promotional)
    total = 1 + len(recent)
    share = promotional / total
    if share <= context.promotion_share:
        return []
    values = {"count": promotional, "total": total, "share": round(share * 100)}
    explanation = (
        _(
            "With this post, %(count)s of the channel's last %(total)s posts would promote (%(share)s%%). "
            "A channel that only sells stops being read: alternate with a question, a behind-the-scenes "
            "story or an answer to the community."
        )
        % values
    )
    return [Finding(PROMOTION_RATIO, WARN, explanation, None, values)]


def _similarity_texts(text: str) -> str:
    return _URL.sub(" ", text).lower()


def similarities(text: str, others: Sequence[str]) -> list[float]:
    """Cosine similarity of `text` with each of `others` (TF-IDF on character n-grams), links left out."""
    return similarity.similarities(_similarity_texts(text), [_similarity_texts(o) for o in others])


def _excerpt(text: str, length: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= length else text[: length - 1] + "…"


def check_similarity(text: str, context: GuardrailContext) -> list[Finding]:
    findings = []
    if len(text.strip()) < 20:
        return findings  # "Merci !" resembles every other "Merci !"
    competitors = list(context.competitor_texts)
    if competitors:
        scores = similarities(text, competitors)
        best = max(range(len(scores)), key=scores.__getitem__)
        score = scores[best]
        if score >= COMPETITOR_WARN:
            values = {"score": round(score * 100), "excerpt": _excerpt(competitors[best])}
            if score >= COMPETITOR_BLOCK:
                explanation = (
                    _(
                        "This post is %(score)s%% similar to a competitor's recent post (“%(excerpt)s”). "
                        "A copy is noticed and mocked: write it in the brand's own words."
                    )
                    % values
                )
                findings.append(Finding(COMPETITOR_COPY, BLOCK, explanation, None, values))
            else:
                explanation = (
                    _(
                        "This post is close to a competitor's recent post (%(score)s%%, “%(excerpt)s”). "
                        "Make it more clearly the brand's own."
                    )
                    % values
                )
                findings.append(Finding(COMPETITOR_COPY, WARN, explanation, None, values))
    own = [p.text for p in context.recent_posts]
    if own:
        scores = similarities(text, own)
        best = max(range(len(scores)), key=scores.__getitem__)
        if scores[best] >= OWN_WARN:
            values = {"score": round(scores[best] * 100), "excerpt": _excerpt(own[best])}
            explanation = (
                _(
                    "This post repeats one the channel published recently (%(score)s%% similar: "
                    "“%(excerpt)s”). Followers notice copy-paste: say something new or change the angle."
                )
                % values
            )
            findings.append(Finding(OWN_DUPLICATE, WARN, explanation, None, values))
    return findings


def check_stuffing(text: str, context: GuardrailContext) -> list[Finding]:
    findings = []
    tags = list(_HASHTAG.finditer(text))
    words = _WORD.findall(_HASHTAG.sub(" ", _URL.sub(" ", text)))
    if tags and (
        len(tags) > MAX_HASHTAGS
        or (len(tags) >= 3 and len(tags) / (len(tags) + len(words)) > HASHTAG_WORD_SHARE)
    ):
        values = {"count": len(tags), "most": MAX_HASHTAGS}
        explanation = (
            _(
                "%(count)s hashtags: a post stuffed with hashtags reads as spam and reaches fewer people. "
                "Keep the one or two that people really follow (at most %(most)s)."
            )
            % values
        )
        findings.append(
            Finding(HASHTAG_STUFFING, WARN, explanation, (tags[0].start(), tags[-1].end()), values)
        )
    emoji = list(_EMOJI.finditer(text))
    if emoji and (
        len(emoji) > MAX_EMOJI or (len(emoji) >= 4 and len(emoji) / (len(emoji) + len(words)) > EMOJI_SHARE)
    ):
        values = {"count": len(emoji)}
        explanation = (
            _(
                "%(count)s emoji: a string of smileys reads as filler, not as a person talking. "
                "Keep one or two that add meaning."
            )
            % values
        )
        findings.append(
            Finding(EMOJI_STUFFING, WARN, explanation, (emoji[0].start(), emoji[-1].end()), values)
        )
    for match in _FF.finditer(text):
        explanation = _(
            "%(tag)s lists of accounts are the auto-generated filler of the 2010s. If someone deserves "
            "a mention, say why in a sentence of your own."
        ) % {"tag": match.group(0)}
        findings.append(
            Finding(FF_FILLER, WARN, explanation, (match.start(), match.end()), {"tag": match.group(0)})
        )
        break
    return findings


# Capitalised words that are not shouting.
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


def check(text: str, context: GuardrailContext | None = None, *, moderation_decision: Any = None) -> Verdict:
    """Every guardrail on one text."""
    context = context or GuardrailContext()
    tokens = tokenize(text)
    findings: list[Finding] = []
    findings += check_spokesperson(text, context)
    findings += check_sensitive(text, context, tokens)
    findings += check_trending(text, context, tokens)
    findings += check_charter(text, context, tokens)
    findings += check_toxic(text, context, moderation_decision)
    findings += check_similarity(text, context)
    findings += check_promotion_ratio(text, context)
    findings += check_stuffing(text, context)
    findings += check_shouting(text, context)
    findings += check_open_alerts(text, context)
    return verdict_of(findings)


def verdict_of(findings: Iterable[Finding]) -> Verdict:
    findings = tuple(findings)
    worst = max((f.severity for f in findings), key=SEVERITY.__getitem__, default=PASS)
    return Verdict(worst, findings)
