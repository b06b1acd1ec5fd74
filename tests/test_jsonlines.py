"""The JSON-lines reader of `palabre check`, `triage` and `guardrails check`: one answer line per
input line, each valid JSON, whatever the lines are."""

from __future__ import annotations

import io
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from palabre.jsonlines import BATCH, answer_stream


def _echo(batch: list[dict]):
    return ({"length": len(data["text"])} for data in batch)


def answered(text: str, handle=_echo) -> list[dict]:
    sink = io.StringIO()
    count = answer_stream(io.StringIO(text, newline="\n"), sink, handle)
    lines = sink.getvalue().split("\n")
    assert lines[-1] == ""
    assert count == len(lines) - 1
    # json.loads accepts NaN; a strict reader does not: refuse it here too.
    return [json.loads(line, parse_constant=_not_json) for line in lines[:-1]]


def _not_json(name: str):
    raise AssertionError(f"{name} written")


def test_a_deeply_nested_line_is_answered_and_the_lines_after_it_too():
    nested = "[" * 100_000 + "]" * 100_000
    deep_object = '{"id": 1, "text": "x", "more": ' + "[" * 50_000 + "]" * 50_000 + "}"
    answers = answered(
        f'{{"id": "a", "text": "bonjour"}}\n{nested}\n{deep_object}\n{{"id": "b", "text": "ok"}}\n'
    )
    assert answers[0] == {"id": "a", "length": 7}
    assert answers[1] == {"id": 2, "error": "invalid JSON: nested too deep"}
    assert answers[2] == {"id": 3, "error": "invalid JSON: nested too deep"}
    assert answers[3] == {"id": "b", "length": 2}


def test_blank_lines_are_answered_with_their_line_number():
    answers = answered('{"id": 1, "text": "a"}\n\n   \n{"text": "b"}\n')
    assert [answer["id"] for answer in answers] == [1, 2, 3, 4]
    assert answers[1]["error"].startswith("empty line")
    assert answers[2]["error"].startswith("empty line")
    assert answers[3] == {"id": 4, "length": 1}


def test_nan_and_infinite_numbers_are_refused_so_every_line_written_is_json():
    answers = answered(
        '{"id": NaN, "text": "a"}\n{"id": -Infinity, "text": "a"}\n{"id": 1e999, "text": "a"}\n'
        '{"id": 1.5, "text": "a"}\n'
    )
    assert [answer["id"] for answer in answers] == [1, 2, 3, 1.5]
    assert answers[0]["error"] == "invalid JSON: NaN is not a JSON number"
    assert answers[1]["error"] == "invalid JSON: -Infinity is not a JSON number"
    assert answers[2]["error"] == "invalid JSON: 1e999 is too large a number"


def test_a_carriage_return_does_not_split_a_line_and_a_lone_surrogate_is_escaped():
    answers = answered('{"id": 1, "text": "a"}\r\n{"id": 2,\r "text": "b"}\n{"id": "\\ud800", "text": "c"}\n')
    assert answers == [{"id": 1, "length": 1}, {"id": 2, "length": 1}, {"id": "\ud800", "length": 1}]


def test_a_line_the_handler_cannot_answer_gets_an_error_and_the_others_their_answer():
    def fussy(batch: list[dict]):
        for data in batch:
            if data["text"] == "boom":
                raise RuntimeError("the model failed")
            yield {"ok": True, "nan": float("nan")} if data["text"] == "nan" else {"ok": True}

    answers = answered(
        '{"id": 1, "text": "a"}\n{"id": 2, "text": "boom"}\n{"id": 3, "text": "nan"}\n{"id": 4, "text": "b"}\n',
        fussy,
    )
    assert answers[0] == {"id": 1, "ok": True}
    assert answers[1] == {"id": 2, "error": "this line could not be answered (see the log)"}
    assert answers[2] == {"id": 3, "error": "the answer to this line could not be written as JSON"}
    assert answers[3] == {"id": 4, "ok": True}


def test_batches_keep_the_order_over_many_lines():
    lines = "".join(json.dumps({"id": n, "text": "x" * (n % 7)}) + "\n" for n in range(BATCH * 2 + 3))
    answers = answered(lines)
    assert [answer["id"] for answer in answers] == list(range(BATCH * 2 + 3))
    assert all(answer["length"] == answer["id"] % 7 for answer in answers)


_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)
_objects = st.fixed_dictionaries(
    {"text": st.text(max_size=40)}, optional={"id": _json_values, "lang": _json_values}
).map(json.dumps)
_lines = st.one_of(
    _objects,
    _json_values.map(json.dumps),
    st.text(alphabet=st.characters(blacklist_characters="\n"), max_size=60),
    st.sampled_from(["", " ", "NaN", '{"id": NaN, "text": "x"}', "[" * 5000, '{"text": 1e400}', "\r", "{"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_lines, max_size=12))
def test_any_lines_get_exactly_one_json_answer_each(lines):
    text = "".join(line + "\n" for line in lines)
    answers = answered(text)
    assert len(answers) == len(lines)
    for number, answer in enumerate(answers, start=1):
        assert isinstance(answer, dict) and "id" in answer
        assert ("error" in answer) != ("length" in answer)
        if "error" in answer and answer["error"].startswith(("invalid JSON", "empty line", "each line")):
            assert answer["id"] == number
