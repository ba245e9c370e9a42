"""Issue 14 items 1, 2 and 4 in the exposure analysis: who owns a network, AWS's own service principals,
conditions that can never hold, and the conditions IAM Warden does not evaluate."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from iamwarden.domain.aws_principals import ELB_ACCOUNTS, ELB_LOG_DELIVERY_SERVICE, SERVICE_SOURCES
from iamwarden.domain.exposure import (
    Circumstances,
    Exposure,
    NetworkOwner,
    TrustBoundary,
    exposure_of,
    never_holds,
)
from iamwarden.domain.policy import Statement, parse_policy

OWN = "111122223333"
TRUSTED = "444455556666"
UNKNOWN = "999988887777"
ORG = "o-a1b2c3d4e5"
BOUNDARY = TrustBoundary(OWN, frozenset({TRUSTED}), ORG, frozenset({"vpce-0listed0000000000"}))
SET_AT = datetime(2026, 11, 25, 15, 10, 3, tzinfo=UTC)


class Owners:
    """A NetworkOwners that knows a few networks and records what it was asked."""

    def __init__(self, owners: dict[str, str | None]) -> None:
        self.owners = owners
        self.asked: list[tuple[str, str, str]] = []

    def owner_of(self, network_id: str, account: str, region: str) -> NetworkOwner:
        self.asked.append((network_id, account, region))
        owner = self.owners.get(network_id)
        return NetworkOwner(owner, f"EC2 says {owner}" if owner else "DescribeVpcEndpoints was denied")


def statement(principal: Any = "*", condition: dict[str, Any] | None = None, **changes: Any) -> Statement:
    raw: dict[str, Any] = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme/*"}
    if principal is not None:
        raw["Principal"] = principal
    if condition is not None:
        raw["Condition"] = condition
    raw.update(changes)
    (parsed,) = parse_policy({"Version": "2012-10-17", "Statement": raw}).statements
    return parsed


def exposure(
    principal: Any = "*",
    condition: dict[str, Any] | None = None,
    *,
    networks: Owners | None = None,
    region: str | None = "eu-west-1",
    **changes: Any,
) -> Exposure:
    return exposure_of(statement(principal, condition, **changes), BOUNDARY, Circumstances(region, SET_AT, networks))


# --- item 1: who owns a VPC endpoint or VPC -------------------------------------------------------


def vpce(network_id: str) -> dict[str, Any]:
    return {"StringEquals": {"aws:SourceVpce": network_id}}


@pytest.mark.parametrize("owner", [OWN, TRUSTED])
def test_an_endpoint_of_a_trusted_account_is_private(owner: str) -> None:
    owners = Owners({"vpce-0abc": owner})
    result = exposure("*", vpce("vpce-0abc"), networks=owners)
    assert result.safe
    assert owners.asked == [("vpce-0abc", OWN, "eu-west-1")]


def test_an_endpoint_of_another_account_is_a_certain_untrusted_grantee() -> None:
    result = exposure("*", vpce("vpce-0abc"), networks=Owners({"vpce-0abc": UNKNOWN}))
    assert not result.public
    assert result.untrusted == {f"VPC endpoint vpce-0abc of account {UNKNOWN}"}
    assert result.unknown == ()


def test_an_endpoint_nobody_can_place_is_an_untrusted_grantee_that_needs_context() -> None:
    result = exposure("*", vpce("vpce-0abc"), networks=Owners({}))
    assert result.untrusted == {"VPC endpoint vpce-0abc"}
    assert result.unknown == ("who owns VPC endpoint vpce-0abc: DescribeVpcEndpoints was denied",)


def test_offline_an_unlisted_endpoint_needs_context() -> None:
    result = exposure("*", {"StringEquals": {"aws:SourceVpc": "vpc-0abc"}})
    assert result.untrusted == {"VPC vpc-0abc"}
    [fact] = result.unknown
    assert fact.startswith("who owns VPC vpc-0abc: it is not in trusted_networks")


def test_a_listed_endpoint_is_private_without_asking() -> None:
    owners = Owners({})
    assert exposure("*", vpce("vpce-0listed0000000000"), networks=owners).safe
    assert owners.asked == []


def test_one_unknown_endpoint_among_private_ones_is_the_only_grantee() -> None:
    owners = Owners({"vpce-0own": OWN})
    result = exposure("*", {"StringEquals": {"aws:SourceVpce": ["vpce-0own", "vpce-0who"]}}, networks=owners)
    assert result.untrusted == {"VPC endpoint vpce-0who"}
    assert len(result.unknown) == 1


def test_an_identity_condition_that_binds_needs_no_network_owner() -> None:
    condition = {"StringEquals": {"aws:PrincipalOrgID": ORG, "aws:SourceVpce": "vpce-0who"}}
    result = exposure("*", condition, networks=Owners({}))
    assert result.safe
    assert result.unknown == ()


# --- item 2: AWS's own service principals ----------------------------------------------------------


def test_the_elb_table_is_well_formed() -> None:
    assert all(re.fullmatch(r"[a-z]{2}(-gov)?-[a-z]+-[0-9]", region) for region in ELB_ACCOUNTS)
    assert all(re.fullmatch(r"[0-9]{12}", account) for account in ELB_ACCOUNTS.values())
    assert len(set(ELB_ACCOUNTS.values())) == len(ELB_ACCOUNTS)
    assert ELB_ACCOUNTS["us-east-1"] == "127311923021"
    assert ELB_ACCOUNTS["eu-west-1"] == "156460612806"
    assert all(source.startswith("https://docs.aws.amazon.com/") for source in SERVICE_SOURCES.values())


def elb(principal: Any, resource: str, region: str | None = "eu-west-1") -> Exposure:
    return exposure(principal, None, region=region, Action="s3:PutObject", Resource=resource)


@pytest.mark.parametrize(
    "principal", [{"AWS": "arn:aws:iam::156460612806:root"}, {"Service": ELB_LOG_DELIVERY_SERVICE}]
)
def test_elb_log_delivery_under_the_accounts_own_path_is_safe(principal: Any) -> None:
    assert elb(principal, f"arn:aws:s3:::acme-alb-logs/prod/AWSLogs/{OWN}/*").safe


@pytest.mark.parametrize(
    ("principal", "who"),
    [
        ({"AWS": "arn:aws:iam::156460612806:root"}, "Elastic Load Balancing"),
        ({"Service": ELB_LOG_DELIVERY_SERVICE}, f"the service {ELB_LOG_DELIVERY_SERVICE}"),
    ],
)
def test_elb_log_delivery_for_another_account_is_untrusted(principal: Any, who: str) -> None:
    result = elb(principal, f"arn:aws:s3:::acme-alb-logs/AWSLogs/{UNKNOWN}/*")
    assert result.untrusted == {f"{who} acting for account {UNKNOWN}"}


def test_elb_log_delivery_to_the_whole_bucket_is_unbound() -> None:
    result = elb({"AWS": "156460612806"}, "arn:aws:s3:::acme-alb-logs/*")
    assert result.unbound_services == {"elasticloadbalancing"}
    assert not result.safe


def test_the_elb_account_of_another_region_is_an_unknown_account() -> None:
    result = elb({"AWS": "arn:aws:iam::127311923021:root"}, f"arn:aws:s3:::acme-alb-logs/AWSLogs/{OWN}/*")
    assert result.untrusted == {"127311923021"}


def test_any_regions_elb_account_counts_when_the_region_is_unknown() -> None:
    assert elb({"AWS": "127311923021"}, f"arn:aws:s3:::logs/AWSLogs/{OWN}/*", region=None).safe


def test_a_wildcard_before_the_log_path_does_not_bind() -> None:
    result = elb({"Service": ELB_LOG_DELIVERY_SERVICE}, f"arn:aws:s3:::acme-*/AWSLogs/{OWN}/*")
    assert result.unbound_services == {ELB_LOG_DELIVERY_SERVICE}


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEquals": {"AWS:SourceArn": f"arn:aws:cloudfront::{OWN}:distribution/EDFDVBD6EXAMPLE"}},
        {"ArnLike": {"aws:SourceArn": f"arn:aws:logs:eu-west-1:{TRUSTED}:*"}},
        {"StringEquals": {"aws:SourceAccount": OWN}, "ArnLike": {"aws:SourceArn": "arn:aws:s3:::acme-source"}},
    ],
    ids=["oac-own-distribution", "logs-of-a-trusted-account", "s3-logging"],
)
def test_a_service_bound_to_trusted_accounts_is_safe(condition: dict[str, Any]) -> None:
    assert exposure({"Service": "cloudfront.amazonaws.com"}, condition).safe


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEquals": {"AWS:SourceArn": f"arn:aws:cloudfront::{UNKNOWN}:distribution/E1KTSLH5EXAMPLE"}},
        {"StringEquals": {"aws:SourceAccount": UNKNOWN}},
        {"StringEquals": {"aws:SourceOwner": [OWN, UNKNOWN]}},
    ],
)
def test_a_service_acting_for_an_untrusted_account_is_the_confused_deputy(condition: dict[str, Any]) -> None:
    result = exposure({"Service": "cloudfront.amazonaws.com"}, condition)
    assert result.untrusted == {f"the service cloudfront.amazonaws.com acting for account {UNKNOWN}"}
    assert result.unknown == ()  # certain: the condition names the account


def test_the_source_condition_with_fewest_outsiders_decides() -> None:
    """Conditions are ANDed: a service bound to this account by one is not widened by another naming more."""
    condition = {
        "StringEquals": {"aws:SourceAccount": [OWN, TRUSTED]},
        "ArnLike": {"aws:SourceArn": f"arn:aws:logs:eu-west-1:{UNKNOWN}:*"},
    }
    assert exposure({"Service": "delivery.logs.amazonaws.com"}, condition).safe


@pytest.mark.parametrize(
    "condition",
    [
        None,
        {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::acme-source"}},  # an S3 ARN names no account
        {"StringEqualsIfExists": {"aws:SourceAccount": OWN}},
        {"StringNotEquals": {"aws:SourceAccount": UNKNOWN}},
        {"StringLike": {"aws:SourceAccount": "1111*"}},
    ],
)
def test_a_service_without_a_binding_source_condition_is_unbound(condition: dict[str, Any] | None) -> None:
    result = exposure({"Service": "logging.s3.amazonaws.com"}, condition)
    assert result.unbound_services == {"logging.s3.amazonaws.com"}
    assert not result.untrusted


def test_a_cloudfront_principal_that_is_not_an_origin_access_identity_is_unknown() -> None:
    result = exposure({"AWS": "arn:aws:iam::cloudfront:user/someone-else"})
    assert result.untrusted == {"unknown principal arn:aws:iam::cloudfront:user/someone-else"}


def test_a_canonical_user_is_untrusted_but_not_certain() -> None:
    canonical = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
    result = exposure({"CanonicalUser": canonical})
    assert result.untrusted == {f"canonical user {canonical}"}
    [fact] = result.unknown
    assert "CloudFront origin access identity" in fact


# --- item 4: conditions that can never hold, and those not evaluated ---------------------------------


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEquals": {"aws:PrincipalOrgID": "o-123"}},
        {"StringEquals": {"aws:PrincipalOrgID": ["acme", "o-"]}},
        {"StringLike": {"aws:PrincipalOrgID": "O-A1B2C3D4E5"}},  # ids are lower case; StringLike is case-sensitive
        {"ForAnyValue:StringEquals": {"aws:PrincipalOrgID": "org-acme"}},
        {"StringEquals": {"aws:PrincipalAccount": "11112222333"}},
        {"StringEquals": {"aws:SourceAccount": "acme-prod"}},
        {"DateLessThan": {"aws:CurrentTime": "2026-06-30T00:00:00Z"}},
        {"DateLessThanEquals": {"aws:CurrentTime": ["2025-01-01", "2026-11-25T15:10:03Z"]}},
        {"NumericLessThan": {"aws:EpochTime": "1700000000"}},
    ],
)
def test_a_condition_that_can_never_hold_voids_the_statement(condition: dict[str, Any]) -> None:
    result = exposure("*", condition)
    assert result.void is not None
    assert "can never hold" in result.void
    assert result.safe


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEqualsIgnoreCase": {"aws:PrincipalOrgID": "O-A1B2C3D4E5"}},
        {"StringLike": {"aws:PrincipalOrgID": "o-*"}},
        {"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-123"}},
        {"ForAllValues:StringEquals": {"aws:PrincipalOrgID": "o-123"}},
        {"StringEquals": {"aws:PrincipalOrgID": ["o-123", "o-a1b2c3d4e5f"]}},
        {"StringNotEquals": {"aws:PrincipalOrgID": "o-123"}},
        {"DateLessThan": {"aws:CurrentTime": "2027-01-01T00:00:00Z"}},
        {"DateLessThan": {"aws:CurrentTime": ["2025-01-01T00:00:00Z", "2027-01-01T00:00:00Z"]}},
        {"DateLessThan": {"aws:CurrentTime": "next tuesday"}},
        {"DateGreaterThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}},  # a grant that starts later still grants
        {"DateLessThan": {"aws:TokenIssueTime": "2020-01-01T00:00:00Z"}},
    ],
)
def test_a_condition_that_may_hold_leaves_the_statement_judged_as_before(condition: dict[str, Any]) -> None:
    result = exposure("*", condition)
    assert result.void is None
    assert not result.safe


def test_a_past_date_is_judged_only_when_the_time_of_the_change_is_known() -> None:
    condition = statement("*", {"DateLessThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}).conditions
    assert never_holds(condition, None) is None
    assert never_holds(condition, SET_AT) is not None


def test_a_finding_names_the_conditions_it_did_not_evaluate() -> None:
    result = exposure("*", {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}, "Bool": {"aws:SecureTransport": "true"}})
    assert result.public
    assert set(result.unevaluated) == {"IpAddress aws:sourceip", "Bool aws:securetransport"}
    assert result.unknown == ()  # neither can narrow who the caller is: the verdict does not rest on them


@pytest.mark.parametrize(
    "condition",
    [
        {"StringLike": {"aws:userid": "AROAEXAMPLEID:*"}},
        {"Bool": {"aws:PrincipalIsAWSService": "true"}},
        {"StringEquals": {"aws:PrincipalServiceName": "cloudtrail.amazonaws.com"}},
    ],
)
def test_an_unevaluated_condition_on_who_the_caller_is_needs_context(condition: dict[str, Any]) -> None:
    result = exposure("*", condition)
    assert result.public
    [fact] = result.unknown
    assert "IAM Warden does not evaluate that key" in fact


def test_a_caller_condition_on_a_named_untrusted_account_changes_nothing() -> None:
    result = exposure({"AWS": UNKNOWN}, {"StringLike": {"aws:userid": "AROAEXAMPLEID:*"}})
    assert result.untrusted == {UNKNOWN}
    assert result.unknown == ()
    assert result.unevaluated == ("StringLike aws:userid",)


def test_a_safe_statement_carries_no_unevaluated_conditions() -> None:
    result = exposure({"AWS": OWN}, {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}})
    assert result.safe
    assert result.unevaluated == ()
