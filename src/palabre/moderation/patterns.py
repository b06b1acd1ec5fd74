"""Organisation regular expressions, run by RE2 so that no pattern can freeze the server.

Python's `re` backtracks: a rule such as `(a+)+$` takes minutes on a few dozen characters, and one
organisation's rule would stall every organisation's requests. RE2 (google-re2) matches in time
linear in the text, and refuses what it cannot run that way (back-references, lookarounds, atomic
groups, possessive quantifiers); those patterns are refused when a rule is written, with the reason.

RE2's `\\w`, `\\d`, `\\s` and `\\b` are ASCII-only; French text needs the Unicode meaning Python gives
them, so the classes are rewritten to Unicode properties, and a `\\b` at either end of the pattern
or of a top-level alternative (`\\bcafé\\b`, the common case) is rewritten to a Unicode boundary. A `\\b` inside a pattern keeps
RE2's ASCII meaning (documented in docs/moderation-rules.md).

Pure: no database.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import re2

log = logging.getLogger(__name__)

# How much of a message a rule pattern sees: the first characters only. RE2 is linear, so this
# bounds the work of one pattern on one message (a comment may be 100,000 characters long).
MAX_PATTERN_TEXT = 20_000

# A word entry starting with this is a pattern in the lexicons' syntax (nlp.lexicon), which Python's
# `re` runs: the curated lexicons may use it, an organisation's word rule may not.
WORD_REGEX_PREFIX = "re:"

_WORD = r"\p{L}\p{N}_"
# Python's Unicode whitespace: ASCII controls, NEL and every separator (no-break spaces included,
# which French typography puts before : ; ? !).
_SPACE = r"\t\n\x{0B}\f\r\x{1C}-\x{1F} \x{85}\p{Z}"
_OUTSIDE = {
    "w": f"[{_WORD}]",
    "W": f"[^{_WORD}]",
    "d": r"\p{Nd}",
    "D": r"\P{Nd}",
    "s": f"[{_SPACE}]",
    "S": f"[^{_SPACE}]",
}
# Inside a class only the positive ones can be widened (a union); `[\W]` and `[\S]` stay ASCII.
_INSIDE = {"w": _WORD, "d": r"\p{Nd}", "D": r"\P{Nd}", "s": _SPACE}
_START_BOUNDARY = rf"(?:^|[^{_WORD}])"
_END_BOUNDARY = rf"(?:$|[^{_WORD}])"


class PatternRefused(ValueError):
    """A pattern RE2 cannot run; `reason` says why, in English (the services translate)."""

    def __init__(self, code: str, detail: str = ""):
        self.code = code
        self.detail = detail
        super().__init__(f"{code}: {detail}" if detail else code)


@dataclass(frozen=True)
class RulePattern:
    """A compiled organisation pattern. `search` answers the span of the first match, or None."""

    source: str
    regexp: Any
    # The groups that hold the match when rewritten boundaries consume a character around it (one
    # per top-level alternative); none: the whole match.
    groups: tuple[int, ...] = ()

    def search(self, text: str) -> tuple[int, int] | None:
        match = self.regexp.search(text[:MAX_PATTERN_TEXT])
        if match is None:
            return None
        for group in self.groups:
            start, end = match.span(group)
            if start != -1:
                return start, end
        return match.span()


def _tokens(pattern: str) -> list[tuple[str, str]]:
    """The pattern as (RE2 text, kind) tokens, with Unicode classes.

    kind: "word" (an atom that always consumes a word character), "boundary" (`\\b`), "plus" (a
    quantifier that repeats at least once), "or" (a top-level `|`), "other"."""
    tokens: list[tuple[str, str]] = []
    depth = 0
    i, n = 0, len(pattern)
    while i < n:
        char = pattern[i]
        if char == "\\" and i + 1 < n:
            letter = pattern[i + 1]
            i += 2
            if letter in _OUTSIDE:
                tokens.append((_OUTSIDE[letter], "word" if letter in "wd" else "other"))
            elif letter == "b":
                tokens.append((r"\b", "boundary"))
            elif letter.isalnum() or letter == "_":
                # \p{..}, \x{..}, \Q..\E and the like: copied as written, RE2 reads them.
                tokens.append(("\\" + letter, "other"))
            else:
                tokens.append(("\\" + letter, "word" if letter == "_" else "other"))
        elif char == "[":
            end, text = _char_class(pattern, i)
            tokens.append((text, "other"))
            i = end
        elif char in "+*?{":
            end = i + 1
            if char == "{":
                close = pattern.find("}", i)
                end = close + 1 if close != -1 else i + 1
            if end < n and pattern[end] == "?":
                end += 1
            quantifier = pattern[i:end]
            at_least_once = char == "+" or (
                char == "{" and quantifier[1:2].isdigit() and quantifier[1] != "0"
            )
            tokens.append((quantifier, "plus" if at_least_once else "other"))
            i = end
        else:
            if char == "(":
                depth += 1
            elif char == ")":
                depth = max(depth - 1, 0)
            if char == "|" and depth == 0:
                tokens.append((char, "or"))
            else:
                tokens.append((char, "word" if (char.isalnum() or char == "_") else "other"))
            i += 1
    return tokens


def _char_class(pattern: str, start: int) -> tuple[int, str]:
    """Rewrite the class opening at `start`; answer where it ends and its RE2 text."""
    out = ["["]
    i = start + 1
    if i < len(pattern) and pattern[i] == "^":
        out.append("^")
        i += 1
    if i < len(pattern) and pattern[i] == "]":  # a leading ] is a literal
        out.append(r"\]")
        i += 1
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            letter = pattern[i + 1]
            out.append(_INSIDE.get(letter, "\\" + letter))
            i += 2
        elif char == "[" and pattern.startswith("[:", i):
            close = pattern.find(":]", i)
            stop = close + 2 if close != -1 else i + 1
            out.append(pattern[i:stop])
            i = stop
        elif char == "]":
            out.append("]")
            return i + 1, "".join(out)
        else:
            out.append(char)
            i += 1
    return i, "".join(out)  # unclosed: RE2 says so


def _alternative(tokens: list[tuple[str, str]], name: str) -> tuple[str, bool]:
    """One top-level alternative, its edge `\\b` made Unicode where the atom next to it surely is
    a word character; the match itself in group `name`. Answers (RE2 text, rewritten)."""
    texts = [text for text, _kind in tokens]
    kinds = [kind for _text, kind in tokens]
    if len(tokens) < 2:
        return f"(?P<{name}>{''.join(texts)})", False
    # `\b` then an atom that surely consumes a word character (not made optional by `*`, `?`).
    leading = (
        kinds[0] == "boundary"
        and kinds[1] == "word"
        and not (len(kinds) > 2 and texts[2][:1] in "*?{" and kinds[2] != "plus")
    )
    trailing = kinds[-1] == "boundary" and (
        kinds[-2] == "word" or (kinds[-2] == "plus" and len(kinds) >= 3 and kinds[-3] == "word")
    )
    body = "".join(texts[1 if leading else 0 : -1 if trailing else None])
    prefix = _START_BOUNDARY if leading else ""
    suffix = _END_BOUNDARY if trailing else ""
    return f"(?:{prefix}(?P<{name}>{body}){suffix})", leading or trailing


def _rewrite(pattern: str) -> tuple[str, tuple[str, ...]]:
    alternatives: list[list[tuple[str, str]]] = [[]]
    for token in _tokens(pattern):
        if token[1] == "or":
            alternatives.append([])
        else:
            alternatives[-1].append(token)
    names = tuple(f"palabre_match_{index}" for index in range(len(alternatives)))
    rewritten = [_alternative(tokens, name) for tokens, name in zip(alternatives, names, strict=True)]
    if not any(changed for _text, changed in rewritten):
        return "|".join("".join(text for text, _kind in tokens) for tokens in alternatives), ()
    return "|".join(text for text, _changed in rewritten), names


def _options() -> Any:
    options = re2.Options()
    options.case_sensitive = False
    options.log_errors = False
    return options


def compile_rule_pattern(pattern: str) -> RulePattern:
    """Compile an organisation's pattern for RE2, ignoring case; raise PatternRefused if it cannot."""
    try:
        rewritten, groups = _rewrite(pattern)
        regexp = re2.compile(rewritten, _options())
    except re2.error as error:
        raise _refusal(pattern, error) from None
    return RulePattern(pattern, regexp, tuple(regexp.groupindex[name] for name in groups))


def _refusal(pattern: str, error: Exception) -> PatternRefused:
    detail = error.args[0] if error.args else ""
    if isinstance(detail, bytes):
        detail = detail.decode("utf-8", "replace")
    detail = str(detail)
    if "invalid escape sequence: \\" in detail and detail[-1:].isdigit() or "(?P=" in pattern:
        return PatternRefused("backreference", detail)
    for operator in ("(?=", "(?!", "(?<=", "(?<!"):
        if f"invalid perl operator: {operator}" in detail:
            return PatternRefused("lookaround", detail)
    if "(?>" in detail or "bad repetition operator: ++" in detail or "*+" in detail or "?+" in detail:
        return PatternRefused("atomic", detail)
    if "repetition" in detail or "too large" in detail:
        return PatternRefused("too_large", detail)
    return PatternRefused("invalid", detail)
