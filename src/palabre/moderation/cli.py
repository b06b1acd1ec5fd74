"""`palabre check`: JSON lines in, one JSON line out per input line, in the same order.

Input fields: `text` (required), `id`, `lang`, `author`, `author_url`, `author_email`. A line that
cannot be read gets an `error` line with the same id (or its line number), never a crash.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO, Any

from palabre.moderation.engine import Author, ModerationContext, moderate_many

BATCH = 256
MAX_TEXT_CHARS = 100_000


def _parse(line_number: int, line: str) -> tuple[Any, dict | None, str]:
    """(id, request or None, error)."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as error:
        return line_number, None, f"invalid JSON: {error.msg} at column {error.colno}"
    if not isinstance(data, dict):
        return line_number, None, "each line must be a JSON object"
    item_id = data.get("id", line_number)
    text = data.get("text")
    if not isinstance(text, str):
        return item_id, None, "field `text` is required and must be a string"
    if len(text) > MAX_TEXT_CHARS:
        return item_id, None, f"field `text` is longer than {MAX_TEXT_CHARS} characters"
    return item_id, data, ""


def _context(data: dict, base: ModerationContext | None) -> ModerationContext:
    lang = data.get("lang") if isinstance(data.get("lang"), str) else None
    author = Author(
        name=str(data.get("author") or ""),
        url=str(data.get("author_url") or ""),
        email=str(data.get("author_email") or ""),
    )
    if base is None:
        return ModerationContext(lang=lang, author=author)
    return ModerationContext(
        lang=lang,
        author=author,
        rules=base.rules,
        thresholds=base.thresholds,
        spam_fingerprints=base.spam_fingerprints,
        ham_fingerprints=base.ham_fingerprints,
    )


def _answers(batch: list[tuple[Any, dict | None, str]], base: ModerationContext | None) -> Iterable[dict]:
    wanted = [(item_id, data) for item_id, data, _error in batch if data is not None]
    decisions = iter(moderate_many([d["text"] for _i, d in wanted], [_context(d, base) for _i, d in wanted]))
    for item_id, data, error in batch:
        if data is None:
            yield {"id": item_id, "error": error}
            continue
        decision = next(decisions)
        yield {
            "id": item_id,
            "action": decision.action,
            "scores": decision.scores,
            "language": decision.language,
            "reasons": [reason.message for reason in decision.reasons],
        }


def check_stream(source: IO[str], sink: IO[str], *, org_slug: str = "") -> int:
    base = _organisation_context(org_slug) if org_slug else None
    count = 0
    batch: list[tuple[Any, dict | None, str]] = []
    for line_number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        batch.append(_parse(line_number, line))
        if len(batch) >= BATCH:
            count += _flush(batch, base, sink)
            batch = []
    count += _flush(batch, base, sink)
    return count


def _flush(batch, base, sink) -> int:
    for answer in _answers(batch, base):
        sink.write(json.dumps(answer, ensure_ascii=False) + "\n")
    sink.flush()
    return len(batch)


def _organisation_context(org_slug: str) -> ModerationContext:
    from palabre.cli import _setup_django

    _setup_django()
    from palabre.moderation.services import organisation_context
    from palabre.orgs.models import Organisation

    organisation = Organisation.objects.filter(slug=org_slug).first()
    if organisation is None:
        raise SystemExit(f"No organisation with the short name {org_slug!r}.")
    return organisation_context(organisation)
