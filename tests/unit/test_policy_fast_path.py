"""The first-sight path of the policy analysis is fast and says exactly what the slow spelling said.

``parse_policy`` builds its statements positionally, tests for the rare Not- elements before reading them,
reads condition operators from a table and checks one-string condition values without a loop;
``exposure_of`` tests account ids without a regex, answers "everyone" with one shared exposure and binds
service principals once per statement; the trust rule returns early on a statement with nothing to judge;
``load_policy`` serialises an object with one prebuilt C encoder. Each shortcut is checked here against the
plain reading (the reference below spells out what every element means) on every policy document of the
sample events and the escalation corpora, and on the edge cases each shortcut skips.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from iamwarden.domain import documents, exposure, judged, policy
from iamwarden.domain.documents import PolicyKind, _compact, decode_policy_document, load_policy
from iamwarden.domain.events import instant
from iamwarden.domain.exceptions import InvalidEventError
from iamwarden.domain.exposure import (
    ACCOUNT_ID,
    Circumstances,
    Exposure,
    TrustBoundary,
    _account_of_arn,
    _is_account_id,
    exposure_of,
)
from iamwarden.domain.policy import Condition, Principal, Statement, parse_policy
from iamwarden.guardrails.bucket_policy import BUCKET_POLICY_RULE
from iamwarden.guardrails.trust_policy import FederationBoundary, policy_problems, statement_problems
from tests.policy_corpus import corpus_documents

ROOT = Path(__file__).resolve().parents[2]
BOUNDARY = TrustBoundary("111122223333", frozenset({"444455556666"}), "o-a1b2c3d4e5", frozenset({"vpce-0a1b2c3d"}))
AT = Circumstances("us-east-1", instant("2026-03-02T10:00:00Z"))


def _corpus() -> list[Mapping[str, Any]]:
    valid: list[Mapping[str, Any]] = []
    for document in corpus_documents():
        try:
            parse_policy(document)
        except InvalidEventError:
            continue
        valid.append(document)
    return valid


CORPUS = _corpus()


def _listed(raw: Mapping[str, Any], key: str) -> tuple[str, ...] | None:
    if key not in raw:
        return None
    value = raw[key]
    return (value,) if isinstance(value, str) else tuple(value)


def _reference_principal(raw: Mapping[str, Any], key: str) -> Principal | None:
    if key not in raw:
        return None
    value = raw[key]
    if value == "*":
        return Principal(everyone=True)
    by_type = {kind: _listed(value, kind) or () for kind in ("AWS", "Service", "Federated", "CanonicalUser")}
    return Principal(
        everyone="*" in by_type["AWS"],
        aws=by_type["AWS"],
        service=by_type["Service"],
        federated=by_type["Federated"],
        canonical_user=by_type["CanonicalUser"],
    )


def _reference_conditions(raw: Mapping[str, Any] | None) -> tuple[Condition, ...]:
    conditions = []
    for name, tests in (raw or {}).items():
        qualifier, operator = None, name
        for prefix in ("ForAnyValue:", "ForAllValues:"):
            if operator.startswith(prefix):
                qualifier, operator = prefix[:-1], operator[len(prefix) :]
        if_exists = operator.endswith("IfExists")
        operator = operator.removesuffix("IfExists") if if_exists else operator
        for key, values in tests.items():
            items = values if isinstance(values, list) else [values]
            spelled = tuple(("true" if v else "false") if isinstance(v, bool) else str(v) for v in items)
            conditions.append(Condition(operator, qualifier, if_exists, str(key).lower(), spelled))
    return tuple(conditions)


def _reference_statements(document: Mapping[str, Any]) -> tuple[Statement, ...]:
    """What each statement means, spelled out the slow way (valid documents only)."""
    raw_statements = document["Statement"]
    raw_statements = [raw_statements] if isinstance(raw_statements, dict) else raw_statements
    statements = []
    for index, raw in enumerate(raw_statements):
        actions, not_actions = _listed(raw, "Action"), _listed(raw, "NotAction")
        statements.append(
            Statement(
                position=index,
                sid=raw.get("Sid") or None,
                effect=raw["Effect"],
                actions=tuple(a.lower() for a in actions) if actions is not None else None,
                not_actions=tuple(a.lower() for a in not_actions) if not_actions is not None else None,
                resources=_listed(raw, "Resource"),
                not_resources=_listed(raw, "NotResource"),
                principal=_reference_principal(raw, "Principal"),
                not_principal=_reference_principal(raw, "NotPrincipal"),
                conditions=_reference_conditions(raw.get("Condition")),
                raw=raw,
            )
        )
    return tuple(statements)


def _forget() -> None:
    documents._PARSED.clear()
    exposure._EXPOSURES.clear()
    exposure._BY_POLICY.clear()
    policy._OPERATORS.clear()
    judged.forget()


def test_the_corpus_is_the_sample_events_and_the_escalation_corpora() -> None:
    assert len(CORPUS) > 200  # resource, trust and identity policies: events/ and tests/corpora/
    raw = [statement.raw for document in CORPUS for statement in _reference_statements(document)]
    for element in ("NotAction", "NotPrincipal", "Condition", "Principal"):
        assert any(element in statement for statement in raw), element


@pytest.mark.parametrize("document", CORPUS, ids=lambda d: json.dumps(d)[:60])
def test_every_document_parses_to_what_its_statements_mean(document: Mapping[str, Any]) -> None:
    _forget()
    parsed = parse_policy(document)
    assert parsed.statements == _reference_statements(document)
    assert parse_policy(document) == parsed  # the operator table, filled by the first reading, changes nothing


@pytest.mark.parametrize("document", CORPUS, ids=lambda d: json.dumps(d)[:60])
def test_every_statement_is_judged_the_same_on_first_sight_and_from_the_caches(document: Mapping[str, Any]) -> None:
    statements = parse_policy(document).statements
    first_sight = []
    for statement in statements:
        _forget()
        first_sight.append(exposure_of(statement, BOUNDARY, AT))
    assert [exposure_of(statement, BOUNDARY, AT) for statement in statements] == first_sight
    for statement in statements:
        _forget()
        problems = statement_problems(statement, BOUNDARY, ("777766665555",), AT, FederationBoundary())
        found = exposure_of(statement, BOUNDARY, AT)
        nothing_to_judge = (
            not found.public
            and not found.untrusted
            and "elasticloadbalancing" not in found.services
            and not (statement.principal and statement.principal.federated)
        )
        if nothing_to_judge or found.void is not None:
            assert problems == []  # the trust rule's early return answers what its full reading would


@pytest.mark.parametrize("document", CORPUS, ids=lambda d: json.dumps(d)[:60])
def test_every_document_is_judged_whole_as_its_statements_are(document: Mapping[str, Any]) -> None:
    _forget()
    parsed = parse_policy(document)
    vendors, federation = ("777766665555",), FederationBoundary()
    exposures = tuple(exposure_of(statement, BOUNDARY, AT) for statement in parsed.statements)
    problems = tuple(p for s in parsed.statements for p in statement_problems(s, BOUNDARY, vendors, AT, federation))
    _forget()
    for _ in range(2):  # on first sight, then kept
        assert BUCKET_POLICY_RULE.exposures(parsed, BOUNDARY, AT) == exposures
        assert policy_problems(parsed, BOUNDARY, vendors, AT, federation) == problems


@pytest.mark.parametrize(
    "text",
    [
        "111122223333",
        "11112222333",
        "1111222233334",
        "111122223333\n",
        "\n111122223333",
        "١١١١٢٢٢٢٣٣٣٣",  # Arabic-Indic digits: str.isdigit says yes, [0-9] says no
        "¹¹¹¹²²²²³³³³",  # superscripts: digits to str.isdigit, not to [0-9]
        "11112222333a",
        "",
        "*",
    ],
)
def test_the_account_id_test_without_a_regex_agrees_with_the_regex(text: str) -> None:
    assert _is_account_id(text) is (ACCOUNT_ID.fullmatch(text) is not None)


@pytest.mark.parametrize(
    ("arn", "account"),
    [
        ("arn:aws:iam::444455556666:root", "444455556666"),
        ("arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E1", "cloudfront"),
        ("arn:aws:iam::*:root", None),
        ("arn:aws:iam:444455556666:root", None),  # five fields
        ("aws:iam::444455556666:root", None),
        ("ARN:aws:iam::444455556666:root", None),
        ("arn", None),
    ],
)
def test_the_account_of_an_arn(arn: str, account: str | None) -> None:
    assert _account_of_arn(arn) == account


@pytest.mark.parametrize(
    "principal", ["*", {"AWS": "*"}, {"AWS": ["*"]}, {"AWS": ["*", "*"]}], ids=["star", "aws", "list", "twice"]
)
def test_everyone_is_one_shared_public_exposure(principal: object) -> None:
    _forget()
    statement = parse_policy({"Statement": {"Effect": "Allow", "Principal": principal, "Action": "s3:*"}}).statements[0]
    assert exposure_of(statement, BOUNDARY) == Exposure(public=True)


def test_everyone_beside_other_principals_is_judged_in_full() -> None:
    _forget()
    document = {
        "Statement": {
            "Effect": "Allow",
            "Principal": {"AWS": ["*", "999988887777"], "Service": "logging.s3.amazonaws.com"},
            "Action": "s3:PutObject",
        }
    }
    found = exposure_of(parse_policy(document).statements[0], BOUNDARY)
    assert found.public
    assert found.untrusted == frozenset({"999988887777"})
    assert found.unbound_services == frozenset({"logging.s3.amazonaws.com"})


def test_not_principal_and_not_action_are_read_when_present_and_absent_otherwise() -> None:
    document = {
        "Statement": [
            {"Effect": "Allow", "NotPrincipal": {"AWS": "111122223333"}, "NotAction": "s3:Delete*", "NotResource": "x"},
            {"Effect": "Allow", "Principal": "*", "Action": [], "Resource": []},
        ]
    }
    first, second = parse_policy(document).statements
    assert (first.actions, first.not_actions, first.resources, first.not_resources) == (
        None,
        ("s3:delete*",),
        None,
        ("x",),
    )
    assert first.principal is None
    assert first.not_principal == Principal(False, aws=("111122223333",))
    assert exposure_of(first, BOUNDARY).public  # Allow + NotPrincipal lets in everyone else
    assert (second.actions, second.not_actions, second.not_principal) == ((), None, None)
    assert exposure_of(second, BOUNDARY) == Exposure()  # an empty Action list grants nothing


@pytest.mark.parametrize(
    ("values", "spelled"),
    [
        ("o-a1b2c3d4e5", ("o-a1b2c3d4e5",)),
        (["o-a1b2c3d4e5"], ("o-a1b2c3d4e5",)),
        (True, ("true",)),
        ([False, 12, 1.5], ("false", "12", "1.5")),
        ([], ()),
    ],
    ids=["one-string", "list", "bool", "mixed-scalars", "empty"],
)
def test_condition_values_are_spelled_as_strings(values: object, spelled: tuple[str, ...]) -> None:
    document = {
        "Statement": {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Condition": {"ForAnyValue:StringLikeIfExists": {"AWS:PrincipalOrgID": values}},
        }
    }
    (condition,) = parse_policy(document).statements[0].conditions
    assert condition == Condition("StringLike", "ForAnyValue", True, "aws:principalorgid", spelled)


@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ({"StringEquals": {"aws:SourceAccount": [["111122223333"]]}}, r"Condition\.StringEquals\.aws:SourceAccount"),
        ({"StringEquals": {"aws:SourceAccount": {"a": "b"}}}, "values must be scalars"),
        ({"StringEquals": {"aws:SourceAccount": None}}, "values must be scalars"),
        ({"StringEquals": "111122223333"}, "must be an object of key tests"),
        ([], r"Statement\[0\]\.Condition must be an object, got a list"),
    ],
    ids=["nested-list", "object", "null", "not-key-tests", "list"],
)
def test_malformed_conditions_are_rejected_as_before(condition: object, message: str) -> None:
    document = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Condition": condition}]}
    with pytest.raises(InvalidEventError, match=message):
        parse_policy(document, field="bucketPolicy")


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ({"Effect": ["Allow"], "Action": "s3:*"}, r"Effect must be Allow or Deny, got \['Allow'\]"),
        ({"Effect": "Allow", "Action": "s3:*", "NotAction": "s3:Get*"}, "exactly one of Action and NotAction"),
        ({"Effect": "Allow"}, "exactly one of Action and NotAction"),
        ({"Effect": "Allow", "NotAction": 5}, r"Statement\[0\]\.NotAction must be a string or a list of strings"),
        ({"Effect": "Allow", "Action": "s3:*", "NotResource": [1]}, r"NotResource must be a string or a list"),
        ({"Effect": "Allow", "Action": "s3:*", "NotPrincipal": []}, r'NotPrincipal must be "\*" or an object'),
        ({"Effect": "Allow", "Action": "s3:*", "Principal": {"Group": "x"}}, "unknown principal type 'Group'"),
        ({"Effect": "Allow", "Action": "s3:*", "Principal": {"AWS": [1]}}, r"Principal\.AWS must be a string or"),
        ({"Effect": "Allow", "Action": "s3:*", "Sid": 7}, "Sid must be a string, got a number"),
    ],
    ids=[
        "unhashable-effect",
        "both-actions",
        "no-action",
        "not-action",
        "not-resource",
        "not-principal",
        "principal-type",
        "principal-entry",
        "sid",
    ],
)
def test_malformed_statements_are_rejected_as_before(statement: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidEventError, match=message):
        parse_policy({"Statement": [statement]}, field="bucketPolicy")


def test_the_operator_table_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(policy, "_OPERATORS", {f"Operator{n}": ("x", None, False) for n in range(1024)})
    # A spelling IAM does not define (the known ones are a constant table, never kept here).
    document = {"Statement": {"Effect": "Allow", "Action": "s3:*", "Condition": {"StringEqualz": {"k": "v"}}}}
    assert parse_policy(document).statements[0].conditions == (Condition("StringEqualz", None, False, "k", ("v",)),)
    assert policy._OPERATORS == {"StringEqualz": ("StringEqualz", None, False)}


@pytest.mark.parametrize("document", CORPUS[:80], ids=lambda d: json.dumps(d)[:60])
def test_the_prebuilt_encoder_writes_what_json_dumps_writes(document: Mapping[str, Any]) -> None:
    assert _compact(document) == json.dumps(document, separators=(",", ":"), ensure_ascii=False)


def test_the_prebuilt_encoder_on_unusual_values() -> None:
    value = {"Statement": [], "é": "日本\u2028\ud800", "n": [math.nan, -math.inf, 1e22, 10**30, True, None]}
    assert _compact(value) == json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    with pytest.raises(InvalidEventError, match="Object of type set is not JSON serializable"):
        load_policy({"Statement": {1}}, PolicyKind.BUCKET, field="f")


def test_a_first_sight_object_is_size_checked_and_parsed_like_its_text() -> None:
    _forget()
    document = CORPUS[0]
    as_object = load_policy(dict(document), PolicyKind.BUCKET, field="f")
    assert (
        as_object.statements
        == parse_policy(decode_policy_document(json.dumps(document), PolicyKind.BUCKET, field="f")).statements
    )
    too_big = {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "x" * 20_480}]}
    with pytest.raises(InvalidEventError, match="over AWS's 20480 limit for a bucket policy"):
        load_policy(too_big, PolicyKind.BUCKET, field="f")


class _CountingOwners:
    """A network-owner lookup that says who it was asked about."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def owner_of(self, network_id: str, account: str, region: str) -> exposure.NetworkOwner:
        self.asked.append(network_id)
        return exposure.NetworkOwner(None, "DescribeVpcEndpoints was denied")


def test_with_a_live_lookup_only_statements_with_a_network_condition_are_judged_afresh() -> None:
    _forget()
    owners = _CountingOwners()
    live = Circumstances("us-east-1", None, owners)
    plain, networked = parse_policy(
        {
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": "999988887777"}, "Action": "s3:GetObject"},
                {
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": "s3:GetObject",
                    "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-0ffee"}},
                },
            ]
        }
    ).statements
    first = exposure_of(plain, BOUNDARY, live)
    assert exposure_of(plain, BOUNDARY, live) is first  # kept: its answer never depends on the lookup
    assert first == exposure_of(plain, BOUNDARY)  # and it is the offline answer
    assert exposure_of(networked, BOUNDARY, live).unknown == (
        "who owns VPC endpoint vpce-0ffee: DescribeVpcEndpoints was denied",
    )
    exposure_of(networked, BOUNDARY, live)
    assert owners.asked == ["vpce-0ffee", "vpce-0ffee"]  # asked afresh: a denied lookup may succeed later
