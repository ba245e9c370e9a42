"""The guardrails and the engine's ignore rules, judged on real sample events."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from iamwarden.domain.catalog import Mode, Severity
from iamwarden.domain.events import CloudTrailChange, parse_event
from iamwarden.domain.exceptions import SettingsError
from iamwarden.domain.findings import Finding, Judgement, StepAction, Verdict
from iamwarden.domain.recorded import OWN_ROLE, PastRemediation, Snapshot
from iamwarden.domain.settings import Settings, load_settings
from iamwarden.guardrails.engine import CLOUDFORMATION, PRIVILEGE_ESCALATION, _exemption, judge_event
from tests.conftest import SAMPLE_OWN, load_event


def event(name: str, **detail_changes: Any) -> dict[str, Any]:
    """A sample event with ``detail`` keys replaced (dotted paths, None deletes)."""
    result = copy.deepcopy(load_event(name))
    for dotted, value in detail_changes.items():
        *parents, leaf = dotted.split("__")
        node = result["detail"]
        for key in parents:
            node = node.setdefault(key, {})
        if value is None:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    return result


def judge(raw: dict[str, Any], **settings: Any) -> Judgement:
    """Judged in the sample deployment, whose own roles are known by exact ARN (``SAMPLE_OWN``)."""
    return judge_event(raw, load_settings(settings)._replace(own=SAMPLE_OWN))


def bucket_event(policy: dict[str, Any], bucket: str = "acme-test") -> dict[str, Any]:
    return event("bucket-policy-public-read.json", requestParameters={"bucketName": bucket, "bucketPolicy": policy})


# --- what must not be acted on -------------------------------------------------------------------


def test_own_role_is_recognised_by_session_issuer_not_session_name() -> None:
    own = judge(load_event("create-user-by-warden.json"))
    assert own.verdict is Verdict.IGNORED
    assert "own role arn:aws:iam::111122223333:role/iamwarden-enforcer-us-east-1" in own.reason
    spoofed = judge(load_event("create-user-spoofed-session-name.json"))
    assert spoofed.verdict is Verdict.VIOLATION


def test_own_roles_are_known_only_by_the_identity_the_template_gives() -> None:
    """Not by a name pattern, and not from SSM: without an own identity (offline), the enforcer's role is judged."""
    raw = load_event("create-user-by-warden.json")
    assert judge_event(raw, Settings()).verdict is Verdict.VIOLATION
    with pytest.raises(SettingsError, match="unknown setting 'own_roles'"):
        load_settings({"own_roles": ["dev-*"]})


@pytest.mark.parametrize(
    ("sample", "reason"),
    [
        ("create-user-access-denied.json", "failed call (AccessDenied)"),
        ("attach-admin-no-such-entity.json", "failed call (NoSuchEntityException)"),
        ("bucket-policy-malformed-error.json", "failed call (MalformedPolicy)"),
        ("create-user-service-linked-role.json", "service-linked role AWSServiceRoleForSSO"),
        ("bucket-policy-by-aws-service.json", "AWS service elasticloadbalancing.amazonaws.com"),
        ("delete-user-not-guarded.json", "not guarded"),
        ("get-bucket-policy-read-only.json", "not guarded"),
    ],
)
def test_changes_that_must_not_be_acted_on_are_ignored_with_the_reason(sample: str, reason: str) -> None:
    judgement = judge(load_event(sample))
    assert judgement.verdict is Verdict.IGNORED
    assert reason in judgement.reason
    assert judgement.findings == ()


def test_a_guarded_call_marked_read_only_is_ignored() -> None:
    judgement = judge(event("create-user-backdoor-cli.json", readOnly=True))
    assert judgement.verdict is Verdict.IGNORED
    assert "read-only" in judgement.reason


def test_failed_call_is_ignored_even_when_it_would_violate() -> None:
    raw = event("attach-admin-to-role.json", errorCode="AccessDenied", errorMessage="denied")
    assert judge(raw).verdict is Verdict.IGNORED


def test_unmanaged_accounts_are_ignored() -> None:
    raw = load_event("create-user-unmanaged-account.json")
    judgement = judge(raw, managed_accounts=["111122223333"])
    assert judgement.verdict is Verdict.IGNORED
    assert "777788889999 is not managed" in judgement.reason
    assert judge(raw, managed_accounts=["777788889999"]).verdict is Verdict.VIOLATION


def test_break_glass_changes_are_alerted_but_never_remediated() -> None:
    judgement = judge(
        load_event("create-user-break-glass.json"),
        break_glass_principals=["arn:aws:iam::*:role/BreakGlassAdmin"],
        rules={"iam-user-created": {"mode": "remediate"}},
    )
    assert judgement.verdict is Verdict.IGNORED
    assert "break-glass principal arn:aws:iam::111122223333:role/BreakGlassAdmin" in judgement.reason
    [finding] = judgement.findings
    assert finding.alert_only
    assert finding.plan == ()


def test_a_rule_switched_off_ignores_its_events() -> None:
    judgement = judge(load_event("create-user-backdoor-cli.json"), rules={"iam-user-created": {"mode": "off"}})
    assert judgement.verdict is Verdict.IGNORED
    assert "iam-user-created is off" in judgement.reason


def test_one_bucket_rule_off_leaves_the_other_judging() -> None:
    raw = load_event("bucket-policy-public-and-vendor.json")
    judgement = judge(raw, rules={"s3-bucket-policy-public": {"mode": "off"}})
    assert judgement.verdict is Verdict.VIOLATION
    assert [f.rule_id for f in judgement.findings] == ["s3-bucket-policy-cross-account"]


def test_allow_actors_and_allow_resources_exempt_per_rule() -> None:
    raw = load_event("attach-admin-to-role.json")
    by_actor = judge(
        raw, rules={"managed-policy-attached": {"allow_actors": ["arn:aws:iam::111122223333:role/developer"]}}
    )
    assert by_actor.verdict is Verdict.COMPLIANT
    assert "allow_actors" in by_actor.reason
    by_resource = judge(raw, rules={"managed-policy-attached": {"allow_resources": ["arn:aws:iam::*:role/app-*"]}})
    assert by_resource.verdict is Verdict.COMPLIANT
    assert "allow_resources" in by_resource.reason
    other_rule = judge(raw, rules={"iam-user-created": {"allow_resources": ["arn:aws:iam::*:role/app-*"]}})
    assert other_rule.verdict is Verdict.VIOLATION


# --- iam-user-created --------------------------------------------------------------------------


def test_create_user_finding_and_quarantine_plan() -> None:
    judgement = judge(load_event("create-user-backdoor-cli.json"), rules={"iam-user-created": {"mode": "remediate"}})
    [finding] = judgement.findings
    assert finding.rule_id == "iam-user-created"
    assert finding.severity is Severity.HIGH
    assert finding.mode is Mode.REMEDIATE
    assert finding.resource_arn == "arn:aws:iam::111122223333:user/backdoor-admin"
    assert finding.actor.arn == "arn:aws:iam::111122223333:user/alice"
    assert "backdoor-admin" in finding.reason
    [step] = finding.plan
    assert step.action is StepAction.QUARANTINE_USER
    assert step.parameters == {"user_name": "backdoor-admin", "quarantine_policy_name": "iamwarden-quarantine"}


def test_delete_setting_plans_a_delete() -> None:
    judgement = judge(load_event("create-user-by-root.json"), rules={"iam-user-created": {"remediation": "delete"}})
    [step] = judgement.findings[0].plan
    assert step.action is StepAction.DELETE_USER
    assert "cannot be undone" in step.summary


def test_user_arn_is_built_with_path_when_the_response_lacks_it() -> None:
    raw = event("create-user-service-account-path.json", responseElements=None)
    assert judge(raw).findings[0].resource_arn == "arn:aws:iam::111122223333:user/service-accounts/legacy-smtp"


def test_allow_names_and_allow_paths() -> None:
    raw = load_event("create-user-service-account-path.json")
    assert judge(raw, rules={"iam-user-created": {"allow_names": ["legacy-*"]}}).verdict is Verdict.COMPLIANT
    assert judge(raw, rules={"iam-user-created": {"allow_paths": ["/service-accounts/"]}}).verdict is Verdict.COMPLIANT
    assert judge(raw, rules={"iam-user-created": {"allow_paths": ["/other/"]}}).verdict is Verdict.VIOLATION


def test_create_user_without_user_name_is_invalid() -> None:
    judgement = judge(event("create-user-backdoor-cli.json", requestParameters={"path": "/"}))
    assert judgement.verdict is Verdict.INVALID
    assert "requestParameters.userName" in judgement.reason


# --- managed-policy-attached ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sample", "severity", "principal"),
    [
        ("attach-admin-to-role.json", Severity.CRITICAL, "arn:aws:iam::111122223333:role/app-backend"),
        ("attach-iamfullaccess-to-group.json", Severity.CRITICAL, "arn:aws:iam::111122223333:group/developers"),
        ("attach-readonly-to-user.json", Severity.HIGH, "arn:aws:iam::111122223333:user/auditor-bot"),
    ],
)
def test_managed_policy_severity_and_exact_detach_plan(sample: str, severity: Severity, principal: str) -> None:
    raw = load_event(sample)
    [finding] = judge(raw).findings
    assert finding.severity is severity
    assert finding.resource_arn == principal
    [step] = finding.plan
    assert step.action is StepAction.DETACH_MANAGED_POLICY
    assert step.parameters["policy_arn"] == raw["detail"]["requestParameters"]["policyArn"]
    assert step.parameters["principal_name"] == principal.rsplit("/", 1)[-1]


def test_other_partitions_are_recognised() -> None:
    raw = event(
        "attach-admin-to-role.json",
        awsRegion="us-gov-west-1",
        requestParameters={"roleName": "app", "policyArn": "arn:aws-us-gov:iam::aws:policy/AdministratorAccess"},
    )
    raw["region"] = "us-gov-west-1"
    [finding] = judge(raw).findings
    assert finding.resource_arn == "arn:aws-us-gov:iam::111122223333:role/app"
    assert finding.severity is Severity.CRITICAL


def test_allow_policies_by_name_or_path() -> None:
    raw = load_event("attach-readonly-to-user.json")
    # privilege-escalation judges the attachment on the user's whole power, which needs the policy's document:
    # offline without it, it cannot judge (the allowlist speaks for managed-policy-attached only).
    off = {"privilege-escalation": {"mode": "off"}}
    assert (
        judge(raw, rules={"managed-policy-attached": {"allow_policies": ["ReadOnlyAccess"]}, **off}).verdict
        is Verdict.COMPLIANT
    )
    assert (
        judge(raw, rules={"managed-policy-attached": {"allow_policies": ["ReadOnly*"]}, **off}).verdict
        is Verdict.COMPLIANT
    )
    unread = judge(raw, rules={"managed-policy-attached": {"allow_policies": ["ReadOnlyAccess"]}})
    assert (unread.verdict, unread.findings) == (Verdict.IGNORED, ())
    assert "cannot judge: the event attaches the AWS-managed policy" in unread.reason
    # Replacing the allowlist drops the defaults: the basic execution role is then a finding too.
    basic = load_event("attach-lambda-basic-execution.json")
    assert judge(basic, rules={"managed-policy-attached": {"allow_policies": []}}).verdict is Verdict.VIOLATION


def test_a_policy_arn_that_is_no_arn_is_invalid() -> None:
    raw = event("attach-admin-to-role.json", requestParameters={"roleName": "x", "policyArn": "AdministratorAccess"})
    assert judge(raw).verdict is Verdict.INVALID


# --- bucket policies ---------------------------------------------------------------------------


def test_only_the_offending_statements_are_named_and_planned_for_removal() -> None:
    judgement = judge(load_event("bucket-policy-unknown-account.json"))
    [finding] = judgement.findings
    assert finding.rule_id == "s3-bucket-policy-cross-account"
    assert [(o["index"], o["sid"]) for o in finding.offending] == [(1, "ShareWithVendor")]
    assert finding.offending[0]["grantees"] == ["999988887777"]
    [step] = finding.plan
    assert step.action is StepAction.REMOVE_BUCKET_POLICY_STATEMENTS
    assert [s["sid"] for s in step.parameters["statements"]] == ["ShareWithVendor"]
    assert "Account 999988887777" in finding.reason
    assert "read objects and list objects in bucket acme-exports" in finding.reason


def test_public_and_cross_account_statements_give_one_finding_each() -> None:
    judgement = judge(load_event("bucket-policy-public-and-vendor.json"))
    by_rule = {f.rule_id: f for f in judgement.findings}
    assert [o["index"] for o in by_rule["s3-bucket-policy-public"].offending] == [0]
    assert [o["index"] for o in by_rule["s3-bucket-policy-cross-account"].offending] == [1]
    assert by_rule["s3-bucket-policy-public"].severity is Severity.CRITICAL
    assert by_rule["s3-bucket-policy-public"].reason.startswith(
        "Anyone on the internet can read objects in bucket acme-media"
    )


@pytest.mark.parametrize(
    ("actions", "words"),
    [
        ("s3:GetObject", "read objects"),
        (["s3:GetObject", "s3:PutObject"], "read objects and write objects"),
        ("s3:*", "do anything"),
        ("s3:GetBucketAcl", "call s3:getbucketacl"),
    ],
)
def test_reason_says_what_the_public_can_do(actions: object, words: str) -> None:
    policy = {"Statement": {"Effect": "Allow", "Principal": "*", "Action": actions, "Resource": "*"}}
    [finding] = judge(bucket_event(policy)).findings
    assert f"Anyone on the internet can {words} in bucket acme-test" in finding.reason


def test_bucket_owner_comes_from_the_record_resources() -> None:
    # A policy granting the bucket's own account is not cross-account.
    policy = {"Statement": [{"Effect": "Allow", "Principal": {"AWS": "222233334444"}, "Action": "s3:GetObject"}]}
    raw = bucket_event(policy)
    raw["detail"]["resources"] = [
        {"type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::acme-test", "accountId": "222233334444"}
    ]
    # A bucket of another account than the event's is never acted on (tests/unit/test_organization.py).
    assert judge(raw).rejected
    raw["account"] = raw["detail"]["recipientAccountId"] = "222233334444"
    assert judge(raw).verdict is Verdict.COMPLIANT


@pytest.mark.parametrize(
    ("policy", "message"),
    [
        ("not json", "does not parse as JSON"),
        ({"Version": "2012-10-17"}, "has no Statement"),
        ({"Statement": [{"Effect": "Maybe", "Action": "s3:*", "Principal": "*"}]}, "Effect must be Allow or Deny"),
        ([], "must be a policy document"),
    ],
)
def test_bad_bucket_policies_are_invalid_with_a_clear_reason(policy: object, message: str) -> None:
    raw = event("bucket-policy-public-read.json", requestParameters={"bucketName": "b", "bucketPolicy": policy})
    judgement = judge(raw)
    assert judgement.verdict is Verdict.INVALID
    assert message in judgement.reason


def test_a_bucket_policy_given_as_a_url_encoded_string_is_judged_like_the_object() -> None:
    from urllib.parse import quote

    policy = load_event("bucket-policy-public-read.json")["detail"]["requestParameters"]["bucketPolicy"]
    import json

    as_string = event("bucket-policy-public-read.json")
    as_string["detail"]["requestParameters"]["bucketPolicy"] = quote(json.dumps(policy))
    assert judge(as_string).findings == judge(load_event("bucket-policy-public-read.json")).findings


def test_finding_ids_are_stable_per_event_and_rule() -> None:
    first = judge(load_event("bucket-policy-public-and-vendor.json")).findings
    again = judge(load_event("bucket-policy-public-and-vendor.json")).findings
    assert [f.finding_id for f in first] == [f.finding_id for f in again]
    assert len({f.finding_id for f in first}) == 2


def test_settings_defaults_are_the_default_argument() -> None:
    assert judge_event(load_event("attach-admin-to-role.json"), Settings()).verdict is Verdict.VIOLATION


# --- look-alikes of the tool, service-linked roles and break-glass principals ------------------


def _as_role(raw: dict[str, Any], role_arn: str) -> dict[str, Any]:
    raw = copy.deepcopy(raw)
    raw["detail"]["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"] = role_arn
    return raw


@pytest.mark.parametrize(
    "role_arn",
    [
        "arn:aws:iam::111122223333:role/dev/iamwarden-enforcer-us-east-1",  # the right name at another path
        "arn:aws:iam::999988887777:role/iamwarden-enforcer-us-east-1",  # the right name in another account
        "arn:aws:iam::111122223333:role/iamwarden-enforcer",  # the prefix, made by another stack
        "arn:aws:iam::111122223333:role/iamwarden-enforcer-eu-west-1",  # no stack of this deployment made it
        "arn:aws:iam::111122223333:role/iamwarden-remediator",  # a member role's name in the security account
        "arn:aws:iam::111122223333:role/service/iamwarden-remediator",  # ... or at another path
        "arn:aws:iam::111122223333:role/IAMWARDEN-ENFORCER-US-EAST-1",  # IAM names are case-insensitive, ARNs not
    ],
)
def test_a_look_alike_of_the_tools_role_is_judged(role_arn: str) -> None:
    raw = _as_role(load_event("create-user-by-warden.json"), role_arn)
    assert judge(raw).verdict is Verdict.VIOLATION


class RoleIds:
    """The heartbeat's own-role snapshots, as far as the engine reads them: each role's RoleId by its ARN (``read``:
    the own-role reads; an attach also reads the principal's attachments, ``guardrails.attachments``)."""

    def __init__(self, role_ids: dict[str, str]) -> None:
        self.role_ids = role_ids
        self.read: list[str] = []

    def remediations(self, resource_arn: str) -> tuple[PastRemediation, ...]:
        return ()

    def snapshot(self, kind: str, resource_arn: str) -> Snapshot | None:
        if kind == OWN_ROLE:
            self.read.append(resource_arn)
        role_id = self.role_ids.get(resource_arn) if kind == OWN_ROLE else None
        return Snapshot(kind, resource_arn, "2026-12-01T00:00:00Z", {"role_id": role_id}) if role_id else None


MEMBER = "444455556666"
#: The member stack's roles as the heartbeat read them in MEMBER (their RoleId).
MEMBER_ROLE_IDS = {
    f"arn:aws:iam::{MEMBER}:role/iamwarden-remediator": "AROA42L6CDBZQKVCZGQD4",
    f"arn:aws:iam::{MEMBER}:role/iamwarden-pruner-member": "AROA42L6CDBZQKVCZGQD4",
}


def _in_member(role_arn: str, role_id: str = "AROA42L6CDBZQKVCZGQD4") -> dict[str, Any]:
    raw = json.loads(json.dumps(load_event("create-user-by-warden.json")).replace("111122223333", MEMBER))
    raw = _as_role(raw, role_arn)
    identity = raw["detail"]["userIdentity"]
    identity["principalId"] = f"{role_id}:iamwarden"
    identity["sessionContext"]["sessionIssuer"]["principalId"] = role_id
    return raw


def _judged_with(raw: dict[str, Any], recorded: RoleIds | None) -> Judgement:
    return judge_event(raw, load_settings({})._replace(own=SAMPLE_OWN), recorded=recorded)


def test_the_member_stacks_roles_are_own_only_in_member_accounts_at_path_root() -> None:
    recorded = RoleIds(MEMBER_ROLE_IDS)
    for role in ("iamwarden-remediator", "iamwarden-pruner-member"):
        assert _judged_with(_in_member(f"arn:aws:iam::{MEMBER}:role/{role}"), recorded).verdict is Verdict.IGNORED
    for arn in (
        f"arn:aws:iam::{MEMBER}:role/x/iamwarden-remediator",
        f"arn:aws:iam::{MEMBER}:role/iamwarden-enforcer-us-east-1",
    ):
        assert _judged_with(_in_member(arn), recorded).verdict is Verdict.VIOLATION


def test_a_member_role_created_again_under_its_name_is_judged() -> None:
    """Known by the RoleId the heartbeat read: a role deleted and created again (or never the stack's) has another."""
    recorded = RoleIds(MEMBER_ROLE_IDS)
    remediator = f"arn:aws:iam::{MEMBER}:role/iamwarden-remediator"

    again = _judged_with(_in_member(remediator, role_id="AROAATTACKERROLE0001"), recorded)

    assert again.verdict is Verdict.VIOLATION
    assert recorded.read == [remediator]


def test_a_member_role_is_not_own_until_the_heartbeat_read_its_role_id() -> None:
    remediator = f"arn:aws:iam::{MEMBER}:role/iamwarden-remediator"
    assert _judged_with(_in_member(remediator), RoleIds({})).verdict is Verdict.VIOLATION
    assert _judged_with(_in_member(remediator), None).verdict is Verdict.VIOLATION  # offline: nothing is known


def test_a_role_id_is_read_only_for_a_member_roles_name() -> None:
    """The cost per event: no audit read for any other caller, nor for the security account's own roles."""
    recorded = RoleIds(MEMBER_ROLE_IDS)
    _judged_with(load_event("create-user-by-warden.json"), recorded)
    _judged_with(load_event("attach-admin-to-role.json"), recorded)
    assert recorded.read == []


def _by_session(raw: dict[str, Any], session: str) -> dict[str, Any]:
    raw = copy.deepcopy(raw)
    identity = raw["detail"]["userIdentity"]
    role = identity["sessionContext"]["sessionIssuer"]["userName"]
    identity["arn"] = f"arn:aws:sts::111122223333:assumed-role/{role}/{session}"
    identity["principalId"] = f"{identity['sessionContext']['sessionIssuer']['principalId']}:{session}"
    return raw


@pytest.mark.parametrize(
    "session",
    [
        "ops-helper",  # another function given the enforcer's role: Lambda names the session after it
        "iamwarden-prune-worker",  # IAM Warden's, but a function that runs as another of its roles
        "iamwarden",  # no function of that name
        "IAMWARDEN-ENFORCER",
    ],
)
def test_an_own_role_session_not_named_after_its_own_function_is_judged(session: str) -> None:
    """Audit 15 gap 1: a function given the enforcer's role runs as the enforcer, under its own name."""
    assert judge(_by_session(load_event("create-user-by-warden.json"), session)).verdict is Verdict.VIOLATION


def test_each_own_function_is_own_under_its_own_role_only() -> None:
    raw = load_event("create-user-by-warden.json")
    assert judge(_by_session(raw, "iamwarden-enforcer")).verdict is Verdict.IGNORED
    pruner = _as_role(raw, "arn:aws:iam::111122223333:role/iamwarden-pruner-us-east-1")
    pruner["detail"]["userIdentity"]["sessionContext"]["sessionIssuer"]["userName"] = "iamwarden-pruner-us-east-1"
    for function in ("iamwarden-prune-planner", "iamwarden-prune-worker", "iamwarden-prune-watch"):
        assert judge(_by_session(pruner, function)).verdict is Verdict.IGNORED
    assert judge(_by_session(pruner, "iamwarden-enforcer")).verdict is Verdict.VIOLATION


def test_a_role_whose_path_mimics_a_service_linked_role_is_judged() -> None:
    raw = _as_role(
        load_event("create-user-service-linked-role.json"),
        "arn:aws:iam::111122223333:role/x:role/aws-service-role/evil",
    )
    assert judge(raw).verdict is Verdict.VIOLATION


def test_a_break_glass_pattern_does_not_match_a_role_whose_path_mimics_it() -> None:
    raw = _as_role(load_event("create-user-break-glass.json"), "arn:aws:iam::111122223333:role/x:role/BreakGlassAdmin")
    judgement = judge(raw, break_glass_principals=["arn:aws:iam::*:role/BreakGlassAdmin"])
    assert judgement.verdict is Verdict.VIOLATION


def test_allow_paths_match_whole_path_segments() -> None:
    raw = event(
        "create-user-service-account-path.json", requestParameters={"userName": "x", "path": "/service-accounts-evil/"}
    )
    assert judge(raw, rules={"iam-user-created": {"allow_paths": ["/service-accounts"]}}).verdict is Verdict.VIOLATION
    nested = event(
        "create-user-service-account-path.json", requestParameters={"userName": "x", "path": "/service-accounts/smtp/"}
    )
    assert (
        judge(nested, rules={"iam-user-created": {"allow_paths": ["/service-accounts"]}}).verdict is Verdict.COMPLIANT
    )


def test_allowlist_reasons_name_the_pattern_that_matched() -> None:
    raw = load_event("attach-admin-to-role.json")
    judgement = judge(raw, rules={"managed-policy-attached": {"allow_resources": ["arn:aws:iam::*:role/app-*"]}})
    assert "matches 'arn:aws:iam::*:role/app-*' in rules/managed-policy-attached/allow_resources" in judgement.reason


def test_a_condition_with_a_non_string_operator_is_invalid_not_a_crash() -> None:
    policy = {"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Condition": {1: {}}}]}
    judgement = judge(bucket_event(policy))
    assert judgement.verdict is Verdict.INVALID
    assert "Condition operators must be strings" in judgement.reason


def test_a_public_grant_through_an_untrusted_vpc_endpoint_is_cross_account() -> None:
    raw = load_event("bucket-policy-vpce.json")
    [finding] = judge(raw).findings
    assert finding.rule_id == "s3-bucket-policy-cross-account"
    assert finding.reason.startswith("VPC endpoint vpce-0a1b2c3d4e5f67890, which this organisation does not trust")
    assert judge(raw, trusted_networks=["vpce-0a1b2c3d4e5f67890"]).verdict is Verdict.COMPLIANT


def _provisioned_by_identity_center(invoked_by: str | None) -> dict[str, Any]:
    """The management account's record of Identity Center provisioning an admin permission set's role: the caller's
    identity (the root user in the published record), ``invokedBy: sso.amazonaws.com``, the AWSReservedSSO_ role."""
    event = copy.deepcopy(load_event("attach-admin-to-role.json"))
    identity: dict[str, Any] = {
        "type": "Root",
        "principalId": "111122223333",
        "arn": "arn:aws:iam::111122223333:root",
        "accountId": "111122223333",
    }
    if invoked_by is not None:
        identity["invokedBy"] = invoked_by
    event["detail"]["userIdentity"] = identity
    event["detail"]["requestParameters"]["roleName"] = "AWSReservedSSO_AdministratorAccess_0a1b2c3d4e5f6a7b"
    return event


def test_identity_center_provisioning_a_permission_set_role_is_judged_at_the_set_not_undone_here() -> None:
    """ic-console-s10's finding: undoing Identity Center's own provisioning would fight it (the set is judged)."""
    judgement = judge_event(_provisioned_by_identity_center("sso.amazonaws.com"), Settings())
    assert judgement.verdict is Verdict.IGNORED
    assert "IAM Identity Center provisioning a permission set" in judgement.reason
    # The same write by the caller directly (no invokedBy), or through another service, is judged as usual; and so
    # is a write Identity Center makes to a role that is no permission set's.
    for invoked_by in (None, "cloudformation.amazonaws.com"):
        [finding] = judge_event(_provisioned_by_identity_center(invoked_by), Settings()).findings
        assert finding.severity is Severity.CRITICAL
    other = _provisioned_by_identity_center("sso.amazonaws.com")
    other["detail"]["requestParameters"]["roleName"] = "app-backend"
    [finding] = judge_event(other, Settings()).findings
    assert finding.severity is Severity.CRITICAL


def test_identity_center_creating_its_role_elsewhere_than_its_reserved_path_is_judged() -> None:
    """Review ic s10 finding 3: the name alone is anyone's to take; Identity Center creates its roles at its path."""
    created = copy.deepcopy(load_event("trust-create-role-public.json"))
    created["detail"]["userIdentity"] = _provisioned_by_identity_center("sso.amazonaws.com")["detail"]["userIdentity"]
    created["detail"]["requestParameters"]["roleName"] = "AWSReservedSSO_AdministratorAccess_0a1b2c3d4e5f6a7b"
    created["detail"]["requestParameters"]["path"] = "/"
    assert judge_event(created, Settings()).verdict is Verdict.VIOLATION
    created["detail"]["requestParameters"]["path"] = "/aws-reserved/sso.amazonaws.com/eu-west-1/"
    assert judge_event(created, Settings()).verdict is Verdict.IGNORED


def test_identity_center_writing_its_own_saml_provider_is_not_undone() -> None:
    """Review ic s10 finding 2: in the management account Identity Center writes its AWSSSO_ SAML provider under the
    caller's identity; deleting it would lock out every permission set's role there."""
    event = copy.deepcopy(load_event("create-saml-provider-unknown.json"))
    event["detail"]["userIdentity"] = _provisioned_by_identity_center("sso.amazonaws.com")["detail"]["userIdentity"]
    unknown = judge_event(event, Settings())
    assert unknown.verdict is Verdict.VIOLATION  # another provider, even written through Identity Center
    event["detail"]["requestParameters"]["name"] = "AWSSSO_0a1b2c3d4e5f6a7b_DO_NOT_DELETE"
    assert judge_event(event, Settings()).verdict is Verdict.IGNORED


# --- review selfdeploy2-s17 item 2: the own-stack exemption's guards on the change itself --------------------------


#: A member account and another one: the remediation role has the same name in both.
_MEMBER, _OTHER_MEMBER = "444455556666", "777788889999"


def _cloudformation_put(member: bool = False) -> tuple[Finding, CloudTrailChange, Settings]:
    """A privilege-escalation finding on an own role (the enforcer's, or a member account's remediation role) for a
    method it is documented to hold, made by CloudFormation putting a declared inline policy onto that role: the
    exemption's positive case."""
    event = load_event("create-user-backdoor-cli.json")
    event["detail"]["userIdentity"] = copy.deepcopy(load_event("attach-admin-to-role.json")["detail"]["userIdentity"])
    event["detail"]["userIdentity"]["invokedBy"] = CLOUDFORMATION
    event["detail"]["eventName"] = "PutRolePolicy"
    role, policy = (
        ("iamwarden-remediator", "enforcer-judging-context")
        if member
        else (
            "iamwarden-enforcer-us-east-1",
            "enforcer-runtime",
        )
    )
    event["detail"]["requestParameters"] = {
        "roleName": role,
        "policyName": policy,
        "policyDocument": json.dumps({"Version": "2012-10-17", "Statement": []}),
    }
    change = parse_event(event)
    if member:
        change = change._replace(account=_MEMBER)
    arn = f"arn:aws:iam::{_MEMBER}:role/{role}" if member else SAMPLE_OWN.home_roles["enforcer"]
    finding = Finding(
        rule_id=PRIVILEGE_ESCALATION,
        severity=Severity.HIGH,
        resource_arn=arn,
        account=change.account,
        region=change.region,
        actor=change.actor,
        event_id=change.event_id,
        event_name=change.event_name,
        reason="opens PutUserPolicy",
        mode=Mode.ALERT,
        offending=({"method": "PutUserPolicy", "actions": ["iam:PutUserPolicy"]},),
    )
    return finding, change, Settings(own=SAMPLE_OWN)


@pytest.mark.parametrize("member", [False, True])
def test_the_own_stacks_put_of_a_documented_method_is_exempt(member: bool) -> None:
    """The positive control for the guards below: without it each could pass by exempting nothing."""
    finding, change, settings = _cloudformation_put(member)
    assert change.account == (_MEMBER if member else SAMPLE_OWN.home_account)
    assert "deployed by CloudFormation" in (_exemption(finding, settings, change) or "")


@pytest.mark.parametrize(
    ("what", "member", "changed"),
    [
        ("another event source", False, {"event_source": "sts.amazonaws.com"}),
        ("another account", False, {"account": "999988887777"}),
        ("another member account, where the role has the same name", True, {"account": _OTHER_MEMBER}),
        ("another role's name", False, {"role": "iamwarden-pruner-us-east-1"}),
        ("a look-alike role name", False, {"role": "iamwarden-enforcer-us-east-1-copy"}),
        ("no role name", False, {"role": None}),
    ],
)
def test_a_finding_on_an_own_role_from_a_change_to_anything_else_is_not_exempt(
    what: str, member: bool, changed: dict[str, Any]
) -> None:
    """``_of_the_stack``: the change must be an IAM write, in the finding's account, naming the finding's own role.
    A finding on the enforcer (or a member's remediation role) whose change is another service's, another
    account's (where a role of that name is also IAM Warden's), or names another role (an own one included, or
    none) is no own-stack write to that role: judged as usual."""
    finding, change, settings = _cloudformation_put(member)
    parameters = dict(change.request_parameters)
    if "role" in changed:
        if changed["role"] is None:
            parameters.pop("roleName")
        else:
            parameters["roleName"] = changed["role"]
    other = change._replace(request_parameters=parameters, **{k: v for k, v in changed.items() if k != "role"})
    assert _exemption(finding, settings, other) is None, what
