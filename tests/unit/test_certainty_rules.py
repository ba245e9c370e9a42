"""Certainty in the rules' verdicts (issue 14 items 1-4): deny-only documents in every rule family, findings
that rest on unknown facts, conditions that void a grant, and the live network-owner lookup's answers."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from iamwarden.adapters.errors import TransientAwsError
from iamwarden.adapters.networks import LiveNetworkOwners
from iamwarden.domain.exceptions import AwsAccessError
from iamwarden.domain.exposure import NetworkOwner
from iamwarden.domain.findings import Judgement, Verdict
from iamwarden.domain.managed_documents import PolicyVersion
from iamwarden.domain.policy import parse_policy
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import load_event

UNKNOWN = "999988887777"
DENY_ALL = {"Effect": "Deny", "Action": "*", "Resource": "*"}
DENY_OUTSIDE_REGIONS = {
    "Effect": "Deny",
    "NotAction": ["iam:*", "sts:*"],
    "Resource": "*",
    "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-central-1"]}},
}


def _document(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _with(sample: str, parameter: str, document: dict[str, Any], *, as_text: bool = True) -> dict[str, Any]:
    event = copy.deepcopy(load_event(sample))
    event["detail"]["requestParameters"][parameter] = json.dumps(document) if as_text else document
    return event


class Documents:
    """A reader that hands out one document as every version."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def default_version(self, account: str, policy_arn: str) -> PolicyVersion | None:
        return PolicyVersion("v2", self.document)

    def version(self, account: str, policy_arn: str, version_id: str) -> PolicyVersion | None:
        return PolicyVersion(version_id, self.document)


# --- item 3: a document whose every statement is a Deny is never a finding ------------------------------


def test_only_denies_needs_statements_and_no_allow() -> None:
    assert parse_policy(_document(DENY_ALL, DENY_OUTSIDE_REGIONS)).only_denies
    assert not parse_policy(_document(DENY_ALL, {**DENY_ALL, "Effect": "Allow"})).only_denies
    assert not parse_policy({"Statement": []}).only_denies


@pytest.mark.parametrize(
    "judge",
    [
        pytest.param(
            lambda d: judge_event(_with("put-role-policy-admin-star.json", "policyDocument", d), Settings()),
            id="inline-policy",
        ),
        pytest.param(
            lambda d: judge_event(_with("create-policy-version-admin.json", "policyDocument", d), Settings()),
            id="policy-version-created",
        ),
        pytest.param(
            lambda d: judge_event(load_event("set-default-policy-version.json"), Settings(), Documents(d)),
            id="policy-version-made-default",
        ),
        pytest.param(
            lambda d: judge_event(load_event("attach-customer-managed.json"), Settings(), Documents(d)),
            id="customer-managed-attached",
        ),
        pytest.param(
            lambda d: judge_event(
                _with("bucket-policy-public-read.json", "bucketPolicy", d, as_text=False), Settings()
            ),
            id="bucket-policy",
        ),
        pytest.param(
            lambda d: judge_event(_with("trust-update-unknown-account.json", "policyDocument", d), Settings()),
            id="trust-policy",
        ),
    ],
)
def test_a_deny_only_document_is_never_a_finding(judge: Any) -> None:
    for document in (
        _document(DENY_ALL),
        _document(DENY_OUTSIDE_REGIONS),
        _document({**DENY_ALL, "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::acme-invoices/*"}),
    ):
        judgement: Judgement = judge(document)
        assert judgement.verdict is Verdict.COMPLIANT, judgement.reason
        assert judgement.findings == ()


def test_the_resource_and_trust_rules_say_the_document_only_denies() -> None:
    bucket = judge_event(
        _with("bucket-policy-public-read.json", "bucketPolicy", _document(DENY_ALL), as_text=False), Settings()
    )
    trust = judge_event(_with("trust-update-unknown-account.json", "policyDocument", _document(DENY_ALL)), Settings())
    assert "every statement of the policy of bucket acme-invoices is a Deny" in bucket.reason
    assert "only denies: nobody may assume it" in trust.reason


# --- items 1, 2 and 4 through the resource-policy rule -------------------------------------------------


def _bucket(*statements: dict[str, Any], **known: Any) -> Judgement:
    event = _with("bucket-policy-unknown-account.json", "bucketPolicy", _document(*statements), as_text=False)
    return judge_event(event, Settings(), **known)


VENDOR = {
    "Sid": "Vendor",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{UNKNOWN}:root"},
    "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::acme-exports/*",
}
THROUGH_ENDPOINT = {
    "Sid": "Endpoint",
    "Effect": "Allow",
    "Principal": "*",
    "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::acme-exports/*",
    "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-0who"}},
}


def test_a_finding_with_certain_statements_removes_only_those_and_says_what_it_keeps() -> None:
    judgement = _bucket(VENDOR, THROUGH_ENDPOINT)
    [finding] = judgement.findings
    assert finding.certain
    [step] = finding.plan
    assert [s["sid"] for s in step.parameters["statements"]] == ["Vendor"]
    assert "IAM Warden leaves statement 1 (Endpoint) in place, because it cannot know who owns" in finding.reason
    assert [o["certain"] for o in finding.offending] == [True, False]


def test_a_finding_resting_only_on_unknown_facts_needs_context_and_keeps_its_plan() -> None:
    [finding] = _bucket(THROUGH_ENDPOINT).findings
    assert not finding.certain
    [fact] = finding.needs_context
    assert fact.startswith("who owns VPC endpoint vpce-0who")
    assert fact.endswith("(statement 0 (Endpoint))")
    assert finding.plan  # the alert says what remediation would do; the enforcer never does it


class KnownOwners:
    def owner_of(self, network_id: str, account: str, region: str) -> NetworkOwner:
        return NetworkOwner(account, "the account's own")


def test_with_a_network_owner_lookup_the_endpoint_of_the_account_is_private() -> None:
    assert _bucket(THROUGH_ENDPOINT, networks=KnownOwners()).verdict is Verdict.COMPLIANT


def test_a_service_without_a_source_condition_is_alerted_as_a_confused_deputy() -> None:
    cloudtrail = {
        "Effect": "Allow",
        "Principal": {"Service": "cloudtrail.amazonaws.com"},
        "Action": "s3:PutObject",
        "Resource": "arn:aws:s3:::acme-exports/*",
    }
    [finding] = _bucket(cloudtrail).findings
    assert finding.rule_id == "s3-bucket-policy-cross-account"
    assert "acting for any account that uses it" in finding.reason
    assert "(the confused deputy)" in finding.reason
    [fact] = finding.needs_context
    assert "which account cloudtrail.amazonaws.com acts for" in fact


def test_a_voided_grant_is_compliant_and_says_why() -> None:
    expired = {**VENDOR, "Condition": {"DateLessThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}}
    judgement = _bucket(expired)
    assert judgement.verdict is Verdict.COMPLIANT
    assert "statement 0 (Vendor) grants nothing" in judgement.reason


def test_unevaluated_conditions_are_named_in_the_reason_and_the_offending_statement() -> None:
    vendor = {**VENDOR, "Condition": {"IpAddress": {"aws:SourceIp": "198.51.100.0/24"}}}
    [finding] = _bucket(vendor).findings
    assert "Judged without the conditions IAM Warden does not evaluate: IpAddress aws:sourceip" in finding.reason
    assert finding.offending[0]["unevaluated_conditions"] == ["IpAddress aws:sourceip"]
    assert finding.certain  # a source IP never narrows who the caller is: the verdict does not rest on it


# --- trust policies ----------------------------------------------------------------------------------


def _trust(*statements: dict[str, Any]) -> Judgement:
    return judge_event(_with("trust-update-unknown-account.json", "policyDocument", _document(*statements)), Settings())


def test_a_service_role_needs_no_source_condition() -> None:
    lambda_role = {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
    assert _trust(lambda_role).verdict is Verdict.COMPLIANT


def test_a_service_acting_for_an_untrusted_account_may_not_assume_a_role() -> None:
    statement = {
        "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": UNKNOWN}},
    }
    judgement = _trust(statement)
    assert judgement.verdict is Verdict.VIOLATION
    assert f"the service lambda.amazonaws.com acting for account {UNKNOWN}" in judgement.reason


def test_the_elb_delivery_account_may_not_assume_a_role() -> None:
    statement = {"Effect": "Allow", "Principal": {"AWS": "127311923021"}, "Action": "sts:AssumeRole"}
    assert "Elastic Load Balancing account" in _trust(statement).reason


def test_a_trust_statement_that_can_never_hold_is_no_problem() -> None:
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": UNKNOWN},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "not-an-org"}},
    }
    assert _trust(statement).verdict is Verdict.COMPLIANT


# --- the live lookup's answers that need no AWS ----------------------------------------------------------


class Clients:
    def __init__(self, client: Any = None, error: Exception | None = None) -> None:
        self.client_value, self.error = client, error
        self.asked: list[tuple[str, str, str]] = []

    def client(self, service: str, account: str, region: str, *, logged: bool = True) -> Any:
        self.asked.append((service, account, region))
        if self.error is not None:
            raise self.error
        return self.client_value


def test_an_id_that_is_no_network_is_unknown_without_asking() -> None:
    clients = Clients()
    owner = LiveNetworkOwners(clients).owner_of("sg-0abc", "111122223333", "eu-west-1")
    assert owner.account is None
    assert "neither a VPC endpoint nor a VPC id" in owner.how
    assert clients.asked == []


def test_an_account_it_cannot_act_in_is_unknown_and_asked_again() -> None:
    clients = Clients(error=AwsAccessError("cannot assume iamwarden-remediator"))
    owners = LiveNetworkOwners(clients)
    first = owners.owner_of("vpce-0abc", UNKNOWN, "eu-west-1")
    owners.owner_of("vpce-0abc", UNKNOWN, "eu-west-1")
    assert first.account is None
    assert "could not act in account 999988887777 in eu-west-1" in first.how
    assert len(clients.asked) == 2


class Ec2:
    def __init__(self, answer: Any) -> None:
        self.answer = answer

    def describe_vpc_endpoints(self, **_: Any) -> Any:
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


class ThrottledError(Exception):
    """Shaped like a botocore ClientError, as adapters.errors reads it."""

    def __init__(self) -> None:
        super().__init__("slow down")
        self.response = {"Error": {"Code": "RequestLimitExceeded", "Message": "slow down"}, "ResponseMetadata": {}}


def test_a_throttled_lookup_is_raised_transient() -> None:
    with pytest.raises(TransientAwsError):
        LiveNetworkOwners(Clients(Ec2(ThrottledError()))).owner_of("vpce-0abc", "111122223333", "eu-west-1")


def test_a_bug_is_never_taken_for_an_unknown_owner() -> None:
    with pytest.raises(KeyError):
        LiveNetworkOwners(Clients(Ec2(KeyError("VpcEndpoints")))).owner_of("vpce-0abc", "111122223333", "eu-west-1")


def test_an_answer_without_an_owner_is_unknown() -> None:
    owner = LiveNetworkOwners(Clients(Ec2({"VpcEndpoints": [{"VpcEndpointId": "vpce-0abc"}]}))).owner_of(
        "vpce-0abc", "111122223333", "eu-west-1"
    )
    assert owner.account is None


def test_a_trust_finding_names_unevaluated_conditions_and_what_it_cannot_know() -> None:
    everyone = {
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": "sts:AssumeRole",
        "Condition": {"Bool": {"aws:PrincipalIsAWSService": "true"}, "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    }
    [finding] = [f for f in _trust(everyone).findings if f.rule_id == "trust-policy-untrusted"]
    assert "Judged without the conditions IAM Warden does not evaluate: Bool aws:principalisawsservice" in (
        finding.reason
    )
    [fact] = finding.needs_context
    assert fact.startswith("whether its condition Bool aws:principalisawsservice limits who can use it")
    assert finding.offending[0]["unevaluated_conditions"] == [
        "Bool aws:principalisawsservice",
        "IpAddress aws:sourceip",
    ]


def test_a_trust_finding_without_unknown_facts_stays_certain() -> None:
    outsider = {"Effect": "Allow", "Principal": {"AWS": UNKNOWN}, "Action": "sts:AssumeRole"}
    [finding] = _trust(outsider).findings
    assert finding.certain
    assert "Judged without" not in finding.reason
