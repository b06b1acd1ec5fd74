"""JSON-lines commands (`palabre check`, `palabre triage`, `palabre guardrails check`): one answer
line per input line, in order, always.

Each input line is a JSON object with a `text` string and optionally `id`, `lang`...; a line that
cannot be read (blank, not JSON, nested too deep, `NaN`, not an object) is answered with an `error`
and the same id (or its line number), never a crash. Lines end at `\\n` only (a stray carriage
return inside a line does not split it). Every line written is valid JSON: non-finite numbers are
refused on reading, and a text the handler cannot answer gets its own error line.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import IO, Any

logger = logging.getLogger(__name__)

BATCH = 256
MAX_TEXT_CHARS = 100_000

Request = tuple[Any, dict | None, str]  # (id, the object or None, error)
BatchHandler = Callable[[list[dict]], Iterable[dict]]


class _NotJSON(ValueError):
    pass


def _refuse_constant(name: str) -> Any:
    raise _NotJSON(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _NotJSON(f"{text} is too large a number")
    return value


def parse_line(line_number: int, line: str) -> Request:
    if not line.strip():
        return line_number, None, "empty line: each line must be a JSON object"
    try:
        data = json.loads(line, parse_constant=_refuse_constant, parse_float=_finite_float)
    except json.JSONDecodeError as error:
        return line_number, None, f"invalid JSON: {error.msg} at column {error.colno}"
    except _NotJSON as error:
        return line_number, None, f"invalid JSON: {error}"
    except RecursionError:
        return line_number, None, "invalid JSON: nested too deep"
    except ValueError as error:  # an integer of more digits than Python converts
        return line_number, None, f"invalid JSON: {error}"
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
        batch.append(parse_line(line_number, line))
        if len(batch) >= BATCH:
            count += _flush(batch, sink, handle)
            batch = []
    return count + _flush(batch, sink, handle)


@contextmanager
def opened(path: str | None, *, command: str) -> Iterator[IO[str]]:
    """The lines to answer: the file at `path`, or stdin when empty; stdout set to UTF-8. Invalid
    UTF-8 must not stop a stream of thousands of lines: bad bytes become U+FFFD. A file that cannot
    be opened ends the command with one line on stderr and exit status 1."""
    sys.stdout.reconfigure(encoding="utf-8")
    if not path:
        sys.stdin.reconfigure(encoding="utf-8", errors="replace", newline="\n")
        yield sys.stdin
        return
    try:
        source = open(path, encoding="utf-8", errors="replace", newline="\n")  # noqa: SIM115
    except OSError as error:
        raise SystemExit(f"palabre {command}: cannot read {path}: {error.strerror or error}") from None
    with source:
        yield source


def _answers(handle: BatchHandler, valid: list[dict]) -> list[dict]:
    """One answer per valid object: when the batch fails, each object is tried alone, and one that
    still fails is answered with its error."""
    if not valid:
        return []
    try:
        answers = list(handle(valid))
        if len(answers) == len(valid):
            return answers
        raise RuntimeError(f"{len(answers)} answers for {len(valid)} lines")
    except Exception:
        if len(valid) == 1:
            logger.exception("A line could not be answered")
            return [{"error": "this line could not be answered (see the log)"}]
    return [_answers(handle, [one])[0] for one in valid]


def _dumps(answer: dict) -> str:
    try:
        line = json.dumps(answer, ensure_ascii=False, allow_nan=False)
        line.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (`"\ud800"` in the input): escaped, still JSON
        line = json.dumps(answer, allow_nan=False)
    return line


def _flush(batch: list[Request], sink: IO[str], handle: BatchHandler) -> int:
    answers = iter(_answers(handle, [data for _id, data, _error in batch if data is not None]))
    for item_id, data, error in batch:
        answer = {"error": error} if data is None else next(answers)
        try:
            line = _dumps({"id": item_id, **answer})
        except (ValueError, TypeError, RecursionError):  # NaN or an odd type in an answer
            logger.exception("The answer to a line is not JSON")
            unwritten = {"error": "the answer to this line could not be written as JSON"}
            try:
                line = _dumps({"id": item_id, **unwritten})
            except (ValueError, TypeError, RecursionError):  # the id itself (nested too deep)
                line = _dumps({"id": None, **unwritten})
        sink.write(line + "\n")
    sink.flush()
    return len(batch)
