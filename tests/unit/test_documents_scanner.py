"""``documents._loads``: a trust policy's JSON text read by the C scanner alone must answer exactly what
``json.loads`` answers, the same value or the same error, on every text ``decode_policy_document`` hands it
(already stripped of surrounding whitespace)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iamwarden.domain import documents
from iamwarden.domain.documents import PolicyKind, decode_policy_document
from iamwarden.domain.exceptions import InvalidEventError
from tests.policy_corpus import corpus_documents


def _outcome(read: Any, text: str) -> tuple[str, object]:
    try:
        return "value", read(text)
    except RecursionError:
        return "error", "RecursionError"
    except ValueError as exc:
        return "error", f"{type(exc).__name__}: {exc}"


def _assert_as_json_loads(text: str) -> None:
    mine = _outcome(documents._loads, text)
    assert mine == _outcome(json.loads, text)
    if mine[0] == "value":  # equal, and of the same types all the way down (1 is not 1.0 is not True)
        assert repr(mine[1]) == repr(json.loads(text))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{",
        "}",
        "[]",
        '"text"',
        "7",
        "null",
        '{"Statement": []}',
        '{"Statement": []} extra',
        '{"Statement": []}{"Statement": []}',
        '{"Statement": []}\x00',
        '\ufeff{"Statement": []}',
        '{"a": NaN, "b": Infinity, "c": -Infinity}',
        '{"a": 1, "a": 2}',
        '{"a": 1.0, "b": 1, "c": true, "d": 1e400}',
        '{"a": "\\ud800"}',
        '{"a": "\\u00e9\\n"}',
        '{"a": [1, 2,]}',
        "{'a': 1}",
        "[" * 100_000 + "]" * 100_000,
    ],
)
def test_the_scanner_answers_as_json_loads(text: str) -> None:
    _assert_as_json_loads(text)


def test_every_corpus_document_reads_back_as_json_loads_reads_it() -> None:
    texts = [json.dumps(document) for document in corpus_documents()]
    assert len(texts) > 100
    for text in texts:
        _assert_as_json_loads(text)
        _assert_as_json_loads(text + " x")


_json_values = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
)


@settings(max_examples=300, deadline=None)
@given(_json_values)
def test_a_generated_value_reads_back_as_json_loads_reads_it(value: object) -> None:
    text = json.dumps(value)
    _assert_as_json_loads(text)
    _assert_as_json_loads(text[:-1])  # cut short: the same error


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet='{}[]":,0123456789.eE+-tfnrulsaNI \\\n', max_size=30))
def test_generated_almost_json_reads_as_json_loads_reads_it(text: str) -> None:
    _assert_as_json_loads(text.strip())


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"Statement": []} extra', "does not parse as JSON: Extra data: line 1 column 19"),
        ("\ufeff{}", "does not parse as JSON: Unexpected UTF-8 BOM"),
        ("{", "does not parse as JSON: Expecting property name enclosed in double quotes"),
        ('["Statement"]', "must be a JSON object, got a list"),
    ],
)
def test_a_trust_policy_that_is_not_one_is_refused_with_json_loads_words(text: str, message: str) -> None:
    with pytest.raises(InvalidEventError, match=message.replace("(", r"\(")):
        decode_policy_document(text, PolicyKind.TRUST, field="policy")
