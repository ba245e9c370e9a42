"""Documents are parsed and judged once: ``load_policy`` caches by the document's text, ``assess`` by content."""

from __future__ import annotations

import json

import pytest

from iamwarden.domain import documents, escalation
from iamwarden.domain.documents import PolicyKind, load_policy
from iamwarden.domain.escalation import assess
from iamwarden.domain.exceptions import InvalidEventError
from iamwarden.domain.policy import parse_policy

DOCUMENT = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}]}


def test_the_same_text_is_parsed_once_and_gives_the_same_policy() -> None:
    text = json.dumps(DOCUMENT)
    first = load_policy(text, PolicyKind.TRUST, field="f")
    assert load_policy(text, PolicyKind.TRUST, field="f") is first
    assert first == parse_policy(DOCUMENT)
    as_object = load_policy(DOCUMENT, PolicyKind.BUCKET, field="f")
    assert load_policy(dict(DOCUMENT), PolicyKind.BUCKET, field="f") is as_object
    assert as_object.statements == first.statements


def test_the_kind_is_part_of_the_key_so_the_size_limit_still_applies() -> None:
    big = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "x" * 5000}]}
    load_policy(big, PolicyKind.BUCKET, field="f")  # 5 KB: a bucket policy may be 20 KB
    with pytest.raises(InvalidEventError, match="over AWS's 4096 limit"):
        load_policy(big, PolicyKind.TRUST, field="f")
    with pytest.raises(InvalidEventError, match="over AWS's 4096 limit"):
        load_policy(json.dumps(big), PolicyKind.TRUST, field="f")


def test_failures_are_not_cached_and_say_what_is_wrong() -> None:
    for _ in range(2):
        with pytest.raises(InvalidEventError, match="does not parse as JSON"):
            load_policy("{not json", PolicyKind.TRUST, field="f")
        with pytest.raises(InvalidEventError, match="must be a policy document"):
            load_policy(42, PolicyKind.TRUST, field="f")
        with pytest.raises(InvalidEventError, match="not a JSON policy document"):
            load_policy({"Statement": [{1, 2}]}, PolicyKind.BUCKET, field="f")


def test_the_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "POLICY_CACHE_SIZE", 2)
    monkeypatch.setattr(documents, "_PARSED", {})
    for index in range(3):
        load_policy({**DOCUMENT, "Id": str(index)}, PolicyKind.BUCKET, field="f")
    assert len(documents._PARSED) == 2


def test_assess_is_cached_by_content_and_names_the_callers_own_statements(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(escalation, "_ASSESSED", {})
    spelled = parse_policy({"Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}})
    listed = parse_policy({"Statement": [{"Effect": "Allow", "Action": ["*"], "Resource": ["*"]}]})
    first, second = assess(spelled), assess(listed)
    assert len(escalation._ASSESSED) == 1  # the same content: judged once
    assert first.admin[0].statement.raw == {"Effect": "Allow", "Action": "*", "Resource": "*"}
    assert second.admin[0].statement.raw == {"Effect": "Allow", "Action": ["*"], "Resource": ["*"]}
    assert first.escalations == second.escalations


def test_the_assess_cache_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(escalation, "ASSESS_CACHE_SIZE", 2)
    monkeypatch.setattr(escalation, "_ASSESSED", {})
    for action in ("s3:GetObject", "s3:PutObject", "s3:ListBucket"):
        assess(parse_policy({"Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]}))
    assert len(escalation._ASSESSED) == 2


def test_exposures_are_kept_per_policy_object_and_boundary() -> None:
    from iamwarden.domain.exposure import TrustBoundary, exposure_of, exposures_of

    policy = load_policy(DOCUMENT, PolicyKind.BUCKET, field="f")
    mine, partner = TrustBoundary("111122223333"), TrustBoundary("111122223333", frozenset({"444455556666"}))
    first = exposures_of(policy, mine)
    assert exposures_of(policy, mine) is first
    assert first == tuple(exposure_of(statement, mine) for statement in policy.statements)
    assert first[0].public
    assert exposures_of(policy, partner) == first  # another boundary: judged again, the same answer here
    equal_but_other = parse_policy(DOCUMENT)
    assert exposures_of(equal_but_other, mine) == first


def test_exposure_of_is_cached_by_what_it_depends_on(monkeypatch: pytest.MonkeyPatch) -> None:
    from iamwarden.domain import exposure
    from iamwarden.domain.exposure import TrustBoundary, exposure_of

    monkeypatch.setattr(exposure, "EXPOSURE_CACHE_SIZE", 2)
    monkeypatch.setattr(exposure, "_EXPOSURES", {})
    boundary = TrustBoundary("111122223333")
    for account in ("222233334444", "555566667777", "888899990000"):
        statement = parse_policy(
            {"Statement": [{"Effect": "Allow", "Principal": {"AWS": account}, "Action": "s3:GetObject"}]}
        ).statements[0]
        assert exposure_of(statement, boundary).untrusted == {account}
    assert len(exposure._EXPOSURES) == 2
