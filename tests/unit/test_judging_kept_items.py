"""Session 17's judging caches say exactly what working it out afresh says, and are bounded.

``load_policy`` keeps a refusal's message by the document's exact content, kind and field (``_REFUSED``);
``offending_of`` keeps the items of a tuple of escalation paths by that very tuple (``_PATH_ITEMS``);
``statement_meaning`` keeps a meaning by the statement's exact content (``_MEANINGS``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from iamwarden.app.settings_file import load_settings_file
from iamwarden.domain import documents, saml, statement_meaning
from iamwarden.domain.documents import PolicyKind, load_policy
from iamwarden.domain.escalation import assess
from iamwarden.domain.exceptions import InvalidEventError
from iamwarden.domain.policy import parse_policy
from iamwarden.guardrails import identity_policy
from iamwarden.guardrails.engine import judge_event
from iamwarden.guardrails.identity_policy import _path_items, offending_of

EVENTS = Path(__file__).resolve().parents[2] / "events"


def _oversized() -> dict[str, Any]:
    statement = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
    return {"Version": "2012-10-17", "Statement": [dict(statement, Sid=f"S{n}") for n in range(300)]}


def _refusal(value: object, kind: PolicyKind, field: str) -> str:
    with pytest.raises(InvalidEventError) as raised:
        load_policy(value, kind, field=field)
    assert type(raised.value) is InvalidEventError
    return str(raised.value)


# --- refusals kept by content, kind and field ---------------------------------------------------------------------


def test_a_refused_document_is_refused_again_with_the_same_message_without_reading_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(documents, "_REFUSED", {})
    monkeypatch.setattr(documents, "_PARSED", {})
    first = _refusal(_oversized(), PolicyKind.BUCKET, "detail.requestParameters.bucketPolicy")
    assert "over AWS's 20480 limit for a bucket policy" in first

    def never(*_: object) -> str:
        raise AssertionError("read again")

    monkeypatch.setattr(documents, "_compact_or_invalid", never)
    assert _refusal(_oversized(), PolicyKind.BUCKET, "detail.requestParameters.bucketPolicy") == first
    assert documents._PARSED == {}


def test_a_refusal_is_kept_per_field_and_kind() -> None:
    text = json.dumps({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}], "Version": "2001-01-01"})
    messages = {
        (kind, field): _refusal(text, kind, field)
        for kind in (PolicyKind.MANAGED, PolicyKind.TRUST)
        for field in ("a.policyDocument", "b.policyDocument")
    }
    for (kind, field), message in messages.items():
        assert message.startswith(f"{field}.Version must be")
        assert _refusal(text, kind, field) == message  # from the cache now
    oversized = json.dumps(_oversized())
    assert "managed policy" in _refusal(oversized, PolicyKind.MANAGED, "f")
    assert "role trust policy" in _refusal(oversized, PolicyKind.TRUST, "f")
    assert "managed policy" in _refusal(oversized, PolicyKind.MANAGED, "f")


def test_one_and_true_are_different_documents_for_the_refusals(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "_REFUSED", {})
    refused = {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}], "Version": 1}
    _refusal(refused, PolicyKind.BUCKET, "f")
    assert _refusal({**refused, "Version": True}, PolicyKind.BUCKET, "f").endswith("got True")
    assert _refusal({**refused, "Version": 1.0}, PolicyKind.BUCKET, "f").endswith("got 1.0")
    assert len(documents._REFUSED) == 3


def test_an_object_keyed_by_its_json_is_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    class Frozen(dict[str, Any]):
        """A dict subclass: marshal cannot key it, so ``load_policy`` keys it by its compact JSON."""

    monkeypatch.setattr(documents, "_REFUSED", {})
    _refusal(Frozen({"Statement": "x"}), PolicyKind.BUCKET, "f")
    assert documents._REFUSED == {}


def test_the_refusals_are_bounded_oldest_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "_REFUSED", {})
    monkeypatch.setattr(documents, "POLICY_CACHE_SIZE", 2)
    for name in ("a", "b", "c"):
        _refusal(json.dumps({"Id": name}), PolicyKind.MANAGED, "f")
    assert [key[0] for key in documents._REFUSED] == ['{"Id": "b"}', '{"Id": "c"}']


def test_the_oversized_sample_reads_the_same_judged_again(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "_REFUSED", {})
    settings = load_settings_file(EVENTS / "settings.yaml")
    event = json.loads((EVENTS / "malformed-bucket-policy-oversized.json").read_bytes())
    first = judge_event(event, settings)
    assert len(documents._REFUSED) == 1
    assert repr(judge_event(event, settings)) == repr(first)


# --- offending items kept per tuple of escalation paths -----------------------------------------------------------


def _risk() -> Any:
    return assess(parse_policy({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}))


def test_offending_items_kept_read_as_built_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(identity_policy, "_PATH_ITEMS", {})
    risk = _risk()
    assert len(risk.escalations) > 50
    first = offending_of(risk)
    again = offending_of(risk)
    assert again == first
    assert again is not first  # a list of its own: a caller appends to it
    assert json.dumps(again) == json.dumps(offending_of(risk._replace(escalations=(*risk.escalations,))))
    assert again[len(risk.admin) :] == list(_path_items(risk.escalations))
    assert len(identity_policy._PATH_ITEMS) == 2


def test_offending_items_of_a_list_of_paths_are_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(identity_policy, "_PATH_ITEMS", {})
    risk = _risk()
    listed = risk._replace(escalations=list(risk.escalations))
    assert offending_of(listed) == offending_of(risk)
    assert len(identity_policy._PATH_ITEMS) == 1


def test_offending_items_are_bounded_oldest_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(identity_policy, "_PATH_ITEMS", {})
    monkeypatch.setattr(identity_policy, "PATH_ITEMS_CACHE_SIZE", 2)
    risks = [_risk()._replace(escalations=tuple(_risk().escalations[:n])) for n in (1, 2, 3)]
    for risk in risks:
        offending_of(risk)
    assert [entry[0] for entry in identity_policy._PATH_ITEMS.values()] == [risks[1].escalations, risks[2].escalations]


# --- statement meanings kept by content ----------------------------------------------------------------------------


STATEMENTS: list[Any] = [
    {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "s3:GetObject"},
    {"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": ["S3:GetObject"]},
    {"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Condition": {"Bool": {"aws:SecureTransport": True}}},
    {"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Condition": {"Bool": {"aws:SecureTransport": 1}}},
    {"Effect": "Allow", "Principal": "*", "Action": "sqs:*", "Condition": {"Bool": {"aws:SecureTransport": 1.0}}},
    {"Effect": "Maybe"},
    "not a statement",
    ["a", "list"],
]


def test_statement_meanings_kept_read_as_worked_out_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(statement_meaning, "_MEANINGS", {})
    afresh = [statement_meaning._meaning(statement) for statement in STATEMENTS]
    for _ in range(2):
        assert [statement_meaning.statement_meaning(statement) for statement in STATEMENTS] == afresh
    assert len(statement_meaning._MEANINGS) == len(STATEMENTS)


def test_a_statement_marshal_cannot_key_is_worked_out_each_time(monkeypatch: pytest.MonkeyPatch) -> None:
    class Statement(dict[str, Any]):
        """A dict subclass: no marshal key."""

    monkeypatch.setattr(statement_meaning, "_MEANINGS", {})
    statement = Statement(STATEMENTS[0])
    assert statement_meaning.statement_meaning(statement) == statement_meaning._meaning(STATEMENTS[0])
    assert statement_meaning._MEANINGS == {}


def test_statement_meanings_are_bounded_oldest_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(statement_meaning, "_MEANINGS", {})
    monkeypatch.setattr(statement_meaning, "MEANINGS_CACHE_SIZE", 2)
    for statement in STATEMENTS[:3]:
        statement_meaning.statement_meaning(statement)
    assert list(statement_meaning._MEANINGS.values()) == [
        statement_meaning._meaning(statement) for statement in STATEMENTS[1:3]
    ]


# --- SAML metadata readings kept per text --------------------------------------------------------------------------


def test_saml_readings_are_kept_per_text_and_bounded() -> None:
    event = json.loads((EVENTS / "create-saml-provider-unknown.json").read_bytes())
    metadata = event["detail"]["requestParameters"]["sAMLMetadataDocument"]
    for reading, kept, afresh_of in (
        (saml.saml_issuer, saml._kept_saml_issuer, saml._saml_issuer),
        (saml.signing_keys, saml._kept_signing_keys, saml._signing_keys),
    ):
        assert kept.cache_info().maxsize == saml.READINGS_CACHE_SIZE == 16
        afresh = afresh_of(metadata)
        kept.cache_clear()
        assert reading(metadata) == afresh
        assert reading(metadata) == afresh
        assert kept.cache_info().hits == 1
        other = metadata.replace("<!--", "<?x?><!--", 1) if "<!--" in metadata else "<?x?>" + metadata
        assert reading(other) == afresh_of(other) != afresh


def test_a_saml_text_over_the_limit_is_read_each_time_never_kept() -> None:
    event = json.loads((EVENTS / "create-saml-provider-unknown.json").read_bytes())
    metadata = event["detail"]["requestParameters"]["sAMLMetadataDocument"]
    large = metadata + " " * (saml.KEPT_TEXT_LIMIT + 1 - len(metadata))
    assert len(large) > saml.KEPT_TEXT_LIMIT
    for reading, kept, afresh_of in (
        (saml.saml_issuer, saml._kept_saml_issuer, saml._saml_issuer),
        (saml.signing_keys, saml._kept_signing_keys, saml._signing_keys),
    ):
        kept.cache_clear()
        assert reading(large) == afresh_of(large)
        assert reading(large) == afresh_of(large)
        assert kept.cache_info().currsize == 0


def test_a_large_statement_meaning_is_worked_out_each_time_never_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(statement_meaning, "_MEANINGS", {})
    large = {"Effect": "Allow", "Action": [f"s3:GetObject{i}" for i in range(400)], "Resource": "*"}
    small = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
    assert statement_meaning.statement_meaning(large) == statement_meaning._meaning(large)
    assert statement_meaning._MEANINGS == {}
    statement_meaning.statement_meaning(small)
    assert len(statement_meaning._MEANINGS) == 1
    assert statement_meaning.MEANINGS_CACHE_SIZE == 512
    assert identity_policy.PATH_ITEMS_CACHE_SIZE == 64
