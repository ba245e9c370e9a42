"""First sight's shortcuts (issue 13, speed against Cloud Custodian) say exactly what the full reading says.

Four shortcuts, each checked against the reading it skips, run by the same code with the shortcut switched off
(so each comparison is between two implementations and can fail):

* ``policy._KNOWN_OPERATORS``: IAM's condition operators split once, as a constant table, where the parse
  otherwise splits each spelling with ``_operator`` (and keeps it in a cache the benchmark empties);
* ``exposure.admits_only_trusted``: ``trust_policy.statement_problems`` answers "no problem" without building the
  exposure for a statement naming only trusted accounts and services nothing binds to another account.
* ``documents._key_ends_after_space``: four substring searches tell the usual text has no key ending with
  whitespace before the regex is asked (the duplicate-key count's choice of count);
* ``trust_policy.federated_only``: ``statement_problems`` judges a statement naming only identity providers by what
  they authenticate, without building the exposure (which could add nothing but a condition that never holds).

Compared on every document of the sample events and the corpora, and on generated statements (every principal
type, wildcards, log deliveries, source and other conditions, Deny, NotPrincipal, empty Action lists), for two
boundaries, offline, with a Region and time, and with live lookups that answer and that are denied.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iamwarden.domain import documents, exposure, judged, policy
from iamwarden.domain.exceptions import InvalidEventError
from iamwarden.domain.exposure import TrustBoundary, admits_only_trusted
from iamwarden.domain.policy import Condition, Statement, _operator, parse_policy
from iamwarden.guardrails import trust_policy
from iamwarden.guardrails.trust_policy import FederationBoundary, Problem, policy_problems, statement_problems
from tests.policy_corpus import corpus_documents
from tests.unit.test_fresh_exposure import BOUNDARY, CIRCUMSTANCES

OTHER_BOUNDARY = TrustBoundary("999988887777")
BOUNDARIES = (BOUNDARY, OTHER_BOUNDARY)
VENDORS = ("999988887777", "4444*")
FEDERATION = FederationBoundary(frozenset({"acme"}), frozenset({"us-east-1:11111111-2222-3333-4444-555555555555"}))
CORPUS = corpus_documents()


def _parsed(document: dict[str, Any]) -> tuple[Statement, ...] | None:
    try:
        return parse_policy(copy.deepcopy(document)).statements
    except InvalidEventError:
        return None


def _full_problems(
    statement: Statement, boundary: TrustBoundary, circumstances: Any, monkeypatch: pytest.MonkeyPatch
) -> list[Problem]:
    """``statement_problems`` with the shortcut switched off: every statement's exposure is built."""
    with monkeypatch.context() as patched:
        patched.setattr(trust_policy, "admits_only_trusted", lambda *_: False)
        patched.setattr(trust_policy, "federated_only", lambda *_: False)
        return statement_problems(statement, boundary, VENDORS, circumstances, FEDERATION)


def _assert_same_problems(statements: tuple[Statement, ...], monkeypatch: pytest.MonkeyPatch) -> int:
    """Compare the two readings of every statement; return how many times the shortcut answered."""
    taken = 0
    for statement in statements:
        for boundary in BOUNDARIES:
            for circumstances in CIRCUMSTANCES:
                exposure._EXPOSURES.clear()
                full = _full_problems(statement, boundary, circumstances, monkeypatch)
                assert statement_problems(statement, boundary, VENDORS, circumstances, FEDERATION) == full
                principal = statement.principal
                if (
                    statement.allows
                    and statement.actions != ()
                    and statement.not_principal is None
                    and principal is not None
                    and admits_only_trusted(principal, statement.conditions, boundary)
                ):
                    taken += 1
                    assert full == []  # the shortcut is taken only where the full reading finds nothing
    return taken


# --- the condition operator table -------------------------------------------------------------------------------


def test_every_known_operator_is_split_as_the_parse_splits_it() -> None:
    assert len(policy._KNOWN_OPERATORS) == 26 * 3 * 2 + 3  # 26 operators and Null, 3 qualifiers, IfExists but on Null
    for spelling, split in policy._KNOWN_OPERATORS.items():
        assert isinstance(spelling, str)
        assert _operator(spelling) == split, spelling


def test_a_known_operator_is_never_kept_and_an_unknown_one_is() -> None:
    policy._OPERATORS.clear()
    document = {
        "Statement": {
            "Effect": "Allow",
            "Action": "s3:*",
            "Condition": {"ForAnyValue:StringLikeIfExists": {"k": "v"}, "StringLooksLike": {"k": "v"}},
        }
    }
    conditions = parse_policy(document).statements[0].conditions
    assert conditions == (
        Condition("StringLike", "ForAnyValue", True, "k", ("v",)),
        Condition("StringLooksLike", None, False, "k", ("v",)),
    )
    assert policy._OPERATORS == {"StringLooksLike": ("StringLooksLike", None, False)}


@pytest.mark.parametrize("qualifier", ["", "ForAnyValue:", "ForAllValues:", "ForAnyValue:ForAllValues:"])
@pytest.mark.parametrize("operator", ["StringEquals", "NullIfExists", "stringequals", "Bool", "StringNotLike"])
@pytest.mark.parametrize("suffix", ["", "IfExists"])
def test_operator_spellings_read_the_same_with_and_without_the_table(
    qualifier: str, operator: str, suffix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    test = {"aws:SourceAccount": "111122223333"}
    document = {"Statement": {"Effect": "Allow", "Action": "s3:*", "Condition": {qualifier + operator + suffix: test}}}
    policy._OPERATORS.clear()
    with_table = parse_policy(copy.deepcopy(document))
    monkeypatch.setattr(policy, "_KNOWN_OPERATORS", {})
    policy._OPERATORS.clear()
    assert parse_policy(copy.deepcopy(document)) == with_table


def test_the_corpus_parses_the_same_with_and_without_the_table(monkeypatch: pytest.MonkeyPatch) -> None:
    policy._OPERATORS.clear()
    with_table = [_parsed(document) for document in CORPUS]
    monkeypatch.setattr(policy, "_KNOWN_OPERATORS", {})
    policy._OPERATORS.clear()
    assert [_parsed(document) for document in CORPUS] == with_table
    assert sum(1 for statements in with_table if statements and any(s.conditions for s in statements)) > 50


# --- the trust policy shortcut ----------------------------------------------------------------------------------


def test_the_corpus_is_judged_the_same_with_and_without_the_trust_shortcut(monkeypatch: pytest.MonkeyPatch) -> None:
    taken = 0
    for document in CORPUS:
        statements = _parsed(document)
        if statements is not None:
            taken += _assert_same_problems(statements, monkeypatch)
    assert taken > 100  # the shortcut is exercised, not only declined


_ACCOUNTS = [
    "111122223333",
    "444455556666",
    "999988887777",
    "*",
    "arn:aws:iam::111122223333:root",
    "arn:aws:iam::444455556666:role/x",
    "arn:aws:iam::999988887777:user/y",
    "arn:aws:iam::*:root",
    "arn:aws:iam::11112222333?:root",
    "AROAEXAMPLEID",
    "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E1",
    "arn:aws:iam::cloudfront:user/other",
    "127311923021",  # us-east-1's Elastic Load Balancing account
    "arn:aws:iam::156460612806:root",  # eu-west-1's
]
_SERVICES = [
    "lambda.amazonaws.com",
    "ec2.amazonaws.com",
    "*.amazonaws.com",
    "lambda.amazonaw?.com",
    "logging.s3.amazonaws.com",
    "delivery.logs.amazonaws.com",
    "cloudtrail.amazonaws.com",
    "elasticloadbalancing",
    "logdelivery.elasticloadbalancing.amazonaws.com",
]
_FEDERATED = [
    "cognito-identity.amazonaws.com",
    "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com",
    "arn:aws:iam::999988887777:saml-provider/corp",
    "accounts.google.com",
]
_KEYS = [
    "aws:SourceAccount",
    "aws:SourceArn",
    "aws:SourceOwner",
    "aws:PrincipalOrgID",
    "aws:PrincipalArn",
    "aws:SourceVpce",
    "aws:CurrentTime",
    "aws:userid",
    "sts:ExternalId",
    "token.actions.githubusercontent.com:sub",
]
_VALUES = [
    "111122223333",
    "999988887777",
    "not-an-id",
    "o-a1b2c3d4e5",
    "arn:aws:iam::999988887777:role/x",
    "arn:aws:s3:::bucket",
    "vpce-01",
    "vpce-0a1b2c3d",
    "2020-01-01T00:00:00Z",
    "repo:acme/*",
    "*",
]
_OPERATOR_NAMES = ["StringEquals", "StringLike", "ArnLike", "StringNotEquals", "StringEqualsIfExists", "DateLessThan"]


def _one_or_many(items: list[str]) -> st.SearchStrategy[Any]:
    return st.one_of(st.sampled_from(items), st.lists(st.sampled_from(items), min_size=1, max_size=3))


_PRINCIPALS = st.one_of(
    st.just("*"),
    st.fixed_dictionaries(
        {},
        optional={
            "AWS": _one_or_many(_ACCOUNTS),
            "Service": _one_or_many(_SERVICES),
            "Federated": _one_or_many(_FEDERATED),
            "CanonicalUser": _one_or_many(["a" * 64, "b" * 64, "not-hex"]),
        },
    ),
)
_CONDITIONS = st.dictionaries(
    st.sampled_from(_OPERATOR_NAMES),
    st.dictionaries(st.sampled_from(_KEYS), _one_or_many(_VALUES), min_size=1, max_size=2),
    max_size=2,
)
_STATEMENTS = st.fixed_dictionaries(
    {
        "Effect": st.sampled_from(["Allow", "Allow", "Deny"]),
        "Action": st.sampled_from(
            ["sts:AssumeRole", "sts:AssumeRoleWithWebIdentity", "*", [], ["sts:AssumeRole", "sts:TagSession"]]
        ),
    },
    optional={
        "Principal": _PRINCIPALS,
        "NotPrincipal": st.fixed_dictionaries({"AWS": _one_or_many(_ACCOUNTS)}),
        "Resource": _one_or_many(
            ["*", "arn:aws:s3:::b/AWSLogs/999988887777/*", "arn:aws:s3:::b/AWSLogs/111122223333/*"]
        ),
        "Condition": _CONDITIONS,
    },
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(statements=st.lists(_STATEMENTS, min_size=1, max_size=3))
def test_generated_statements_are_judged_the_same_with_and_without_the_trust_shortcut(
    statements: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed = _parsed({"Version": "2012-10-17", "Statement": statements})
    if parsed is not None:
        _assert_same_problems(parsed, monkeypatch)


@pytest.mark.parametrize(
    ("principal", "extra", "shortcut", "outsider"),
    [
        ({"Service": "lambda.amazonaws.com"}, {}, True, False),
        (
            {"Service": "lambda.amazonaws.com"},
            {"Condition": {"StringEquals": {"aws:SourceAccount": "999988887777"}}},
            False,
            True,
        ),
        (
            {"Service": "lambda.amazonaws.com"},
            {"Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::x"}}},
            False,
            False,
        ),
        (
            {"Service": "lambda.amazonaws.com"},
            {"Condition": {"StringEquals": {"aws:SourceOwner": "111122223333"}}},
            False,
            False,
        ),
        ({"Service": "lambda.amazonaws.com"}, {"Condition": {"StringLike": {"aws:userid": "*"}}}, True, False),
        ({"Service": "cloudtrail.amazonaws.com"}, {"Resource": "arn:aws:s3:::b/AWSLogs/999988887777/*"}, False, True),
        ({"Service": "cloudtrail.amazonaws.com"}, {"Resource": "arn:aws:s3:::b/AWSLogs/111122223333/*"}, False, False),
        ({"Service": "elasticloadbalancing"}, {}, False, True),
        ({"Service": "*.amazonaws.com"}, {}, False, True),
        ({"Service": "lambda.amazonaws.co?"}, {}, False, True),
        ({"AWS": ["111122223333", "arn:aws:iam::444455556666:role/x"]}, {}, True, False),
        ({"AWS": "arn:aws:iam::111122223333:root", "Service": "ec2.amazonaws.com"}, {}, True, False),
        ({"AWS": ["111122223333", "999988887777"]}, {}, False, True),
        ({"AWS": "*"}, {"Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}}, False, False),
        ({"AWS": "arn:aws:iam::*:root"}, {}, False, True),
        ({"AWS": "127311923021"}, {}, False, True),  # us-east-1's Elastic Load Balancing account
        ({"AWS": "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E1"}, {}, False, False),
        ({"AWS": "AROAEXAMPLEID"}, {}, False, True),
        ({"Federated": "arn:aws:iam::111122223333:saml-provider/corp"}, {}, False, False),
        ({"Federated": "cognito-identity.amazonaws.com"}, {}, False, True),
        ({"CanonicalUser": "a" * 64}, {}, False, False),
    ],
)
def test_the_shortcut_declines_whatever_could_let_an_outsider_in(
    principal: dict[str, Any],
    extra: dict[str, Any],
    shortcut: bool,
    outsider: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    raw: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": principal,
        "Action": "sts:AssumeRoleWithWebIdentity" if "Federated" in principal else "sts:AssumeRole",
    }
    raw.update(extra)  # a Condition, a Resource
    (statement,) = parse_policy({"Statement": [raw]}).statements
    assert statement.principal is not None
    circumstances = CIRCUMSTANCES[1]  # us-east-1: its Elastic Load Balancing account is known
    assert admits_only_trusted(statement.principal, statement.conditions, BOUNDARY) is shortcut
    problems = statement_problems(statement, BOUNDARY, VENDORS, circumstances, FEDERATION)
    assert bool(problems) is outsider
    assert problems == _full_problems(statement, BOUNDARY, circumstances, monkeypatch)


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Deny", "Principal": {"AWS": "999988887777"}, "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": {"AWS": "999988887777"}, "Action": []},
        {"Effect": "Allow", "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "NotPrincipal": {"AWS": "111122223333"}, "Action": "sts:AssumeRole"},
    ],
)
def test_statements_without_a_principal_to_vouch_for_read_the_same(
    statement: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    (parsed,) = parse_policy({"Statement": [statement]}).statements
    problems = statement_problems(parsed, BOUNDARY, VENDORS, CIRCUMSTANCES[1], FEDERATION)
    assert problems == _full_problems(parsed, BOUNDARY, CIRCUMSTANCES[1], monkeypatch)
    assert bool(problems) is ("NotPrincipal" in statement)


def test_a_whole_trust_policy_keeps_its_verdict_with_the_shortcut(monkeypatch: pytest.MonkeyPatch) -> None:
    document = {
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"},
            {"Effect": "Allow", "Principal": {"AWS": "999988887777"}, "Action": "sts:AssumeRole"},
        ]
    }
    judged.forget()
    found = policy_problems(parse_policy(copy.deepcopy(document)), BOUNDARY, (), CIRCUMSTANCES[1])
    monkeypatch.setattr(trust_policy, "admits_only_trusted", lambda *_: False)
    judged.forget()
    assert policy_problems(parse_policy(copy.deepcopy(document)), BOUNDARY, (), CIRCUMSTANCES[1]) == found
    assert [problem.statement.position for problem in found] == [1]


# --- the identity-provider shortcut -----------------------------------------------------------------------------


def test_the_corpus_exercises_the_identity_provider_shortcut() -> None:
    """The corpus comparison above (both shortcuts off against both on) covers federated trusts, not only declines."""
    federated = [
        statement
        for document in CORPUS
        for statement in _parsed(document) or ()
        if statement.principal is not None
        and statement.not_principal is None
        and trust_policy.federated_only(statement.principal)
    ]
    assert len(federated) >= 5


_PAST = {"DateLessThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}
_GITHUB = "arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com"


@pytest.mark.parametrize(
    ("principal", "condition", "shortcut", "problems"),
    [
        ({"Federated": _GITHUB}, {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/*"}}, True, 0),
        ({"Federated": _GITHUB}, {"StringLike": {"token.actions.githubusercontent.com:sub": "*"}}, True, 1),
        ({"Federated": _GITHUB}, {}, True, 1),
        ({"Federated": "arn:aws:iam::999988887777:oidc-provider/token.actions.githubusercontent.com"}, {}, True, 2),
        ({"Federated": "arn:aws:iam::999988887777:saml-provider/corp"}, {}, True, 1),
        ({"Federated": "cognito-identity.amazonaws.com"}, {}, True, 1),
        ({"Federated": _GITHUB}, _PAST, True, 0),  # a window closed before the policy was set: grants nothing
        ({"Federated": _GITHUB, "AWS": "999988887777"}, {}, False, 2),  # a named account: the full reading
        ({"Federated": _GITHUB, "Service": "lambda.amazonaws.com"}, {}, False, 1),
        ({"Federated": _GITHUB, "AWS": "111122223333"}, {}, False, 1),  # a trusted account: only the provider's
        ({"Federated": _GITHUB, "CanonicalUser": "not-hex"}, {}, False, 2),  # a canonical user is an outsider
        ({"Federated": _GITHUB, "CanonicalUser": "a" * 64}, {}, False, 1),  # a trusted one: only the provider's
        ({"Federated": [_GITHUB, "cognito-identity.amazonaws.com"], "CanonicalUser": "b" * 64}, {}, False, 3),
        ("*", {}, False, 1),  # everyone (its Federated part included)
    ],
)
def test_the_identity_provider_shortcut_reads_as_the_full_path(
    principal: dict[str, Any],
    condition: dict[str, Any],
    shortcut: bool,
    problems: int,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    raw: dict[str, Any] = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRoleWithWebIdentity"}
    if condition:
        raw["Condition"] = condition
    (statement,) = parse_policy({"Statement": [raw]}).statements
    assert statement.principal is not None
    assert trust_policy.federated_only(statement.principal) is shortcut
    circumstances = CIRCUMSTANCES[1]  # 2026: the DateLessThan window had closed
    found = statement_problems(statement, BOUNDARY, VENDORS, circumstances, FEDERATION)
    assert len(found) == problems
    assert found == _full_problems(statement, BOUNDARY, circumstances, monkeypatch)


@pytest.mark.parametrize(
    "not_principal",
    [{"Federated": _GITHUB}, {"Federated": "cognito-identity.amazonaws.com"}, {"Federated": _GITHUB, "AWS": "*"}],
)
def test_a_not_principal_naming_identity_providers_is_read_in_full(
    not_principal: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """NotPrincipal lets in everyone it does not name: never judged by the providers it names."""
    raw = {"Effect": "Allow", "NotPrincipal": not_principal, "Action": "sts:AssumeRoleWithWebIdentity"}
    (statement,) = parse_policy({"Statement": [raw]}).statements
    assert statement.not_principal is not None
    assert statement.not_principal.federated
    found = statement_problems(statement, BOUNDARY, VENDORS, CIRCUMSTANCES[1], FEDERATION)
    assert found
    assert found[0].public  # everyone but the named providers
    assert found == _full_problems(statement, BOUNDARY, CIRCUMSTANCES[1], monkeypatch)


_PROVIDERS = [
    _GITHUB,
    "arn:aws:iam::111122223333:saml-provider/corp",
    "arn:aws:iam::444455556666:oidc-provider/token.actions.githubusercontent.com",  # a trusted account's
    "arn:aws:iam::999988887777:oidc-provider/token.actions.githubusercontent.com",
    "arn:aws:iam::999988887777:saml-provider/corp",
    "arn:aws-cn:iam::111122223333:oidc-provider/oidc.eks.cn-north-1.amazonaws.com.cn/id/ABC",
    "arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC",
    "arn:aws:iam::*:saml-provider/corp",
    "arn:aws:iam::11112222333:oidc-provider/short",  # malformed: eleven digits
    "arn:aws:iam:oidc-provider",
    "*",
    "cognito-identity.amazonaws.com",
    "accounts.google.com",
    "graph.facebook.com",
    "www.amazon.com",
]
_PROVIDER_KEYS = [
    "token.actions.githubusercontent.com:sub",
    "token.actions.githubusercontent.com:aud",
    "cognito-identity.amazonaws.com:aud",
    "cognito-identity.amazonaws.com:amr",
    "accounts.google.com:aud",
    "oidc.eks.us-east-1.amazonaws.com/id/ABC:sub",
    "aws:PrincipalAccount",
    "aws:PrincipalOrgID",
    "aws:SourceAccount",
    "aws:CurrentTime",
    "SAML:aud",
]
_PROVIDER_VALUES = [
    "repo:acme/*",
    "repo:other/*",
    "*",
    "sts.amazonaws.com",
    "us-east-1:11111111-2222-3333-4444-555555555555",
    "us-east-1:99999999-2222-3333-4444-555555555555",
    "authenticated",
    "unauthenticated",
    "111122223333",
    "999988887777",
    "o-a1b2c3d4e5",
    "2020-01-01T00:00:00Z",
    "2030-01-01T00:00:00Z",
    "https://signin.aws.amazon.com/saml",
]
_PROVIDER_OPERATORS = [
    "StringEquals",
    "StringLike",
    "StringNotEquals",
    "StringEqualsIfExists",
    "ForAllValues:StringLike",
    "ForAnyValue:StringLike",
    "DateLessThan",
    "DateGreaterThan",
]
# Identity providers alone most of the time; now and then one other principal type beside them (the shortcut must
# then decline), drawn as a rare extra so that most examples exercise the shortcut itself.
_OTHERS = st.sampled_from([None] * 7 + ["AWS", "Service", "CanonicalUser"])
_OTHER_VALUES = {
    "AWS": _one_or_many(["111122223333", "999988887777", "*", "arn:aws:iam::444455556666:role/x"]),
    "Service": _one_or_many(["lambda.amazonaws.com", "*.amazonaws.com"]),
    "CanonicalUser": _one_or_many(["a" * 64, "b" * 64, "not-hex"]),
}


@st.composite
def _provider_statements(draw: st.DrawFn) -> dict[str, Any]:
    principal: dict[str, Any] = {"Federated": draw(_one_or_many(_PROVIDERS))}
    other = draw(_OTHERS)
    if other is not None:
        principal[other] = draw(_OTHER_VALUES[other])
    statement: dict[str, Any] = {
        "Effect": draw(st.sampled_from(["Allow", "Allow", "Allow", "Deny"])),
        "Principal": principal,
        "Action": draw(
            st.sampled_from(
                [
                    "sts:AssumeRoleWithWebIdentity",
                    "sts:AssumeRoleWithSAML",
                    "sts:AssumeRole",
                    "*",
                    ["sts:AssumeRoleWithWebIdentity", "sts:TagSession"],
                ]
            )
        ),
    }
    condition = draw(
        st.dictionaries(
            st.sampled_from(_PROVIDER_OPERATORS),
            st.dictionaries(st.sampled_from(_PROVIDER_KEYS), _one_or_many(_PROVIDER_VALUES), min_size=1, max_size=3),
            max_size=2,
        )
    )
    if condition:
        statement["Condition"] = condition
    return statement


def test_generated_identity_provider_statements_take_the_shortcut_and_read_as_the_full_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Identity providers alone (and, now and then, beside another principal type), compared with the full reading;
    the shortcut must be taken often, and declined for every mix, or the comparison proves nothing."""
    taken = declined = 0

    @settings(max_examples=300, deadline=None)
    @given(statements=st.lists(_provider_statements(), min_size=1, max_size=2))
    def compare(statements: list[dict[str, Any]]) -> None:
        nonlocal taken, declined
        for statement in _parsed({"Version": "2012-10-17", "Statement": statements}) or ():
            _assert_same_problems((statement,), monkeypatch)
            principal = statement.principal
            assert principal is not None
            if (
                statement.allows
                and statement.actions != ()
                and not admits_only_trusted(principal, statement.conditions, BOUNDARY)
            ):
                alone = not (principal.aws or principal.service or principal.canonical_user or principal.everyone)
                assert trust_policy.federated_only(principal) is alone
                taken += alone
                declined += not alone

    compare()
    assert taken > 100  # the shortcut is exercised, not only declined
    assert declined > 20  # and mixes are seen, where it must decline


# --- the key-end pre-check of the duplicate-key count -----------------------------------------------------------


@settings(max_examples=1000, deadline=None)
@given(text=st.text(alphabet=st.sampled_from(['"', ":", " ", "\t", "\n", "\r", "a", "{", "}", ",", "\\"]), max_size=40))
def test_the_key_end_pre_check_answers_as_the_regex(text: str) -> None:
    """``documents._key_ends_after_space`` skips the regex only when no whitespace stands before a colon."""
    assert documents._key_ends_after_space(text) is (re.search(documents._KEY_END_AFTER_SPACE, text) is not None)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ('{"Version": "2012-10-17"}', False),
        ('{"Version" : "2012-10-17"}', True),
        ('{"Version"\n:\t"2012-10-17"}', True),
        ('{"Version"\r\n: 1}', True),
        ('{"a": "x :y"}', False),  # whitespace before a colon, but no quote right before the whitespace
        ('{"a": "x\\" :y"}', True),  # inside a string: the over-count the exact read then settles
    ],
)
def test_the_key_end_pre_check_on_named_texts(text: str, found: bool) -> None:
    assert documents._key_ends_after_space(text) is found
    assert (re.search(documents._KEY_END_AFTER_SPACE, text) is not None) is found


def test_the_corpus_texts_read_the_same_with_the_pre_check() -> None:
    for document in CORPUS:
        for text in (json.dumps(document), json.dumps(document, indent=2), json.dumps(document, separators=(",", ":"))):
            found = re.search(documents._KEY_END_AFTER_SPACE, text) is not None
            assert documents._key_ends_after_space(text) is found
