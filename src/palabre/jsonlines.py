"""JSON-lines commands (`palabre check`, `palabre triage`): one answer line per input line, in order.

Each input line is a JSON object with a `text` string and optionally `id`, `lang`...; a line that
cannot be read is answered with an `error` and the same id (or its line number), never a crash.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import IO, Any

BATCH = 256
MAX_TEXT_CHARS = 100_000

Request = tuple[Any, dict | None, str]  # (id, the object or None, error)
BatchHandler = Callable[[list[dict]], Iterable[dict]]


def parse_line(line_number: int, line: str) -> Request:
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
    lang = data.get("lang")
    if lang is not None and not isinstance(lang, str):
        return item_id, None, "field `lang` must be a string"
    return item_id, data, ""


def answer_stream(source: IO[str], sink: IO[str], handle: BatchHandler) -> int:
    """Answer every line of `source` on `sink`; `handle` gets the valid objects of a batch, in order,
    and yields one answer (without id) for each."""
    count = 0
    batch: list[Request] = []
    for line_number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        batch.append(parse_line(line_number, line))
        if len(batch) >= BATCH:
            count += _flush(batch, sink, handle)
            batch = []
    return count + _flush(batch, sink, handle)


def _flush(batch: list[Request], sink: IO[str], handle: BatchHandler) -> int:
    answers = iter(handle([data for _id, data, _error in batch if data is not None]))
    for item_id, data, error in batch:
        answer = {"error": error} if data is None else next(answers)
        sink.write(json.dumps({"id": item_id, **answer}, ensure_ascii=False) + "\n")
    sink.flush()
    return len(batch)
