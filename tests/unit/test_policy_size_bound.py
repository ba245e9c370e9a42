"""A bucket-policy object seen for the first time is refused exactly as before, without always writing its JSON.

``load_policy`` used to write an object's compact JSON before parsing it, for the size check and to refuse
what JSON cannot hold. It now skips that JSON when the parse has checked every element and the marshal key
bounds the JSON's size within the limit (``documents._parse_object``). The reference below is the old order
(exact check, then parse); both are run on every policy document of the sample events and the escalation
corpora, and on generated documents full of what the bound and the element check must catch (sets, tuples,
numbers past ``int``'s string limit, control characters, non-string keys, sizes at the limit), and must give
the same typed policy or the same refusal, word for word.
"""

from __future__ import annotations

import marshal
from collections.abc import Mapping
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iamwarden.domain import documents
from iamwarden.domain.documents import (
    _JSON_BYTES_PER_MARSHAL_BYTE,
    PolicyKind,
    _check_size,
    _compact_or_invalid,
    document_size,
    load_policy,
)
from iamwarden.domain.exceptions import InvalidEventError
from iamwarden.domain.policy import Policy, parse_policy
from tests.policy_corpus import corpus_documents

ROOT = Path(__file__).resolve().parents[2]
KINDS = (PolicyKind.BUCKET, PolicyKind.QUEUE, PolicyKind.LOGS_DESTINATION, PolicyKind.TRUST)
PROPERTY = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# The generators' own description is long (Hypothesis warns when it would print it); the examples are what matter.
pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")


def _reference(value: Mapping[str, Any], kind: PolicyKind) -> Policy:
    """The old first sight of an object: the exact size check on its compact JSON, then the parse of a copy."""
    _check_size(_compact_or_invalid(value, "f"), kind, "f")
    copied = marshal.loads(marshal.dumps(cast(Any, value), 2))  # noqa: S302 - the test's own bytes
    return parse_policy(copied, field="f")


def _outcome(load: Any, value: Mapping[str, Any], kind: PolicyKind) -> tuple[str, Any]:
    try:
        policy = load(value, kind)
    except (InvalidEventError, ValueError, TypeError) as exc:
        return type(exc).__name__, str(exc)
    return "policy", (policy.version, policy.statements, policy.raw)


def _current(value: Mapping[str, Any], kind: PolicyKind) -> Policy:
    documents._PARSED.clear()
    return load_policy(value, kind, field="f")


def _assert_same(value: Mapping[str, Any], kind: PolicyKind) -> None:
    assert _outcome(_current, value, kind) == _outcome(_reference, value, kind)


CORPUS = corpus_documents()


def test_the_corpus_holds_the_samples_and_the_escalation_corpora() -> None:
    assert len(CORPUS) > 200


def test_the_corpus_mostly_loads_without_writing_its_json(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shortcut is what the comparisons below exercise: most real policies never need the JSON written."""
    written: list[object] = []

    def counting(value: object, field: str) -> str:
        written.append(value)
        return _compact_or_invalid(value, field)

    monkeypatch.setattr(documents, "_compact_or_invalid", counting)
    loaded = 0
    for document in CORPUS:
        documents._PARSED.clear()
        try:
            load_policy(document, PolicyKind.BUCKET, field="f")
        except InvalidEventError:
            continue
        loaded += 1
    assert loaded > 200
    assert len(written) < loaded // 10


@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
def test_every_corpus_document_loads_as_before(kind: PolicyKind) -> None:
    for document in CORPUS:
        _assert_same(document, kind)


# --- generated documents: IAM's elements, and everything the shortcut must not let through ---------------------

_text = st.one_of(
    st.sampled_from(["*", "s3:GetObject", "arn:aws:s3:::b/*", "111122223333", "aws:SourceAccount", ""]),
    st.text(max_size=12),  # control characters, quotes, backslashes, surrogates, other scripts
)
_scalar = st.one_of(
    _text,
    st.booleans(),
    st.none(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    # Past int's string conversion limit: str() and the JSON encoder raise ValueError (built by map: Hypothesis
    # cannot print such a number as a strategy's constant).
    st.just(5000).map(lambda digits: 10**digits),
)
_odd = st.one_of(
    st.frozensets(st.integers(), max_size=2),
    st.sets(st.integers(), max_size=2),
    st.binary(max_size=3),
    st.complex_numbers(allow_nan=False, max_magnitude=5),
    st.tuples(_text),
)
_strings = st.one_of(_text, st.lists(_text, max_size=3))
#: Dict keys: strings, and what marshal keeps but JSON turns into a string (an int) or refuses (a tuple).
_keys = st.one_of(_text, st.integers(), st.tuples(_text))
_anything = st.recursive(
    st.one_of(_scalar, _odd),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(_keys, inner, max_size=3)),
    max_leaves=6,
)
_values = st.one_of(_strings, _anything)
_conditions = st.dictionaries(
    st.one_of(st.sampled_from(["StringEquals", "ForAnyValue:StringLikeIfExists", "Bool"]), _keys),
    st.one_of(st.dictionaries(_keys, _values, max_size=2), _anything),
    max_size=2,
)
_principal = st.one_of(
    st.just("*"),
    st.dictionaries(st.sampled_from(["AWS", "Service", "Federated", "CanonicalUser", "Group"]), _values, max_size=2),
    _anything,
)
_statement = st.fixed_dictionaries(
    {"Effect": st.one_of(st.sampled_from(["Allow", "Deny"]), _anything)},
    optional={
        "Sid": st.one_of(_text, _anything),
        "Action": _values,
        "NotAction": _values,
        "Resource": _values,
        "NotResource": _values,
        "Principal": _principal,
        "NotPrincipal": _principal,
        "Condition": st.one_of(_conditions, _anything),
        "Extra": _anything,
        7: _text,
    },
)
_document = st.fixed_dictionaries(
    {"Statement": st.one_of(st.lists(_statement, max_size=3), _statement, _anything)},
    optional={
        "Version": st.one_of(st.sampled_from(["2012-10-17", "2008-10-17"]), _anything),
        "Id": st.one_of(_text, _anything),
        "Extra": _anything,
    },
)


@PROPERTY
@given(_document, st.sampled_from(KINDS))
def test_a_generated_document_loads_as_before(document: dict[str, Any], kind: PolicyKind) -> None:
    _assert_same(document, kind)


@PROPERTY
@given(
    st.lists(
        st.fixed_dictionaries(
            {"Effect": st.just("Allow"), "Action": _strings, "Resource": _strings},
            optional={"Principal": _principal, "Condition": _conditions, "Sid": _text},
        ),
        min_size=1,
        max_size=4,
    )
)
def test_json_is_never_more_than_six_bytes_for_each_byte_of_marshal(statements: list[dict[str, Any]]) -> None:
    """The bound the shortcut rests on, for every document the parse accepts."""
    document = {"Version": "2012-10-17", "Id": 'x\x00"\\é\ud800', "Statement": statements}
    try:
        parse_policy(document)
        compact = _compact_or_invalid(document, "f")
    except (InvalidEventError, ValueError):
        return
    bound = _JSON_BYTES_PER_MARSHAL_BYTE * len(marshal.dumps(document, 2))
    assert document_size(compact, PolicyKind.BUCKET) <= bound
    assert document_size(compact, PolicyKind.TRUST) <= bound


def test_the_worst_case_for_the_bound_is_control_characters() -> None:
    """Each control character is six bytes of JSON (``\\u0001``) for one of marshal's: the bound is tight."""
    document = {"Statement": [], "Id": "\x01" * 1000}
    compact = _compact_or_invalid(document, "f")
    marshalled = len(marshal.dumps(document, 2))
    assert document_size(compact, PolicyKind.BUCKET) <= _JSON_BYTES_PER_MARSHAL_BYTE * marshalled
    assert document_size(compact, PolicyKind.BUCKET) > 5.9 * 1000


@pytest.mark.parametrize("filler", ["a", "\x01", "é", "😀"])
@pytest.mark.parametrize("kind", KINDS, ids=lambda kind: kind.name)
def test_documents_around_each_limit_are_refused_as_before(filler: str, kind: PolicyKind) -> None:
    for repeat in range(0, kind.limit + 10, max(1, kind.limit // 40)):
        document = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": filler * repeat}],
        }
        _assert_same(document, kind)


@pytest.mark.parametrize(
    "odd",
    [
        {"Id": {1, 2}},
        {"Id": b"x"},
        {"Id": ("a",)},
        {"Id": 10**5000},
        {1: "x"},
        {("a",): "x"},
        {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Extra": {1}}]},
        {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Condition": {"Bool": {("k",): "v"}}}]},
        {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Condition": {"Bool": {"k": 10**5000}}}]},
        {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Condition": {"Bool": {1: "v"}}}]},
        {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Sid": 10**5000}]},
        {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Sid": {1}}]},
        {"Statement": [{"Effect": "Allow", "Action": ("s3:*",)}]},
        {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Condition": {"Bool": {"k": 1.5}}}]},
        {"Statement": ({"Effect": "Allow", "Action": "s3:*"},)},
        {"Version": {1}},
        {"Version": None},
        {"Statement": None},
    ],
)
def test_what_json_cannot_hold_or_the_parse_refuses_is_refused_as_before(odd: dict[Any, Any]) -> None:
    document: dict[Any, Any] = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]}
    document.update(odd)
    _assert_same(document, PolicyKind.BUCKET)
