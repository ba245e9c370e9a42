"""parse_policy folds every spelling IAM accepts into one Policy; action_matches is exact IAM wildcard matching."""

from __future__ import annotations

from typing import Any

import pytest

from iamwarden.domain.exceptions import InvalidEventError
from iamwarden.domain.policy import Condition, Policy, Principal, Statement, action_matches, parse_policy

ALLOW_READ: dict[str, Any] = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}


def one(**changes: Any) -> Statement:
    """The single statement of a policy built from ALLOW_READ with ``changes`` (a value of ... deletes)."""
    raw = {**ALLOW_READ, **changes}
    raw = {key: value for key, value in raw.items() if value is not ...}
    policy = parse_policy({"Version": "2012-10-17", "Statement": [raw]})
    assert len(policy.statements) == 1
    return policy.statements[0]


def principal(value: Any) -> Principal | None:
    return one(Principal=value).principal


# --- document shape -------------------------------------------------------------------------------


def test_statement_as_object_or_list_gives_the_same_statements() -> None:
    as_object = parse_policy({"Version": "2012-10-17", "Statement": ALLOW_READ})
    as_list = parse_policy({"Version": "2012-10-17", "Statement": [ALLOW_READ]})
    assert isinstance(as_object, Policy)
    assert as_object.statements == as_list.statements
    assert as_object.statements[0].position == 0
    assert as_object.statements[0].raw == ALLOW_READ


def test_statements_keep_their_position_and_raw_form() -> None:
    deny = {"Sid": "DenyHttp", "Effect": "Deny", "Action": "s3:*", "Resource": "*"}
    policy = parse_policy({"Statement": [ALLOW_READ, deny]})
    assert [(s.position, s.sid, s.effect, s.allows) for s in policy.statements] == [
        (0, None, "Allow", True),
        (1, "DenyHttp", "Deny", False),
    ]
    assert policy.statements[1].raw is deny
    assert policy.statements[0].label == "statement 0"
    assert policy.statements[1].label == "statement 1 (DenyHttp)"


def test_empty_statement_list_is_a_policy_with_no_statements() -> None:
    assert parse_policy({"Statement": []}).statements == ()


def test_empty_sid_is_no_sid() -> None:
    assert one(Sid="").sid is None


@pytest.mark.parametrize("version", ["2012-10-17", "2008-10-17", None])
def test_accepted_versions(version: str | None) -> None:
    document: dict[str, Any] = {"Statement": ALLOW_READ}
    if version is not None:
        document["Version"] = version
    assert parse_policy(document).version == version


@pytest.mark.parametrize(
    "version",
    ["2012-10-18", "2012-10-17 ", "2012", "", 2012, 20121017.0, True, ["2012-10-17"], {"v": "2012-10-17"}],
    ids=["typo", "trailing-space", "year", "empty", "int", "float", "bool", "list", "object"],
)
def test_other_versions_are_rejected(version: Any) -> None:
    with pytest.raises(InvalidEventError, match=r"^policy\.Version must be 2012-10-17 or 2008-10-17, got"):
        parse_policy({"Version": version, "Statement": ALLOW_READ})


def test_action_and_resource_as_string_or_list() -> None:
    as_strings = one(Action="s3:GetObject", Resource="arn:aws:s3:::b/*")
    as_lists = one(Action=["s3:GetObject"], Resource=["arn:aws:s3:::b/*"])
    assert as_strings.actions == as_lists.actions == ("s3:getobject",)
    assert as_strings.resources == as_lists.resources == ("arn:aws:s3:::b/*",)
    several = one(Action=["s3:GetObject", "S3:ListBucket"], Resource=["arn:aws:s3:::b", "arn:aws:s3:::b/*"])
    assert several.actions == ("s3:getobject", "s3:listbucket")  # action names are case-insensitive
    assert several.resources == ("arn:aws:s3:::b", "arn:aws:s3:::b/*")  # resources are not


def test_not_action_and_not_resource() -> None:
    statement = one(Action=..., NotAction=["IAM:*", "organizations:*"], Resource=..., NotResource="arn:aws:s3:::b")
    assert statement.actions is None
    assert statement.not_actions == ("iam:*", "organizations:*")
    assert statement.resources is None
    assert statement.not_resources == ("arn:aws:s3:::b",)


def test_identity_policy_statement_has_no_principal() -> None:
    statement = one()
    assert statement.principal is None
    assert statement.not_principal is None
    assert statement.conditions == ()


# --- principals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("*", Principal(everyone=True)),
        ({"AWS": "*"}, Principal(everyone=True, aws=("*",))),
        ({"AWS": ["*"]}, Principal(everyone=True, aws=("*",))),
        ({"AWS": ["111122223333", "*"]}, Principal(everyone=True, aws=("111122223333", "*"))),
        ({"AWS": "111122223333"}, Principal(everyone=False, aws=("111122223333",))),
        (
            {"AWS": ["arn:aws:iam::444455556666:root", "arn:aws:iam::999988887777:role/vendor"]},
            Principal(everyone=False, aws=("arn:aws:iam::444455556666:root", "arn:aws:iam::999988887777:role/vendor")),
        ),
        ({"Service": "cloudtrail.amazonaws.com"}, Principal(everyone=False, service=("cloudtrail.amazonaws.com",))),
        (
            {"Service": ["logging.s3.amazonaws.com", "delivery.logs.amazonaws.com"]},
            Principal(everyone=False, service=("logging.s3.amazonaws.com", "delivery.logs.amazonaws.com")),
        ),
        (
            {"Federated": "cognito-identity.amazonaws.com"},
            Principal(everyone=False, federated=("cognito-identity.amazonaws.com",)),
        ),
        (
            {"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"},
            Principal(
                everyone=False, canonical_user=("79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be",)
            ),
        ),
        (
            {"AWS": "111122223333", "Service": "ec2.amazonaws.com"},
            Principal(everyone=False, aws=("111122223333",), service=("ec2.amazonaws.com",)),
        ),
        ({}, Principal(everyone=False)),
        ({"AWS": []}, Principal(everyone=False)),
    ],
    ids=[
        "star",
        "aws-star",
        "aws-star-list",
        "aws-list-with-star",
        "bare-account",
        "arns",
        "service",
        "services",
        "federated",
        "canonical-user",
        "aws-and-service",
        "empty-object",
        "empty-aws-list",
    ],
)
def test_principal_forms(value: Any, expected: Principal) -> None:
    assert principal(value) == expected


def test_not_principal_is_parsed_like_principal() -> None:
    statement = one(NotPrincipal={"AWS": ["arn:aws:iam::111122223333:root"]})
    assert statement.principal is None
    assert statement.not_principal == Principal(everyone=False, aws=("arn:aws:iam::111122223333:root",))
    assert one(NotPrincipal="*").not_principal == Principal(everyone=True)


# --- invalid statements ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"Version": "2012-10-17"}, r"^policy has no Statement$"),
        ({}, r"^policy has no Statement$"),
        ({"Statement": "s3:GetObject"}, r"^policy\.Statement must be an object or a list, got a string$"),
        ({"Statement": None}, r"^policy\.Statement must be an object or a list, got null$"),
        ({"Statement": 1}, r"got a number$"),
        ({"Statement": [ALLOW_READ, "x"]}, r"^policy\.Statement\[1\] must be an object, got a string$"),
        ({"Statement": [[ALLOW_READ]]}, r"^policy\.Statement\[0\] must be an object, got a list$"),
    ],
)
def test_invalid_documents(document: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidEventError, match=message):
        parse_policy(document)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"Effect": "allow"}, r"Statement\[0\]\.Effect must be Allow or Deny, got 'allow'"),
        ({"Effect": "Permit"}, r"Effect must be Allow or Deny, got 'Permit'"),
        ({"Effect": ...}, r"Effect must be Allow or Deny, got None"),
        ({"Effect": True}, r"Effect must be Allow or Deny, got True"),
        ({"Effect": ["Allow"]}, r"Effect must be Allow or Deny, got \['Allow'\]"),
        ({"NotAction": "s3:PutObject"}, r"Statement\[0\] must have exactly one of Action and NotAction"),
        ({"Action": ...}, r"must have exactly one of Action and NotAction"),
        ({"Sid": 1}, r"Statement\[0\]\.Sid must be a string, got a number"),
        ({"Sid": ["a"]}, r"Sid must be a string, got a list"),
        ({"Action": 1}, r"Statement\[0\]\.Action must be a string or a list of strings"),
        ({"Action": ["s3:GetObject", None]}, r"Action must be a string or a list of strings"),
        ({"Action": {"s3": "GetObject"}}, r"Action must be a string or a list of strings"),
        ({"Resource": None}, r"Resource must be a string or a list of strings"),
        ({"Principal": ["*"]}, r"Statement\[0\]\.Principal must be \"\*\" or an object, got a list"),
        ({"Principal": "111122223333"}, r"Principal must be \"\*\" or an object, got a string"),
        ({"Principal": None}, r"Principal must be \"\*\" or an object, got null"),
        ({"Principal": {"Users": "alice"}}, r"Statement\[0\]\.Principal has unknown principal type 'Users'"),
        ({"Principal": {"aws": "*"}}, r"unknown principal type 'aws'"),
        ({"NotPrincipal": {"Group": "x"}}, r"Statement\[0\]\.NotPrincipal has unknown principal type 'Group'"),
        ({"Principal": {"AWS": 111122223333}}, r"Principal\.AWS must be a string or a list of strings"),
        ({"Principal": {"Service": [None]}}, r"Principal\.Service must be a string or a list of strings"),
        ({"Principal": {"AWS": {"Account": "1"}}}, r"Principal\.AWS must be a string or a list of strings"),
        ({"Condition": "aws:SecureTransport"}, r"Statement\[0\]\.Condition must be an object, got a string"),
        ({"Condition": []}, r"Condition must be an object, got a list"),
        ({"Condition": {"Bool": "true"}}, r"Condition\.Bool must be an object of key tests"),
        (
            {"Condition": {"StringEquals": {"aws:PrincipalOrgID": {"o": 1}}}},
            r"StringEquals\.aws:PrincipalOrgID values must be scalars",
        ),
        ({"Condition": {"StringEquals": {"aws:PrincipalOrgID": [["o-a1b2c3d4e5"]]}}}, r"values must be scalars"),
        ({"Condition": {"Null": {"aws:PrincipalOrgID": None}}}, r"values must be scalars"),
    ],
)
def test_invalid_statements_name_the_problem(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidEventError, match=message):
        one(**changes)


def test_field_name_prefixes_the_message() -> None:
    with pytest.raises(InvalidEventError, match=r"^detail\.requestParameters\.bucketPolicy\.Statement\[0\]\.Effect"):
        parse_policy({"Statement": {"Effect": "x"}}, field="detail.requestParameters.bucketPolicy")


# --- conditions -----------------------------------------------------------------------------------


def test_condition_qualifiers_if_exists_and_keys() -> None:
    statement = one(
        Condition={
            "ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": ["o-a1b2c3d4e5/r-ab12/ou-*"]},
            "ForAllValues:StringEqualsIfExists": {"aws:TagKeys": ["team", "env"]},
            "StringEqualsIfExists": {"AWS:PrincipalOrgID": "o-a1b2c3d4e5"},
            "Bool": {"aws:SecureTransport": False, "aws:MultiFactorAuthPresent": True},
            "NumericLessThan": {"s3:max-keys": 10, "s3:TlsVersion": 1.2},
            "IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "198.51.100.0/24"]},
        }
    )
    assert statement.conditions == (
        Condition("StringLike", "ForAnyValue", False, "aws:principalorgpaths", ("o-a1b2c3d4e5/r-ab12/ou-*",)),
        Condition("StringEquals", "ForAllValues", True, "aws:tagkeys", ("team", "env")),
        Condition("StringEquals", None, True, "aws:principalorgid", ("o-a1b2c3d4e5",)),
        Condition("Bool", None, False, "aws:securetransport", ("false",)),
        Condition("Bool", None, False, "aws:multifactorauthpresent", ("true",)),
        Condition("NumericLessThan", None, False, "s3:max-keys", ("10",)),
        Condition("NumericLessThan", None, False, "s3:tlsversion", ("1.2",)),
        Condition("IpAddress", None, False, "aws:sourceip", ("203.0.113.0/24", "198.51.100.0/24")),
    )


def test_bool_values_become_lower_case_words_not_python_names() -> None:
    (condition,) = one(Condition={"Bool": {"aws:SecureTransport": [True, False, "true"]}}).conditions
    assert condition.values == ("true", "false", "true")


def test_empty_condition_block_and_empty_value_list() -> None:
    assert one(Condition={}).conditions == ()
    (condition,) = one(Condition={"StringEquals": {"aws:PrincipalOrgID": []}}).conditions
    assert condition.values == ()


# --- action matching ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        ("s3:GetObject", "s3:GetObject", True),
        ("S3:getobject", "s3:GetObject", True),
        ("s3:GetObject", "S3:GETOBJECT", True),
        ("s3:Get*", "s3:GetObject", True),
        ("s3:Get*", "s3:GetObjectAcl", True),
        ("s3:Get*", "s3:Get", True),
        ("s3:Get*", "s3:PutObject", False),
        ("s3:Get*", "ec2:GetConsoleOutput", False),
        ("*", "s3:GetObject", True),
        ("*", "iam:CreateUser", True),
        ("iam:*", "iam:CreateUser", True),
        ("iam:*", "s3:GetObject", False),
        ("iam:*", "iamx:CreateUser", False),
        ("s3:?etObject", "s3:GetObject", True),
        ("s3:?etObject", "s3:SetObject", True),
        ("s3:?etObject", "s3:etObject", False),
        ("s3:?etObject", "s3:GGetObject", False),
        ("s3:*Object", "s3:DeleteObject", True),
        ("s3:*Object", "s3:DeleteObjects", False),
        ("s3:Get*Acl", "s3:GetObjectAcl", True),
        ("s3:GetObject", "s3:GetObjectAcl", False),  # no implicit prefix match
        ("s3:GetObjectAcl", "s3:GetObject", False),
        ("s3:GetObject", "s3:Get*", False),  # a literal pattern does not cover a wildcard action
        ("s3:Get*", "s3:Get*", True),
        ("s3:*", "s3:Get*", True),
        ("*", "s3:Get*", True),
        ("s3:Get?bject", "s3:Get*", False),
        ("s3.GetObject", "s3:GetObject", False),  # "." is literal, not a regex wildcard
        ("s3:Get[O]bject", "s3:GetObject", False),
        ("s3:(GetObject)", "s3:GetObject", False),
        ("", "s3:GetObject", False),
        ("s3:", "s3:GetObject", False),
    ],
)
def test_action_matches(pattern: str, action: str, expected: bool) -> None:
    assert action_matches(pattern, action) is expected


def test_grants_action_with_action() -> None:
    statement = one(Action=["s3:Get*", "s3:ListBucket"])
    assert statement.grants_action("s3:GetObject")
    assert statement.grants_action("S3:LISTBUCKET")
    assert not statement.grants_action("s3:PutObject")


def test_grants_action_with_not_action_grants_everything_else() -> None:
    statement = one(Action=..., NotAction=["s3:Get*", "IAM:*"])
    assert not statement.grants_action("s3:GetObject")
    assert not statement.grants_action("iam:CreateUser")
    assert statement.grants_action("s3:PutObject")
    assert statement.grants_action("s3:PutBucketPolicy")
    assert statement.grants_action("ec2:RunInstances")


def test_grants_action_ignores_effect() -> None:
    assert one(Effect="Deny", Action="s3:*").grants_action("s3:DeleteObject")


def test_not_action_star_grants_nothing() -> None:
    statement = one(Action=..., NotAction="*")
    assert not statement.grants_action("s3:GetObject")
    assert not statement.grants_action("iam:PassRole")
