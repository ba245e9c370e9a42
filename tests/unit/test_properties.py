"""Property tests: whatever arrives, parsing and judging answer with a result or an InvalidEventError.

Three families of input: arbitrary JSON values and bytes given to parse_event;
the sample events mutated (keys deleted, values replaced, policies swapped for
random or grammar-built ones) given to judge_event; and policy documents built
from a grammar of IAM elements plus junk given to decode, parse and exposure_of.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st

from iamwarden.domain.documents import PolicyKind, decode_policy_document
from iamwarden.domain.events import CLOUDTRAIL_API_CALL, CloudTrailChange, parse_event
from iamwarden.domain.exceptions import InvalidEventError
from iamwarden.domain.exposure import Exposure, TrustBoundary, exposure_of
from iamwarden.domain.findings import Judgement, Verdict
from iamwarden.domain.policy import Policy, Statement, parse_policy
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event

EVENTS = Path(__file__).parents[2] / "events"
OWN, TRUSTED, UNKNOWN = "111122223333", "444455556666", "999988887777"
ORG = "o-a1b2c3d4e5"
BOUNDARY = TrustBoundary(own_account=OWN, trusted_accounts=frozenset({TRUSTED}), organization_id=ORG)
SETTINGS = (Settings(), Settings(trusted_accounts=frozenset({TRUSTED}), organization_id=ORG))
CHANNELS = {"console", "cli", "terraform", "cloudformation", "sdk", "aws-service", "unknown"}

PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _samples() -> list[dict[str, Any]]:
    """Every sample event that is a JSON object (malformed-not-json.json is not)."""
    found: list[dict[str, Any]] = []
    for path in sorted(EVENTS.glob("*.json")):
        try:
            value = json.loads(path.read_text())
        except ValueError:
            continue
        if isinstance(value, dict):
            found.append(value)
    return found


SAMPLES = _samples()

# --- strategies -----------------------------------------------------------------------------------

# Words the code looks for, so random structures reach past the first check now and then.
VOCABULARY = [
    "detail",
    "detail-type",
    CLOUDTRAIL_API_CALL,
    "account",
    "region",
    "eventName",
    "eventSource",
    "eventID",
    "userIdentity",
    "type",
    "arn",
    "sessionContext",
    "sessionIssuer",
    "requestParameters",
    "bucketPolicy",
    "bucketName",
    "Statement",
    "Effect",
    "Allow",
    "Principal",
    "Condition",
    "*",
    OWN,
    UNKNOWN,
    ORG,
]
TEXT = st.text(max_size=12) | st.text(st.characters(exclude_categories=()), max_size=6) | st.sampled_from(VOCABULARY)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | TEXT
JSON = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(TEXT, children, max_size=4),
    max_leaves=12,
)


def one_or_many(element: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return element | st.lists(element, max_size=3)


ACCOUNT = st.sampled_from([OWN, TRUSTED, UNKNOWN, "cloudfront", "*", "1111*", "", "aws"])
ARN = st.builds(
    "arn:{}:{}:{}:{}:{}".format,
    st.sampled_from(["aws", "aws-cn", "*"]),
    st.sampled_from(["iam", "sts", "s3", "sns", "*"]),
    st.sampled_from(["", "eu-west-1", "*"]),
    ACCOUNT,
    st.sampled_from(["root", "role/app", "user/alice", "role/*", "assumed-role/r/s", "bucket"]),
)
AWS_NAME = (
    st.sampled_from([OWN, TRUSTED, UNKNOWN, f"arn:aws:iam::{UNKNOWN}:role/vendor", f"arn:aws:iam::{OWN}:root"])
    | ARN
    | ACCOUNT
)
PRINCIPAL = st.just("*") | st.fixed_dictionaries(
    {},
    optional={
        "AWS": one_or_many(AWS_NAME),
        "Service": one_or_many(st.sampled_from(["cloudtrail.amazonaws.com", "logging.s3.amazonaws.com"])),
        "Federated": st.just("cognito-identity.amazonaws.com"),
        "CanonicalUser": st.just("79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"),
    },
)
WILD_PRINCIPAL = PRINCIPAL | st.dictionaries(TEXT, one_or_many(AWS_NAME) | JSON, max_size=3) | JSON

OPERATOR = st.builds(
    "{}{}{}".format,
    st.sampled_from(["", "", "ForAnyValue:", "ForAllValues:"]),
    st.sampled_from(
        [
            "StringEquals",
            "StringLike",
            "StringNotEquals",
            "StringEqualsIgnoreCase",
            "ArnEquals",
            "ArnLike",
            "ArnNotLike",
            "Null",
            "Bool",
            "IpAddress",
            "NumericLessThan",
        ]
    ),
    st.sampled_from(["", "", "IfExists"]),
)
CONDITION_KEY = st.sampled_from(
    [
        "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths",
        "aws:PrincipalAccount",
        "aws:SourceAccount",
        "aws:SourceOwner",
        "aws:PrincipalArn",
        "aws:SourceArn",
        "aws:SourceVpce",
        "aws:SourceVpc",
        "aws:SourceIp",
        "aws:SecureTransport",
        "AWS:PRINCIPALORGID",
        "s3:prefix",
    ]
)
CONDITION_VALUE = (
    st.sampled_from([ORG, "o-zz99yy88xx", "o-*", f"{ORG}/r-ab12/ou-*", "o-zz99yy88xx/*", "vpce-1a2b3c4d", "vpce-*"])
    | ACCOUNT
    | ARN
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
)
# Key tests that narrow (to the boundary or outside it) under a positive operator, so narrowing is common.
RESTRICTING_TEST = st.sampled_from(
    [
        ("aws:PrincipalOrgID", ORG),
        ("aws:PrincipalOrgID", "o-zz99yy88xx"),
        ("aws:PrincipalOrgPaths", f"{ORG}/r-ab12/*"),
        ("aws:PrincipalAccount", [OWN, TRUSTED]),
        ("aws:SourceAccount", UNKNOWN),
        ("aws:PrincipalArn", f"arn:aws:iam::{UNKNOWN}:role/vendor"),
        ("aws:SourceArn", f"arn:*:sns:*:{OWN}:topic"),
        ("aws:SourceVpce", "vpce-1a2b3c4d"),
    ]
)
KEY_TESTS = st.lists(RESTRICTING_TEST | st.tuples(CONDITION_KEY, one_or_many(CONDITION_VALUE)), max_size=3).map(dict)
CONDITION = st.dictionaries(OPERATOR, KEY_TESTS, max_size=3)
WILD_CONDITION = CONDITION | st.dictionaries(OPERATOR | TEXT, st.dictionaries(CONDITION_KEY | TEXT, JSON) | JSON) | JSON

ACTION = st.sampled_from(
    ["*", "s3:*", "s3:GetObject", "s3:Get*", "s3:?etObject", "S3:PUTOBJECT", "iam:*", "s3:Delete*"]
)
RESOURCE = st.sampled_from(["*", "arn:aws:s3:::acme", "arn:aws:s3:::acme/*"])

STATEMENT = st.builds(
    lambda base, action, who, extra: {**base, **action, **who, **extra},
    st.fixed_dictionaries({"Effect": st.sampled_from(["Allow", "Allow", "Deny"])}),
    st.sampled_from(["Action", "NotAction"]).flatmap(lambda key: st.fixed_dictionaries({key: one_or_many(ACTION)})),
    st.sampled_from(["Principal", "Principal", "Principal", "NotPrincipal", ""]).flatmap(
        lambda key: st.fixed_dictionaries({key: PRINCIPAL} if key else {})
    ),
    st.fixed_dictionaries(
        {},
        optional={"Sid": st.text("abcXYZ019", max_size=6), "Resource": one_or_many(RESOURCE), "Condition": CONDITION},
    ),
)
WILD_STATEMENT = st.fixed_dictionaries(
    {},
    optional={
        "Sid": TEXT | JSON,
        "Effect": st.sampled_from(["Allow", "Deny", "allow"]) | JSON,
        "Action": one_or_many(ACTION) | JSON,
        "NotAction": one_or_many(ACTION) | JSON,
        "Resource": one_or_many(RESOURCE) | JSON,
        "Principal": WILD_PRINCIPAL,
        "NotPrincipal": WILD_PRINCIPAL,
        "Condition": WILD_CONDITION,
        "Junk": JSON,
    },
)
DOCUMENT = st.fixed_dictionaries(
    {"Statement": st.lists(STATEMENT, max_size=4) | STATEMENT},
    optional={"Version": st.sampled_from(["2012-10-17", "2008-10-17"]), "Id": st.text(max_size=8)},
) | st.fixed_dictionaries(
    {},
    optional={
        "Version": st.sampled_from(["2012-10-17", "2008-10-17", "2012-10-18"]) | JSON,
        "Statement": st.lists(STATEMENT | WILD_STATEMENT, max_size=4) | WILD_STATEMENT | JSON,
        "Id": JSON,
    },
)


def as_form(document: Any, form: str) -> Any:
    """A document as CloudTrail may carry it: an object, JSON text, or URL-encoded JSON text."""
    if form == "json":
        return json.dumps(document)
    if form == "url":
        return quote(json.dumps(document))
    return document


FORMS = st.sampled_from(["object", "json", "url"])

# --- mutation of the sample events ----------------------------------------------------------------

KeyPath = tuple[str | int, ...]
POLICY_PARTS = {"bucketPolicy", "Statement", "Principal", "NotPrincipal", "Condition", "Action", "Effect", "Version"}


def paths(node: Any, prefix: KeyPath = ()) -> list[KeyPath]:
    """Every path below ``node``, parents before children."""
    items: list[tuple[str | int, Any]]
    if isinstance(node, dict):
        items = list(node.items())
    elif isinstance(node, list):
        items = list(enumerate(node))
    else:
        return []
    found: list[KeyPath] = []
    for key, child in items:
        found.append((*prefix, key))
        found.extend(paths(child, (*prefix, key)))
    return found


def parent_of(root: Any, path: KeyPath) -> Any:
    node = root
    for key in path[:-1]:
        node = node[key]
    return node


def is_policy_part(path: KeyPath) -> bool:
    return path[-1] in POLICY_PARTS or (len(path) > 1 and path[-2] == "Statement")


@st.composite
def mutated_events(draw: st.DrawFn) -> dict[str, Any]:
    event: dict[str, Any] = copy.deepcopy(draw(st.sampled_from(SAMPLES)))
    for _ in range(draw(st.integers(1, 3))):
        everywhere = paths(event)
        if not everywhere:
            break
        policy_parts = [path for path in everywhere if is_policy_part(path)]
        kind = draw(st.sampled_from(["delete", "replace", "policy", "policy", "stringify"]))
        if kind in ("policy", "stringify") and policy_parts:
            path = draw(st.sampled_from(policy_parts))
        else:
            path = draw(st.sampled_from(everywhere))
        parent = parent_of(event, path)
        if kind == "delete":
            del parent[path[-1]]
        elif kind == "replace":
            # Copies: a later round may mutate this value in place, and Hypothesis replays what it drew.
            parent[path[-1]] = copy.deepcopy(draw(JSON))
        elif kind == "policy":
            parent[path[-1]] = copy.deepcopy(
                draw(DOCUMENT | STATEMENT | WILD_STATEMENT | WILD_PRINCIPAL | WILD_CONDITION | JSON)
            )
        else:  # the same value as JSON text or URL-encoded JSON text, as IAM carries policies
            parent[path[-1]] = as_form(parent[path[-1]], draw(st.sampled_from(["json", "url"])))
    return event


# --- (a) parse_event on anything ------------------------------------------------------------------


def parses_or_is_invalid(raw: Any) -> CloudTrailChange | None:
    try:
        change = parse_event(raw)
    except InvalidEventError as exc:
        message = str(exc)
        assert message, "an InvalidEventError must say what is wrong"
        return None
    assert isinstance(change, CloudTrailChange)
    assert change.actor.channel in CHANNELS
    assert change.failed == (change.error_code is not None)
    assert isinstance(change.event_name, str)
    assert change.event_name
    return change


ENVELOPE = st.fixed_dictionaries(
    {"detail-type": st.just(CLOUDTRAIL_API_CALL) | JSON},
    optional={
        "account": st.just(OWN) | JSON,
        "region": st.just("us-east-1") | JSON,
        "id": TEXT,
        "detail": st.fixed_dictionaries(
            {},
            optional={
                "eventName": st.just("CreateUser") | JSON,
                "eventSource": st.just("iam.amazonaws.com") | JSON,
                "eventID": st.just("e-1") | JSON,
                "userIdentity": st.fixed_dictionaries(
                    {},
                    optional={
                        "type": st.sampled_from(["IAMUser", "AssumedRole", "AWSService", "Root"]) | JSON,
                        "arn": ARN | JSON,
                        "accountId": ACCOUNT | JSON,
                        "sessionContext": st.fixed_dictionaries(
                            {}, optional={"sessionIssuer": JSON, "attributes": JSON}
                        )
                        | JSON,
                    },
                )
                | JSON,
                "userAgent": st.sampled_from(["aws-cli/2", "[aws-cli/2]", "Terraform/1.9", "AWS Internal"]) | JSON,
                "sessionCredentialFromConsole": JSON,
                "requestParameters": JSON,
                "responseElements": JSON,
                "resources": JSON,
                "readOnly": JSON,
                "errorCode": JSON,
                "recipientAccountId": JSON,
            },
        )
        | JSON,
    },
)


@PROPERTY
@given(JSON)
def test_parse_event_on_any_json_value(value: Any) -> None:
    parses_or_is_invalid(value)
    text = json.dumps(value)
    parses_or_is_invalid(text)
    parses_or_is_invalid(text.encode())


@PROPERTY
@given(ENVELOPE)
def test_parse_event_on_envelope_shaped_values(envelope: dict[str, Any]) -> None:
    from_dict = parses_or_is_invalid(envelope)
    from_text = parses_or_is_invalid(json.dumps(envelope))
    assert (from_dict is None) == (from_text is None)


@PROPERTY
@given(
    st.binary(max_size=512)
    | st.builds(
        lambda prefix, tail: prefix + tail, st.sampled_from([b"{", b"[", b'{"detail":']), st.binary(max_size=64)
    )
)
def test_parse_event_on_any_bytes(raw: bytes) -> None:
    parses_or_is_invalid(raw)
    parses_or_is_invalid(bytearray(raw))


@PROPERTY
@given(st.text(st.characters(exclude_categories=()), max_size=64))
def test_parse_event_on_any_text(raw: str) -> None:
    parses_or_is_invalid(raw)


# --- (b) judge_event on mutated samples -----------------------------------------------------------


def judged(raw: Any, config: Settings) -> Judgement:
    judgement = judge_event(raw, config)
    assert isinstance(judgement, Judgement)
    assert judgement.verdict in set(Verdict)
    assert judgement.reason
    if judgement.verdict is Verdict.VIOLATION:
        assert judgement.findings
    if judgement.verdict is Verdict.COMPLIANT:
        assert not judgement.findings
    assert {finding.rule_id for finding in judgement.findings} <= set(judgement.rule_ids)
    return judgement


@PROPERTY
@given(mutated_events(), st.sampled_from(SETTINGS))
def test_judge_event_never_raises_on_mutated_samples(event: dict[str, Any], config: Settings) -> None:
    from_dict = judged(event, config)
    from_text = judged(json.dumps(event), config)
    assert from_dict.verdict == from_text.verdict


def test_samples_were_loaded() -> None:
    assert len(SAMPLES) >= 30
    assert any("bucketPolicy" in str(event) for event in SAMPLES)


# --- (c) policy documents through decode, parse and exposure --------------------------------------


def analysed(value: Any, kind: PolicyKind) -> Policy | None:
    try:
        document = decode_policy_document(value, kind, field="policy")
        assert isinstance(document, dict)
        policy = parse_policy(document, field="policy")
    except InvalidEventError as exc:
        message = str(exc)
        assert message.startswith("policy"), message
        return None
    assert isinstance(policy, Policy)
    return policy


def without_conditions(statement: Statement) -> Statement:
    raw = {key: value for key, value in statement.raw.items() if key != "Condition"}
    (bare,) = parse_policy({"Statement": raw}).statements
    return bare


def check_exposure(statement: Statement) -> None:
    result = exposure_of(statement, BOUNDARY)
    assert isinstance(result, Exposure)
    assert result.safe == (not result.public and not result.untrusted and not result.unbound_services)
    if not statement.allows:
        assert result == Exposure()
    # Conditions only ever narrow who a Principal lets in (a source condition binds a service that, without
    # it, acts for any account, so its grantees replace "unbound").
    unconditioned = exposure_of(without_conditions(statement), BOUNDARY)
    if unconditioned.safe:
        assert result.safe
    if not unconditioned.public:
        assert not result.public
        if not unconditioned.unbound_services:
            assert result.untrusted <= unconditioned.untrusted
        assert result.unbound_services <= unconditioned.unbound_services
    for action in ("s3:GetObject", "s3:PutBucketPolicy", "iam:CreateUser"):
        assert isinstance(statement.grants_action(action), bool)


@PROPERTY
@given(DOCUMENT, FORMS, st.sampled_from(PolicyKind))
def test_policy_documents_decode_parse_and_expose_or_are_invalid(document: Any, form: str, kind: PolicyKind) -> None:
    policy = analysed(as_form(document, form), kind)
    if policy is not None:
        for statement in policy.statements:
            check_exposure(statement)


@PROPERTY
@given(JSON | st.lists(STATEMENT).map(json.dumps), st.sampled_from(PolicyKind))
def test_any_value_as_a_policy_document_is_a_policy_or_invalid(value: Any, kind: PolicyKind) -> None:
    policy = analysed(value, kind)
    if policy is not None:
        for statement in policy.statements:
            check_exposure(statement)


def outcomes_of(document: Any, form: str) -> set[str]:
    policy = analysed(as_form(document, form), PolicyKind.BUCKET)
    if policy is None:
        return {"invalid"}
    found: set[str] = set()
    for statement in policy.statements:
        result = exposure_of(statement, BOUNDARY)
        found.add("public" if result.public else "untrusted" if result.untrusted else "safe")
        if result.narrowed_by:
            found.add("narrowed")
    return found


@pytest.mark.parametrize("outcome", ["invalid", "public", "untrusted", "safe", "narrowed"])
def test_the_grammar_reaches_every_outcome(outcome: str) -> None:
    """Guard: a property over a grammar that never reaches an outcome would be vacuous there."""
    find(
        st.tuples(DOCUMENT, FORMS),
        lambda case: outcome in outcomes_of(*case),
        settings=settings(max_examples=2_000, database=None, deadline=None, phases=[Phase.generate]),
    )
