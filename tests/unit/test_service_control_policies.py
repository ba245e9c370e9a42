"""``scp-blinds-iamwarden``: service control policies that blind IAM Warden or stop guarding it (issue 15 item 3)."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from typing import Any

import boto3
import pytest
from botocore.exceptions import StubResponseError
from botocore.stub import Stubber

from iamwarden.adapters.errors import TransientAwsError
from iamwarden.domain.catalog import Severity
from iamwarden.domain.exceptions import AwsAccessError
from iamwarden.domain.findings import Judgement, Verdict
from iamwarden.domain.own import OwnIdentity
from iamwarden.domain.recorded import PastRemediation, Snapshot
from iamwarden.domain.settings import Settings
from iamwarden.guardrails import service_control_policies
from iamwarden.guardrails.engine import judge_event
from iamwarden.guardrails.service_control_policies import (
    RESOURCE_CONTROL_POLICY,
    SCP,
    SERVICE_CONTROL_POLICY,
    PolicyContent,
    content_key,
    judge_allows,
    judge_content,
    judge_path,
    policy_key,
    read_key,
)
from tests.conftest import SAMPLE_OWN, load_event

OWN = Settings()._replace(own=SAMPLE_OWN)
BLINDING = "p-0bl1nd5e"
GUARDING = "p-9uard1an"
KEY = policy_key("aws", "111122223333", BLINDING)
GUARD_KEY = policy_key("aws", "111122223333", GUARDING)
EVERYTHING = {"Effect": "Deny", "Action": "*", "Resource": "*"}
#: A guard of IAM Warden: nobody but its roles may change its roles or functions.
GUARD_DOC: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ProtectIamWarden",
            "Effect": "Deny",
            "Action": ["iam:*", "lambda:*"],
            "Resource": ["arn:aws:iam::*:role/iamwarden-*", "arn:aws:lambda:*:*:function:iamwarden-*"],
            "Condition": {"ArnNotLike": {"aws:PrincipalArn": ["arn:aws:iam::*:role/iamwarden-*"]}},
        }
    ],
}


@pytest.fixture(autouse=True)
def _a_missing_stub_is_a_test_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A Stubber error (a call not stubbed, or stubbed with other parameters) is a botocore error, which the rule
    would take for AWS refusing the read: raised instead, so no test passes through a refusal branch because a stub
    is missing (review F6)."""
    said = service_control_policies._said

    def strict(exc: Exception) -> bool:
        if isinstance(exc, StubResponseError):
            raise exc
        return said(exc)

    monkeypatch.setattr(service_control_policies, "_said", strict)


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _create(*statements: dict[str, Any]) -> dict[str, Any]:
    event = copy.deepcopy(load_event("organizations-scp-deny-audit.json"))
    event["detail"]["requestParameters"]["content"] = json.dumps(_doc(*statements))
    return event


class InMemory:
    def __init__(self, snapshots: Sequence[Snapshot] = ()) -> None:
        self._snapshots = {(s.kind, s.resource_arn): s for s in snapshots}

    def remediations(self, resource_arn: str) -> list[PastRemediation]:
        del resource_arn
        return []

    def snapshot(self, kind: str, resource_arn: str) -> Snapshot | None:
        return self._snapshots.get((kind, resource_arn))


def _kept(key: str, document: dict[str, Any], taken_at: str = "2026-11-20T09:00:00Z") -> Snapshot:
    return Snapshot(SCP, key, taken_at, {"policy_id": key.rsplit("/", 1)[-1], "name": "kept", "content": document})


def _judge(event: dict[str, Any], settings: Settings = OWN, recorded: InMemory | None = None) -> Judgement:
    return judge_event(event, settings, recorded=recorded)


def test_a_policy_denying_what_iamwarden_reads_to_everyone_is_critical_and_kept() -> None:
    judged = _judge(load_event("organizations-scp-deny-audit.json"))
    [finding] = judged.findings

    assert (finding.rule_id, finding.severity, finding.plan) == ("scp-blinds-iamwarden", Severity.CRITICAL, ())
    assert finding.resource_arn == KEY
    assert "cloudtrail:GetTrailStatus" in finding.reason
    assert "events:PutEvents" in finding.reason
    assert f"aws organizations delete-policy --policy-id {BLINDING}" in finding.reason
    [snapshot] = judged.observed
    assert (snapshot.kind, snapshot.resource_arn, snapshot.whatever_the_verdict) == (SCP, content_key(KEY), True)
    assert snapshot.data["content"]["Statement"][0]["Sid"] == "DenyAuditReads"


def test_a_policy_guarding_iamwarden_is_compliant() -> None:
    assert _judge(load_event("organizations-scp-protect-audit.json")).verdict is Verdict.COMPLIANT


@pytest.mark.parametrize(
    "condition",
    [
        # IAM Warden's roles left out of the Deny.
        {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/iamwarden-*"}},
        {"ArnNotEquals": {"aws:PrincipalArn": [*SAMPLE_OWN.home_roles.values(), "arn:aws:iam::*:role/iamwarden-*"]}},
        # Only others denied.
        {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/contractor-*"}},
    ],
)
def test_a_deny_that_leaves_iamwarden_out_is_compliant(condition: dict[str, Any]) -> None:
    event = _create({**EVERYTHING, "Condition": condition})
    assert _judge(event).verdict is Verdict.COMPLIANT


def test_a_deny_aimed_at_iamwardens_own_role_is_critical() -> None:
    condition = {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/iamwarden-remediator"}}
    [finding] = _judge(_create({**EVERYTHING, "Condition": condition})).findings
    assert finding.severity is Severity.CRITICAL


@pytest.mark.parametrize(
    "excluded",
    [
        [SAMPLE_OWN.home_roles["enforcer"]],  # the forwarders, the heartbeat and the member roles stay denied
        [*SAMPLE_OWN.home_roles.values()],  # every member account's roles stay denied
        ["arn:aws:iam::*:role/iamwarden-remediator"],
    ],
)
def test_a_deny_excluding_only_some_of_iamwardens_roles_still_blinds_the_others(excluded: list[str]) -> None:
    statement = {"Effect": "Deny", "Action": ["events:PutEvents", "cloudtrail:*"], "Resource": "*"}
    event = _create({**statement, "Condition": {"ArnNotLike": {"aws:PrincipalArn": excluded}}})
    [finding] = _judge(event).findings
    assert finding.severity is Severity.CRITICAL
    assert "events:PutEvents" in finding.reason
    assert not judge_content(
        _doc({**statement, "Condition": {"ArnNotLike": {"aws:PrincipalArn": excluded}}}), SAMPLE_OWN
    ).guards


@pytest.mark.parametrize("resource", ["arn:*", ["arn:aws:*:*:*:*"], "*:*", "arn:aws:*", "arn:aws:cloudtrail:*"])
def test_a_deny_on_a_pattern_matching_every_arn_counts_as_everywhere(resource: Any) -> None:
    statement = {"Effect": "Deny", "Action": ["cloudtrail:*", "events:*"], "Resource": resource}
    [finding] = _judge(_create(statement)).findings
    assert finding.severity is Severity.CRITICAL
    assert "cloudtrail:DescribeTrails" in finding.reason


@pytest.mark.parametrize(
    ("statement", "blinds"),
    [
        (
            {"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/iamwarden-*"},
            "sts:AssumeRole",
        ),
        (
            {"Effect": "Deny", "Action": "sts:*", "Resource": "arn:aws:iam::*:role/iamwarden-remediator"},
            "sts:AssumeRole",
        ),
        (
            {"Effect": "Deny", "Action": "events:PutEvents", "Resource": "arn:aws:events:*:*:event-bus/iamwarden-*"},
            "events:PutEvents",
        ),
        ({"Effect": "Deny", "Action": "sns:Publish", "Resource": "arn:aws:sns:*:*:iamwarden-alerts*"}, "sns:Publish"),
        (
            {
                "Effect": "Deny",
                "Action": "*",
                "Resource": ["arn:aws:iam::*:role/iamwarden-*", "arn:aws:lambda:*:*:function:iamwarden-*"],
            },
            "lambda:InvokeFunction",
        ),
    ],
)
def test_a_deny_on_iamwardens_own_resources_that_applies_to_it_blinds_and_guards_nothing(
    statement: dict[str, Any], blinds: str
) -> None:
    [finding] = _judge(_create(statement)).findings
    assert finding.severity is Severity.CRITICAL
    assert blinds in finding.reason
    assert not judge_content(_doc(statement), SAMPLE_OWN).guards


def test_a_deny_on_iamwardens_own_roles_that_leaves_them_out_guards() -> None:
    statement = {
        "Effect": "Deny",
        "Action": "*",
        "Resource": "arn:aws:iam::*:role/iamwarden-*",
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/iamwarden-*"}},
    }
    verdict = judge_content(_doc(statement), SAMPLE_OWN)
    assert (verdict.blinds, verdict.guards) == ((), True)


def test_a_deny_excluding_only_someone_else_still_blinds() -> None:
    condition = {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/OrgAdmin"}}
    [finding] = _judge(_create({**EVERYTHING, "Condition": condition})).findings
    assert finding.severity is Severity.CRITICAL


def test_a_deny_under_another_condition_is_high_and_says_when() -> None:
    condition = {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}}
    [finding] = _judge(_create({**EVERYTHING, "Condition": condition})).findings
    assert finding.severity is Severity.HIGH
    assert "when StringNotEquals aws:requestedregion eu-west-1" in finding.reason


def test_without_its_own_roles_a_principal_condition_is_unknown() -> None:
    condition = {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/iamwarden-*"}}
    [finding] = _judge(_create({**EVERYTHING, "Condition": condition}), Settings()).findings
    assert finding.severity is Severity.MEDIUM
    assert finding.needs_context
    assert "IAMWARDEN_OWN_ROLE_ARNS" in finding.needs_context[0]


def test_a_deny_of_only_what_iamwarden_remediates_with_is_medium() -> None:
    [finding] = _judge(_create({"Effect": "Deny", "Action": ["iam:DetachRolePolicy"], "Resource": "*"})).findings
    assert finding.severity is Severity.MEDIUM
    assert "cannot remediate" in finding.reason


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Deny", "Action": "cloudtrail:*", "Resource": "arn:aws:cloudtrail:*:*:trail/secret-trail"},
        {"Effect": "Deny", "Action": ["cloudtrail:StopLogging", "cloudtrail:DeleteTrail"], "Resource": "*"},
        {"Effect": "Allow", "Action": "*", "Resource": "*"},
    ],
)
def test_a_narrow_deny_or_an_allow_is_compliant(statement: dict[str, Any]) -> None:
    assert _judge(_create(statement)).verdict is Verdict.COMPLIANT


def test_not_action_and_not_resource_deny_broadly() -> None:
    statement = {"Effect": "Deny", "NotAction": ["s3:*"], "NotResource": "arn:aws:s3:::x"}
    [finding] = _judge(_create(statement)).findings
    assert "sts:AssumeRole" in finding.reason


def test_another_policy_type_or_content_is_not_judged() -> None:
    tag = _create(EVERYTHING)
    tag["detail"]["requestParameters"]["type"] = "TAG_POLICY"
    assert _judge(tag).verdict is Verdict.COMPLIANT
    backup = _create(EVERYTHING)
    backup["detail"]["requestParameters"]["content"] = json.dumps({"plans": {}})
    assert _judge(backup).verdict is Verdict.COMPLIANT


def _update(content: dict[str, Any] | None, policy_id: str = BLINDING) -> dict[str, Any]:
    event = copy.deepcopy(load_event("organizations-scp-deny-audit.json"))
    event["detail"]["eventName"] = "UpdatePolicy"
    request: dict[str, Any] = {"policyId": policy_id}
    if content is not None:
        request["content"] = json.dumps(content)
    event["detail"]["requestParameters"] = request
    event["detail"]["responseElements"]["policy"]["policySummary"]["id"] = policy_id
    return event


def test_an_update_that_blinds_names_where_it_is_attached() -> None:
    [finding] = _judge(_update(_doc(EVERYTHING))).findings
    assert finding.severity is Severity.CRITICAL
    assert f"list-targets-for-policy --policy-id {BLINDING}" in finding.reason


def test_an_update_without_content_changes_nothing() -> None:
    assert _judge(_update(None)).verdict is Verdict.COMPLIANT


def test_an_update_that_stops_guarding_iamwarden_is_critical_when_iamwarden_kept_it_guarding() -> None:
    guarding = _guarding()
    weakened = _doc({"Effect": "Deny", "Action": "organizations:LeaveOrganization", "Resource": "*"})
    event = _update(weakened, GUARDING)

    [finding] = _judge(event, recorded=InMemory([_kept(GUARD_KEY, guarding)])).findings
    assert finding.severity is Severity.CRITICAL
    assert "no longer guards IAM Warden" in finding.reason
    assert _judge(event).verdict is Verdict.COMPLIANT  # nothing kept: nothing to compare with
    late = InMemory([_kept(GUARD_KEY, guarding, taken_at="2026-11-20T10:00:00Z")])
    assert _judge(event, recorded=late).verdict is Verdict.COMPLIANT  # kept after the change: not "before"


def test_an_attach_of_a_kept_blinding_policy_is_critical_naming_the_target() -> None:
    recorded = InMemory([_kept(KEY, _doc(EVERYTHING))])
    [finding] = _judge(load_event("organizations-scp-attach.json"), recorded=recorded).findings
    assert finding.severity is Severity.CRITICAL
    assert "under target ou-a1b2-c3d4e5f6" in finding.reason
    assert f"aws organizations detach-policy --policy-id {BLINDING} --target-id ou-a1b2-c3d4e5f6" in finding.reason


def test_an_attach_of_a_harmless_kept_policy_is_compliant() -> None:
    recorded = InMemory([_kept(KEY, _doc({"Effect": "Deny", "Action": "ec2:RunInstances", "Resource": "*"}))])
    assert _judge(load_event("organizations-scp-attach.json"), recorded=recorded).verdict is Verdict.COMPLIANT


@pytest.mark.parametrize("recorded", [InMemory(), None])
@pytest.mark.parametrize("file", ["organizations-scp-attach.json", "organizations-scp-detach.json"])
def test_an_attach_or_detach_of_a_policy_never_seen_written_is_alerted_with_its_content_unknown(
    file: str, recorded: InMemory | None
) -> None:
    judged = _judge(load_event(file), recorded=recorded)
    [finding] = judged.findings
    assert (finding.severity, finding.plan) == (Severity.MEDIUM, ())
    [unknown] = finding.needs_context
    assert "what service control policy" in unknown
    assert ("offline" in unknown) is (recorded is None)
    assert "aws organizations describe-policy --policy-id" in finding.reason


def _full_access(name: str) -> dict[str, Any]:
    event = copy.deepcopy(load_event("organizations-scp-detach.json"))
    event["detail"]["eventName"] = name
    event["detail"]["requestParameters"]["policyId"] = "p-FullAWSAccess"
    return event


def test_detaching_full_aws_access_is_high_with_what_is_left_unknown() -> None:
    [finding] = _judge(_full_access("DetachPolicy"), recorded=InMemory()).findings
    assert (finding.severity, finding.plan) == (Severity.HIGH, ())
    assert "aws organizations attach-policy --policy-id p-FullAWSAccess --target-id r-a1b2" in finding.reason
    [unknown] = finding.needs_context
    assert "list-policies-for-target --target-id r-a1b2" in unknown


def test_attaching_full_aws_access_is_known_to_allow_and_compliant() -> None:
    assert _judge(_full_access("AttachPolicy"), recorded=InMemory()).verdict is Verdict.COMPLIANT


def test_a_detach_of_a_kept_guarding_policy_is_critical_with_the_attach_command() -> None:
    guarding = _doc(
        {
            "Effect": "Deny",
            "Action": ["lambda:*"],
            "Resource": "arn:aws:lambda:*:*:function:iamwarden-enforcer",
            "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/iamwarden-*"}},
        }
    )
    own = OwnIdentity(SAMPLE_OWN.home_account, SAMPLE_OWN.home_roles, functions=frozenset({"iamwarden-enforcer"}))
    recorded = InMemory([_kept(GUARD_KEY, guarding)])
    [finding] = _judge(load_event("organizations-scp-detach.json"), Settings()._replace(own=own), recorded).findings
    assert finding.severity is Severity.CRITICAL
    assert f"aws organizations attach-policy --policy-id {GUARDING} --target-id r-a1b2" in finding.reason


def test_a_detach_of_a_kept_policy_that_guarded_nothing_is_compliant() -> None:
    recorded = InMemory([_kept(GUARD_KEY, _doc({"Effect": "Deny", "Action": "ec2:*", "Resource": "*"}))])
    assert _judge(load_event("organizations-scp-detach.json"), recorded=recorded).verdict is Verdict.COMPLIANT


def test_a_failed_call_is_not_judged() -> None:
    event = copy.deepcopy(load_event("organizations-scp-deny-audit.json"))
    event["detail"]["errorCode"] = "ConstraintViolationException"
    assert _judge(event).findings == ()


def test_judge_content_separates_seeing_from_remediating() -> None:
    verdict = judge_content(
        _doc({"Effect": "Deny", "Action": ["sns:Publish", "iam:PutRolePolicy"], "Resource": "*"}), SAMPLE_OWN
    )
    assert (verdict.blinds, verdict.hinders, verdict.guards) == (("sns:Publish",), ("iam:PutRolePolicy",), False)


# Allow-lists: an action no SCP attached at a level allows is denied under it (issue 15 item 3, session 10).

#: An allow-list that lets through every service IAM Warden calls (it needs nothing else of an SCP).
IAMWARDEN_SERVICES = _doc(
    {
        "Effect": "Allow",
        "Action": [
            f"{service}:*"
            for service in (
                "cloudtrail", "events", "lambda", "sts", "iam", "guardduty", "securityhub", "config",
                "sns", "sqs", "dynamodb", "ssm", "s3", "kms", "secretsmanager",
            )
        ],
        "Resource": "*",
    }
)  # fmt: skip
ONLY_COMPUTE = _doc({"Effect": "Allow", "Action": ["ec2:*", "s3:*"], "Resource": "*"})


def test_full_aws_access_and_an_allow_list_of_iamwardens_services_leave_nothing_out() -> None:
    full = _doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
    for documents in ([full], [IAMWARDEN_SERVICES], [ONLY_COMPUTE, full]):
        verdict = judge_allows(documents, SAMPLE_OWN)
        assert (verdict.allows_any, verdict.missing, verdict.missing_fixes) == (True, (), ())


def test_an_allow_list_without_iamwardens_services_leaves_out_what_it_sees_and_remediates_with() -> None:
    verdict = judge_allows([ONLY_COMPUTE], SAMPLE_OWN)
    assert {"cloudtrail:DescribeTrails", "events:PutEvents", "sts:AssumeRole", "sns:Publish"} <= set(verdict.missing)
    assert "iam:DetachRolePolicy" in verdict.missing_fixes
    assert "s3:PutBucketPolicy" not in verdict.missing_fixes  # s3:* is allowed
    assert verdict.conditional == ()


def test_two_allow_lists_at_one_level_add_up() -> None:
    halves = [
        _doc(
            {"Effect": "Allow", "Action": ["cloudtrail:*", "events:*", "lambda:*", "sts:*", "iam:*"], "Resource": "*"}
        ),
        _doc(
            {
                "Effect": "Allow",
                "NotAction": ["cloudtrail:*", "events:*", "lambda:*", "sts:*", "iam:*"],
                "Resource": "*",
            }
        ),
    ]
    assert judge_allows(halves, SAMPLE_OWN).missing == ()
    assert judge_allows(halves[:1], SAMPLE_OWN).missing != ()


def test_an_allow_for_others_only_gives_iamwarden_nothing_and_one_under_a_condition_only_then() -> None:
    for_others = {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/contractor-*"}}
    allow = {"Effect": "Allow", "Action": "*", "Resource": "*"}
    verdict = judge_allows([_doc({**allow, "Condition": for_others})], SAMPLE_OWN)
    assert "cloudtrail:DescribeTrails" in verdict.missing
    assert verdict.conditional == ()
    regional = {"StringEquals": {"aws:RequestedRegion": ["eu-west-1"]}}
    verdict = judge_allows([_doc({**allow, "Condition": regional})], SAMPLE_OWN)
    assert "cloudtrail:DescribeTrails" in verdict.missing
    assert any("only when StringEquals aws:requestedregion eu-west-1" in c for c in verdict.conditional)


def test_a_deny_only_policy_allows_nothing_and_is_no_allow_list() -> None:
    assert not judge_allows([_doc(EVERYTHING)], SAMPLE_OWN).allows_any


def _written(name: str, document: dict[str, Any]) -> dict[str, Any]:
    return _create(*document["Statement"]) if name == "CreatePolicy" else _update(document)


@pytest.mark.parametrize(("name", "severity"), [("CreatePolicy", Severity.LOW), ("UpdatePolicy", Severity.MEDIUM)])
def test_an_allow_list_written_without_iamwardens_needs_is_noted_with_where_it_blinds_unknown(
    name: str, severity: Severity
) -> None:
    [finding] = _judge(_written(name, ONLY_COMPUTE)).findings
    assert (finding.severity, finding.plan) == (severity, ())
    assert "allow-list that does not allow IAM Warden's roles cloudtrail:DescribeTrails" in finding.reason
    assert "keep FullAWSAccess attached beside it" in finding.reason
    [unknown] = finding.needs_context
    assert ("list-targets-for-policy" in unknown) is (name == "UpdatePolicy")


def test_an_allow_list_that_allows_what_iamwarden_needs_is_compliant() -> None:
    assert _judge(_create(*IAMWARDEN_SERVICES["Statement"])).verdict is Verdict.COMPLIANT


def test_a_blinding_deny_beside_an_allow_list_is_judged_as_the_deny() -> None:
    [finding] = _judge(_create(*ONLY_COMPUTE["Statement"], EVERYTHING)).findings
    assert finding.severity is Severity.CRITICAL
    assert "that denies IAM Warden's roles" in finding.reason


# Resource control policies: Deny-only, on the resources of the services they cover.

RCP_KEY = policy_key("aws", "111122223333", "p-7rcp10ck")
ORG_OWN = Settings()._replace(own=SAMPLE_OWN._replace(organization_id="o-a1b2c3d4e5"))


def _rcp(*statements: dict[str, Any]) -> dict[str, Any]:
    event = copy.deepcopy(load_event("organizations-rcp-deny-assume-role.json"))
    event["detail"]["requestParameters"]["content"] = json.dumps(_doc(*statements))
    return event


def test_an_rcp_denying_iamwarden_its_member_roles_is_critical_and_kept_as_an_rcp() -> None:
    judged = _judge(load_event("organizations-rcp-deny-assume-role.json"))
    [finding] = judged.findings
    assert (finding.severity, finding.resource_arn) == (Severity.CRITICAL, RCP_KEY)
    assert "resource control policy assume-roles-only-by-security-admin" in finding.reason
    assert "sts:AssumeRole on the member accounts' resources" in finding.reason
    [snapshot] = judged.observed
    assert snapshot.data["type"] == "RESOURCE_CONTROL_POLICY"


@pytest.mark.parametrize(
    ("statement", "blinds"),
    [
        (
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sqs:*",
                "Resource": "arn:aws:sqs:*:*:iamwarden-enforcer-dlq",
            },
            "sqs:SendMessage",
        ),
        (
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "kms:GenerateDataKey*",
                "Resource": "arn:aws:kms:us-east-1:111122223333:key/mrk-iamwarden-alerts",
            },
            "kms:GenerateDataKey",
        ),
        (
            {"Effect": "Deny", "Principal": "*", "Action": "secretsmanager:*", "Resource": "*"},
            "secretsmanager:GetSecretValue",
        ),
    ],
)
def test_an_rcp_denying_iamwarden_its_queues_key_or_secrets_blinds(statement: dict[str, Any], blinds: str) -> None:
    [finding] = _judge(_rcp(statement)).findings
    assert finding.severity is Severity.CRITICAL
    assert blinds in finding.reason


def test_an_rcp_denying_only_what_iamwarden_remediates_buckets_with_is_medium() -> None:
    statement = {"Effect": "Deny", "Principal": "*", "Action": "s3:PutBucketPolicy", "Resource": "*"}
    [finding] = _judge(_rcp(statement)).findings
    assert finding.severity is Severity.MEDIUM
    assert "cannot remediate" in finding.reason


def test_an_rcp_is_judged_only_on_what_rcps_bound() -> None:
    """cloudtrail:* in an RCP bounds nothing (CloudTrail is no RCP service); sns:Publish neither."""
    statement = {"Effect": "Deny", "Principal": "*", "Action": ["cloudtrail:*", "sns:Publish"], "Resource": "*"}
    assert _judge(_rcp(statement)).verdict is Verdict.COMPLIANT
    verdict = judge_content(_doc(statement), SAMPLE_OWN, kind=RESOURCE_CONTROL_POLICY)
    assert verdict.blinds == verdict.hinders == ()


PERIMETER: dict[str, Any] = {
    "Effect": "Deny",
    "Principal": "*",
    "Action": ["s3:*", "sqs:*", "kms:*", "secretsmanager:*", "sts:AssumeRole"],
    "Resource": "*",
    "Condition": {
        "StringNotEqualsIfExists": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"},
        "BoolIfExists": {"aws:PrincipalIsAWSService": "false"},
    },
}


def test_the_data_perimeter_rcp_leaves_iamwardens_organisation_out() -> None:
    assert _judge(_rcp(PERIMETER), ORG_OWN).verdict is Verdict.COMPLIANT


def test_a_perimeter_naming_another_organisation_blinds() -> None:
    other = copy.deepcopy(PERIMETER)
    other["Condition"]["StringNotEqualsIfExists"]["aws:PrincipalOrgID"] = "o-zzzzzzzzzz"
    [finding] = _judge(_rcp(other), ORG_OWN).findings
    assert finding.severity is Severity.CRITICAL  # aws:PrincipalIsAWSService false holds for IAM Warden's roles


def test_a_perimeter_is_unknown_without_iamwardens_organisation() -> None:
    [finding] = _judge(_rcp(PERIMETER), OWN).findings
    assert finding.severity is Severity.MEDIUM
    assert "aws:PrincipalOrgID" in finding.needs_context[0]


def test_a_deny_of_aws_service_principals_only_leaves_iamwarden_out() -> None:
    statement = {**EVERYTHING, "Condition": {"Bool": {"aws:PrincipalIsAWSService": "true"}}}
    assert _judge(_create(statement)).verdict is Verdict.COMPLIANT


# DeletePolicy: the kept content is dropped; a deleted guard is said.


def _delete(policy_id: str = GUARDING) -> dict[str, Any]:
    event = copy.deepcopy(load_event("organizations-scp-delete.json"))
    event["detail"]["requestParameters"]["policyId"] = policy_id
    return event


def _guarding() -> dict[str, Any]:
    return copy.deepcopy(GUARD_DOC)


def test_deleting_a_kept_guarding_policy_is_high_with_how_to_create_it_again_and_drops_it() -> None:
    judged = _judge(_delete(), recorded=InMemory([_kept(GUARD_KEY, _guarding())]))
    [finding] = judged.findings
    assert (finding.severity, finding.plan) == (Severity.HIGH, ())
    assert "it had been detached first" in finding.reason
    assert "aws organizations create-policy --type SERVICE_CONTROL_POLICY --name kept" in finding.reason
    dropped, read = judged.observed  # the record of its writes, and of its live reads
    assert (dropped.kind, dropped.resource_arn, dropped.data, dropped.whatever_the_verdict) == (
        SCP,
        content_key(GUARD_KEY),
        {"policy_id": GUARDING, "deleted": True},
        True,
    )
    assert (read.resource_arn, read.data) == (read_key(GUARD_KEY), dropped.data)


@pytest.mark.parametrize("recorded", [InMemory(), InMemory([_kept(GUARD_KEY, _doc(EVERYTHING))]), None])
def test_deleting_a_policy_that_guarded_nothing_or_was_never_kept_is_compliant_and_drops_it(
    recorded: InMemory | None,
) -> None:
    judged = _judge(_delete(), recorded=recorded)
    assert judged.verdict is Verdict.COMPLIANT
    assert [dropped.data["deleted"] for dropped in judged.observed] == [True, True]


def test_a_dropped_policy_is_no_longer_what_iamwarden_kept() -> None:
    dropped = Snapshot(SCP, KEY, "2026-11-20T09:00:00Z", {"policy_id": BLINDING, "deleted": True})
    [finding] = _judge(load_event("organizations-scp-attach.json"), recorded=InMemory([dropped])).findings
    assert finding.severity is Severity.MEDIUM
    assert finding.needs_context


# Live reads (DescribePolicy, ListPoliciesForTarget): botocore's Stubber checks each call against the API model.


class _Live:
    """The enforcer's clients of the event's account, as far as the rule uses them: Organizations only."""

    def __init__(self, organizations: Any) -> None:
        self.organizations = organizations
        self.asked: list[str] = []

    def client(self, service: str) -> Any:
        self.asked.append(service)
        return self.organizations


def _organizations() -> Any:
    return boto3.client(
        "organizations", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )


def _described(policy_id: str, document: dict[str, Any], kind: str = "SERVICE_CONTROL_POLICY") -> dict[str, Any]:
    summary = {
        "Id": policy_id,
        "Arn": f"arn:aws:organizations::111122223333:policy/o-a1b2c3d4e5/{kind.lower()}/{policy_id}",
        "Name": "read-live",
        "Description": "",
        "Type": kind,
        "AwsManaged": False,
    }
    return {"Policy": {"PolicySummary": summary, "Content": json.dumps(document)}}


def _listed(*policy_ids: str) -> dict[str, Any]:
    return {
        "Policies": [
            {
                "Id": policy_id,
                "Arn": f"arn:aws:organizations::111122223333:policy/o-a1b2c3d4e5/service_control_policy/{policy_id}",
                "Name": policy_id,
                "Description": "",
                "Type": "SERVICE_CONTROL_POLICY",
                "AwsManaged": policy_id == "p-FullAWSAccess",
            }
            for policy_id in policy_ids
        ]
    }


def _judge_live(event: dict[str, Any], live: Any, recorded: InMemory | None = None) -> Judgement:
    def clients(account: str, region: str) -> Any:
        assert (account, region) == ("111122223333", "us-east-1")  # the management account, in us-east-1
        if isinstance(live, Exception):
            raise live
        return live

    return judge_event(event, OWN, recorded=recorded if recorded is not None else InMemory(), live_clients=clients)


def test_a_policy_never_seen_written_is_read_live_judged_and_kept() -> None:
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_response("describe_policy", _described(BLINDING, _doc(EVERYTHING)), {"PolicyId": BLINDING})
        judged = _judge_live(load_event("organizations-scp-attach.json"), _Live(organizations))
        stubber.assert_no_pending_responses()
    [finding] = judged.findings
    assert (finding.severity, finding.needs_context) == (Severity.CRITICAL, ())
    assert "service control policy read-live (p-0bl1nd5e)" in finding.reason
    [kept] = judged.observed
    # Kept apart from the record of the policy's writes, and dated by the read, not by the event (review F0).
    assert (kept.kind, kept.resource_arn, kept.whatever_the_verdict) == (SCP, read_key(KEY), True)
    assert (kept.data["content"], kept.data["type"]) == (_doc(EVERYTHING), "SERVICE_CONTROL_POLICY")
    assert not kept.taken_before(load_event("organizations-scp-attach.json")["detail"]["eventTime"])


HARMLESS = _doc({"Effect": "Deny", "Action": "ec2:*", "Resource": "*"})


def test_an_attach_read_live_harmless_but_recorded_blinding_is_judged_by_the_worse_saying_so() -> None:
    """IAM Warden kept a Deny of everything; the policy read minutes later denies only EC2: rewritten after the
    attach (to be judged in turn), or by an update IAM Warden did not hear. The worse of the two is judged."""
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_response("describe_policy", _described(BLINDING, HARMLESS), {"PolicyId": BLINDING})
        judged = _judge_live(
            load_event("organizations-scp-attach.json"), _Live(organizations), InMemory([_kept(KEY, _doc(EVERYTHING))])
        )
        stubber.assert_no_pending_responses()
    [finding] = judged.findings
    assert finding.severity is Severity.CRITICAL
    [differs] = finding.needs_context
    assert f"policy {BLINDING} read now (" in differs
    assert "something other than IAM Warden's record of its content from 2026-11-20T09:00:00Z" in differs
    assert "judged by IAM Warden's record" in differs
    [read] = judged.observed
    assert (read.resource_arn, read.data["content"]) == (read_key(KEY), HARMLESS)  # the record is left as it was


def test_an_attach_read_live_blinding_but_recorded_harmless_is_judged_by_the_live_read() -> None:
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_response("describe_policy", _described(BLINDING, _doc(EVERYTHING)), {"PolicyId": BLINDING})
        judged = _judge_live(
            load_event("organizations-scp-attach.json"), _Live(organizations), InMemory([_kept(KEY, HARMLESS)])
        )
        stubber.assert_no_pending_responses()
    [finding] = judged.findings
    assert finding.severity is Severity.CRITICAL
    assert "judged by the live read" in finding.needs_context[0]


def test_a_guard_detached_then_rewritten_before_the_enforcer_reads_it_is_critical_twice() -> None:
    """Review F0 (probe p7): DetachPolicy of the guard at T1, UpdatePolicy to harmless content at T2, both judged
    after T2. The detach is judged by the record (it guarded), and the live read kept apart does not become the
    "before" of the update, which is still critical."""
    detach = copy.deepcopy(load_event("organizations-scp-detach.json"))
    detach["detail"]["requestParameters"] = {"policyId": GUARDING, "targetId": "ou-a1b2-c3d4e5f6"}
    store = InMemory([_kept(content_key(GUARD_KEY), GUARD_DOC)])
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_response("describe_policy", _described(GUARDING, HARMLESS), {"PolicyId": GUARDING})
        judged = _judge_live(detach, _Live(organizations), store)
        stubber.assert_no_pending_responses()
    [finding] = judged.findings
    assert finding.severity is Severity.CRITICAL
    assert "which guarded IAM Warden's roles and functions" in finding.reason
    assert [s.resource_arn for s in judged.observed] == [read_key(GUARD_KEY)]
    for snapshot in judged.observed:
        store._snapshots[(snapshot.kind, snapshot.resource_arn)] = snapshot

    update = _create(*HARMLESS["Statement"])
    update["detail"]["eventName"] = "UpdatePolicy"
    update["detail"]["requestParameters"] = {"policyId": GUARDING, "content": json.dumps(HARMLESS)}
    update["detail"]["responseElements"]["policy"]["policySummary"]["id"] = GUARDING
    update["time"] = update["detail"]["eventTime"] = "2026-11-20T09:26:14Z"
    [rewritten] = _judge(update, recorded=store).findings
    assert rewritten.severity is Severity.CRITICAL
    assert "no longer guards IAM Warden's roles and functions" in rewritten.reason


def test_an_allow_list_attached_then_narrowed_before_the_enforcer_reads_it_leaves_the_record_as_written() -> None:
    """Review F0 (probe p9): AttachPolicy of an allow-all at T1, UpdatePolicy dropping CloudTrail at T2: the
    attach, read after T2, must not replace the record the update is compared with."""
    allow_all = _doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
    narrowed = _doc({"Effect": "Allow", "NotAction": "cloudtrail:*", "Resource": "*"})
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_response("describe_policy", _described(BLINDING, narrowed), {"PolicyId": BLINDING})
        judged = _judge_live(
            load_event("organizations-scp-attach.json"), _Live(organizations), InMemory([_kept(KEY, allow_all)])
        )
        stubber.assert_no_pending_responses()
    assert judged.verdict is Verdict.COMPLIANT
    assert "something other than IAM Warden's record" in judged.reason
    [read] = judged.observed
    assert read.resource_arn == read_key(KEY) != content_key(KEY)


def test_a_guard_deleted_after_a_live_read_only_is_judged_by_that_read() -> None:
    store = InMemory([Snapshot(SCP, read_key(GUARD_KEY), "2026-11-20T09:00:00.000+00:00", {"content": GUARD_DOC})])
    event = copy.deepcopy(load_event("organizations-scp-delete.json"))
    event["detail"]["requestParameters"] = {"policyId": GUARDING}
    judged = _judge(event, recorded=store)
    [finding] = judged.findings
    assert finding.severity is Severity.HIGH
    assert {s.resource_arn for s in judged.observed} == {content_key(GUARD_KEY), read_key(GUARD_KEY)}
    assert all(s.data["deleted"] for s in judged.observed)


def test_a_kept_policy_whose_live_read_fails_is_judged_by_the_record_saying_so() -> None:
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_client_error("describe_policy", "AccessDeniedException", "not allowed", http_status_code=400)
        judged = _judge_live(
            load_event("organizations-scp-attach.json"), _Live(organizations), InMemory([_kept(KEY, _doc(EVERYTHING))])
        )
    [finding] = judged.findings
    assert finding.severity is Severity.CRITICAL
    [note] = finding.needs_context
    assert "could not be read (the enforcer's DescribePolicy failed" in note
    assert "judged by IAM Warden's record of it from 2026-11-20T09:00:00Z" in note
    assert judged.observed == ()


def test_a_kept_policy_read_live_unchanged_is_not_kept_again() -> None:
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_response("describe_policy", _described(BLINDING, _doc(EVERYTHING)), {"PolicyId": BLINDING})
        judged = _judge_live(
            load_event("organizations-scp-attach.json"), _Live(organizations), InMemory([_kept(KEY, _doc(EVERYTHING))])
        )
        stubber.assert_no_pending_responses()  # read live, though kept
    [finding] = judged.findings
    assert (finding.severity, finding.needs_context) == (Severity.CRITICAL, ())
    assert judged.observed == ()


def test_a_refused_read_is_alerted_with_what_is_unknown() -> None:
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_client_error("describe_policy", "AccessDeniedException", "not allowed", http_status_code=400)
        [finding] = _judge_live(load_event("organizations-scp-attach.json"), _Live(organizations)).findings
    assert (finding.severity, finding.plan) == (Severity.MEDIUM, ())
    [unknown] = finding.needs_context
    assert "and not this one's" in unknown
    assert "DescribePolicy failed" in unknown


def test_an_unreachable_management_account_is_alerted_with_what_is_unknown() -> None:
    unreachable = AwsAccessError("cannot assume arn:aws:iam::111122223333:role/iamwarden-remediator")
    [finding] = _judge_live(load_event("organizations-scp-attach.json"), unreachable).findings
    assert finding.severity is Severity.MEDIUM
    assert "could not reach Organizations (cannot assume" in finding.needs_context[0]


def test_a_throttled_read_is_raised_to_be_retried() -> None:
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_client_error("describe_policy", "TooManyRequestsException", "slow down", http_status_code=400)
        with pytest.raises(TransientAwsError):
            _judge_live(load_event("organizations-scp-attach.json"), _Live(organizations))


def test_a_bug_in_the_read_is_not_passed_off_as_a_refusal() -> None:
    class Broken:
        def describe_policy(self, **_: Any) -> Any:
            raise KeyError("Policy")

    with pytest.raises(KeyError):
        _judge_live(load_event("organizations-scp-attach.json"), _Live(Broken()))


def _detach(policy_id: str, target: str = "ou-a1b2-c3d4e5f6") -> dict[str, Any]:
    event = copy.deepcopy(load_event("organizations-scp-detach.json"))
    event["detail"]["requestParameters"] = {"policyId": policy_id, "targetId": target}
    return event


LEVEL = {"TargetId": "ou-a1b2-c3d4e5f6", "Filter": "SERVICE_CONTROL_POLICY"}


def test_full_aws_access_detached_where_only_an_allow_list_without_iamwarden_is_left_is_critical() -> None:
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_response("list_policies_for_target", _listed("p-c0mpute1"), LEVEL)
        stubber.add_response("describe_policy", _described("p-c0mpute1", ONLY_COMPUTE), {"PolicyId": "p-c0mpute1"})
        judged = _judge_live(_detach("p-FullAWSAccess"), _Live(organizations))
        stubber.assert_no_pending_responses()
    [finding] = judged.findings
    assert (finding.severity, finding.plan, finding.needs_context) == (Severity.CRITICAL, (), ())
    assert "no service control policy still attached there (read-live (p-c0mpute1))" in finding.reason
    assert "cloudtrail:DescribeTrails" in finding.reason
    assert "aws organizations attach-policy --policy-id p-FullAWSAccess --target-id ou-a1b2-c3d4e5f6" in finding.reason
    assert judged.observed == ()  # FullAWSAccess is known, not kept


def test_full_aws_access_detached_where_an_allow_list_allows_what_iamwarden_needs_is_compliant() -> None:
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_response("list_policies_for_target", _listed("p-wardenok"), LEVEL)
        stubber.add_response(
            "describe_policy", _described("p-wardenok", IAMWARDEN_SERVICES), {"PolicyId": "p-wardenok"}
        )
        stubber.add_response("list_parents", _parent(ROOT), {"ChildId": LEVEL["TargetId"]})
        stubber.add_response("list_policies_for_target", _listed("p-FullAWSAccess"), ROOT_LEVEL)
        judged = _judge_live(_detach("p-FullAWSAccess"), _Live(organizations))
        stubber.assert_no_pending_responses()
    assert judged.verdict is Verdict.COMPLIANT
    assert f"and so do the levels above it ({ROOT})" in judged.reason


def test_an_allow_list_detached_where_full_aws_access_is_still_attached_is_compliant_without_describing_it() -> None:
    """The policy is read live (the record is only a fallback); FullAWSAccess, still attached, is known by id."""
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_response(
            "describe_policy", _described("p-wardenok", IAMWARDEN_SERVICES), {"PolicyId": "p-wardenok"}
        )
        stubber.add_response("list_policies_for_target", _listed("p-FullAWSAccess"), LEVEL)
        stubber.add_response("list_parents", _parent(ROOT), {"ChildId": LEVEL["TargetId"]})
        stubber.add_response("list_policies_for_target", _listed("p-FullAWSAccess"), ROOT_LEVEL)
        recorded = InMemory([_kept(policy_key("aws", "111122223333", "p-wardenok"), IAMWARDEN_SERVICES)])
        judged = _judge_live(_detach("p-wardenok"), _Live(organizations), recorded)
        stubber.assert_no_pending_responses()
    assert judged.verdict is Verdict.COMPLIANT
    assert f"and so do the levels above it ({ROOT})" in judged.reason


def test_an_allow_list_detached_under_a_root_that_already_leaves_iamwarden_out_is_high() -> None:
    """The OU still allows everything (FullAWSAccess); the root's only SCP allows everything but CloudTrail."""
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_response(
            "describe_policy", _described("p-wardenok", IAMWARDEN_SERVICES), {"PolicyId": "p-wardenok"}
        )
        stubber.add_response("list_policies_for_target", _listed("p-FullAWSAccess"), LEVEL)
        stubber.add_response("list_parents", _parent(ROOT), {"ChildId": LEVEL["TargetId"]})
        stubber.add_response("list_policies_for_target", _listed("p-0utrails"), ROOT_LEVEL)
        stubber.add_response("describe_policy", _described("p-0utrails", WITHOUT_TRAILS), {"PolicyId": "p-0utrails"})
        [finding] = _judge_live(_detach("p-wardenok"), _Live(organizations)).findings
        stubber.assert_no_pending_responses()
    assert (finding.severity, finding.plan, finding.needs_context) == (Severity.HIGH, (), ())
    assert f"no service control policy attached to {ROOT} (read-live (p-0utrails)) allows" in finding.reason
    assert "cloudtrail:DescribeTrails" in finding.reason
    assert "were already blind to IAM Warden (not by this change)" in finding.reason


def test_full_aws_access_detached_from_the_root_reads_nothing_above_it() -> None:
    """A guard (passes on main too, which never reads above): a root has no parent to ask for."""
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_response("list_policies_for_target", _listed("p-wardenok"), ROOT_LEVEL)
        stubber.add_response(
            "describe_policy", _described("p-wardenok", IAMWARDEN_SERVICES), {"PolicyId": "p-wardenok"}
        )
        judged = _judge_live(_detach("p-FullAWSAccess", ROOT), _Live(organizations))
        stubber.assert_no_pending_responses()
    assert judged.verdict is Verdict.COMPLIANT
    assert "levels above" not in judged.reason


def test_an_allow_list_detached_where_the_levels_above_cannot_be_read_is_compliant_saying_so() -> None:
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_response(
            "describe_policy", _described("p-wardenok", IAMWARDEN_SERVICES), {"PolicyId": "p-wardenok"}
        )
        stubber.add_response("list_policies_for_target", _listed("p-FullAWSAccess"), LEVEL)
        stubber.add_client_error("list_parents", "AccessDeniedException", "no", http_status_code=400)
        judged = _judge_live(_detach("p-wardenok"), _Live(organizations))
        stubber.assert_no_pending_responses()
    assert judged.verdict is Verdict.COMPLIANT
    assert "the levels above it are unknown: the enforcer's ListParents failed" in judged.reason


def test_a_detach_of_only_what_iamwarden_remediates_with_is_medium() -> None:
    organizations = _organizations()
    everything_but_iam = _doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})
    reads_of_iam = _doc({"Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"})
    with Stubber(organizations) as stubber:
        stubber.add_response("list_policies_for_target", _listed("p-n0tiam00", "p-iamreads"), LEVEL)
        stubber.add_response(
            "describe_policy", _described("p-n0tiam00", everything_but_iam), {"PolicyId": "p-n0tiam00"}
        )
        stubber.add_response("describe_policy", _described("p-iamreads", reads_of_iam), {"PolicyId": "p-iamreads"})
        [finding] = _judge_live(_detach("p-FullAWSAccess"), _Live(organizations)).findings
    assert finding.severity is Severity.MEDIUM
    assert "cannot remediate with them" in finding.reason
    assert "iam:DetachRolePolicy" in finding.reason


def test_a_deny_only_policy_detached_reads_nothing_but_the_policy() -> None:
    deny_ec2 = _doc({"Effect": "Deny", "Action": "ec2:*", "Resource": "*"})
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_response("describe_policy", _described(GUARDING, deny_ec2), {"PolicyId": GUARDING})
        judged = _judge_live(_detach(GUARDING), _Live(organizations), InMemory([_kept(GUARD_KEY, deny_ec2)]))
        stubber.assert_no_pending_responses()
    assert judged.verdict is Verdict.COMPLIANT


@pytest.mark.parametrize("code", ["AccessDeniedException", "AWSOrganizationsNotInUseException"])
def test_full_aws_access_detached_where_the_level_cannot_be_read_stays_high_with_what_is_unknown(code: str) -> None:
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_client_error("list_policies_for_target", code, "no", http_status_code=400)
        [finding] = _judge_live(_detach("p-FullAWSAccess"), _Live(organizations)).findings
    assert finding.severity is Severity.HIGH
    [unknown] = finding.needs_context
    assert "ListPoliciesForTarget failed" in unknown
    assert code in unknown


def test_full_aws_access_detached_beside_a_policy_that_cannot_be_read_stays_high() -> None:
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_response("list_policies_for_target", _listed("p-c0mpute1", "p-h1dden00"), LEVEL)
        stubber.add_response("describe_policy", _described("p-c0mpute1", ONLY_COMPUTE), {"PolicyId": "p-c0mpute1"})
        stubber.add_client_error("describe_policy", "AccessDeniedException", "no", http_status_code=400)
        [finding] = _judge_live(_detach("p-FullAWSAccess"), _Live(organizations)).findings
    assert finding.severity is Severity.HIGH
    assert "p-h1dden00: the enforcer's DescribePolicy failed" in finding.needs_context[0]


def test_an_allow_list_detached_where_the_level_cannot_be_read_is_medium() -> None:
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_response(
            "describe_policy", _described("p-wardenok", IAMWARDEN_SERVICES), {"PolicyId": "p-wardenok"}
        )
        stubber.add_client_error("list_policies_for_target", "AccessDeniedException", "no", http_status_code=400)
        recorded = InMemory([_kept(policy_key("aws", "111122223333", "p-wardenok"), IAMWARDEN_SERVICES)])
        [finding] = _judge_live(_detach("p-wardenok"), _Live(organizations), recorded).findings
    assert finding.severity is Severity.MEDIUM
    assert "list-policies-for-target --target-id ou-a1b2-c3d4e5f6" in finding.needs_context[0]


def test_a_never_seen_policy_detached_where_the_level_still_allows_iamwarden_stays_medium_unknown() -> None:
    """Whether it guarded IAM Warden is still unknown: the level says only that IAM Warden is not blind there."""
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_client_error("describe_policy", "PolicyNotFoundException", "gone", http_status_code=400)
        stubber.add_response("list_policies_for_target", _listed("p-FullAWSAccess"), LEVEL)
        [finding] = _judge_live(_detach(GUARDING), _Live(organizations)).findings
    assert finding.severity is Severity.MEDIUM
    assert "what service control policy p-9uard1an says" in finding.needs_context[0]


def test_a_never_seen_guarding_policy_detached_is_read_live_and_critical() -> None:
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_response("describe_policy", _described(GUARDING, _guarding()), {"PolicyId": GUARDING})
        [finding] = _judge_live(_detach(GUARDING, "r-a1b2"), _Live(organizations)).findings
    assert finding.severity is Severity.CRITICAL
    assert f"aws organizations attach-policy --policy-id {GUARDING} --target-id r-a1b2" in finding.reason


def test_an_rcp_read_live_is_judged_as_an_rcp() -> None:
    organizations = _organizations()
    rcp = _doc({"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole", "Resource": "*"})
    with Stubber(organizations) as stubber:
        stubber.add_response(
            "describe_policy", _described(BLINDING, rcp, "RESOURCE_CONTROL_POLICY"), {"PolicyId": BLINDING}
        )
        judged = _judge_live(load_event("organizations-scp-attach.json"), _Live(organizations))
    [finding] = judged.findings
    assert finding.severity is Severity.CRITICAL
    assert "resource control policy read-live" in finding.reason
    assert judged.observed[0].data["type"] == "RESOURCE_CONTROL_POLICY"


def test_a_tag_policy_read_live_is_not_judged_nor_kept() -> None:
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_response(
            "describe_policy", _described(BLINDING, {"tags": {}}, "TAG_POLICY"), {"PolicyId": BLINDING}
        )
        judged = _judge_live(load_event("organizations-scp-attach.json"), _Live(organizations))
    assert judged.verdict is Verdict.COMPLIANT
    assert judged.observed == ()


def test_an_update_without_a_type_in_its_record_is_judged_as_the_kind_iamwarden_kept() -> None:
    """An RCP's Deny of cloudtrail:* bounds nothing; the same content kept as an SCP blinds."""
    rcp_key = policy_key("aws", "111122223333", BLINDING)
    event = _update(_doc(EVERYTHING))
    del event["detail"]["responseElements"]["policy"]["policySummary"]["type"]
    kept_rcp = Snapshot(
        SCP, rcp_key, "2026-11-20T09:00:00Z", {"policy_id": BLINDING, "type": "RESOURCE_CONTROL_POLICY"}
    )
    [finding] = _judge(event, recorded=InMemory([kept_rcp])).findings
    assert "resource control policy" in finding.reason
    assert "cloudtrail:DescribeTrails" not in finding.reason
    [finding] = _judge(event).findings
    assert "service control policy" in finding.reason
    assert "cloudtrail:DescribeTrails" in finding.reason


# Review of scp-s10 (findings F1-F4, F8, F9, F14): the probes of /tmp/rv-scp-probes as tests.
#: What IAM Warden needs to see, as services a blinding Deny names.
SEE_ACTIONS = ["cloudtrail:*", "events:*", "sts:AssumeRole", "lambda:*", "sns:*", "sqs:*", "dynamodb:*", "ssm:*"]
MEMBER_NAMES = ("iamwarden-remediator", "iamwarden-pruner-member", "iamwarden-snapshot-reader")


def _deny_see(condition: dict[str, Any], **more: Any) -> dict[str, Any]:
    return _doc({"Effect": "Deny", "Action": SEE_ACTIONS, "Resource": "*", "Condition": condition, **more})


@pytest.mark.parametrize("operator", ["StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotEqualsIfExists"])
def test_an_exact_operator_with_a_wildcard_exempts_nobody_and_guards_nothing(operator: str) -> None:
    # IAM User Guide, "Condition operators": only the *Like and Arn* operators take wildcards; StringNotEquals
    # compares exactly, and no role's ARN is the literal text "arn:aws:iam::*:role/iamwarden-*".
    verdict = judge_content(_deny_see({operator: {"aws:PrincipalArn": "arn:aws:iam::*:role/iamwarden-*"}}), SAMPLE_OWN)
    assert verdict.blinds
    assert verdict.only_when == ()
    assert not verdict.guards
    assert "events:PutEvents" in verdict.blinds


def test_an_exact_exemption_naming_every_role_exactly_leaves_iamwarden_out_but_a_literal_wildcard_keeps_nobody() -> (
    None
):
    exact = [*SAMPLE_OWN.home_roles.values()]
    assert judge_content(_deny_see({"StringNotEquals": {"aws:PrincipalArn": exact}}), SAMPLE_OWN).blinds  # members
    keeps_only = _deny_see({"StringEquals": {"aws:PrincipalArn": "arn:aws:iam::*:role/iamwarden-*"}})
    assert judge_content(keeps_only, SAMPLE_OWN).blinds == ()  # applies to no principal at all
    named = _deny_see({"StringEqualsIgnoreCase": {"aws:PrincipalArn": SAMPLE_OWN.home_roles["enforcer"].upper()}})
    assert judge_content(named, SAMPLE_OWN).blinds  # the enforcer, case folded


@pytest.mark.parametrize(
    "exempt",
    [
        [f"arn:aws:iam::{SAMPLE_OWN.home_account}:role/*"],  # the security account only
        [*SAMPLE_OWN.home_roles.values(), "arn:aws:iam::999999999999:role/iamwarden-*"],  # one other account
        [*SAMPLE_OWN.home_roles.values(), "arn:aws:iam::222233334444:role/*", "arn:aws:iam::555566667777:role/*"],
        [
            *SAMPLE_OWN.home_roles.values(),
            *(f"arn:aws:iam::*:role/{name}" for name in MEMBER_NAMES),
            "arn:aws:iam::*:role/iamwarden-member-forwarder-us-east-1",  # one region's forwarder
        ],
    ],
    ids=["security-account", "one-other-account", "two-accounts", "one-region"],
)
def test_an_exemption_that_misses_member_roles_somewhere_still_blinds_and_guards_nothing(exempt: list[str]) -> None:
    verdict = judge_content(_deny_see({"ArnNotLike": {"aws:PrincipalArn": exempt}}), SAMPLE_OWN)
    assert "events:PutEvents" in verdict.blinds
    assert not verdict.guards


def test_member_roles_exempted_in_every_account_and_region_leave_iamwarden_out() -> None:
    exempt = [
        *SAMPLE_OWN.home_roles.values(),
        *(f"arn:aws:iam::*:role/{name}" for name in MEMBER_NAMES),
        "arn:aws:iam::*:role/iamwarden-member-forwarder-*",
    ]
    assert judge_content(_deny_see({"ArnNotLike": {"aws:PrincipalArn": exempt}}), SAMPLE_OWN).blinds == ()


def test_a_deny_of_assuming_a_member_role_in_one_account_blinds() -> None:
    one = _doc({"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::444455556666:role/iamwarden-*"})
    assert judge_content(one, SAMPLE_OWN).blinds == ("sts:AssumeRole",)


CT_REGION_DENY = {
    "Sid": "GRREGIONDENY",
    "Effect": "Deny",
    "NotAction": ["iam:*", "kms:*", "organizations:*", "sts:*", "support:*"],
    "Resource": "*",
    "Condition": {
        "StringNotEquals": {"aws:RequestedRegion": ["us-east-1", "eu-west-1"]},
        "ArnNotLike": {
            "aws:PrincipalARN": ["arn:aws:iam::*:role/AWSControlTowerExecution", "arn:aws:iam::*:role/iamwarden-*"]
        },
    },
}


def test_a_deny_that_merely_exempts_iamwarden_guards_nothing_of_it() -> None:
    verdict = judge_content(_doc(CT_REGION_DENY), SAMPLE_OWN)
    assert (verdict.blinds, verdict.guards) == ((), False)
    assert judge_content(GUARD_DOC, SAMPLE_OWN).guards
    everything = copy.deepcopy(GUARD_DOC)
    everything["Statement"][0]["Resource"] = ["arn:aws:iam::*:role/*"]  # every role: no guard of IAM Warden's own
    assert not judge_content(everything, SAMPLE_OWN).guards


def test_detaching_or_deleting_an_exempting_region_deny_is_compliant() -> None:
    kept = InMemory([_kept(GUARD_KEY, _doc(CT_REGION_DENY))])
    assert _judge(_delete(), recorded=kept).verdict is Verdict.COMPLIANT
    detach = _detach(GUARDING)
    judged = _judge(detach, recorded=kept)
    assert (judged.verdict, judged.findings) == (Verdict.COMPLIANT, ())


@pytest.mark.parametrize(
    ("statement", "left_out"),
    [
        (  # everything, but not the enforcer
            {
                "Effect": "Allow",
                "Action": "*",
                "Resource": "*",
                "Condition": {"ArnNotLike": {"aws:PrincipalArn": SAMPLE_OWN.home_roles["enforcer"]}},
            },
            "cloudtrail:DescribeTrails",
        ),
        (  # everything, to the enforcer only
            {
                "Effect": "Allow",
                "Action": "*",
                "Resource": "*",
                "Condition": {"ArnLike": {"aws:PrincipalArn": SAMPLE_OWN.home_roles["enforcer"]}},
            },
            "events:PutEvents",
        ),
        (  # everything but IAM Warden's roles as resources
            {"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:iam::*:role/iamwarden-*"},
            "sts:AssumeRole",
        ),
        (  # everything, only from one region
            {
                "Effect": "Allow",
                "Action": "*",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}},
            },
            "sns:Publish",
        ),
    ],
    ids=["not-the-enforcer", "only-the-enforcer", "not-resource", "conditional"],
)
def test_an_allow_that_may_not_give_every_role_what_it_needs_leaves_it_missing(
    statement: dict[str, Any], left_out: str
) -> None:
    verdict = judge_allows([_doc(statement)], SAMPLE_OWN)
    assert left_out in verdict.missing


def test_an_allow_on_iamwardens_own_roles_does_not_let_it_read_the_roles_it_judges() -> None:
    verdict = judge_allows(
        [
            _doc(
                {"Effect": "Allow", "NotAction": ["iam:*", "sts:*", "kms:*"], "Resource": "*"},
                {
                    "Effect": "Allow",
                    "Action": ["iam:Get*", "iam:List*", "sts:AssumeRole"],
                    "Resource": "arn:aws:iam::*:role/iamwarden-*",
                },
                {"Effect": "Allow", "Action": "kms:*", "Resource": SAMPLE_OWN.alert_key},
            )
        ],
        SAMPLE_OWN,
    )
    assert {"iam:GetRole", "iam:ListAttachedRolePolicies"} <= set(verdict.missing)
    assert "sts:AssumeRole" not in verdict.missing  # its only target is IAM Warden's own member roles
    assert "kms:GenerateDataKey" not in verdict.missing  # the alert key is its only target
    assert "kms:PutKeyPolicy" in verdict.missing_fixes  # remediates others' keys


def test_the_roles_an_allow_leaves_out_are_named() -> None:
    statement = {
        "Effect": "Allow",
        "Action": "*",
        "Resource": "*",
        "Condition": {"ArnNotLike": {"aws:PrincipalArn": SAMPLE_OWN.home_roles["enforcer"]}},
    }
    verdict = judge_allows([_doc(statement)], SAMPLE_OWN)
    assert "cloudtrail:DescribeTrails (not for enforcer)" in verdict.partial


@pytest.mark.parametrize(
    "condition",
    [
        {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
        {"BoolIfExists": {"aws:ViaAWSService": "false"}},
        {"Bool": {"aws:PrincipalIsAWSService": ["true", "false"]}},
        {"Null": {"aws:CalledVia": "true"}},
        {"StringNotEqualsIfExists": {"aws:SourceVpc": "vpc-0a1b2c3d"}},
    ],
)
def test_a_condition_that_always_holds_for_iamwarden_does_not_lower_the_severity(condition: dict[str, Any]) -> None:
    verdict = judge_content(_deny_see(condition), SAMPLE_OWN)
    assert verdict.blinds
    assert verdict.only_when == ()


@pytest.mark.parametrize(
    "condition",
    [
        {"BoolIfExists": {"aws:SecureTransport": "false"}},
        {"Bool": {"aws:ViaAWSService": "true"}},
        {"StringEquals": {"aws:SourceVpce": "vpce-0a1b2c3d"}},
    ],
)
def test_a_condition_that_never_holds_for_iamwarden_blinds_nothing(condition: dict[str, Any]) -> None:
    assert judge_content(_deny_see(condition), SAMPLE_OWN).blinds == ()


def test_the_tls_only_resource_control_policy_is_compliant() -> None:
    tls = _doc(
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": ["s3:*", "sqs:*", "kms:*", "sts:*", "secretsmanager:*"],
            "Resource": "*",
            "Condition": {"BoolIfExists": {"aws:SecureTransport": "false"}},
        }
    )
    assert judge_content(tls, SAMPLE_OWN, kind=RESOURCE_CONTROL_POLICY) == judge_content(_doc(), SAMPLE_OWN)


@pytest.mark.parametrize(
    ("action", "resource"),
    [
        ("secretsmanager:GetSecretValue", "*"),
        ("kms:GenerateDataKey*", SAMPLE_OWN.alert_key),
        ("kms:Decrypt", "*"),
        ("dynamodb:GetItem", "*"),
        ("ssm:GetParameter", "*"),
    ],
)
def test_a_deny_of_what_the_alert_path_reads_blinds(action: str, resource: str | None) -> None:
    verdict = judge_content(_doc({"Effect": "Deny", "Action": action, "Resource": resource}), SAMPLE_OWN)
    assert verdict.blinds


def test_a_total_blinding_beside_a_conditional_remediation_allow_stays_critical() -> None:
    left = _doc(
        {"Effect": "Allow", "NotAction": ["cloudtrail:DescribeTrails", "iam:DetachRolePolicy"], "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": "iam:DetachRolePolicy",
            "Resource": "*",
            "Condition": {"StringEquals": {"aws:RequestedRegion": "eu-west-1"}},
        },
    )
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_response("list_policies_for_target", _listed("p-l3ft0000"), LEVEL)
        stubber.add_response("describe_policy", _described("p-l3ft0000", left), {"PolicyId": "p-l3ft0000"})
        [finding] = _judge_live(_detach("p-FullAWSAccess"), _Live(organizations)).findings
    assert finding.severity is Severity.CRITICAL
    assert "cloudtrail:DescribeTrails" in finding.reason


# F5: an UpdatePolicy of an allow-list is judged against what IAM Warden kept and where the policy is attached.
ALLOW_LIST = "p-a11owl15t"
ALLOW_KEY = policy_key("aws", "111122223333", ALLOW_LIST)
ROOT = "r-a1b2"
ROOT_LEVEL = {"TargetId": ROOT, "Filter": "SERVICE_CONTROL_POLICY"}
COMPUTE = _doc({"Effect": "Allow", "Action": ["ec2:*", "s3:*"], "Resource": "*"})


def _targeted(*targets: str) -> dict[str, Any]:
    return {
        "Targets": [
            {
                "TargetId": t,
                "Arn": f"arn:aws:organizations::111122223333:root/o-a1b2c3d4e5/{t}",
                "Name": "Root",
                "Type": "ROOT",
            }
            for t in targets
        ]
    }


def _kept_allow_list(document: dict[str, Any]) -> InMemory:
    return InMemory([_kept(ALLOW_KEY, document)])


def test_an_allow_list_cut_where_it_is_the_only_allow_is_critical() -> None:
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_response("list_targets_for_policy", _targeted(ROOT), {"PolicyId": ALLOW_LIST})
        stubber.add_response("list_policies_for_target", _listed(ALLOW_LIST), ROOT_LEVEL)
        judged = _judge_live(_update(COMPUTE, ALLOW_LIST), _Live(organizations), _kept_allow_list(IAMWARDEN_SERVICES))
        stubber.assert_no_pending_responses()  # the policy's new content is the event's: not read again
    [finding] = judged.findings
    assert (finding.severity, finding.plan, finding.needs_context) == (Severity.CRITICAL, (), ())
    assert "events:PutEvents" in finding.reason
    assert ROOT in finding.reason
    assert f"aws organizations update-policy --policy-id {ALLOW_LIST}" in finding.reason


def test_an_allow_list_cut_beside_full_aws_access_is_compliant() -> None:
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_response("list_targets_for_policy", _targeted(ROOT), {"PolicyId": ALLOW_LIST})
        stubber.add_response("list_policies_for_target", _listed(ALLOW_LIST, "p-FullAWSAccess"), ROOT_LEVEL)
        judged = _judge_live(_update(COMPUTE, ALLOW_LIST), _Live(organizations), _kept_allow_list(IAMWARDEN_SERVICES))
    assert (judged.verdict, judged.findings) == (Verdict.COMPLIANT, ())


def test_an_allow_list_update_that_takes_nothing_iamwarden_needs_away_is_compliant_without_reads() -> None:
    wider = _doc({"Effect": "Allow", "Action": ["ec2:*", "s3:*", "rds:*"], "Resource": "*"})
    organizations = _organizations()
    with Stubber(organizations):  # any call would fail: nothing is stubbed
        judged = _judge_live(_update(wider, ALLOW_LIST), _Live(organizations), _kept_allow_list(COMPUTE))
    assert (judged.verdict, judged.findings) == (Verdict.COMPLIANT, ())


def test_an_allow_list_cut_where_its_targets_cannot_be_read_is_medium_with_why() -> None:
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_client_error("list_targets_for_policy", "AccessDeniedException", "no", http_status_code=400)
        judged = _judge_live(_update(COMPUTE, ALLOW_LIST), _Live(organizations), _kept_allow_list(IAMWARDEN_SERVICES))
    [finding] = judged.findings
    assert finding.severity is Severity.MEDIUM
    [unknown] = finding.needs_context
    assert "ListTargetsForPolicy failed" in unknown


def test_an_allow_list_cut_where_a_level_cannot_be_read_is_medium_with_why() -> None:
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_response("list_targets_for_policy", _targeted(ROOT), {"PolicyId": ALLOW_LIST})
        stubber.add_client_error("list_policies_for_target", "AccessDeniedException", "no", http_status_code=400)
        judged = _judge_live(_update(COMPUTE, ALLOW_LIST), _Live(organizations), _kept_allow_list(IAMWARDEN_SERVICES))
    [finding] = judged.findings
    assert finding.severity is Severity.MEDIUM
    [unknown] = finding.needs_context
    assert f"what else is attached to target {ROOT}" in unknown
    assert "ListPoliciesForTarget failed" in unknown


def test_an_allow_list_cut_where_the_cap_leaves_its_only_allow_level_unread_is_high_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Review F1/F2 (probe p1): decoy targets listed first, the level where it is the only Allow last and past the
    cap. Never medium: the new content is known to leave IAM Warden out. Past the cap no call is made (any call not
    stubbed fails the test)."""
    monkeypatch.setattr(service_control_policies, "MAX_READS", 3)
    decoys = ("ou-a1b2-00000001", "ou-a1b2-00000002")
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_response("list_targets_for_policy", _targeted(*decoys, ROOT), {"PolicyId": ALLOW_LIST})
        for decoy in decoys:
            stubber.add_response(
                "list_policies_for_target",
                _listed(ALLOW_LIST, "p-FullAWSAccess"),
                {"TargetId": decoy, "Filter": "SERVICE_CONTROL_POLICY"},
            )
        judged = _judge_live(_update(COMPUTE, ALLOW_LIST), _Live(organizations), _kept_allow_list(IAMWARDEN_SERVICES))
        stubber.assert_no_pending_responses()
    [finding] = judged.findings
    assert (finding.severity, finding.plan) == (Severity.HIGH, ())
    assert "events:PutEvents" in finding.reason
    [unknown] = finding.needs_context
    assert f"what else is attached to target {ROOT}" in unknown
    assert f"ListPoliciesForTarget of {ROOT} not read" in unknown


def test_an_allow_list_cut_whose_targets_run_past_the_cap_is_high_and_asks_no_further_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Review F2: the cap is counted before a page is requested, so the second page is never asked for."""
    monkeypatch.setattr(service_control_policies, "MAX_READS", 1)
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_response(
            "list_targets_for_policy", {**_targeted("ou-a1b2-00000001"), "NextToken": "more"}, {"PolicyId": ALLOW_LIST}
        )
        judged = _judge_live(_update(COMPUTE, ALLOW_LIST), _Live(organizations), _kept_allow_list(IAMWARDEN_SERVICES))
        stubber.assert_no_pending_responses()
    [finding] = judged.findings
    assert finding.severity is Severity.HIGH
    assert f"ListTargetsForPolicy of {ALLOW_LIST} not read" in finding.needs_context[0]


def test_an_allow_list_cut_is_critical_where_read_even_when_the_cap_leaves_other_targets_unread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(service_control_policies, "MAX_READS", 2)
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_response("list_targets_for_policy", _targeted(ROOT, "ou-a1b2-00000001"), {"PolicyId": ALLOW_LIST})
        stubber.add_response("list_policies_for_target", _listed(ALLOW_LIST), ROOT_LEVEL)
        judged = _judge_live(_update(COMPUTE, ALLOW_LIST), _Live(organizations), _kept_allow_list(IAMWARDEN_SERVICES))
        stubber.assert_no_pending_responses()
    [finding] = judged.findings
    assert finding.severity is Severity.CRITICAL
    assert "what else is attached to target ou-a1b2-00000001" in finding.needs_context[0]


def test_an_allow_list_never_seen_and_attached_nowhere_is_compliant() -> None:
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_response("list_targets_for_policy", _targeted(), {"PolicyId": ALLOW_LIST})
        judged = _judge_live(_update(COMPUTE, ALLOW_LIST), _Live(organizations))
    assert (judged.verdict, judged.findings) == (Verdict.COMPLIANT, ())


def test_targets_of_an_updated_allow_list_are_read_across_pages() -> None:
    organizations = _organizations()
    first = {**_targeted(), "NextToken": "page-2"}
    with Stubber(organizations) as stubber:
        stubber.add_response("list_targets_for_policy", first, {"PolicyId": ALLOW_LIST})
        stubber.add_response(
            "list_targets_for_policy", _targeted(ROOT), {"PolicyId": ALLOW_LIST, "NextToken": "page-2"}
        )
        stubber.add_response("list_policies_for_target", {**_listed(), "NextToken": "more"}, ROOT_LEVEL)
        stubber.add_response("list_policies_for_target", _listed(ALLOW_LIST), {**ROOT_LEVEL, "NextToken": "more"})
        judged = _judge_live(_update(COMPUTE, ALLOW_LIST), _Live(organizations), _kept_allow_list(IAMWARDEN_SERVICES))
        stubber.assert_no_pending_responses()
    [finding] = judged.findings
    assert finding.severity is Severity.CRITICAL


def test_an_allow_list_update_offline_is_medium_with_what_is_unknown() -> None:
    [finding] = _judge(_update(COMPUTE, ALLOW_LIST), recorded=_kept_allow_list(IAMWARDEN_SERVICES)).findings
    assert finding.severity is Severity.MEDIUM
    [unknown] = finding.needs_context
    assert "IAM Warden is offline" in unknown


def test_full_aws_access_detached_where_the_allow_left_leaves_the_enforcer_out_is_critical_and_says_so() -> None:
    # Review probe R2: FullAWSAccess detached, the OU left with "Allow * *" for everyone but the enforcer.
    all_but_enforcer = _doc(
        {
            "Effect": "Allow",
            "Action": "*",
            "Resource": "*",
            "Condition": {"ArnNotLike": {"aws:PrincipalArn": SAMPLE_OWN.home_roles["enforcer"]}},
        }
    )
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_response("list_policies_for_target", _listed("p-n0tenf00"), LEVEL)
        stubber.add_response("describe_policy", _described("p-n0tenf00", all_but_enforcer), {"PolicyId": "p-n0tenf00"})
        [finding] = _judge_live(_detach("p-FullAWSAccess"), _Live(organizations)).findings
    assert finding.severity is Severity.CRITICAL
    assert "cloudtrail:DescribeTrails (not for enforcer)" in finding.reason


# F12: no SCP bounds the management account: a detach (or attach) there changes nothing.
MANAGEMENT = "111122223333"


def _organization(master: str) -> dict[str, Any]:
    return {
        "Organization": {
            "Id": "o-a1b2c3d4e5",
            "Arn": f"arn:aws:organizations::{master}:organization/o-a1b2c3d4e5",
            "MasterAccountArn": f"arn:aws:organizations::{master}:account/o-a1b2c3d4e5/{master}",
            "MasterAccountId": master,
            "MasterAccountEmail": "root@example.com",
            "AvailablePolicyTypes": [{"Type": "SERVICE_CONTROL_POLICY", "Status": "ENABLED"}],
        }
    }


def test_a_guard_detached_from_the_management_account_itself_is_compliant() -> None:
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_response("describe_organization", _organization(MANAGEMENT), {})
        judged = _judge_live(
            _detach(GUARDING, MANAGEMENT), _Live(organizations), InMemory([_kept(GUARD_KEY, _guarding())])
        )
        stubber.assert_no_pending_responses()
    assert (judged.verdict, judged.findings) == (Verdict.COMPLIANT, ())


@pytest.mark.parametrize("answer", ["another-management-account", "refused"])
def test_a_guard_detached_from_the_events_account_that_is_not_known_as_the_management_one_is_critical(
    answer: str,
) -> None:
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        if answer == "refused":
            stubber.add_client_error("describe_organization", "AccessDeniedException", "no", http_status_code=400)
        else:
            stubber.add_response("describe_organization", _organization("999988887777"), {})
        stubber.add_response("describe_policy", _described(GUARDING, _guarding()), {"PolicyId": GUARDING})
        judged = _judge_live(
            _detach(GUARDING, MANAGEMENT), _Live(organizations), InMemory([_kept(GUARD_KEY, _guarding())])
        )
        stubber.assert_no_pending_responses()
    [finding] = judged.findings
    assert (finding.severity, finding.needs_context) == (Severity.CRITICAL, ())  # read live, as kept


def test_the_management_account_is_read_only_when_the_target_is_the_events_own_account() -> None:
    organizations = _organizations()
    with Stubber(organizations) as stubber:  # DescribeOrganization is not stubbed: calling it fails the test
        stubber.add_response("describe_policy", _described(GUARDING, _guarding()), {"PolicyId": GUARDING})
        [finding] = _judge_live(
            _detach(GUARDING, "444455556666"), _Live(organizations), InMemory([_kept(GUARD_KEY, _guarding())])
        ).findings
        stubber.assert_no_pending_responses()
    assert finding.severity is Severity.CRITICAL


# F6: MoveAccount, DisablePolicyType and Organizations delegation (review-scp F6).
DESTINATION = {"TargetId": "ou-a1b2-c3d4e5f6", "Filter": "SERVICE_CONTROL_POLICY"}
MOVE_BACK = (
    "aws organizations move-account --account-id 444455556666 --source-parent-id ou-a1b2-c3d4e5f6 "
    "--destination-parent-id ou-a1b2-11112222"
)


ROOT = "r-a1b2"
ACCOUNT_LEVEL = {"TargetId": "444455556666", "Filter": "SERVICE_CONTROL_POLICY"}
ROOT_LEVEL = {"TargetId": ROOT, "Filter": "SERVICE_CONTROL_POLICY"}


def _parent(parent: str, kind: str = "ROOT") -> dict[str, Any]:
    return {"Parents": [{"Id": parent, "Type": kind}]}


FULL_IDS = ("p-FullAWSAccess",)
#: The resource control policy attached everywhere once RCPs are enabled (it cannot be detached), known by id.
RCP_FULL_IDS = ("p-RCPFullAWSAccess",)


def _rcp_lists(stubber: Stubber, *levels: tuple[str, Sequence[str]]) -> None:
    """Each level's RCPs listed (``ListPoliciesForTarget --filter RESOURCE_CONTROL_POLICY``), after its SCPs."""
    for target, ids in levels:
        stubber.add_response(
            "list_policies_for_target", _listed(*ids), {"TargetId": target, "Filter": "RESOURCE_CONTROL_POLICY"}
        )


def _path(
    stubber: Stubber,
    destination: Sequence[str] = FULL_IDS,
    account: Sequence[str] = FULL_IDS,
    root: Sequence[str] = FULL_IDS,
    described: Sequence[tuple[str, dict[str, Any]]] = (),
    *,
    rcps: Sequence[Sequence[str]] = (RCP_FULL_IDS, RCP_FULL_IDS, RCP_FULL_IDS),
    rcps_described: Sequence[tuple[str, dict[str, Any]]] = (),
) -> None:
    """A move's path in the order the enforcer reads it: ListParents up to the root (the destination's parent),
    every level's SCPs listed (the destination, the account, the root), then their RCPs, then each SCP described,
    then each RCP."""
    stubber.add_response("list_parents", _parent(ROOT), {"ChildId": DESTINATION["TargetId"]})
    stubber.add_response("list_policies_for_target", _listed(*destination), DESTINATION)
    stubber.add_response("list_policies_for_target", _listed(*account), ACCOUNT_LEVEL)
    stubber.add_response("list_policies_for_target", _listed(*root), ROOT_LEVEL)
    _rcp_lists(stubber, *zip((DESTINATION["TargetId"], ACCOUNT_LEVEL["TargetId"], ROOT), rcps, strict=True))
    for policy_id, document in (*described, *rcps_described):
        stubber.add_response("describe_policy", _described(policy_id, document), {"PolicyId": policy_id})


def _moved(account: str = "444455556666") -> dict[str, Any]:
    event = copy.deepcopy(load_event("organizations-account-moved.json"))
    event["detail"]["requestParameters"]["accountId"] = account
    return event


def test_an_account_moved_under_a_policy_that_blinds_iamwarden_is_critical_with_the_move_back() -> None:
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        _path(stubber, destination=(*FULL_IDS, BLINDING), described=[(BLINDING, _doc(EVERYTHING))])
        judged = _judge_live(_moved(), _Live(organizations))
        stubber.assert_no_pending_responses()
    [finding] = judged.findings
    assert (finding.rule_id, finding.severity, finding.plan) == ("scp-blinds-iamwarden", Severity.CRITICAL, ())
    assert MOVE_BACK in finding.reason
    assert f"read-live ({BLINDING}) attached to ou-a1b2-c3d4e5f6 denies IAM Warden's roles" in finding.reason
    assert finding.resource_arn == "arn:aws:organizations::111122223333:account/444455556666"


def test_an_account_moved_under_a_region_deny_that_holds_only_sometimes_is_high() -> None:
    region_deny = {**EVERYTHING, "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}}}
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        _path(stubber, destination=(*FULL_IDS, BLINDING), described=[(BLINDING, _doc(region_deny))])
        [finding] = _judge_live(_moved(), _Live(organizations)).findings
        stubber.assert_no_pending_responses()
    assert finding.severity is Severity.HIGH
    assert MOVE_BACK in finding.reason


def test_an_account_moved_under_full_aws_access_alone_is_compliant() -> None:
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        _path(stubber)
        judged = _judge_live(_moved(), _Live(organizations))
        stubber.assert_no_pending_responses()
    assert (judged.verdict, judged.findings) == (Verdict.COMPLIANT, ())
    assert "service and resource control policies from the root down" in judged.reason  # review F4: both read


def test_an_account_moved_under_an_allow_list_without_iamwarden_is_critical() -> None:
    only_ec2 = _doc({"Effect": "Allow", "Action": "ec2:*", "Resource": "*"})
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        _path(stubber, destination=("p-0nlyec2x",), described=[("p-0nlyec2x", only_ec2)])
        [finding] = _judge_live(_moved(), _Live(organizations)).findings
        stubber.assert_no_pending_responses()
    assert finding.severity is Severity.CRITICAL
    assert "allows IAM Warden's roles" in finding.reason
    assert "cloudtrail:DescribeTrails" in finding.reason
    assert MOVE_BACK in finding.reason


def test_an_account_moved_where_a_policy_cannot_be_read_is_medium_with_what_is_unknown() -> None:
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        _path(stubber, destination=(*FULL_IDS, BLINDING))
        stubber.add_client_error("describe_policy", "AccessDeniedException", "no", http_status_code=400)
        [finding] = _judge_live(_moved(), _Live(organizations)).findings
        stubber.assert_no_pending_responses()
    assert (finding.severity, finding.plan) == (Severity.MEDIUM, ())
    [unknown] = finding.needs_context
    assert f"{BLINDING}: the enforcer's DescribePolicy failed" in unknown
    assert "list-policies-for-target --target-id ou-a1b2-c3d4e5f6" in unknown  # the level not read
    assert MOVE_BACK in finding.reason


@pytest.mark.parametrize("code", ["AccessDeniedException", "AWSOrganizationsNotInUseException"])
def test_an_account_moved_where_the_destination_cannot_be_listed_is_medium(code: str) -> None:
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_response("list_parents", _parent(ROOT), {"ChildId": DESTINATION["TargetId"]})
        stubber.add_client_error("list_policies_for_target", code, "no", http_status_code=400)
        [finding] = _judge_live(_moved(), _Live(organizations)).findings
        stubber.assert_no_pending_responses()
    assert finding.severity is Severity.MEDIUM
    [unknown] = finding.needs_context
    assert "ListPoliciesForTarget failed" in unknown
    assert "list-policies-for-target --target-id ou-a1b2-c3d4e5f6" in unknown


def test_an_account_moved_offline_or_unreachable_is_medium() -> None:
    [offline] = _judge(load_event("organizations-account-moved.json")).findings
    assert offline.severity is Severity.MEDIUM
    assert "IAM Warden is offline" in offline.needs_context[0]
    unreachable = AwsAccessError("cannot assume arn:aws:iam::111122223333:role/iamwarden-remediator")
    [finding] = _judge_live(_moved(), unreachable).findings
    assert "could not reach Organizations" in finding.needs_context[0]


def test_a_throttled_read_of_the_destination_is_raised_to_be_retried() -> None:
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_response("list_parents", _parent(ROOT), {"ChildId": DESTINATION["TargetId"]})
        stubber.add_client_error("list_policies_for_target", "TooManyRequestsException", "slow", http_status_code=400)
        with pytest.raises(TransientAwsError):
            _judge_live(_moved(), _Live(organizations))


def test_the_management_account_moved_is_compliant() -> None:
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_response("describe_organization", _organization(MANAGEMENT), {})
        judged = _judge_live(_moved(MANAGEMENT), _Live(organizations))
        stubber.assert_no_pending_responses()
    assert (judged.verdict, judged.findings) == (Verdict.COMPLIANT, ())


def test_a_move_without_a_destination_is_invalid() -> None:
    event = _moved()
    del event["detail"]["requestParameters"]["destinationParentId"]
    assert _judge(event).verdict is Verdict.INVALID


@pytest.mark.parametrize("kind", ["SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"])
def test_a_policy_type_disabled_is_medium_with_enable_and_what_is_unknown(kind: str) -> None:
    event = copy.deepcopy(load_event("organizations-scp-type-disabled.json"))
    event["detail"]["requestParameters"]["policyType"] = kind
    [finding] = _judge(event).findings
    assert (finding.severity, finding.plan) == (Severity.MEDIUM, ())
    assert f"aws organizations enable-policy-type --root-id r-a1b2 --policy-type {kind}" in finding.reason
    assert f"list-policies --filter {kind}" in finding.needs_context[0]
    assert finding.resource_arn == "arn:aws:organizations::111122223333:root/r-a1b2"


def _disabled(kind: str = "SERVICE_CONTROL_POLICY") -> dict[str, Any]:
    event = copy.deepcopy(load_event("organizations-scp-type-disabled.json"))
    event["detail"]["requestParameters"]["policyType"] = kind
    return event


@pytest.mark.parametrize("kind", ["SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"])
def test_a_policy_type_disabled_where_a_guard_of_iamwarden_exists_is_high(kind: str) -> None:
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_response("list_policies", _listed("p-FullAWSAccess", GUARDING), {"Filter": kind})
        stubber.add_response("describe_policy", _described(GUARDING, GUARD_DOC, kind), {"PolicyId": GUARDING})
        [finding] = _judge_live(_disabled(kind), _Live(organizations)).findings
        stubber.assert_no_pending_responses()
    assert (finding.severity, finding.plan) == (Severity.HIGH, ())
    assert f"read-live ({GUARDING}), which guards IAM Warden's roles" in finding.reason
    assert f"enable-policy-type --root-id r-a1b2 --policy-type {kind}" in finding.reason
    [where] = finding.needs_context
    assert "no longer lists targets" in where


def test_a_policy_type_disabled_where_iamwarden_kept_a_guard_is_high_without_reading_it() -> None:
    """Review F0/F5: the record as of the event says it guarded; a read minutes later (maybe after a rewrite) or
    the read cap cannot take that away, so it is not read at all (DescribePolicy is not stubbed)."""
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_response("list_policies", _listed(GUARDING), {"Filter": "SERVICE_CONTROL_POLICY"})
        [finding] = _judge_live(_disabled(), _Live(organizations), InMemory([_kept(GUARD_KEY, GUARD_DOC)])).findings
        stubber.assert_no_pending_responses()
    assert finding.severity is Severity.HIGH
    assert f"kept ({GUARDING}), which guards IAM Warden's roles" in finding.reason
    assert "judged by IAM Warden's record of it from 2026-11-20T09:00:00Z" in finding.needs_context[1]


def test_a_policy_type_disabled_past_the_read_cap_is_high_naming_what_was_not_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Review F5: no-op policies listed before a guard IAM Warden kept nothing of push it past the cap."""
    monkeypatch.setattr(service_control_policies, "MAX_READS", 2)
    organizations = _organizations()
    with Stubber(organizations) as stubber:  # ListPolicies, one DescribePolicy, then no call at all
        stubber.add_response("list_policies", _listed(BLINDING, GUARDING), {"Filter": "SERVICE_CONTROL_POLICY"})
        stubber.add_response("describe_policy", _described(BLINDING, HARMLESS), {"PolicyId": BLINDING})
        [finding] = _judge_live(_disabled(), _Live(organizations)).findings
        stubber.assert_no_pending_responses()
    assert finding.severity is Severity.HIGH
    assert "stopped reading at its cap" in finding.reason
    [unknown] = finding.needs_context
    assert f"{GUARDING}: " in unknown
    assert (
        "reads at most 2 answers from Organizations for one event and this one needed more (DescribePolicy" in unknown
    )


def test_a_policy_type_disabled_where_nothing_guarded_iamwarden_is_medium_without_unknowns() -> None:
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_response(
            "list_policies", _listed("p-FullAWSAccess", BLINDING), {"Filter": "SERVICE_CONTROL_POLICY"}
        )
        stubber.add_response("describe_policy", _described(BLINDING, _doc(EVERYTHING)), {"PolicyId": BLINDING})
        [finding] = _judge_live(_disabled(), _Live(organizations)).findings
    assert (finding.severity, finding.needs_context) == (Severity.MEDIUM, ())
    assert "none of the 2 service control policies guarded" in finding.reason


def test_a_policy_type_disabled_where_a_policy_cannot_be_read_is_medium_with_which() -> None:
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_response("list_policies", _listed(BLINDING), {"Filter": "SERVICE_CONTROL_POLICY"})
        stubber.add_client_error("describe_policy", "AccessDeniedException", "no", http_status_code=400)
        [finding] = _judge_live(_disabled(), _Live(organizations)).findings
    assert finding.severity is Severity.MEDIUM
    [unknown] = finding.needs_context
    assert f"{BLINDING}: " in unknown
    assert "DescribePolicy failed" in unknown


def test_another_policy_type_disabled_is_compliant() -> None:
    event = copy.deepcopy(load_event("organizations-scp-type-disabled.json"))
    event["detail"]["requestParameters"]["policyType"] = "TAG_POLICY"
    assert _judge(event).verdict is Verdict.COMPLIANT


def test_a_policy_type_disabled_without_a_root_is_invalid() -> None:
    event = copy.deepcopy(load_event("organizations-scp-type-disabled.json"))
    del event["detail"]["requestParameters"]["rootId"]
    assert _judge(event).verdict is Verdict.INVALID


def test_the_organizations_resource_policy_put_is_medium_with_its_deletion() -> None:
    [finding] = _judge(load_event("organizations-resource-policy-put.json")).findings
    assert (finding.severity, finding.plan) == (Severity.MEDIUM, ())
    assert "aws organizations delete-resource-policy" in finding.reason


def test_a_delegated_administrator_registered_is_medium_with_its_deregistration() -> None:
    [finding] = _judge(load_event("organizations-delegated-admin.json")).findings
    assert (finding.severity, finding.plan) == (Severity.MEDIUM, ())
    assert (
        "aws organizations deregister-delegated-administrator --account-id 444455556666 --service-principal "
        "member.org.stacksets.cloudformation.amazonaws.com" in finding.reason
    )


def test_a_delegated_administrator_without_a_service_is_invalid() -> None:
    event = copy.deepcopy(load_event("organizations-delegated-admin.json"))
    del event["detail"]["requestParameters"]["servicePrincipal"]
    assert _judge(event).verdict is Verdict.INVALID


# F7: kept content is keyed by policy id, not by the account the event was recorded in (review-scp F7).
DELEGATED = "444455556666"


def _in_account(event: dict[str, Any], account: str) -> dict[str, Any]:
    event["account"] = account
    detail = event["detail"]
    detail["recipientAccountId"] = account
    identity = detail["userIdentity"]
    identity["accountId"] = identity["sessionContext"]["sessionIssuer"]["accountId"] = account
    identity["arn"] = f"arn:aws:sts::{account}:assumed-role/developer/dev@example.com"
    identity["sessionContext"]["sessionIssuer"]["arn"] = f"arn:aws:iam::{account}:role/developer"
    return event


def _update_guard(account: str) -> dict[str, Any]:
    event = _in_account(copy.deepcopy(load_event("organizations-scp-deny-audit.json")), account)
    detail = event["detail"]
    detail["eventName"] = "UpdatePolicy"
    detail["requestParameters"] = {
        "policyId": GUARDING,
        "content": json.dumps(_doc({"Effect": "Deny", "Action": "ec2:*", "Resource": "*"})),
    }
    detail["responseElements"] = None
    return event


def test_the_content_key_leaves_out_the_events_account() -> None:
    assert content_key(policy_key("aws", MANAGEMENT, GUARDING)) == content_key(policy_key("aws", DELEGATED, GUARDING))
    assert content_key(policy_key("aws-us-gov", MANAGEMENT, GUARDING)) == (
        f"arn:aws-us-gov:organizations:::policy/{GUARDING}"
    )


def test_a_delegated_administrators_update_that_strips_a_guard_kept_by_the_management_account_is_critical() -> None:
    kept = Snapshot(SCP, content_key(GUARD_KEY), "2026-11-20T09:00:00Z", {"name": "guard", "content": _guarding()})
    for account in (MANAGEMENT, DELEGATED):
        judged = _judge(_update_guard(account), recorded=InMemory([kept]))
        [finding] = judged.findings
        assert finding.severity is Severity.CRITICAL, account
        assert "no longer guards" in finding.reason
        [written] = judged.observed
        assert written.resource_arn == content_key(GUARD_KEY)  # the same content, whoever wrote it


def test_content_kept_before_the_organisation_wide_key_is_still_read() -> None:
    judged = _judge(_update_guard(MANAGEMENT), recorded=InMemory([_kept(GUARD_KEY, _guarding())]))
    [finding] = judged.findings
    assert finding.severity is Severity.CRITICAL


def test_the_organisation_wide_content_wins_over_an_older_per_account_record() -> None:
    newer = Snapshot(
        SCP, content_key(GUARD_KEY), "2026-11-20T09:10:00Z", {"name": "guard", "content": _doc(EVERYTHING)}
    )
    recorded = InMemory([_kept(GUARD_KEY, _guarding()), newer])
    # What the management account's record said (a guard) was rewritten since: the update strips no guard.
    assert not [
        f for f in _judge(_update_guard(MANAGEMENT), recorded=recorded).findings if "no longer guards" in f.reason
    ]


# The whole path (issue 15, scplevels-s11): AWS evaluates SCPs at every level from the root down to the account.

FULL = (
    "p-FullAWSAccess",
    PolicyContent(
        {"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}, "FullAWSAccess", SERVICE_CONTROL_POLICY
    ),
)
#: An allow-list with everything but CloudTrail.
WITHOUT_TRAILS = _doc({"Effect": "Allow", "NotAction": "cloudtrail:*", "Resource": "*"})


def _scp(policy_id: str, document: dict[str, Any], name: str = "listed") -> tuple[str, PolicyContent]:
    return policy_id, PolicyContent(document, name, SERVICE_CONTROL_POLICY)


def _only_for(kinds: Sequence[str]) -> dict[str, Any]:
    """Everything, for the named kinds of IAM Warden's home roles only."""
    arns = [SAMPLE_OWN.home_roles[kind] for kind in kinds]
    return _doc(
        {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"ArnLike": {"aws:PrincipalArn": arns}}}
    )


def test_a_root_allow_list_without_an_action_blinds_every_account_whatever_lower_levels_allow() -> None:
    verdict = judge_path(
        [("r-a1b2", [_scp("p-roottrails", WITHOUT_TRAILS)]), ("ou-a1b2-c3d4e5f6", [FULL]), ("444455556666", [FULL])],
        SAMPLE_OWN,
    )
    [lack] = verdict.blinds
    assert lack.target == "r-a1b2"
    assert "cloudtrail:DescribeTrails" in lack.actions
    assert not lack.conditional
    assert dict(verdict.denied)["cloudtrail:DescribeTrails"] == tuple(SAMPLE_OWN.home_roles) + tuple(
        SAMPLE_OWN.member_roles
    )


def test_an_ou_allow_list_without_an_action_blinds_below_it() -> None:
    verdict = judge_path(
        [("r-a1b2", [FULL]), ("ou-a1b2-c3d4e5f6", [_scp("p-outrails", WITHOUT_TRAILS)]), ("444455556666", [FULL])],
        SAMPLE_OWN,
    )
    assert [lack.target for lack in verdict.blinds] == ["ou-a1b2-c3d4e5f6"]


def test_an_account_allowing_everything_does_not_make_up_for_a_parent_that_leaves_an_action_out() -> None:
    verdict = judge_path(
        [
            ("r-a1b2", [FULL]),
            ("ou-a1b2-c3d4e5f6", [_scp("p-outrails", WITHOUT_TRAILS)]),
            (
                "444455556666",
                [FULL, _scp("p-all", _doc({"Effect": "Allow", "Action": "cloudtrail:*", "Resource": "*"}))],
            ),
        ],
        SAMPLE_OWN,
    )
    assert [lack.target for lack in verdict.blinds] == ["ou-a1b2-c3d4e5f6"]
    # The same allow-lists with FullAWSAccess kept at the OU: nothing is missing anywhere.
    kept = judge_path(
        [
            ("r-a1b2", [FULL]),
            ("ou-a1b2-c3d4e5f6", [FULL, _scp("p-outrails", WITHOUT_TRAILS)]),
            ("444455556666", [FULL]),
        ],
        SAMPLE_OWN,
    )
    assert (kept.blinds, kept.hinders, kept.unknown, kept.denied) == ((), (), (), ())


def test_a_deny_at_the_root_blinds_below_it() -> None:
    verdict = judge_path(
        [("r-a1b2", [FULL, _scp(BLINDING, _doc(EVERYTHING), "deny-all")]), ("444455556666", [FULL])], SAMPLE_OWN
    )
    [lack] = verdict.blinds
    assert (lack.target, lack.conditional) == ("r-a1b2", False)
    assert lack.words == f"service control policy deny-all ({BLINDING}) attached to r-a1b2 denies"


def test_levels_that_each_leave_out_another_role_together_deny_both() -> None:
    """Per role: the root lets only the enforcer through, the OU only the heartbeat; each level blinds a role."""
    everyone_but = [kind for kind in SAMPLE_OWN.home_roles if kind != "heartbeat"]
    verdict = judge_path(
        [
            ("r-a1b2", [_scp("p-enforcer", _only_for(everyone_but))]),
            ("ou-a1b2-c3d4e5f6", [_scp("p-heartbeat", _only_for(["heartbeat"]))]),
        ],
        SAMPLE_OWN,
    )
    assert [lack.target for lack in verdict.blinds] == ["r-a1b2", "ou-a1b2-c3d4e5f6"]
    denied = dict(verdict.denied)["sts:AssumeRole"]
    assert set(denied) == set(SAMPLE_OWN.home_roles) | set(SAMPLE_OWN.member_roles)
    assert any("(not for heartbeat" in action for action in verdict.blinds[0].actions)


def test_levels_without_any_scp_bound_nothing() -> None:
    """SCPs not enabled at the root: Organizations lists none anywhere (it never lets the last one be detached)."""
    verdict = judge_path([("r-a1b2", []), ("ou-a1b2-c3d4e5f6", []), ("444455556666", [])], SAMPLE_OWN)
    assert verdict == ((), (), (), (), ())


def test_a_level_with_a_policy_unread_is_unknown_not_blind() -> None:
    unread = ("p-unread", PolicyContent(None, "p-unread", SERVICE_CONTROL_POLICY, "the read was refused"))
    verdict = judge_path([("r-a1b2", [_scp("p-roottrails", WITHOUT_TRAILS), unread])], SAMPLE_OWN)
    assert verdict.blinds == ()
    [unknown] = verdict.unknown
    assert "p-unread: the read was refused" in unknown


def test_an_account_moved_under_an_ou_whose_parent_leaves_iamwarden_out_is_critical() -> None:
    """The destination allows everything; the OU above it, under the root, is an allow-list without CloudTrail."""
    parent = "ou-a1b2-99998888"
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_response(
            "list_parents", _parent(parent, "ORGANIZATIONAL_UNIT"), {"ChildId": DESTINATION["TargetId"]}
        )
        stubber.add_response("list_parents", _parent(ROOT), {"ChildId": parent})
        stubber.add_response("list_policies_for_target", _listed("p-FullAWSAccess"), DESTINATION)
        stubber.add_response("list_policies_for_target", _listed("p-FullAWSAccess"), ACCOUNT_LEVEL)
        stubber.add_response("list_policies_for_target", _listed("p-FullAWSAccess"), ROOT_LEVEL)
        stubber.add_response(
            "list_policies_for_target", _listed("p-0utrails"), {"TargetId": parent, "Filter": "SERVICE_CONTROL_POLICY"}
        )
        _rcp_lists(
            stubber, *((level, RCP_FULL_IDS) for level in (DESTINATION["TargetId"], "444455556666", ROOT, parent))
        )
        stubber.add_response("describe_policy", _described("p-0utrails", WITHOUT_TRAILS), {"PolicyId": "p-0utrails"})
        judged = _judge_live(_moved(), _Live(organizations))
        stubber.assert_no_pending_responses()
    [finding] = judged.findings
    assert (finding.severity, finding.needs_context) == (Severity.CRITICAL, ())
    assert f"no service control policy attached to {parent} (read-live (p-0utrails)) allows" in finding.reason
    assert "cloudtrail:DescribeTrails" in finding.reason
    assert MOVE_BACK in finding.reason


def test_an_account_moved_under_a_root_that_denies_iamwarden_is_critical() -> None:
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        _path(stubber, root=(*FULL_IDS, BLINDING), described=[(BLINDING, _doc(EVERYTHING))])
        [finding] = _judge_live(_moved(), _Live(organizations)).findings
        stubber.assert_no_pending_responses()
    assert finding.severity is Severity.CRITICAL
    assert f"({BLINDING}) attached to {ROOT} denies" in finding.reason


def test_an_account_moved_with_its_own_allow_list_without_iamwarden_is_critical() -> None:
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        _path(stubber, account=("p-0utrails",), described=[("p-0utrails", WITHOUT_TRAILS)])
        [finding] = _judge_live(_moved(), _Live(organizations)).findings
        stubber.assert_no_pending_responses()
    assert finding.severity is Severity.CRITICAL
    assert "attached to 444455556666" in finding.reason


@pytest.mark.parametrize("code", ["AccessDeniedException", "ChildNotFoundException"])
def test_an_account_moved_where_the_levels_above_cannot_be_read_is_medium_with_list_parents(code: str) -> None:
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_client_error("list_parents", code, "no", http_status_code=400)
        stubber.add_response("list_policies_for_target", _listed("p-FullAWSAccess"), DESTINATION)
        stubber.add_response("list_policies_for_target", _listed("p-FullAWSAccess"), ACCOUNT_LEVEL)
        _rcp_lists(stubber, (DESTINATION["TargetId"], RCP_FULL_IDS), ("444455556666", RCP_FULL_IDS))
        [finding] = _judge_live(_moved(), _Live(organizations)).findings
        stubber.assert_no_pending_responses()
    assert (finding.severity, finding.plan) == (Severity.MEDIUM, ())
    [unknown] = finding.needs_context
    assert "ListParents failed" in unknown
    assert "list-parents --child-id ou-a1b2-c3d4e5f6" in unknown


def test_an_account_moved_stops_reading_past_the_cap_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the cap no call is made (the Stubber raises on any call not stubbed), and what was not read could blind:
    high, naming the level not read (review F2/F3)."""
    monkeypatch.setattr(service_control_policies, "MAX_READS", 3)
    organizations = _organizations()
    with Stubber(organizations) as stubber:  # three answers, then no call at all
        stubber.add_response("list_parents", _parent(ROOT), {"ChildId": DESTINATION["TargetId"]})
        stubber.add_response("list_policies_for_target", _listed("p-FullAWSAccess"), DESTINATION)
        stubber.add_response("list_policies_for_target", _listed("p-FullAWSAccess"), ACCOUNT_LEVEL)
        [finding] = _judge_live(_moved(), _Live(organizations)).findings
        stubber.assert_no_pending_responses()
    assert finding.severity is Severity.HIGH
    assert "stopped reading at its cap" in finding.reason
    [unknown] = finding.needs_context
    assert "reads at most 3 answers from Organizations for one event" in unknown
    assert f"ListPoliciesForTarget of {ROOT} not read" in unknown
    assert f"list-policies-for-target --target-id {ROOT}" in unknown  # the level not read, not the destination


# Review-scp F4: a move reads the resource control policies of its new path too.
NO_ASSUME = "p-n0assume"
#: An RCP that denies assuming any role in the accounts under it, IAM Warden's member role included.
DENY_ASSUME = _doc({"Effect": "Deny", "Principal": "*", "Action": "sts:AssumeRole", "Resource": "*"})
#: An RCP that denies CloudTrail to everyone: no RCP service, so it bounds nothing.
DENY_AUDIT_DOC = _doc({"Effect": "Deny", "Principal": "*", "Action": "cloudtrail:*", "Resource": "*"})


def test_an_account_moved_under_an_rcp_that_denies_assuming_its_member_role_is_critical() -> None:
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_response("list_parents", _parent(ROOT), {"ChildId": DESTINATION["TargetId"]})
        for level in (DESTINATION, ACCOUNT_LEVEL, ROOT_LEVEL):
            stubber.add_response("list_policies_for_target", _listed(*FULL_IDS), level)
        _rcp_lists(
            stubber,
            (DESTINATION["TargetId"], (*RCP_FULL_IDS, NO_ASSUME)),
            ("444455556666", RCP_FULL_IDS),
            (ROOT, RCP_FULL_IDS),
        )
        stubber.add_response(
            "describe_policy",
            _described(NO_ASSUME, DENY_ASSUME, "RESOURCE_CONTROL_POLICY"),
            {"PolicyId": NO_ASSUME},
        )
        judged = _judge_live(_moved(), _Live(organizations))
        stubber.assert_no_pending_responses()  # RCPFullAWSAccess known by id: never described
    [finding] = judged.findings
    assert (finding.severity, finding.plan, finding.needs_context) == (Severity.CRITICAL, (), ())
    assert (
        f"resource control policy read-live ({NO_ASSUME}) attached to ou-a1b2-c3d4e5f6 denies IAM Warden's roles "
        "sts:AssumeRole (on the account's resources)"
    ) in finding.reason
    assert MOVE_BACK in finding.reason


def test_an_account_moved_under_a_root_whose_rcp_denies_assuming_roles_is_critical() -> None:
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        _path(
            stubber,
            rcps=(RCP_FULL_IDS, RCP_FULL_IDS, (*RCP_FULL_IDS, NO_ASSUME)),
            rcps_described=[(NO_ASSUME, DENY_ASSUME)],
        )
        [finding] = _judge_live(_moved(), _Live(organizations)).findings
        stubber.assert_no_pending_responses()
    assert finding.severity is Severity.CRITICAL
    assert f"({NO_ASSUME}) attached to {ROOT} denies IAM Warden's roles sts:AssumeRole" in finding.reason


def test_an_account_moved_under_an_rcp_that_denies_only_services_iamwarden_does_not_call_is_compliant() -> None:
    """An RCP's Deny of cloudtrail:* bounds nothing (CloudTrail is no RCP service)."""
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        _path(
            stubber,
            rcps=((*RCP_FULL_IDS, NO_ASSUME), RCP_FULL_IDS, RCP_FULL_IDS),
            rcps_described=[(NO_ASSUME, DENY_AUDIT_DOC)],
        )
        judged = _judge_live(_moved(), _Live(organizations))
        stubber.assert_no_pending_responses()
    assert (judged.verdict, judged.findings) == (Verdict.COMPLIANT, ())


def test_an_account_moved_where_an_rcp_cannot_be_read_is_medium_naming_the_rcp_list() -> None:
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        _path(stubber, rcps=(RCP_FULL_IDS, (*RCP_FULL_IDS, NO_ASSUME), RCP_FULL_IDS))
        stubber.add_client_error("describe_policy", "AccessDeniedException", "no", http_status_code=400)
        [finding] = _judge_live(_moved(), _Live(organizations)).findings
        stubber.assert_no_pending_responses()
    assert (finding.severity, finding.plan) == (Severity.MEDIUM, ())
    [unknown] = finding.needs_context
    assert f"what resource control policies {NO_ASSUME}: the enforcer's DescribePolicy failed" in unknown
    assert "list-policies-for-target --target-id 444455556666 --filter RESOURCE_CONTROL_POLICY" in unknown


def test_an_account_moved_where_the_rcps_cannot_be_listed_is_medium() -> None:
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        stubber.add_response("list_parents", _parent(ROOT), {"ChildId": DESTINATION["TargetId"]})
        for level in (DESTINATION, ACCOUNT_LEVEL, ROOT_LEVEL):
            stubber.add_response("list_policies_for_target", _listed(*FULL_IDS), level)
        stubber.add_client_error("list_policies_for_target", "AccessDeniedException", "no", http_status_code=400)
        [finding] = _judge_live(_moved(), _Live(organizations)).findings
        stubber.assert_no_pending_responses()
    assert (finding.severity, finding.plan) == (Severity.MEDIUM, ())
    [unknown] = finding.needs_context
    assert "ListPoliciesForTarget failed" in unknown
    assert "list-policies-for-target --target-id ou-a1b2-c3d4e5f6 --filter RESOURCE_CONTROL_POLICY" in unknown


#: An RCP that denies only what IAM Warden remediates S3 and KMS with: it hinders, it does not blind.
HINDER_RCP = _doc(
    {
        "Effect": "Deny",
        "Principal": "*",
        "Action": ["s3:PutBucketPolicy", "s3:PutBucketPublicAccessBlock", "kms:PutKeyPolicy"],
        "Resource": "*",
    }
)


def test_an_account_moved_under_an_rcp_that_only_hinders_remediation_is_medium_as_its_attach_is() -> None:
    """Review-orgs F1: attaching it is medium, so moving an account under it is too (else: attach it to an empty
    OU, then move the account in, with no finding)."""
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        _path(
            stubber,
            rcps=((*RCP_FULL_IDS, NO_ASSUME), RCP_FULL_IDS, RCP_FULL_IDS),
            rcps_described=[(NO_ASSUME, HINDER_RCP)],
        )
        judged = _judge_live(_moved(), _Live(organizations))
        stubber.assert_no_pending_responses()
    [finding] = judged.findings
    assert (finding.severity, finding.plan, finding.needs_context) == (Severity.MEDIUM, (), ())
    assert (
        f"resource control policy read-live ({NO_ASSUME}) attached to ou-a1b2-c3d4e5f6 denies IAM Warden's roles "
        "s3:PutBucketPolicy"
    ) in finding.reason
    assert "cannot remediate" in finding.reason
    assert "nothing" not in finding.reason
    assert MOVE_BACK in finding.reason


def test_an_account_moved_under_an_scp_that_only_hinders_remediation_is_medium() -> None:
    hinder = _doc({"Effect": "Deny", "Action": ["iam:DetachRolePolicy", "iam:PutRolePolicy"], "Resource": "*"})
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        _path(stubber, destination=(*FULL_IDS, BLINDING), described=[(BLINDING, hinder)])
        [finding] = _judge_live(_moved(), _Live(organizations)).findings
        stubber.assert_no_pending_responses()
    assert (finding.severity, finding.plan) == (Severity.MEDIUM, ())
    assert f"({BLINDING}) attached to ou-a1b2-c3d4e5f6 denies IAM Warden's roles" in finding.reason
    assert "iam:DetachRolePolicy" in finding.reason
    assert "cannot remediate" in finding.reason


def test_an_account_moved_under_an_rcp_of_unknown_reach_at_the_root_names_the_root_and_the_rcp_filter() -> None:
    """Review-orgs F5: the data-perimeter RCP on the root without IAM Warden's organisation configured: the unknown
    is the root's RCPs, not the destination's SCPs."""
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        _path(
            stubber,
            rcps=(RCP_FULL_IDS, RCP_FULL_IDS, (*RCP_FULL_IDS, NO_ASSUME)),
            rcps_described=[(NO_ASSUME, _doc(PERIMETER))],
        )
        [finding] = _judge_live(_moved(), _Live(organizations)).findings
        stubber.assert_no_pending_responses()
    assert (finding.severity, finding.plan) == (Severity.MEDIUM, ())
    [unknown] = finding.needs_context
    assert unknown.startswith(
        f"what the resource control policies attached to {ROOT} say (aws organizations list-policies-for-target "
        f"--target-id {ROOT} --filter RESOURCE_CONTROL_POLICY)"
    )
    assert f"({NO_ASSUME}) attached to {ROOT} applies" in unknown
    assert f"(at {ROOT} or elsewhere)" in finding.reason


def test_an_account_moved_under_an_unknown_and_a_hinder_says_both() -> None:
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        _path(
            stubber,
            rcps=((*RCP_FULL_IDS, BLINDING), RCP_FULL_IDS, (*RCP_FULL_IDS, NO_ASSUME)),
            rcps_described=[(BLINDING, HINDER_RCP), (NO_ASSUME, _doc(PERIMETER))],
        )
        [finding] = _judge_live(_moved(), _Live(organizations)).findings
        stubber.assert_no_pending_responses()
    assert finding.severity is Severity.MEDIUM
    assert "keeps IAM Warden from remediating there" in finding.reason
    assert "kms:PutKeyPolicy" in finding.reason
    assert f"--target-id {ROOT} --filter RESOURCE_CONTROL_POLICY" in finding.needs_context[0]


def test_a_whole_path_within_aws_quotas_is_read_within_the_cap() -> None:
    """Five nested OUs, five SCPs and five RCPs on every level (each policy its own): 89 answers, all read, none
    past the cap, so the move is judged, not left unknown (review-scp F4: the cap was sized for SCPs alone)."""
    ous = [f"ou-a1b2-{n:08d}" for n in range(1, 6)]  # the destination is the deepest
    destination = ous[-1]
    account = "444455556666"
    above = [*ous[:-1][::-1], ROOT]  # the destination's parents, nearest first
    allow_all = _doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
    event = _moved(account)
    event["detail"]["requestParameters"]["destinationParentId"] = destination
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        child = destination
        for parent in above:
            kind = "ROOT" if parent == ROOT else "ORGANIZATIONAL_UNIT"
            stubber.add_response("list_parents", _parent(parent, kind), {"ChildId": child})
            child = parent
        # the order the enforcer reads: the destination, the account, then the root and OUs from the root down
        order = [destination, account, ROOT, *ous[:-1]]
        scps = {target: [f"p-scp{i}x{n:04d}" for n in range(5)] for i, target in enumerate(order)}
        rcps = {target: [f"p-rcp{i}x{n:04d}" for n in range(5)] for i, target in enumerate(order)}
        for target in order:
            stubber.add_response(
                "list_policies_for_target",
                _listed(*scps[target]),
                {"TargetId": target, "Filter": "SERVICE_CONTROL_POLICY"},
            )
        _rcp_lists(stubber, *((target, rcps[target]) for target in order))
        for target in order:
            for policy_id in scps[target]:
                stubber.add_response("describe_policy", _described(policy_id, allow_all), {"PolicyId": policy_id})
        for target in order:
            for policy_id in rcps[target]:
                stubber.add_response(
                    "describe_policy",
                    _described(policy_id, DENY_AUDIT_DOC, "RESOURCE_CONTROL_POLICY"),
                    {"PolicyId": policy_id},
                )
        judged = _judge_live(event, _Live(organizations))
        stubber.assert_no_pending_responses()
    assert (judged.verdict, judged.findings) == (Verdict.COMPLIANT, ())
    assert service_control_policies.MAX_READS >= 5 + 2 * 7 + 2 * 35


def test_a_policy_attached_at_several_levels_is_described_once_per_event() -> None:
    """An allow-all SCP attached at the destination, the account and the root: one DescribePolicy (the stubs run
    out otherwise)."""
    organizations = _organizations()
    with Stubber(organizations) as stubber:
        allow_all = _doc({"Effect": "Allow", "Action": "*", "Resource": "*"})
        _path(stubber, (*FULL_IDS, BLINDING), (BLINDING,), (BLINDING,), described=[(BLINDING, allow_all)])
        judged = _judge_live(_moved(), _Live(organizations))
        stubber.assert_no_pending_responses()
    assert judged.verdict is Verdict.COMPLIANT


def test_an_allow_scoped_to_trails_does_not_allow_describe_trails_which_has_no_resource_type() -> None:
    """Review F7 (probe p8): DescribeTrails is requested on "*"; an Allow of cloudtrail:* on trails leaves it out."""
    scoped = _doc(
        {"Effect": "Allow", "NotAction": "cloudtrail:*", "Resource": "*"},
        {"Effect": "Allow", "Action": "cloudtrail:*", "Resource": "arn:aws:cloudtrail:*:*:trail/*"},
    )
    assert "cloudtrail:DescribeTrails" in judge_allows([scoped], SAMPLE_OWN).missing
    assert "cloudtrail:GetTrailStatus" not in judge_allows([scoped], SAMPLE_OWN).missing
    everywhere = _doc({"Effect": "Allow", "Action": "cloudtrail:*", "Resource": "*"})
    assert "cloudtrail:DescribeTrails" not in judge_allows([everywhere], SAMPLE_OWN).missing


def test_the_actions_without_a_resource_type_are_those_policy_sentry_gives() -> None:
    actions = pytest.importorskip("policy_sentry.querying.actions")
    without = set()
    for action in (*service_control_policies.SEES, *service_control_policies.REMEDIATES):
        service, name = action.split(":")
        rows = actions.get_action_data(service, name).get(service, [])
        if {row.get("resource_arn_format") for row in rows} <= {"*"}:
            without.add(action)
    assert without == service_control_policies._NO_RESOURCE_TYPE


@pytest.mark.parametrize("kind", [["SERVICE_CONTROL_POLICY"], {"type": "SERVICE_CONTROL_POLICY"}, 7])
def test_a_policy_type_that_is_no_string_is_no_control_policy_and_never_raises(kind: object) -> None:
    """Hypothesis found ``type: [...]`` raised TypeError (unhashable) out of the judgement of a CreatePolicy."""
    event = copy.deepcopy(load_event("organizations-scp-deny-audit.json"))
    event["detail"]["requestParameters"]["type"] = kind
    event["detail"]["responseElements"]["policy"]["policySummary"].pop("type", None)

    judgement = judge_event(event, Settings(own=SAMPLE_OWN))

    assert judgement.verdict is Verdict.COMPLIANT
    assert "is no service or resource control policy" in judgement.reason
