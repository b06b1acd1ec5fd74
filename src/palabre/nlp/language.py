"""Language identification: ISO 639-1 code, or "und" when unsure."""

from __future__ import annotations

import re
import threading

__all__ = ["detect_language", "detect_languages", "SUPPORTED"]

SUPPORTED = ("fr", "en", "es", "de", "it", "pt", "nl", "ar", "tr", "ru", "pl")

# Cheap path for a few words, where a statistical model guesses: frequent function
# words that French and English do not share.
_FR = frozenset(
    [
        "le",
        "la",
        "les",
        "un",
        "une",
        "des",
        "du",
        "de",
        "et",
        "est",
        "je",
        "tu",
        "il",
        "elle",
        "nous",
        "vous",
        "ils",
        "elles",
        "ce",
        "cette",
        "ces",
        "mon",
        "ma",
        "mes",
        "ton",
        "ta",
        "tes",
        "son",
        "sa",
        "ses",
        "pas",
        "ne",
        "que",
        "qui",
        "quoi",
        "pour",
        "avec",
        "sur",
        "dans",
        "au",
        "aux",
        "mais",
        "ou",
        "donc",
        "car",
        "tres",
        "merci",
        "bonjour",
        "salut",
        "oui",
        "non",
        "c",
        "est",
        "j",
        "ai",
        "suis",
        "sont",
        "bien",
        "trop",
        "vraiment",
        "aussi",
        "encore",
        "rien",
        "tout",
        "tous",
        "quand",
        "comme",
        "alors",
        "ça",
        "ca",
        "pourquoi",
    ]
)
_EN = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "is",
        "are",
        "was",
        "were",
        "i",
        "you",
        "he",
        "she",
        "we",
        "they",
        "it",
        "this",
        "that",
        "these",
        "those",
        "my",
        "your",
        "his",
        "her",
        "our",
        "their",
        "not",
        "no",
        "yes",
        "to",
        "of",
        "in",
        "on",
        "for",
        "with",
        "at",
        "by",
        "from",
        "but",
        "or",
        "so",
        "very",
        "thanks",
        "thank",
        "hello",
        "hi",
        "please",
        "what",
        "why",
        "how",
        "when",
        "who",
        "all",
        "just",
        "too",
        "really",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "be",
        "been",
        "can",
        "will",
        "would",
    ]
)
_WORD = re.compile(r"[^\W\d_]+")
_NOISE = re.compile(r"https?://\S+|www\.\S+|[@#]\w+|\S+@\S+")

_lock = threading.Lock()
_detector = None


def _get_detector():
    global _detector
    if _detector is None:
        with _lock:
            if _detector is None:
                from lingua import IsoCode639_1, LanguageDetectorBuilder

                codes = [getattr(IsoCode639_1, c.upper()) for c in SUPPORTED]
                _detector = (
                    LanguageDetectorBuilder.from_iso_codes_639_1(*codes)
                    .with_minimum_relative_distance(0.1)
                    .build()
                )
    return _detector


def _read(text: str) -> str:
    """What the detection reads of a text: its first 2,000 characters, links, addresses, mentions
    and hashtags blanked."""
    return _NOISE.sub(" ", text[:2000])


def detect_language(text: str) -> str:
    """Best guess among SUPPORTED, "und" when the text is too short or ambiguous."""
    if not isinstance(text, str) or not text:
        return "und"
    return _detect(_read(text))


def detect_languages(texts: list[str]) -> list[str]:
    """`detect_language` of each text, each distinct reading detected once: texts that differ only
    by their links, mentions or hashtags (a spam wave, a re-delivery) get one answer, the one each
    would get alone."""
    found: dict[str, str] = {}
    out = []
    for text in texts:
        if not isinstance(text, str) or not text:
            out.append("und")
            continue
        read = _read(text)
        language = found.get(read)
        if language is None:
            language = found[read] = _detect(read)
        out.append(language)
    return out


def _detect(text: str) -> str:
    words = [w.lower() for w in _WORD.findall(text)]
    letters = sum(len(w) for w in words)
    if letters < 3:
        return "und"
    if len(words) <= 4:
        fr = sum(w in _FR for w in words)
        en = sum(w in _EN for w in words)
        if fr > en:
            return "fr"
        if en > fr:
            return "en"
        if letters < 12:
            return "und"
    try:
        lang = _get_detector().detect_language_of(text)
    except Exception:  # the detector must never break moderation
        return "und"
    if lang is None:
        return "und"
    return lang.iso_code_639_1.name.lower()


def french_or_english(text: str) -> str | None:
    """French ("fr") or English ("en") when the function words of one clearly outnumber the other's (at least two,
    and three times as many), else None: a cheap answer for rules that only need to tell French
    from English, without loading the statistical detector."""
    if not isinstance(text, str) or not text:
        return None
    words = [w.lower() for w in _WORD.findall(_NOISE.sub(" ", text[:2000]))]
    fr = sum(w in _FR for w in words)
    en = sum(w in _EN for w in words)
    if fr >= 2 and fr >= 3 * en:
        return "fr"
    if en >= 2 and en >= 3 * fr:
        return "en"
    return None
