"""exposure_of: who a resource-policy statement lets in, judged against the trusted boundary.

The rule under test is "narrow only when it provably holds": every case here
that stays public is a condition a security tool must not take on trust.
"""

from __future__ import annotations

from typing import Any

import pytest

from iamwarden.domain.exposure import Exposure, TrustBoundary, exposure_of
from iamwarden.domain.policy import Statement, parse_policy

OWN = "111122223333"
TRUSTED = "444455556666"
UNKNOWN = "999988887777"
ORG = "o-a1b2c3d4e5"
OTHER_ORG = "o-zz99yy88xx"
TRUSTED_NETWORKS = frozenset({"vpce-1a2b3c4d", "vpc-111bbb22", "vpc-333ddd44"})
BOUNDARY = TrustBoundary(
    own_account=OWN, trusted_accounts=frozenset({TRUSTED}), organization_id=ORG, trusted_networks=TRUSTED_NETWORKS
)


def statement(principal: Any = "*", condition: dict[str, Any] | None = None, **changes: Any) -> Statement:
    raw: dict[str, Any] = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme/*"}
    if principal is not None:
        raw["Principal"] = principal
    if condition is not None:
        raw["Condition"] = condition
    raw.update(changes)
    (parsed,) = parse_policy({"Version": "2012-10-17", "Statement": raw}).statements
    return parsed


def exposure(principal: Any = "*", condition: dict[str, Any] | None = None, **changes: Any) -> Exposure:
    return exposure_of(statement(principal, condition, **changes), BOUNDARY)


def is_public(result: Exposure) -> bool:
    return result.public and not result.safe


def only(*labels: str) -> frozenset[str]:
    return frozenset(labels)


def key_of(condition: dict[str, Any]) -> str:
    """The (lower-cased) key of a one-test condition block."""
    (tests,) = condition.values()
    (key,) = tests
    return str(key).lower()


# --- principals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "principal",
    [
        "*",
        {"AWS": "*"},
        {"AWS": ["*"]},
        {"AWS": [OWN, "*"]},
        {"AWS": "arn:aws:iam::*:root"},
        {"AWS": "arn:aws:iam::*:role/reader"},
        {"AWS": "arn:aws:iam::1111222233?3:root"},
    ],
    ids=[
        "star",
        "aws-star",
        "aws-star-list",
        "star-among-accounts",
        "wildcard-root",
        "wildcard-role",
        "question-mark",
    ],
)
def test_public_principals(principal: Any) -> None:
    result = exposure(principal)
    assert is_public(result)
    assert result.narrowed_by == ()


def test_allow_with_not_principal_is_public() -> None:
    result = exposure(None, NotPrincipal={"AWS": f"arn:aws:iam::{OWN}:root"})
    assert is_public(result)


@pytest.mark.parametrize(
    ("principal", "account"),
    [
        ({"AWS": OWN}, OWN),
        ({"AWS": f"arn:aws:iam::{OWN}:root"}, OWN),
        ({"AWS": f"arn:aws:iam::{OWN}:role/app-backend"}, OWN),
        ({"AWS": f"arn:aws:sts::{OWN}:assumed-role/app-backend/session"}, OWN),
        ({"AWS": TRUSTED}, TRUSTED),
        ({"AWS": [f"arn:aws:iam::{TRUSTED}:user/reports"]}, TRUSTED),
        ({"AWS": f"arn:aws-cn:iam::{TRUSTED}:root"}, TRUSTED),
    ],
)
def test_own_and_trusted_accounts_are_safe(principal: Any, account: str) -> None:
    result = exposure(principal)
    assert result.safe
    assert result.trusted == only(account)
    assert result.untrusted == frozenset()


@pytest.mark.parametrize(
    "principal",
    [
        {"AWS": UNKNOWN},
        {"AWS": f"arn:aws:iam::{UNKNOWN}:root"},
        {"AWS": [f"arn:aws:iam::{UNKNOWN}:role/vendor-sync"]},
        {"AWS": f"arn:aws:sts::{UNKNOWN}:assumed-role/vendor/s"},
    ],
    ids=["bare", "root-arn", "role-arn", "session-arn"],
)
def test_unknown_account_is_untrusted_not_public(principal: Any) -> None:
    result = exposure(principal)
    assert not result.public
    assert not result.safe
    assert result.untrusted == only(UNKNOWN)
    assert result.untrusted_accounts == only(UNKNOWN)


def test_mixed_accounts_are_split_into_trusted_and_untrusted() -> None:
    result = exposure({"AWS": [OWN, f"arn:aws:iam::{TRUSTED}:root", UNKNOWN, "888877776666"]})
    assert not result.public
    assert result.trusted == only(OWN, TRUSTED)
    assert result.untrusted == only(UNKNOWN, "888877776666")


@pytest.mark.parametrize(
    ("principal", "condition"),
    [
        ({"Service": "cloudtrail.amazonaws.com"}, {"StringEquals": {"aws:SourceAccount": OWN}}),
        (
            {"Service": ["logging.s3.amazonaws.com", "delivery.logs.amazonaws.com"]},
            {"StringEquals": {"aws:SourceAccount": [OWN, TRUSTED]}},
        ),
        (
            {"Service": "cloudfront.amazonaws.com"},
            {"StringEquals": {"AWS:SourceArn": f"arn:aws:cloudfront::{OWN}:distribution/EDFDVBD6EXAMPLE"}},
        ),
    ],
    ids=["service", "services", "cloudfront-oac"],
)
def test_aws_services_bound_to_trusted_accounts_are_safe(principal: Any, condition: dict[str, Any]) -> None:
    result = exposure(principal, condition)
    assert result.safe, result
    assert result.services
    assert not result.unbound_services


def test_a_cloudfront_origin_access_identity_is_safe() -> None:
    result = exposure({"AWS": "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity E2QWRUHAPOMQZL"})
    assert result.safe
    assert not result.untrusted


@pytest.mark.parametrize(
    ("principal", "label"),
    [
        ({"Federated": "cognito-identity.amazonaws.com"}, "federated cognito-identity.amazonaws.com"),
        ({"CanonicalUser": "79a59df900b949e55d96a1e6"}, "canonical user 79a59df900b949e55d96a1e6"),
        # An identity provider of an outside account.
        (
            {"Federated": "arn:aws:iam::999988887777:saml-provider/Okta"},
            "federated arn:aws:iam::999988887777:saml-provider/Okta",
        ),
        # The unique id IAM shows for a deleted principal: nobody we can vouch for, but not the public.
        ({"AWS": "AROAEXAMPLEDELETEDROLE"}, "unknown principal AROAEXAMPLEDELETEDROLE"),
        ({"AWS": "not-an-arn"}, "unknown principal not-an-arn"),
    ],
)
def test_federated_and_canonical_users_are_untrusted(principal: Any, label: str) -> None:
    result = exposure(principal)
    assert not result.public
    assert result.untrusted == only(label)
    assert result.untrusted_accounts == frozenset()  # not account ids


@pytest.mark.parametrize(
    ("principal", "changes"),
    [
        ("*", {}),
        ({"AWS": UNKNOWN}, {}),
        ({"Federated": "cognito-identity.amazonaws.com"}, {}),
        (None, {"NotPrincipal": {"AWS": f"arn:aws:iam::{OWN}:root"}}),
    ],
    ids=["star", "unknown", "federated", "not-principal"],
)
def test_deny_statements_are_never_exposed(principal: Any, changes: dict[str, Any]) -> None:
    result = exposure(principal, Effect="Deny", **changes)
    assert result == Exposure()
    assert result.safe


def test_statement_without_principal_exposes_nothing() -> None:
    assert exposure(None) == Exposure()


def test_boundary_decides_what_is_trusted() -> None:
    stranger = statement({"AWS": UNKNOWN})
    assert exposure_of(stranger, TrustBoundary(own_account=UNKNOWN)).safe
    assert not exposure_of(stranger, TrustBoundary(own_account=OWN)).safe
    assert exposure_of(statement({"AWS": TRUSTED}), TrustBoundary(own_account=OWN)).untrusted == only(TRUSTED)


# --- restricting conditions -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "key"),
    [
        ({"StringEquals": {"aws:PrincipalOrgID": ORG}}, "aws:principalorgid"),
        ({"StringEquals": {"aws:PrincipalOrgID": [ORG]}}, "aws:principalorgid"),
        ({"StringEqualsIgnoreCase": {"aws:PrincipalOrgID": ORG}}, "aws:principalorgid"),
        ({"StringLike": {"aws:PrincipalOrgID": ORG}}, "aws:principalorgid"),
        ({"StringEquals": {"AWS:PRINCIPALORGID": ORG}}, "aws:principalorgid"),
        ({"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": f"{ORG}/r-ab12/ou-*"}}, "aws:principalorgpaths"),
        (
            {"ForAnyValue:StringEquals": {"aws:PrincipalOrgPaths": [f"{ORG}/r-ab12/ou-ab12-11111111/"]}},
            "aws:principalorgpaths",
        ),
        # ForAnyValue with a positive operator is false when the key is absent (IAM User Guide, "Single-valued vs.
        # multivalued context keys"), so on a single-valued key it narrows as the plain operator does.
        ({"ForAnyValue:StringEquals": {"aws:PrincipalOrgID": ORG}}, "aws:principalorgid"),
        ({"ForAnyValue:StringEquals": {"aws:PrincipalAccount": [OWN, TRUSTED]}}, "aws:principalaccount"),
        ({"ForAnyValue:ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{OWN}:role/*"}}, "aws:principalarn"),
        ({"StringEquals": {"aws:PrincipalAccount": OWN}}, "aws:principalaccount"),
        ({"StringEquals": {"aws:PrincipalAccount": [OWN, TRUSTED]}}, "aws:principalaccount"),
        ({"StringEquals": {"aws:SourceAccount": TRUSTED}}, "aws:sourceaccount"),
        ({"StringEquals": {"aws:SourceOwner": OWN}}, "aws:sourceowner"),
        ({"ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{TRUSTED}:role/reports"}}, "aws:principalarn"),
        ({"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{OWN}:role/*"}}, "aws:principalarn"),
        ({"ArnLike": {"aws:PrincipalArn": f"arn:*:iam::{OWN}:role/app"}}, "aws:principalarn"),
        ({"StringLike": {"aws:PrincipalArn": f"arn:aws:iam::{OWN}:role/*"}}, "aws:principalarn"),
        ({"StringEquals": {"aws:PrincipalArn": f"arn:aws:iam::{OWN}:user/alice"}}, "aws:principalarn"),
        ({"ArnLike": {"aws:SourceArn": f"arn:aws:cloudtrail:eu-west-1:{OWN}:trail/*"}}, "aws:sourcearn"),
        ({"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}, "aws:sourcevpce"),
        ({"StringEquals": {"aws:SourceVpc": ["vpc-111bbb22", "vpc-333ddd44"]}}, "aws:sourcevpc"),
    ],
)
def test_conditions_that_provably_narrow_to_the_boundary_are_safe(condition: dict[str, Any], key: str) -> None:
    result = exposure("*", condition)
    assert result.safe, result
    assert result.narrowed_by == (key,)


@pytest.mark.parametrize(
    ("condition", "label"),
    [
        ({"StringEquals": {"aws:PrincipalOrgID": OTHER_ORG}}, f"organization {OTHER_ORG}"),
        ({"StringEquals": {"aws:PrincipalOrgID": [ORG, OTHER_ORG]}}, f"organization {OTHER_ORG}"),
        ({"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": f"{OTHER_ORG}/*"}}, f"organization {OTHER_ORG}"),
        ({"ForAnyValue:StringEquals": {"aws:PrincipalOrgID": OTHER_ORG}}, f"organization {OTHER_ORG}"),
        ({"StringEquals": {"aws:PrincipalAccount": UNKNOWN}}, UNKNOWN),
        ({"StringEquals": {"aws:PrincipalAccount": [OWN, UNKNOWN]}}, UNKNOWN),
        ({"StringEquals": {"aws:SourceAccount": UNKNOWN}}, UNKNOWN),
        ({"StringEquals": {"aws:SourceOwner": UNKNOWN}}, UNKNOWN),
        ({"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{UNKNOWN}:role/*"}}, UNKNOWN),
        ({"ArnEquals": {"aws:SourceArn": f"arn:aws:sns:eu-west-1:{UNKNOWN}:topic"}}, UNKNOWN),
    ],
)
def test_conditions_that_narrow_to_outsiders_are_untrusted_not_public(condition: dict[str, Any], label: str) -> None:
    result = exposure("*", condition)
    assert not result.public
    assert result.untrusted == only(label)
    assert result.narrowed_by == (key_of(condition),)


def test_trusted_org_is_untrusted_when_the_boundary_has_no_organisation() -> None:
    boundary = TrustBoundary(own_account=OWN)
    result = exposure_of(statement("*", {"StringEquals": {"aws:PrincipalOrgID": ORG}}), boundary)
    assert not result.public
    assert result.untrusted == only(f"organization {ORG}")


@pytest.mark.parametrize(
    "condition",
    [
        {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
        {"StringEqualsIfExists": {"aws:PrincipalOrgID": ORG}},
        {"ForAllValues:StringEquals": {"aws:PrincipalOrgID": ORG}},
        {"ForAllValues:StringLike": {"aws:PrincipalOrgPaths": f"{ORG}/*"}},
        {"ForAnyValue:StringLikeIfExists": {"aws:PrincipalOrgPaths": f"{ORG}/*"}},
        {"StringLike": {"aws:PrincipalOrgID": "o-*"}},
        {"StringLike": {"aws:PrincipalOrgID": "o-a1b2c3d4e?"}},
        {"StringEquals": {"aws:PrincipalOrgID": [ORG, "o-*"]}},
        {"StringLike": {"aws:PrincipalOrgPaths": "o-*/r-ab12/*"}},
        {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/x"}},
        {"StringLike": {"aws:PrincipalAccount": "1111*"}},
        {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::acme-logs"}},  # an S3 ARN names no account
        {"Null": {"aws:PrincipalOrgID": "false"}},
        {"StringNotEquals": {"aws:PrincipalOrgID": ORG}},
        {"StringNotEquals": {"aws:PrincipalAccount": [OWN, TRUSTED]}},
        {"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{OWN}:*"}},
        {"StringEquals": {"aws:SourceVpce": "vpce-*"}},
        {"StringLike": {"aws:SourceVpce": "vpce-1a2b3c4?"}},
        {"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1a2b3c4d"}},
        {"StringEquals": {"aws:PrincipalOrgID": []}},
        {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
        {"Bool": {"aws:SecureTransport": "true"}},
    ],
    ids=[
        "source-ip",
        "if-exists",
        "for-all-values",
        "for-all-values-org-paths",
        "for-any-value-if-exists-org-paths",
        "org-wildcard",
        "org-question-mark",
        "org-one-value-wildcard",
        "org-paths-wildcard-org",
        "arn-wildcard-account",
        "account-wildcard",
        "arn-without-account",
        "null",
        "string-not-equals",
        "string-not-equals-accounts",
        "arn-not-like",
        "vpce-wildcard",
        "vpce-question-mark",
        "vpce-if-exists",
        "no-values",
        "unrelated-key",
        "secure-transport",
    ],
)
def test_conditions_that_do_not_provably_narrow_stay_public(condition: dict[str, Any]) -> None:
    result = exposure("*", condition)
    assert is_public(result), result
    assert result.narrowed_by == ()


@pytest.mark.parametrize(
    "pattern",
    [
        f"arn:*:iam::{OWN}:role/*",
        f"arn:aws:*::{OWN}:role/x",
        f"arn:aws:iam:*:{OWN}:role/x",
        f"arn:aws:ia?::{OWN}:role/x",
    ],
)
def test_string_like_arn_with_a_wildcard_before_the_account_stays_public(pattern: str) -> None:
    """StringLike's "*" spans colons, and IAM paths may hold ":": arn:aws:iam::999988887777:role/:iam::OWN:role/x."""
    assert is_public(exposure("*", {"StringLike": {"aws:PrincipalArn": pattern}}))
    # ArnLike compares the six fields one by one, so the same pattern does bound the account.
    assert exposure("*", {"ArnLike": {"aws:PrincipalArn": pattern}}).safe


def test_conditions_are_anded_so_one_narrowing_condition_is_enough() -> None:
    condition = {
        "IpAddress": {"aws:SourceIp": "203.0.113.0/24"},
        "StringEquals": {"aws:PrincipalOrgID": ORG},
        "Bool": {"aws:SecureTransport": "true"},
    }
    result = exposure("*", condition)
    assert result.safe
    assert result.narrowed_by == ("aws:principalorgid",)


def test_trusted_narrowing_wins_over_an_untrusted_one() -> None:
    condition = {"StringEquals": {"aws:PrincipalOrgID": OTHER_ORG, "aws:PrincipalAccount": TRUSTED}}
    result = exposure("*", condition)
    assert result.safe
    assert result.narrowed_by == ("aws:principalaccount",)


def test_narrowest_untrusted_condition_is_reported() -> None:
    condition = {
        "StringEquals": {"aws:PrincipalAccount": [UNKNOWN, "888877776666"]},
        "ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": f"{OTHER_ORG}/*"},
    }
    result = exposure("*", condition)
    assert not result.public
    assert result.untrusted == only(f"organization {OTHER_ORG}")
    assert result.narrowed_by == ("aws:principalorgpaths",)


def test_non_narrowing_condition_does_not_spoil_a_narrowing_one() -> None:
    condition = {
        "StringEqualsIfExists": {"aws:PrincipalOrgID": OTHER_ORG},
        "StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"},
    }
    assert exposure("*", condition).safe


def test_untrusted_principal_narrowed_by_the_trusted_org_is_safe() -> None:
    result = exposure({"AWS": UNKNOWN}, {"StringEquals": {"aws:PrincipalOrgID": ORG}})
    assert result.safe
    assert result.narrowed_by == ("aws:principalorgid",)


def test_untrusted_principal_with_another_org_stays_that_principal() -> None:
    result = exposure(
        {"AWS": f"arn:aws:iam::{UNKNOWN}:role/vendor"}, {"StringEquals": {"aws:PrincipalOrgID": OTHER_ORG}}
    )
    assert not result.public
    assert result.untrusted == only(UNKNOWN)
    assert result.narrowed_by == ("aws:principalorgid",)


def test_untrusted_principal_with_a_non_narrowing_condition_is_unchanged() -> None:
    result = exposure({"AWS": UNKNOWN}, {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})
    assert result.untrusted == only(UNKNOWN)
    assert result.narrowed_by == ()


def test_federated_principal_narrowed_to_own_account_is_safe() -> None:
    result = exposure({"Federated": "cognito-identity.amazonaws.com"}, {"StringEquals": {"aws:PrincipalAccount": OWN}})
    assert result.safe


def test_not_principal_narrowed_by_the_trusted_org_is_safe() -> None:
    result = exposure(
        None, {"StringEquals": {"aws:PrincipalOrgID": ORG}}, NotPrincipal={"AWS": f"arn:aws:iam::{OWN}:root"}
    )
    assert result.safe


def test_services_survive_narrowing() -> None:
    principal = {"AWS": "*", "Service": "cloudtrail.amazonaws.com"}
    result = exposure(principal, {"StringEquals": {"aws:SourceAccount": OWN}})
    assert result.safe
    assert result.services == only("cloudtrail.amazonaws.com")


def test_safe_principal_is_not_re_judged_by_conditions() -> None:
    result = exposure({"AWS": OWN}, {"StringEquals": {"aws:PrincipalOrgID": OTHER_ORG}})
    assert result.safe
    assert result.trusted == only(OWN)
    assert result.narrowed_by == ()


def test_deny_is_never_exposed_even_with_a_condition() -> None:
    assert exposure("*", {"StringNotEquals": {"aws:PrincipalOrgID": ORG}}, Effect="Deny") == Exposure()


def test_an_identity_provider_of_a_trusted_account_is_trusted() -> None:
    result = exposure({"Federated": f"arn:aws:iam::{OWN}:saml-provider/Okta"})
    assert result.safe
    assert result.trusted == only(OWN)


def test_a_network_condition_outside_trusted_networks_is_an_untrusted_grantee_not_public() -> None:
    result = exposure("*", {"StringEquals": {"aws:SourceVpce": "vpce-0badbadbad"}})
    assert not result.public
    assert result.untrusted == only("VPC endpoint vpce-0badbadbad")
    assert result.narrowed_by == ("aws:sourcevpce",)


def test_a_trusted_network_never_clears_an_untrusted_principal() -> None:
    result = exposure({"AWS": UNKNOWN}, {"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}})
    assert result.untrusted == only(UNKNOWN)


def test_a_trusted_network_never_clears_an_untrusted_organisation() -> None:
    condition = {"StringEquals": {"aws:PrincipalOrgID": OTHER_ORG, "aws:SourceVpce": "vpce-1a2b3c4d"}}
    result = exposure("*", condition)
    assert not result.safe
    assert result.untrusted == only(f"organization {OTHER_ORG}")


@pytest.mark.parametrize("service", ["*", "*.amazonaws.com", "s3.amazonaws.co?"])
def test_a_wildcard_service_principal_is_public(service: str) -> None:
    assert is_public(exposure({"Service": service}))


def test_an_empty_action_list_grants_nothing() -> None:
    assert exposure("*", Action=[]).safe


@pytest.mark.parametrize("account", ["１１１１２２２２３３３３", "111122223333\n"])
def test_account_ids_are_exactly_twelve_ascii_digits(account: str) -> None:
    assert exposure({"AWS": account}).untrusted == only(f"unknown principal {account}")
