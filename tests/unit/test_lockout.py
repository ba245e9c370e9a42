"""A resource policy that also shuts IAM Warden's remediator out is never an ordinary removal (review s11 F9).

The Deny statements of the new document are read against the remediator's exact identity (``domain.lockout``):
denied for certain, the finding is critical, carries no plan and says who can still fix it; undecidable, the plan
stands with a note and a final "shut out" alert for a refusal (``if_denied``, review s13 F1: an inert Deny must not
make a finding alert-only); a Deny that does not reach the remediator leaves the ordinary plan. For KMS, a key
policy that lets neither the account's IAM policies nor IAM Warden in shuts it out too, and is its own finding.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from iamwarden.domain.catalog import Mode, Severity
from iamwarden.domain.lockout import Remediator, lockout, lockout_flag_set, may_hold_in_account, remediator
from iamwarden.domain.own import OwnIdentity
from iamwarden.domain.policy import parse_policy
from iamwarden.domain.rule_exceptions import ExceptionScope, ExceptionStatus, RuleException
from iamwarden.domain.settings import RuleSettings, Settings
from iamwarden.guardrails.engine import judge_event
from iamwarden.guardrails.kms_key_policy import account_statements, lets_the_account_in
from tests.conftest import SAMPLE_HOME_ACCOUNT, SAMPLE_OWN, load_event

ACCOUNT = "111122223333"
BUCKET = "arn:aws:s3:::acme-invoices"
#: The sample events are the security account's: there the enforcer's own role remediates.
REMEDIATOR = SAMPLE_OWN.home_roles["enforcer"]
MEMBER = "444455556666"
WRITES = ["s3:PutBucketPolicy", "s3:DeleteBucketPolicy"]


def _bucket_event(*extra: dict[str, Any], **request: Any) -> dict[str, Any]:
    event = load_event("bucket-policy-public-read.json")
    event["detail"]["requestParameters"]["bucketPolicy"]["Statement"].extend(extra)
    event["detail"]["requestParameters"].update(request)
    return event


def _deny(condition: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Sid": "Keep",
        "Effect": "Deny",
        "Principal": "*",
        "Action": WRITES,
        "Resource": BUCKET,
        **fields,
    }
    if condition is not None:
        statement["Condition"] = condition
    return statement


def _public(event: dict[str, Any], own: OwnIdentity = SAMPLE_OWN) -> Any:
    findings = [f for f in judge_event(event, Settings(own=own)).findings if f.rule_id == "s3-bucket-policy-public"]
    assert len(findings) == 1
    return findings[0]


def test_without_a_deny_the_ordinary_removal_is_planned() -> None:
    finding = _public(_bucket_event())
    assert finding.plan
    assert finding.needs_context == ()
    assert "IAM Warden cannot remove it" not in finding.reason


def test_a_deny_to_everyone_but_the_intruder_leaves_no_plan_and_says_who_can_fix_it() -> None:
    intruder = f"arn:aws:iam::{ACCOUNT}:role/terraform-deployer"
    finding = _public(_bucket_event(_deny({"ArnNotEquals": {"aws:PrincipalArn": intruder}})))
    assert finding.plan == ()
    assert finding.severity is Severity.CRITICAL
    assert finding.needs_context == ("IAM Warden is denied s3:PutBucketPolicy by statement 1 (Keep)",)
    assert "root user can always delete a bucket policy" in finding.reason


def test_a_deny_by_not_principal_that_does_not_name_iam_warden_reaches_it() -> None:
    deny = _deny(Principal=None, NotPrincipal={"AWS": f"arn:aws:iam::{ACCOUNT}:role/terraform-deployer"})
    del deny["Principal"]
    finding = _public(_bucket_event(deny))
    assert finding.plan == ()
    assert finding.needs_context == ("IAM Warden is denied s3:PutBucketPolicy by statement 1 (Keep)",)


SESSIONS = remediator(SAMPLE_OWN, ACCOUNT, "aws").session_arns  # type: ignore[union-attr]


def test_a_not_principal_naming_iam_wardens_session_and_its_account_spares_it() -> None:
    deny = _deny(NotPrincipal={"AWS": [*SESSIONS, REMEDIATOR, f"arn:aws:iam::{ACCOUNT}:root"]})
    del deny["Principal"]
    finding = _public(_bucket_event(deny))
    assert finding.plan
    assert finding.needs_context == ()
    assert finding.if_denied == ""


@pytest.mark.parametrize(
    "named",
    [
        [REMEDIATOR],
        # Role and account but not the session: AWS may evaluate the assumed-role user (review s13 F7).
        [REMEDIATOR, f"arn:aws:iam::{ACCOUNT}:root"],
    ],
)
def test_a_not_principal_not_naming_iam_wardens_session_and_account_keeps_the_plan_with_a_note(
    named: list[str],
) -> None:
    deny = _deny(NotPrincipal={"AWS": named})
    del deny["Principal"]
    finding = _public(_bucket_event(deny))
    assert finding.plan
    assert finding.certain  # undecidable is no lockout (review s13 F1)
    assert "Note: statement 1 (Keep) may deny IAM Warden s3:PutBucketPolicy (NotPrincipal" in finding.reason
    assert finding.if_denied.startswith("IAM Warden is shut out of arn:aws:s3:::acme-invoices: statement 1 (Keep)")


@pytest.mark.parametrize(
    "condition",
    [
        # Inert for IAM Warden, but nothing it can decide: an intruder's one extra Deny must not make the public
        # policy alert-only (review s13 F1, probe p1).
        {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
        {"DateGreaterThan": {"aws:CurrentTime": "2099-01-01T00:00:00Z"}},
        {"IpAddress": {"aws:SourceIp": "192.0.2.1/32"}},
        {"StringEquals": {"aws:PrincipalTag/no-such-tag": "x"}},
        {"StringEquals": {"aws:RequestedRegion": "ap-southeast-4"}},
    ],
)
def test_a_condition_iam_warden_cannot_evaluate_keeps_the_plan_and_notes_the_doubt(condition: dict[str, Any]) -> None:
    finding = _public(_bucket_event(_deny(condition)))
    assert finding.plan
    assert finding.certain
    assert finding.severity is Severity.CRITICAL
    key = next(iter(next(iter(condition.values())))).lower()
    doubt = f"statement 1 (Keep) may deny IAM Warden s3:PutBucketPolicy (condition {key})"
    assert f"Note: {doubt}." in finding.reason
    assert finding.if_denied.startswith(f"IAM Warden is shut out of arn:aws:s3:::acme-invoices: {doubt}. ")
    assert "root user can always delete a bucket policy" in finding.if_denied
    assert "S3UnlockBucketPolicy" in finding.if_denied  # Organizations centralized root access (review s13 F6)
    assert finding.to_dict()["if_denied"] == finding.if_denied


@pytest.mark.parametrize(
    "deny",
    [
        # Spares IAM Warden's own role by its exact ARN.
        _deny({"ArnNotEquals": {"aws:PrincipalArn": REMEDIATOR}}),
        _deny({"StringNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/iamwarden-e*"}}),
        # Denies only another account's principals, or only insecure transport.
        _deny({"StringNotEquals": {"aws:PrincipalAccount": ACCOUNT}}),
        _deny({"Bool": {"aws:SecureTransport": "false"}}),
        # Another action, another resource, or a principal that is not IAM Warden.
        _deny(Action="s3:GetObject"),
        _deny(Resource="arn:aws:s3:::another-bucket"),
        _deny(Principal={"AWS": f"arn:aws:iam::{ACCOUNT}:role/intern"}),
    ],
)
def test_a_deny_that_does_not_reach_iam_warden_leaves_the_ordinary_plan(deny: dict[str, Any]) -> None:
    finding = _public(_bucket_event(deny))
    assert finding.plan
    assert finding.needs_context == ()


def test_a_deny_of_delete_only_does_not_stop_a_removal_that_puts_the_rest_back() -> None:
    # The Deny itself stays in the policy, so the removal puts the rest back and never deletes the policy.
    finding = _public(_bucket_event(_deny(Action="s3:DeleteBucketPolicy")))
    assert finding.plan
    assert finding.needs_context == ()
    # A Deny of the put it makes stops it.
    put = _public(_bucket_event(_deny(Action="s3:PutBucketPolicy")))
    assert put.plan == ()
    assert put.needs_context == ("IAM Warden is denied s3:PutBucketPolicy by statement 1 (Keep)",)


def test_the_deny_is_read_against_the_enforcers_role_in_the_security_account() -> None:
    who = remediator(SAMPLE_OWN, SAMPLE_HOME_ACCOUNT, "aws")
    assert who is not None
    assert who.role_arn == SAMPLE_OWN.home_roles["enforcer"]
    assert who.session_arns == (
        f"arn:aws:sts::{SAMPLE_HOME_ACCOUNT}:assumed-role/iamwarden-enforcer-us-east-1/iamwarden-enforcer",
    )
    member = remediator(SAMPLE_OWN, MEMBER, "aws")
    assert member is not None
    assert member.role_arn == f"arn:aws:iam::{MEMBER}:role/iamwarden-remediator"
    assert member.session_arns == (f"arn:aws:sts::{MEMBER}:assumed-role/iamwarden-remediator/iamwarden",)
    # A Deny naming the member remediator by its session reaches it; the security account's role it does not.
    named = parse_policy({"Statement": [_deny(Principal={"AWS": member.session_arns[0]})]})
    assert lockout(named, WRITES, BUCKET, member).denied
    assert not lockout(named, WRITES, BUCKET, who).denied


def test_without_iam_wardens_identity_only_a_deny_to_everyone_is_certain() -> None:
    policy = parse_policy({"Statement": [_deny(), _deny(Sid="Named", Principal={"AWS": REMEDIATOR})]})
    shut = lockout(policy, WRITES, BUCKET, remediator(OwnIdentity(), ACCOUNT, "aws"))
    assert shut.denied == ("IAM Warden is denied s3:PutBucketPolicy, s3:DeleteBucketPolicy by statement 0 (Keep)",)
    assert shut.unknown == (
        "statement 1 (Named) may deny IAM Warden s3:PutBucketPolicy, s3:DeleteBucketPolicy (IAM Warden's own role, "
        "not configured here)",
    )


@pytest.mark.parametrize(
    ("condition", "denied"),
    [
        ({"Null": {"aws:username": "true"}}, True),  # a role session carries no user name
        ({"Null": {"aws:PrincipalArn": "true"}}, False),
        ({"StringEqualsIfExists": {"aws:username": "mallory"}}, True),
        ({"StringEquals": {"aws:username": "mallory"}}, False),
        ({"StringEquals": {"aws:PrincipalType": "AssumedRole"}}, True),
        ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/iamwarden-e*"}}, True),
        ({"StringEqualsIgnoreCase": {"aws:PrincipalArn": REMEDIATOR.upper()}}, True),
        # A role session's request carries aws:MultiFactorAuthPresent, false (review s13 F3).
        ({"Bool": {"aws:MultiFactorAuthPresent": "false"}}, True),
        ({"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}, True),
        ({"Null": {"aws:MultiFactorAuthPresent": "true"}}, False),  # denies long-term access keys only
        ({"Bool": {"aws:MultiFactorAuthPresent": "true"}}, False),
        ({"Null": {"aws:MultiFactorAuthAge": "true"}}, True),
        # On a missing key ForAnyValue is false and ForAllValues true, whatever the operator.
        ({"ForAnyValue:StringNotEquals": {"aws:CalledVia": "cloudformation.amazonaws.com"}}, False),
        ({"ForAnyValue:StringEquals": {"aws:CalledVia": "cloudformation.amazonaws.com"}}, False),
        ({"ForAllValues:StringEquals": {"aws:CalledVia": "cloudformation.amazonaws.com"}}, True),
    ],
)
def test_conditions_on_what_iam_warden_knows_of_its_own_request_are_evaluated(
    condition: dict[str, Any], denied: bool
) -> None:
    policy = parse_policy({"Statement": [_deny(condition)]})
    shut = lockout(policy, WRITES, BUCKET, remediator(SAMPLE_OWN, ACCOUNT, "aws"))
    assert bool(shut.denied) is denied
    assert shut.unknown == ()


@pytest.mark.parametrize(
    ("source", "name", "field", "value", "said"),
    [
        ("kms.amazonaws.com", "PutKeyPolicy", "bypassPolicyLockoutSafetyCheck", True, True),
        ("kms.amazonaws.com", "PutKeyPolicy", "bypassPolicyLockoutSafetyCheck", False, False),
        ("s3.amazonaws.com", "PutBucketPolicy", "x-amz-confirm-remove-self-bucket-access", "true", True),
        ("s3.amazonaws.com", "PutBucketPolicy", "x-amz-confirm-remove-self-bucket-access", ["true"], True),
        ("dynamodb.amazonaws.com", "PutResourcePolicy", "confirmRemoveSelfResourceAccess", True, True),
        ("elasticfilesystem.amazonaws.com", "PutFileSystemPolicy", "bypassPolicyLockoutSafetyCheck", True, True),
        # Another service's PutResourcePolicy has no such flag.
        ("secretsmanager.amazonaws.com", "PutResourcePolicy", "confirmRemoveSelfResourceAccess", True, False),
    ],
)
def test_the_record_flags_that_accept_a_self_lockout(
    source: str, name: str, field: str, value: Any, said: bool
) -> None:
    assert (lockout_flag_set(source, name, {field: value}) == field) is said


def test_the_s3_flag_is_said_in_the_finding() -> None:
    finding = _public(_bucket_event(**{"x-amz-confirm-remove-self-bucket-access": "true"}))
    assert "The call set x-amz-confirm-remove-self-bucket-access to true" in finding.reason
    assert finding.plan  # the flag alone shuts nobody out: the Deny statements decide


@pytest.mark.parametrize(
    ("event", "flag"),
    [
        ("dynamodb-policy-public.json", "confirmRemoveSelfResourceAccess"),
        ("efs-policy-public.json", "bypassPolicyLockoutSafetyCheck"),
    ],
)
def test_the_dynamodb_and_efs_flags_are_said_in_the_finding(event: str, flag: str) -> None:
    sample = load_event(event)
    sample["detail"]["requestParameters"][flag] = True
    [finding] = [f for f in judge_event(sample, Settings(own=SAMPLE_OWN)).findings if f.rule_id.endswith("-public")]
    assert f"The call set {flag} to true" in finding.reason


# --- KMS ----------------------------------------------------------------------------------------------------------


def _key_event(*statements: dict[str, Any], bypass: bool = False) -> dict[str, Any]:
    event = load_event("kms-put-key-policy-public.json")
    request = event["detail"]["requestParameters"]
    request["policy"] = json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
    request["bypassPolicyLockoutSafetyCheck"] = bypass
    return event


ROOT = {"Sid": "Root", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}, "Action": "kms:*"}
INSIDER = {"Sid": "Insider", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/developer"}}
ANYONE = {"Sid": "Anyone", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:Decrypt", "Resource": "*"}


def _by_rule(event: dict[str, Any]) -> dict[str, Any]:
    return {f.rule_id: f for f in judge_event(event, Settings(own=SAMPLE_OWN)).findings}


def test_a_public_key_without_a_root_statement_and_the_check_bypassed_cannot_be_fixed_by_iam_warden() -> None:
    found = _by_rule(_key_event({**INSIDER, "Action": "kms:*", "Resource": "*"}, ANYONE, bypass=True))
    public = found["kms-key-policy-public"]
    assert public.plan == ()
    assert public.severity is Severity.CRITICAL
    [fact] = public.needs_context
    assert fact.startswith("IAM Warden is not let in: no statement of the key policy lets account 111122223333")
    assert "only AWS Support can restore" in public.reason
    assert "The call set bypassPolicyLockoutSafetyCheck to true" in public.reason
    locked = found["kms-key-policy-locks-out-account"]
    assert locked.severity is Severity.CRITICAL  # IAM Warden is shut out of a key it must fix
    assert locked.plan == ()


def test_a_key_policy_naming_only_an_insider_is_a_finding_even_when_nothing_is_public() -> None:
    found = _by_rule(_key_event({**INSIDER, "Action": "kms:*", "Resource": "*"}))
    assert list(found) == ["kms-key-policy-locks-out-account"]
    finding = found["kms-key-policy-locks-out-account"]
    assert finding.severity is Severity.HIGH
    assert finding.plan == ()
    assert "no longer lets account 111122223333's IAM policies in" in finding.reason


def test_a_key_policy_naming_iam_wardens_role_lets_it_fix_a_public_grant() -> None:
    warden = {"Sid": "Warden", "Effect": "Allow", "Principal": {"AWS": REMEDIATOR}, "Action": "kms:*"}
    found = _by_rule(_key_event(warden, ANYONE))
    assert found["kms-key-policy-public"].plan
    assert found["kms-key-policy-public"].needs_context == ()
    assert found["kms-key-policy-locks-out-account"].severity is Severity.HIGH  # the account is still shut out


def test_the_bypass_flag_with_the_root_statement_kept_is_medium() -> None:
    found = _by_rule(_key_event(ROOT, bypass=True))
    assert list(found) == ["kms-key-policy-locks-out-account"]
    assert found["kms-key-policy-locks-out-account"].severity is Severity.MEDIUM


def test_a_root_statement_keeps_the_ordinary_plan_and_no_lockout_finding() -> None:
    found = _by_rule(_key_event(ROOT, ANYONE))
    assert list(found) == ["kms-key-policy-public"]
    assert found["kms-key-policy-public"].plan


@pytest.mark.parametrize(
    ("statement", "let_in"),
    [
        (ROOT, True),
        ({**ROOT, "Principal": {"AWS": ACCOUNT}, "Action": ["kms:GetKeyPolicy", "kms:PutKeyPolicy"]}, True),
        ({**ROOT, "Action": "kms:Decrypt"}, False),
        ({**ROOT, "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}, False),
        ({**ROOT, "Principal": {"AWS": "arn:aws:iam::999988887777:root"}}, False),
        ({**ROOT, "Effect": "Deny"}, False),
        # Conditions that hold for IAM Warden's request let it in (review s13 F2).
        ({**ROOT, "Condition": {"Bool": {"aws:SecureTransport": "true"}}}, True),
        ({**ROOT, "Condition": {"StringEquals": {"kms:CallerAccount": ACCOUNT}}}, True),
        ({**ROOT, "Condition": {"StringEquals": {"kms:CallerAccount": "999988887777"}}}, False),
        # One it cannot tell: unknown, never "locked out".
        ({**ROOT, "Condition": {"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}}, None),
    ],
)
def test_what_lets_the_accounts_iam_policies_into_a_key(statement: dict[str, Any], let_in: bool | None) -> None:
    assert lets_the_account_in(parse_policy({"Statement": [statement]}), ACCOUNT, "aws") is let_in


@pytest.mark.parametrize(
    "condition", [{"Bool": {"aws:SecureTransport": "true"}}, {"StringEquals": {"kms:CallerAccount": ACCOUNT}}]
)
def test_a_root_statement_under_a_condition_that_holds_keeps_the_plan_and_no_lockout(
    condition: dict[str, Any],
) -> None:
    found = _by_rule(_key_event({**ROOT, "Condition": condition}, ANYONE))
    assert list(found) == ["kms-key-policy-public"]
    assert found["kms-key-policy-public"].plan
    assert found["kms-key-policy-public"].certain


def test_a_root_statement_under_an_undecidable_condition_is_no_lockout_and_keeps_the_plan() -> None:
    root = {**ROOT, "Condition": {"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}}
    found = _by_rule(_key_event(root, ANYONE))
    assert list(found) == ["kms-key-policy-public"]
    public = found["kms-key-policy-public"]
    assert public.plan
    assert public.certain
    assert "may not let IAM Warden in" in public.reason
    # The root statement may well let the account in: no "only AWS Support" claim (review s13 round 2, N2).
    assert "only AWS Support" not in public.if_denied
    assert "statement 0 (Root) under IpAddress aws:sourceip 192.0.2.0/24 can still change" in public.if_denied


def test_without_iam_wardens_identity_what_holds_for_any_of_its_requests_is_still_decided() -> None:
    tls_only = _deny({"Bool": {"aws:SecureTransport": "false"}})
    by_arn = _deny({"ArnNotEquals": {"aws:PrincipalArn": REMEDIATOR}}, Sid="ByArn")
    shut = lockout(parse_policy({"Statement": [tls_only, by_arn]}), WRITES, BUCKET, None)
    assert shut.denied == ()
    assert shut.unknown == (
        "statement 1 (ByArn) may deny IAM Warden s3:PutBucketPolicy, s3:DeleteBucketPolicy (condition "
        "aws:principalarn)",
    )


def test_a_plan_that_would_leave_a_key_policy_letting_no_one_in_is_not_planned() -> None:
    # The public statement is the only one letting the account in: without it KMS's lockout safety check would
    # refuse the put (review s13 F5, probe p4).
    dev = {**INSIDER, "Sid": "Dev", "Action": "kms:*", "Resource": "*"}
    everyone = {"Sid": "Everyone", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*"}
    found = _by_rule(_key_event(dev, everyone))
    public = found["kms-key-policy-public"]
    assert public.plan == ()
    assert public.severity is Severity.CRITICAL
    [fact] = public.needs_context
    assert fact.startswith(
        "the plans on this key would together leave a key policy that lets neither account 111122223333's IAM policies"
    )
    locked = found["kms-key-policy-locks-out-account"]
    assert locked.severity is Severity.CRITICAL
    assert "only through the statements IAM Warden found open" in locked.reason


def test_a_plan_that_leaves_the_root_statement_is_planned() -> None:
    everyone = {"Sid": "Everyone", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*"}
    found = _by_rule(_key_event(ROOT, everyone))
    assert list(found) == ["kms-key-policy-public"]
    assert found["kms-key-policy-public"].plan


# --- review s13 round 2 ---------------------------------------------------------------------------------------------

EVERYONE = {"Sid": "Everyone", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "kms:*", "Resource": "*"}
OTHER = {"Sid": "Other", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "kms:*"}
DEV = {**INSIDER, "Sid": "Dev", "Action": "kms:*", "Resource": "*"}


def _removed(finding: Any) -> list[Any]:
    return [reference["index"] for step in finding.plan for reference in step.parameters["statements"]]


def test_plans_that_together_remove_every_statement_all_run() -> None:
    # N1: alone, the public plan leaves {Other} (no one of the account let in); together the plans leave nothing,
    # and KMS's default policy is put back. Dropping only the public plan would leave the key open to everyone.
    found = _by_rule(_key_event(EVERYONE, OTHER))
    assert set(found) == {"kms-key-policy-public", "kms-key-policy-cross-account"}
    assert _removed(found["kms-key-policy-public"]) == [0]
    assert _removed(found["kms-key-policy-cross-account"]) == [1]
    assert found["kms-key-policy-public"].needs_context == ()


def test_plans_that_together_leave_a_key_no_one_of_the_account_can_change_none_run() -> None:
    found = _by_rule(_key_event(DEV, OTHER, EVERYONE))
    public, shared = found["kms-key-policy-public"], found["kms-key-policy-cross-account"]
    for finding in (public, shared):
        assert finding.plan == ()
        assert finding.severity is Severity.CRITICAL
        assert finding.needs_context[-1].startswith("the plans on this key would together leave a key policy")
    assert found["kms-key-policy-locks-out-account"].severity is Severity.CRITICAL


def test_plans_whose_remainder_together_cannot_be_told_run_and_a_refusal_is_final() -> None:
    # Alone each plan leaves the other open statement, which lets everyone in; together they leave only a root
    # statement under a condition IAM Warden cannot tell: the plans stand, and a refusal of the put is final.
    root = {**ROOT, "Condition": {"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}}
    found = _by_rule(_key_event(EVERYONE, OTHER, root))
    public, shared = found["kms-key-policy-public"], found["kms-key-policy-cross-account"]
    assert (_removed(public), _removed(shared)) == ([0], [1])
    for finding in (public, shared):
        assert "the key policy left after every planned removal may not let IAM Warden call" in finding.reason
        assert finding.if_denied.startswith("IAM Warden is shut out of arn:aws:kms:")
        assert "only AWS Support" not in finding.if_denied


@pytest.mark.parametrize(
    ("condition", "said"),
    [
        ({"Bool": {"aws:MultiFactorAuthPresent": "true"}}, "Bool aws:multifactorauthpresent true"),
        (
            {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/Admin*"}},
            f"ArnLike aws:principalarn arn:aws:iam::{ACCOUNT}:role/Admin*",
        ),
        ({"Bool": {"aws:ViaAWSService": "true"}}, "Bool aws:viaawsservice true"),
    ],
)
def test_a_root_statement_whose_conditions_only_iam_warden_misses_shuts_out_iam_warden_not_the_account(
    condition: dict[str, Any], said: str
) -> None:
    # N2: MFA users, the Admin roles or the service path are still let in: IAM Warden is shut out, the account is not.
    found = _by_rule(_key_event({**ROOT, "Condition": condition}, ANYONE))
    assert list(found) == ["kms-key-policy-public"]
    public = found["kms-key-policy-public"]
    assert public.plan == ()
    assert public.needs_context[-1].startswith(
        f"IAM Warden is not let in: the key policy lets account {ACCOUNT} in only by statement 0 (Root) under {said}"
    )
    assert "only AWS Support" not in public.reason
    assert f"The account is not locked out: the principals of account {ACCOUNT} that meet the conditions" in (
        public.reason
    )


def test_a_root_statement_under_conditions_with_the_check_bypassed_is_no_account_lockout() -> None:
    found = _by_rule(_key_event({**ROOT, "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}}, bypass=True))
    locked = found["kms-key-policy-locks-out-account"]
    assert locked.severity is Severity.MEDIUM
    assert "only AWS Support" not in locked.reason


def test_no_session_arn_known_a_notprincipal_naming_the_account_is_undecidable() -> None:
    # N3: with no enforcer function configured there is no session ARN to find named; the session is not spared.
    who = Remediator(ACCOUNT, "aws", f"arn:aws:iam::{ACCOUNT}:role/iamwarden-enforcer", ())
    for named in ([f"arn:aws:iam::{ACCOUNT}:root"], [f"arn:aws:iam::{ACCOUNT}:role/other", ACCOUNT]):
        deny = {"Sid": "D", "Effect": "Deny", "NotPrincipal": {"AWS": named}, "Action": "s3:*", "Resource": BUCKET}
        shut = lockout(parse_policy({"Statement": [deny]}), WRITES, BUCKET, who)
        assert shut.denied == ()
        assert len(shut.unknown) == 1
        assert "NotPrincipal does not name IAM Warden's role session and its account both" in shut.unknown[0]


@pytest.mark.parametrize(
    ("condition", "hands_away"),
    [
        ({"StringEquals": {"aws:PrincipalAccount": "444455556666"}}, True),
        ({"StringEquals": {"kms:CallerAccount": "444455556666"}}, True),
        ({"StringNotEquals": {"aws:PrincipalAccount": ACCOUNT}}, True),
        ({"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}, False),
        ({"StringLike": {"kms:CallerAccount": "1111*"}}, False),
    ],
)
def test_an_everyone_statement_only_another_account_can_meet_does_not_let_the_account_in(
    condition: dict[str, Any], hands_away: bool
) -> None:
    # Review s13 R2: Everyone kms:* only when the caller is account 444455556666 hands the key to that account;
    # no principal of this account can meet it, so the account is locked out (only AWS Support can restore it).
    everyone = {"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": "kms:*", "Condition": condition}
    policy = parse_policy({"Statement": [everyone]})
    assert (account_statements(policy, ACCOUNT, "aws") == []) is hands_away
    assert may_hold_in_account(policy.statements[0].conditions, ACCOUNT) is not hands_away
    if hands_away:
        found = _by_rule(_key_event(everyone))
        locked = found["kms-key-policy-locks-out-account"]
        assert "only AWS Support" in locked.reason
        assert "The account is not locked out" not in " ".join(f.reason for f in found.values())


# --- review s13 R3: the plans read together are the plans that will run ------------------------------------------

SERVICE = {"Sid": "Service", "Effect": "Allow", "Principal": {"Service": "example.amazonaws.com"}, "Action": "kms:*"}
KMS_RULES = ("kms-key-policy-public", "kms-key-policy-cross-account")


def _remediating(*rule_ids: str) -> Settings:
    return Settings(own=SAMPLE_OWN, rules={rule: RuleSettings(rule, Mode.REMEDIATE) for rule in rule_ids})


def _by_rule_in(event: dict[str, Any], settings: Settings) -> dict[str, Any]:
    return {f.rule_id: f for f in judge_event(event, settings).findings}


def test_an_uncertain_findings_plan_is_not_counted_with_the_plans_that_run() -> None:
    # The review's probe: the Service statement has no aws:SourceAccount, so its cross-account finding is uncertain
    # (alerted, never run). Only the public plan runs, and it leaves {Service}: no one of the account let in, so KMS
    # would refuse the put. Counting the uncertain plan too called it "all removed" (retries, then a dead letter).
    found = _by_rule_in(_key_event(EVERYONE, SERVICE), _remediating(*KMS_RULES))
    public, shared = found["kms-key-policy-public"], found["kms-key-policy-cross-account"]
    assert public.plan == ()
    assert public.severity is Severity.CRITICAL
    assert "IAM Warden cannot remove it: the plans on this key would together leave a key policy" in public.reason
    assert public.needs_context[-1].startswith("the plans on this key would together leave a key policy")
    # The uncertain finding is alerted as it was: its plan never ran, so nothing is said of it here.
    assert not shared.certain
    assert shared.plan
    assert "cannot remove it" not in shared.reason


def test_an_alert_mode_rules_plan_is_not_counted_with_the_plans_that_run() -> None:
    # Public remediates, cross-account only alerts: the public plan alone leaves {Other}, which lets no one of the
    # account in. Read with the cross-account plan (which never runs), the two removed everything.
    found = _by_rule_in(_key_event(EVERYONE, OTHER), _remediating("kms-key-policy-public"))
    public, shared = found["kms-key-policy-public"], found["kms-key-policy-cross-account"]
    assert public.plan == ()
    assert public.severity is Severity.CRITICAL
    assert "IAM Warden cannot remove it" in public.reason
    assert _removed(shared) == [1]
    assert "cannot remove it" not in shared.reason


def test_plans_that_run_and_together_remove_every_statement_all_run_in_remediate_mode() -> None:
    # Both rules remediate and both findings are certain: together they leave nothing (KMS's default comes back).
    found = _by_rule_in(_key_event(EVERYONE, OTHER), _remediating(*KMS_RULES))
    assert _removed(found["kms-key-policy-public"]) == [0]
    assert _removed(found["kms-key-policy-cross-account"]) == [1]
    assert found["kms-key-policy-public"].severity is Severity.CRITICAL
    assert "cannot remove it" not in found["kms-key-policy-public"].reason


def test_a_remediating_plan_that_leaves_a_lock_out_is_dropped_while_an_uncertain_one_is_left_as_it_was() -> None:
    # The doubt branch only touches counted findings too: a root statement under a condition IAM Warden cannot tell
    # is left; the public plan stands with a note and a final "shut out" alert, the uncertain one has neither.
    root = {**ROOT, "Condition": {"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}}
    found = _by_rule_in(_key_event(EVERYONE, SERVICE, root), _remediating(*KMS_RULES))
    public, shared = found["kms-key-policy-public"], found["kms-key-policy-cross-account"]
    assert _removed(public) == [0]
    assert public.if_denied.startswith("IAM Warden is shut out of arn:aws:kms:")
    assert not shared.certain
    assert shared.if_denied == ""


def _public_alone_leaves_other(settings: Settings, **judging: Any) -> None:
    """The public finding of [Everyone, Other] when the cross-account finding is exempted: only the public plan would
    run, and it leaves {Other}, which lets no one of the account in (KMS would refuse the put)."""
    judgement = judge_event(_key_event(EVERYONE, OTHER), settings, **judging)
    [public] = judgement.findings  # the exempted one is not a finding
    assert public.rule_id == "kms-key-policy-public"
    assert public.plan == ()
    assert public.severity is Severity.CRITICAL
    assert "IAM Warden cannot remove it: the plans on this key would together leave a key policy" in public.reason


def test_an_exempted_findings_plan_is_not_counted_with_the_plans_that_run() -> None:
    # Review s14 R6: an operator-accepted partner share (allow_resources on the cross-account rule, or allow_actors)
    # exempts that finding after the rule ran, so its plan never runs; counting it called the two "all removed".
    shared = "kms-key-policy-cross-account"
    for exempting in (
        RuleSettings(shared, Mode.REMEDIATE, allow_resources=("arn:aws:kms:*:*:key/*",)),
        RuleSettings(shared, Mode.REMEDIATE, allow_actors=("arn:aws:sts::111122223333:assumed-role/*",)),
    ):
        rules = {"kms-key-policy-public": RuleSettings("kms-key-policy-public", Mode.REMEDIATE), shared: exempting}
        _public_alone_leaves_other(Settings(own=SAMPLE_OWN, rules=rules))


def test_a_finding_an_active_exception_covers_is_not_counted_with_the_plans_that_run() -> None:
    now = datetime(2026, 12, 2, 9, 20, tzinfo=UTC)  # just after the sample event (2026-12-02T09:14:22Z)
    key = _by_rule_in(_key_event(EVERYONE, OTHER), _remediating(*KMS_RULES))["kms-key-policy-cross-account"]
    approved = now - timedelta(hours=1)
    exception = RuleException(
        "ex-partner",
        ExceptionScope("kms-key-policy-cross-account", resource_pattern=key.resource_arn, literal=True),
        "a partner share the security team accepted",
        "arn:aws:iam::111122223333:user/alice",
        now - timedelta(hours=2),
        5,
        ExceptionStatus.APPROVED,
        "arn:aws:iam::111122223333:user/bob",
        approved,
        approved + timedelta(days=5),  # approval + days, as the desk sets it
    )
    _public_alone_leaves_other(_remediating(*KMS_RULES), exceptions=[exception], now=now)
