"""The trust-policy side of PMapper's STS edge (audit gap 6, issue 13 items 3, 4, 5 and 7).

An ``UpdateAssumeRolePolicy`` that newly lets a principal of the role's own account into a role that reaches more
than it (admin-equivalent, or escalating further) is a ``privilege-escalation`` finding: a principal the trust
names is let in by the trust alone (unless a Deny of its own covers the role); the account root lets in each
principal whose own policies allow ``sts:AssumeRole`` on the role (Deny and boundary applied). The previous trust
comes from the authorization details offline and the heartbeat's snapshot live; the plan puts it back when it is
known exactly, else the finding is alert-only. The corpus cases are transcribed from PMapper's tests (the
playground graph of tests/build_test_graphs.py at dd57e9a, used by tests/test_edge_identification.py, and
tests/test_permissions_boundaries.py at 1760e40), as ``tests/corpora/escalation/pmapper.json`` cites.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from typing import Any

import pytest

from iamwarden.domain.authorization_details import authorization_details_directory
from iamwarden.domain.directory import StaticDirectory
from iamwarden.domain.findings import Judgement, Verdict
from iamwarden.domain.policy import Condition, parse_policy
from iamwarden.domain.recorded import ROLE_TRUST, PastRemediation, Snapshot
from iamwarden.domain.settings import Settings, parse_settings
from iamwarden.domain.trust_escalation import MAX_ADMITTED, _implies, judge_trust_change, same_account_entries
from iamwarden.guardrails.engine import judge_event
from tests.conftest import load_event

ACCOUNT = "111122223333"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
SAMPLE = "update-assume-role-policy-names-weaker-role.json"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/ops-admin"


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _trust(*principals: str) -> dict[str, Any]:
    entries: str | list[str] = principals[0] if len(principals) == 1 else list(principals)
    return _doc({"Effect": "Allow", "Principal": {"AWS": entries}, "Action": "sts:AssumeRole"})


EC2 = _doc({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})
ROOT = _trust(f"arn:aws:iam::{ACCOUNT}:root")
LAMBDA = _doc({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"})
ASSUME_ANY = _doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"})
READ = _doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"})


def _arn(kind: str, name: str, account: str = ACCOUNT) -> str:
    return f"arn:aws:iam::{account}:{kind}/{name}"


def _role(
    name: str,
    trust: dict[str, Any] = EC2,
    *,
    admin: bool = False,
    inline: dict[str, Any] | None = None,
    boundary: str | None = None,
    account: str = ACCOUNT,
) -> dict[str, Any]:
    return {
        "Path": "/",
        "RoleName": name.rsplit("/", 1)[-1],
        "RoleId": f"AROA{name.upper()}",
        "Arn": _arn("role", name, account),
        "AssumeRolePolicyDocument": trust,
        "RolePolicyList": [{"PolicyName": k, "PolicyDocument": v} for k, v in (inline or {}).items()],
        "AttachedManagedPolicies": [{"PolicyName": "AdministratorAccess", "PolicyArn": ADMIN}] if admin else [],
        "InstanceProfileList": [],
        **({"PermissionsBoundary": {"PermissionsBoundaryArn": boundary}} if boundary else {}),
    }


def _user(
    name: str,
    *,
    admin: bool = False,
    inline: dict[str, Any] | None = None,
    boundary: str | None = None,
    account: str = ACCOUNT,
) -> dict[str, Any]:
    return {
        "Path": "/",
        "UserName": name.rsplit("/", 1)[-1],
        "UserId": f"AIDA{name.upper()}",
        "Arn": _arn("user", name, account),
        "UserPolicyList": [{"PolicyName": k, "PolicyDocument": v} for k, v in (inline or {}).items()],
        "AttachedManagedPolicies": [{"PolicyName": "AdministratorAccess", "PolicyArn": ADMIN}] if admin else [],
        "GroupList": [],
        **({"PermissionsBoundary": {"PermissionsBoundaryArn": boundary}} if boundary else {}),
    }


def _managed(arn: str, document: dict[str, Any]) -> dict[str, Any]:
    return {
        "PolicyName": arn.rsplit("/", 1)[-1],
        "Arn": arn,
        "DefaultVersionId": "v1",
        "PolicyVersionList": [{"VersionId": "v1", "IsDefaultVersion": True, "Document": document}],
    }


def _details(*principals: dict[str, Any], policies: Sequence[dict[str, Any]] = ()) -> StaticDirectory:
    return authorization_details_directory(
        {
            "UserDetailList": [p for p in principals if "UserName" in p],
            "GroupDetailList": [],
            "RoleDetailList": [p for p in principals if "RoleName" in p],
            "Policies": [_managed(ADMIN, _doc({"Effect": "Allow", "Action": "*", "Resource": "*"})), *policies],
        }
    )


def _update(trust: dict[str, Any], role: str = "ops-admin", event_name: str = "UpdateAssumeRolePolicy") -> Any:
    event = copy.deepcopy(load_event(SAMPLE))
    parameters: dict[str, Any] = {"roleName": role}
    if event_name == "CreateRole":
        parameters["assumeRolePolicyDocument"] = json.dumps(trust)
        event["detail"]["responseElements"] = {"role": {"arn": _arn("role", role), "roleName": role}}
    else:
        parameters["policyDocument"] = json.dumps(trust)
    event["detail"].update(eventName=event_name, requestParameters=parameters)
    return event


def _judge(trust: dict[str, Any], directory: StaticDirectory | None, **kwargs: Any) -> Judgement:
    return judge_event(_update(trust), Settings(), directory=directory, **kwargs)


def _escalation(judgement: Judgement) -> Any:
    [finding] = [f for f in judgement.findings if f.rule_id == "privilege-escalation"]
    return finding


def _no_escalation(judgement: Judgement) -> None:
    assert not [f for f in judgement.findings if f.rule_id == "privilege-escalation"], judgement.reason


# --- named principals -----------------------------------------------------------------------------


def test_a_named_weaker_role_let_into_an_admin_role_is_a_critical_finding_that_puts_the_old_trust_back() -> None:
    directory = _details(_role("ops-admin", EC2, admin=True), _role("app-deployer", inline={"read": READ}))

    finding = _escalation(_judge(_trust(_arn("role", "app-deployer")), directory))

    assert (finding.severity.value, finding.certain) == ("critical", True)
    assert "role app-deployer (named in the trust policy)" in finding.reason
    assert "Role ops-admin is admin-equivalent" in finding.reason
    assert "(AssumeStrongerRole)" in finding.reason
    [step] = finding.plan
    assert step.action == "restore_previous_trust_policy"
    assert step.parameters["restore_to"] == EC2
    assert step.parameters["policy"] == _trust(_arn("role", "app-deployer"))
    assert {"admitted": _arn("role", "app-deployer"), "how": "named in the trust policy"} in finding.offending


def test_a_named_principal_as_strong_as_the_role_is_no_finding() -> None:
    directory = _details(_role("ops-admin", EC2, admin=True), _role("break-glass", admin=True))

    judgement = _judge(_trust(_arn("role", "break-glass")), directory)

    assert judgement.verdict is Verdict.COMPLIANT, judgement.reason


def test_a_named_principal_that_already_escalates_on_its_own_is_no_finding() -> None:
    self_writer = _doc({"Effect": "Allow", "Action": "iam:PutRolePolicy", "Resource": _arn("role", "ci")})
    directory = _details(_role("ops-admin", EC2, admin=True), _role("ci", inline={"self": self_writer}))

    _no_escalation(_judge(_trust(_arn("role", "ci")), directory))


def test_a_role_that_reaches_no_more_lets_anyone_in() -> None:
    directory = _details(_role("ops-admin", EC2, inline={"read": READ}), _role("app-deployer"))

    assert _judge(_trust(_arn("role", "app-deployer")), directory).verdict is Verdict.COMPLIANT


def test_a_role_that_escalates_further_is_stronger_too() -> None:
    passer = _doc(
        {
            "Effect": "Allow",
            "Action": ["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"],
            "Resource": "*",
        }
    )
    directory = _details(
        _role("ops-admin", EC2, inline={"deploy": passer}), _role("lambda-admin", LAMBDA, admin=True), _user("alice")
    )

    finding = _escalation(_judge(_trust(_arn("user", "alice")), directory))

    assert "Role ops-admin can escalate further" in finding.reason
    assert "user alice (named in the trust policy)" in finding.reason


def test_a_deny_of_its_own_keeps_a_named_principal_out() -> None:
    deny = _doc({"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": _arn("role", "ops-*")})
    directory = _details(_role("ops-admin", EC2, admin=True), _role("app-deployer", inline={"deny": deny}))

    _no_escalation(_judge(_trust(_arn("role", "app-deployer")), directory))


def test_a_principal_the_previous_trust_let_in_already_is_not_new() -> None:
    before = _trust(_arn("role", "app-deployer"))
    directory = _details(_role("ops-admin", before, admin=True), _role("app-deployer"), _role("ci"))

    judgement = _judge(_trust(_arn("role", "app-deployer"), _arn("role", "ci")), directory)

    finding = _escalation(judgement)
    assert "role ci (named in the trust policy)" in finding.reason
    assert "app-deployer" not in finding.reason


# --- the account root -----------------------------------------------------------------------------


def test_the_account_root_lets_in_a_weak_role_holding_assume_role_on_every_role() -> None:
    directory = _details(
        _role("ops-admin", EC2, admin=True),
        _role("app", inline={"assume": ASSUME_ANY}),
        _role("reader", inline={"read": READ}),
        _role("break-glass", admin=True),
    )

    finding = _escalation(_judge(ROOT, directory))

    assert finding.certain
    assert "role app (through its account, holding sts:AssumeRole on it (statement 0 of inline app/assume))" in (
        finding.reason
    )
    assert "reader" not in finding.reason  # no sts:AssumeRole: the account's trust does not let it in
    assert "break-glass" not in finding.reason  # as strong as the role
    [step] = finding.plan
    assert step.parameters["restore_to"] == EC2


def test_the_bare_account_id_is_the_account_too() -> None:
    directory = _details(_role("ops-admin", EC2, admin=True), _role("app", inline={"assume": ASSUME_ANY}))

    assert "role app (through its account" in _escalation(_judge(_trust(ACCOUNT), directory)).reason


def test_a_deny_on_the_role_cancels_the_grant() -> None:
    deny = {"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": _arn("role", "ops-admin")}
    directory = _details(
        _role("ops-admin", EC2, admin=True),
        _role("app", inline={"assume": _doc({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}, deny)}),
    )

    assert _judge(ROOT, directory).verdict is Verdict.COMPLIANT


def test_a_boundary_without_assume_role_cancels_the_grant() -> None:
    boundary = "arn:aws:iam::111122223333:policy/read-only-boundary"
    directory = _details(
        _role("ops-admin", EC2, admin=True),
        _role("app", inline={"assume": ASSUME_ANY}, boundary=boundary),
        policies=[_managed(boundary, READ)],
    )

    assert _judge(ROOT, directory).verdict is Verdict.COMPLIANT


def test_a_principal_without_its_own_grant_is_not_let_in_by_the_account() -> None:
    directory = _details(_role("ops-admin", EC2, admin=True), _role("app", inline={"read": READ}), _user("bob"))

    assert _judge(ROOT, directory).verdict is Verdict.COMPLIANT


def test_an_account_the_previous_trust_let_in_already_reads_nobody() -> None:
    """Where the users are not listed: were the account judged again, that would be "cannot tell"."""
    directory = _DirectoryWithoutUsers(
        _role("ops-admin", ROOT, admin=True), _role("app", inline={"assume": ASSUME_ANY})
    )

    assert judge_trust_change(ROLE, parse_policy(ROOT), parse_policy(ROOT), directory) is None
    judged = judge_trust_change(ROLE, parse_policy(ROOT), parse_policy(EC2), directory)
    assert judged is not None
    assert [a.principal_arn for a in judged.admitted] == [_arn("role", "app")]
    assert judged.unknown == (
        f"which users of account {ACCOUNT} hold sts:AssumeRole on it (the users are not listed here)",
    )


class _DirectoryWithoutUsers:
    """The authorization details without their user list (as the live reader where listing users is refused)."""

    def __init__(self, *principals: dict[str, Any]) -> None:
        self._details = _details(*principals)

    def principal(self, principal_arn: str) -> Any:
        return self._details.principal(principal_arn)

    def roles_matching(self, account: str, pattern: str) -> tuple[str, ...] | None:
        return self._details.roles_matching(account, pattern)

    def roles_behind(self, resource_arn: str) -> tuple[str, ...] | None:
        return None


def test_more_principals_than_the_bound_leave_the_rest_unknown() -> None:
    roles = [_role(f"app-{number:03}", inline={"assume": ASSUME_ANY}) for number in range(MAX_ADMITTED + 5)]
    directory = _details(_role("ops-admin", EC2, admin=True), *roles)

    judged = judge_trust_change(ROLE, parse_policy(ROOT), parse_policy(EC2), directory)

    assert judged is not None
    assert len(judged.admitted) == MAX_ADMITTED
    assert any("the other 5 principals" in fact for fact in judged.unknown)


# --- what is not known ----------------------------------------------------------------------------


def test_without_authorization_details_the_finding_is_alert_only() -> None:
    finding = _escalation(judge_event(_update(_trust(_arn("role", "app-deployer"))), Settings()))

    assert (finding.severity.value, finding.certain, finding.plan) == ("high", False, ())
    assert any("no authorization details" in fact for fact in finding.needs_context)
    assert any("what trust policy role ops-admin had before" in fact for fact in finding.needs_context)


def test_details_that_already_hold_the_change_do_not_say_what_it_replaced() -> None:
    trust = _trust(_arn("role", "app-deployer"))
    directory = _details(_role("ops-admin", trust, admin=True), _role("app-deployer"))

    finding = _escalation(_judge(trust, directory))

    assert "role app-deployer (named in the trust policy)" in finding.reason
    assert finding.plan == ()
    assert not finding.certain
    assert finding.needs_context == (
        "what trust policy role ops-admin had before (the authorization details already hold this change)",
    )
    assert "Whether it was let in before is not known" in finding.reason


def test_a_role_the_details_do_not_know_is_alert_only() -> None:
    directory = _details(_role("app-deployer"))

    finding = _escalation(_judge(_trust(_arn("role", "app-deployer")), directory))

    assert not finding.certain
    assert "what role ops-admin may do (its policies could not be read)" in finding.needs_context


class _Recorded:
    def __init__(self, snapshot: Snapshot | None) -> None:
        self._snapshot = snapshot

    def remediations(self, resource_arn: str) -> Sequence[PastRemediation]:
        return ()

    def snapshot(self, kind: str, resource_arn: str) -> Snapshot | None:
        return self._snapshot if kind == ROLE_TRUST and resource_arn == ROLE else None


@pytest.mark.parametrize(
    ("snapshot", "restores", "unknown"),
    [
        (Snapshot(ROLE_TRUST, ROLE, "2026-11-22T09:00:00Z", {"trust_policy": EC2}), True, None),
        (
            Snapshot(ROLE_TRUST, ROLE, "2026-11-22T11:00:00Z", {"trust_policy": EC2}),
            False,
            "the last snapshot, 2026-11-22T11:00:00Z, is newer than the change",
        ),
        (None, False, "IAM Warden has no snapshot of it"),
    ],
    ids=["snapshot-before", "snapshot-after", "no-snapshot"],
)
def test_live_the_previous_trust_is_the_snapshot_taken_before_the_change(
    snapshot: Snapshot | None, restores: bool, unknown: str | None
) -> None:
    trust = _trust(_arn("role", "app-deployer"))
    # Read live, the role already holds the new trust.
    directory = _details(_role("ops-admin", trust, admin=True), _role("app-deployer"))

    finding = _escalation(_judge(trust, directory, recorded=_Recorded(snapshot)))

    assert bool(finding.plan) is restores
    if unknown is None:
        assert finding.certain
        assert "as IAM Warden last saw it, 2026-11-22T09:00:00Z" in finding.plan[0].summary
    else:
        assert finding.needs_context == (f"what trust policy role ops-admin had before ({unknown})",)


# --- what stays the trust-policy rule's, or nobody's ----------------------------------------------


def test_create_role_makes_a_role_with_no_permissions_so_it_is_no_escalation() -> None:
    directory = _details(_role("app-deployer"))
    event = _update(_trust(_arn("role", "app-deployer")), event_name="CreateRole")

    judgement = judge_event(event, Settings(), directory=directory)

    assert judgement.verdict is Verdict.COMPLIANT, judgement.reason


def test_services_and_other_accounts_keep_their_judgement() -> None:
    directory = _details(_role("ops-admin", EC2, admin=True), _role("app", inline={"assume": ASSUME_ANY}))

    assert _judge(_doc(*EC2["Statement"]), directory).verdict is Verdict.COMPLIANT
    judgement = _judge(_trust("arn:aws:iam::999988887777:root"), directory)
    assert [f.rule_id for f in judgement.findings] == ["trust-policy-untrusted"]


@pytest.mark.parametrize(("untrusted_mode", "escalation_plans"), [("remediate", False), ("alert", True)])
def test_an_outsider_and_a_weaker_insider_give_two_findings_and_one_acting_plan(
    untrusted_mode: str, escalation_plans: bool
) -> None:
    directory = _details(_role("ops-admin", EC2, admin=True), _role("app", inline={"assume": ASSUME_ANY}))
    settings, problems = parse_settings({"rules": {"trust-policy-untrusted": {"mode": untrusted_mode}}})
    assert problems == []
    event = _update(_trust("arn:aws:iam::999988887777:root", f"arn:aws:iam::{ACCOUNT}:root"))

    judgement = judge_event(event, settings, directory=directory)

    untrusted, escalation = judgement.findings
    assert (untrusted.rule_id, escalation.rule_id) == ("trust-policy-untrusted", "privilege-escalation")
    assert untrusted.plan
    assert bool(escalation.plan) is escalation_plans
    acts_elsewhere = "The trust-policy-untrusted remediation acts on this trust policy" in escalation.reason
    assert acts_elsewhere is not escalation_plans


def test_the_rule_switched_off_judges_nothing() -> None:
    directory = _details(_role("ops-admin", EC2, admin=True), _role("app-deployer"))
    settings, problems = parse_settings({"rules": {"privilege-escalation": {"mode": "off"}}})
    assert problems == []

    judgement = judge_event(_update(_trust(_arn("role", "app-deployer"))), settings, directory=directory)

    assert judgement.verdict is Verdict.COMPLIANT


def test_with_the_trust_rule_off_the_escalation_is_still_judged_and_keeps_its_plan() -> None:
    directory = _details(_role("ops-admin", EC2, admin=True), _role("app", inline={"assume": ASSUME_ANY}))
    settings, problems = parse_settings({"rules": {"trust-policy-untrusted": {"mode": "off"}}})
    assert problems == []
    event = _update(_trust("arn:aws:iam::999988887777:root", f"arn:aws:iam::{ACCOUNT}:root"))

    [finding] = judge_event(event, settings, directory=directory).findings

    assert finding.rule_id == "privilege-escalation"
    assert finding.plan


def test_same_account_entries_leave_other_accounts_services_and_the_role_itself_out() -> None:
    trust = parse_policy(
        _doc(
            {
                "Effect": "Allow",
                "Principal": {
                    "AWS": [ROLE, _arn("role", "app"), _arn("user", "alice"), "arn:aws:iam::999988887777:role/x"],
                    "Service": "ec2.amazonaws.com",
                },
                "Action": "sts:AssumeRole",
            },
            {"Effect": "Deny", "Principal": {"AWS": _arn("role", "denied")}, "Action": "sts:AssumeRole"},
        )
    )

    assert same_account_entries(trust, ROLE) == ((_arn("role", "app"), _arn("user", "alice")), False)


# --- everyone, bounded to the account (review s10 finding 4) ---------------------------------------


def _everyone(condition: dict[str, Any] | None, principal: Any = None) -> dict[str, Any]:
    statement: dict[str, Any] = {"Effect": "Allow", "Principal": principal or {"AWS": "*"}, "Action": "sts:AssumeRole"}
    if condition is not None:
        statement["Condition"] = condition
    return _doc(statement)


def _jumper_and_alice() -> StaticDirectory:
    return _details(
        _role("ops-admin", EC2, admin=True),
        _role("jumper", inline={"assume": ASSUME_ANY}),
        _role("reader", inline={"read": READ}),
        _user("alice", inline={"assume": ASSUME_ANY}),
    )


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}},
        {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}},
        {"StringLike": {"aws:PrincipalAccount": "1111*"}},
        None,
    ],
    ids=["own-account", "own-org", "account-pattern", "unbounded"],
)
@pytest.mark.parametrize("principal", [{"AWS": "*"}, "*"], ids=["aws-star", "star"])
def test_everyone_bounded_to_the_account_lets_in_its_weaker_principals_as_the_root_does(
    condition: dict[str, Any] | None, principal: Any
) -> None:
    trust = _everyone(condition, principal)

    assert same_account_entries(parse_policy(trust), ROLE) == ((), True)
    finding = _escalation(_judge(trust, _jumper_and_alice()))
    assert finding.certain
    assert "role jumper (through its account, holding sts:AssumeRole on it" in finding.reason
    assert "user alice (through its account" in finding.reason
    assert "reader" not in finding.reason  # no sts:AssumeRole of its own
    assert [step.parameters["restore_to"] for step in finding.plan] in ([EC2], [])


def test_an_arn_pattern_bound_lets_in_only_the_principals_it_matches() -> None:
    trust = _everyone({"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/*"}})

    assert same_account_entries(parse_policy(trust), ROLE) == ((), True)
    finding = _escalation(_judge(trust, _jumper_and_alice()))
    assert "role jumper (through its account" in finding.reason
    assert "alice" not in finding.reason  # a user: the pattern names roles only


@pytest.mark.parametrize("operator", ["ArnEquals", "StringEquals", "ArnLike"])
def test_an_exact_principal_arn_bound_names_that_principal(operator: str) -> None:
    trust = _everyone({operator: {"aws:PrincipalArn": [_arn("role", "jumper"), "arn:aws:iam::999988887777:role/x"]}})

    assert same_account_entries(parse_policy(trust), ROLE) == ((_arn("role", "jumper"),), False)
    finding = _escalation(_judge(trust, _jumper_and_alice()))
    assert "role jumper (through its account, holding sts:AssumeRole on it" in finding.reason
    assert "alice" not in finding.reason


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEquals": {"aws:PrincipalAccount": "999988887777"}},
        {"StringNotEquals": {"aws:PrincipalAccount": ACCOUNT}},
        {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::999988887777:role/*"}},
        {"StringEquals": {"aws:PrincipalArn": "*"}},  # StringEquals has no wildcards: names nothing
        {
            "StringEquals": {"aws:PrincipalAccount": ACCOUNT},
            "ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::999988887777:role/x"},
        },
    ],
    ids=["other-account", "not-own-account", "other-account-arns", "literal-star", "own-account-and-other-arn"],
)
def test_a_bound_that_keeps_the_account_out_lets_no_one_of_it_in(condition: dict[str, Any]) -> None:
    trust = _everyone(condition)

    assert same_account_entries(parse_policy(trust), ROLE) == ((), False)
    _no_escalation(_judge(trust, _jumper_and_alice()))


@pytest.mark.parametrize("pattern", ["arn:aws:iam::*", f"arn:aws:iam::{ACCOUNT}*"])
def test_a_string_like_arn_bound_spanning_colons_lets_the_account_in(pattern: str) -> None:
    """``StringLike`` matches the whole ARN (a ``*`` before the resource spans colons): ``arn:aws:iam::*`` lets
    every principal of the account in. Read field by field it seemed to name no ARN of the account, so this trust
    (quiet for the trust-policy rule: the account bound keeps outsiders out) was never judged (mends-s11)."""
    trust = _everyone({"StringEquals": {"aws:PrincipalAccount": ACCOUNT}, "StringLike": {"aws:PrincipalArn": pattern}})

    assert same_account_entries(parse_policy(trust), ROLE) == ((), True)
    finding = _escalation(_judge(trust, _jumper_and_alice()))
    assert "role jumper (through its account, holding sts:AssumeRole on it" in finding.reason
    assert "user alice (through its account" in finding.reason


def test_a_policy_variable_in_the_bound_is_not_evaluated_so_it_may_hold() -> None:
    trust = _everyone({"StringEquals": {"aws:PrincipalAccount": "${aws:ResourceAccount}"}})

    assert same_account_entries(parse_policy(trust), ROLE) == ((), True)


def test_everyone_bounded_to_the_account_was_let_in_by_the_root_before() -> None:
    trust = parse_policy(_everyone({"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}))

    assert judge_trust_change(ROLE, trust, parse_policy(ROOT), _jumper_and_alice()) is None


# --- the old trust read narrow: who was provably in (review of mends-s11, findings 1 and 2) --------

OWN_ACCOUNT = {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}}
ORG = {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}


def _admin_with_trust(before: dict[str, Any]) -> StaticDirectory:
    """``ops-admin`` with ``before`` as its trust (the details offline hold the trust the change replaced)."""
    return _details(
        _role("ops-admin", before, admin=True),
        _role("jumper", inline={"assume": ASSUME_ANY}),
        _user("alice", inline={"assume": ASSUME_ANY}),
    )


@pytest.mark.parametrize(
    "before",
    [
        {"StringEquals": {"aws:PrincipalArn": _arn("role", "BreakGlass")}},
        {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/BreakGlass"}},
        {"StringEquals": {"aws:PrincipalAccount": "999999999999"}},
    ],
    ids=["one-arn", "arn-pattern", "other-account"],
)
def test_widening_a_conditioned_everyone_trust_to_the_account_lets_the_account_in(before: dict[str, Any]) -> None:
    """The old trust lets everyone in under conditions read exactly that kept the account out: widening it to the
    account is new for every principal of it, a certain gain, and the old trust goes back. Read wide, as the new
    trust is, the old ``*`` counted everyone as let in already, so an admin role opened to the account was compliant."""
    judgement = _judge(_everyone(OWN_ACCOUNT), _admin_with_trust(_everyone(before)))

    finding = _escalation(judgement)
    assert (finding.severity.value, finding.certain, finding.needs_context) == ("critical", True, ())
    assert "role jumper (through its account" in finding.reason
    assert "user alice (through its account" in finding.reason
    [step] = finding.plan
    assert (step.action, step.parameters["restore_to"]) == ("restore_previous_trust_policy", _everyone(before))


@pytest.mark.parametrize(
    ("before", "unread"),
    [
        ({"StringEquals": {"aws:SourceIp": "203.0.113.7"}}, "StringEquals aws:sourceip 203.0.113.7"),
        ({"ArnNotEquals": {"aws:PrincipalAccount": ACCOUNT}}, f"ArnNotEquals aws:principalaccount {ACCOUNT}"),
        ({"StringNotEquals": {"aws:PrincipalArn": _arn("role", "x")}}, "StringNotEquals aws:principalarn"),
    ],
    ids=["unread-key", "arn-operator-on-account", "negated-arn"],
)
def test_an_old_condition_not_read_exactly_makes_the_widening_alert_only(before: dict[str, Any], unread: str) -> None:
    """Never remediate on a guess: a principal is not proven in before (the old condition is not read exactly), nor
    out (it may have held for it). The finding is alert-only and names the condition it could not read."""
    finding = _escalation(_judge(_everyone(OWN_ACCOUNT), _admin_with_trust(_everyone(before))))

    assert (finding.severity.value, finding.certain, finding.plan) == ("high", False, ())
    for who in ("role jumper", "user alice"):
        [fact] = [fact for fact in finding.needs_context if fact.startswith(f"whether {who} could assume")]
        assert f"statement 0 if {unread}" in fact
        assert "not read exactly" in fact


OWN_FROM = {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}, "IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}


@pytest.mark.parametrize(
    "after",
    [
        {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}, "IpAddress": {"aws:SourceIp": "10.0.0.0/16"}},
        {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}, "IpAddress": {"aws:SourceIp": ["10.1.2.3", "10.9.0.0/24"]}},
    ],
    ids=["narrower-range", "addresses-inside"],
)
def test_narrowing_an_address_range_is_no_widening(after: dict[str, Any]) -> None:
    """Every request the new range lets in came from inside the old one, so the old trust let the same principals in:
    nothing is new (read narrow without this, the old ``aws:SourceIp`` test proved no one in, and the narrowing
    was a certain widening that put the wider trust back)."""
    directory = _admin_with_trust(_everyone(OWN_FROM))

    assert (
        judge_trust_change(ROLE, parse_policy(_everyone(after)), parse_policy(_everyone(OWN_FROM)), directory) is None
    )
    _no_escalation(_judge(_everyone(after), directory))


def _test(operator: str, key: str, *values: str, qualifier: str | None = None, if_exists: bool = False) -> Condition:
    return Condition(operator, qualifier, if_exists, key.lower(), values)


@pytest.mark.parametrize(
    ("held", "condition", "implied"),
    [
        (_test("IpAddress", "aws:SourceIp", "10.0.0.0/16"), _test("IpAddress", "aws:SourceIp", "10.0.0.0/8"), True),
        (_test("IpAddress", "aws:SourceIp", "10.0.0.0/8"), _test("IpAddress", "aws:SourceIp", "10.0.0.0/16"), False),
        (_test("IpAddress", "aws:SourceIp", "2001:db8::/48"), _test("IpAddress", "aws:SourceIp", "10.0.0.0/8"), False),
        (_test("IpAddress", "aws:SourceIp", "ten"), _test("IpAddress", "aws:SourceIp", "10.0.0.0/8"), False),
        (
            _test("NotIpAddress", "aws:SourceIp", "10.0.0.0/8"),
            _test("NotIpAddress", "aws:SourceIp", "10.1.0.0/16"),
            True,
        ),
        (
            _test("NotIpAddress", "aws:SourceIp", "10.1.0.0/16"),
            _test("NotIpAddress", "aws:SourceIp", "10.0.0.0/8"),
            False,
        ),
        (
            _test("StringEquals", "aws:SourceVpc", "vpc-1"),
            _test("StringEquals", "aws:SourceVpc", "vpc-1", "vpc-2"),
            True,
        ),
        (
            _test("StringEquals", "aws:SourceVpc", "vpc-1", "vpc-2"),
            _test("StringEquals", "aws:SourceVpc", "vpc-1"),
            False,
        ),
        (
            _test("StringNotEquals", "aws:SourceVpc", "vpc-1", "vpc-2"),
            _test("StringNotEquals", "aws:SourceVpc", "vpc-1"),
            True,
        ),
        (
            _test("StringNotEquals", "aws:SourceVpc", "vpc-1"),
            _test("StringNotEquals", "aws:SourceVpc", "vpc-1", "vpc-2"),
            False,
        ),
        (_test("StringEquals", "aws:SourceVpc", "vpc-1"), _test("StringEquals", "aws:SourceVpce", "vpc-1"), False),
        (_test("StringEquals", "aws:SourceVpc", "vpc-1"), _test("StringLike", "aws:SourceVpc", "vpc-1"), False),
        (
            _test("StringEquals", "aws:SourceVpc", "vpc-1", if_exists=True),
            _test("StringEquals", "aws:SourceVpc", "vpc-1", "vpc-2"),
            False,  # without the key the IfExists test holds, the plain one does not
        ),
        (
            _test("StringEquals", "aws:TagKeys", "a", qualifier="ForAllValues"),
            _test("StringEquals", "aws:TagKeys", "a", "b", qualifier="ForAnyValue"),
            False,
        ),
        (
            _test("NumericLessThan", "aws:MultiFactorAuthAge", "300"),
            _test("NumericLessThan", "aws:MultiFactorAuthAge", "3600"),
            False,
        ),
    ],
)
def test_a_new_condition_implies_an_old_one_only_when_it_is_the_same_test_narrower(
    held: Condition, condition: Condition, implied: bool
) -> None:
    assert _implies(held, condition) is implied


def test_widening_an_address_range_is_alert_only_naming_the_old_range() -> None:
    """A wider range: the principals calling from inside the old one were in already, the others were not. Which
    of them calls from where is not known, so it is no certain gain."""
    after = {"StringEquals": {"aws:PrincipalAccount": ACCOUNT}, "IpAddress": {"aws:SourceIp": "10.0.0.0/7"}}

    finding = _escalation(_judge(_everyone(after), _admin_with_trust(_everyone(OWN_FROM))))

    assert (finding.severity.value, finding.certain, finding.plan) == ("high", False, ())
    assert finding.needs_context == tuple(
        f"whether {who} could assume role ops-admin before the change (the trust policy it replaced may have let it in:"
        " statement 0 if IpAddress aws:sourceip 10.0.0.0/8 held (not read exactly here))"
        for who in ("role jumper", "user alice")
    )


def test_a_principal_the_old_bound_provably_let_in_is_not_new() -> None:
    before = _everyone({"ArnLike": {"aws:PrincipalArn": _arn("role", "jump*")}})

    finding = _escalation(_judge(_everyone(OWN_ACCOUNT), _admin_with_trust(before)))
    assert "user alice (through its account" in finding.reason
    assert "jumper" not in finding.reason  # it matched the old bound: let in already


def test_the_same_unread_condition_in_both_trusts_held_before_too() -> None:
    """The new trust rests on its own conditions: a principal it lets in meets them, so the old trust's identical
    test held for it as well. An unchanged data-perimeter condition is no widening."""
    perimeter = {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5", "aws:SourceVpc": "vpc-1"}}
    before = _everyone(perimeter)
    after = _doc(*_everyone(perimeter)["Statement"], *LAMBDA["Statement"])  # a service added, the rest as it was

    assert judge_trust_change(ROLE, parse_policy(after), parse_policy(before), _admin_with_trust(before)) is None
    _no_escalation(_judge(after, _admin_with_trust(before)))


def test_a_condition_on_a_named_principal_before_proves_nothing_either_way() -> None:
    before = _doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": _arn("role", "jumper")},
            "Action": "sts:AssumeRole",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
        }
    )

    finding = _escalation(_judge(_trust(_arn("role", "jumper")), _admin_with_trust(before)))
    assert (finding.severity.value, finding.plan) == ("high", ())
    assert finding.needs_context == (
        "whether role jumper could assume role ops-admin before the change (the trust policy it replaced may have let "
        "it in: statement 0 if Bool aws:multifactorauthpresent true held (not read exactly here))",
    )


def test_a_named_principal_is_a_certain_gain_when_the_old_trust_named_another() -> None:
    """The old trust names only ``BreakGlass`` under its condition: read wide it still never lets ``jumper`` in."""
    before = _doc(
        {
            "Effect": "Allow",
            "Principal": {"AWS": _arn("role", "BreakGlass")},
            "Action": "sts:AssumeRole",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
        }
    )

    finding = _escalation(_judge(_trust(_arn("role", "jumper")), _admin_with_trust(before)))
    assert (finding.severity.value, finding.certain, finding.needs_context) == ("critical", True, ())
    assert "role jumper (named in the trust policy)" in finding.reason


def test_a_not_principal_before_proves_nothing_either_way() -> None:
    """``NotPrincipal`` spares whom it does not name: they may have been in already (alert-only, never restored)."""
    before = _doc({"Effect": "Allow", "NotPrincipal": {"AWS": _arn("role", "x")}, "Action": "sts:AssumeRole"})

    finding = _escalation(_judge(ROOT, _admin_with_trust(before)))
    assert (finding.severity.value, finding.plan) == ("high", ())
    assert any(
        fact.startswith("whether role jumper could assume")
        and "a NotPrincipal (whom it spares is not read here)" in fact
        for fact in finding.needs_context
    )


@pytest.mark.parametrize(
    "bound",
    [
        {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/BreakGlass"}},
        {"StringLike": {"aws:PrincipalArn": "arn:aws*:iam::*:role/OrgAdmin*"}},
        {"StringLike": {"aws:PrincipalArn": "arn:aws:iam::*"}},
    ],
    ids=["account-star", "partition-star", "short"],
)
def test_an_old_string_like_bound_spanning_colons_is_not_the_whole_account(bound: dict[str, Any]) -> None:
    """Read wide (the new trust), such a bound may match any ARN of the account; read narrow (the old trust) it
    proves in only what it matches field by field, so dropping it is a widening (without details: alert-only)."""
    before = _everyone({**ORG, **bound})

    widened = judge_trust_change(ROLE, parse_policy(_everyone(ORG)), parse_policy(before), None)
    assert widened is not None
    assert widened.unknown == (
        "what role ops-admin may do and what the principals of its account may do (no authorization details)",
    )


def test_an_old_arn_operator_on_the_account_is_not_the_whole_account() -> None:
    before = _everyone({"ArnNotEquals": {"aws:PrincipalAccount": ACCOUNT}})

    assert judge_trust_change(ROLE, parse_policy(_everyone(ORG)), parse_policy(before), None) is not None


def test_an_old_everyone_bounded_to_the_account_was_the_whole_account() -> None:
    before = _everyone({"StringLike": {"aws:PrincipalAccount": "1111*"}, **ORG})

    assert judge_trust_change(ROLE, parse_policy(_everyone(ORG)), parse_policy(before), None) is None


# --- PMapper's cases ------------------------------------------------------------------------------

PMAPPER = "000000000000"
JUMP_POLICY = ASSUME_ANY  # build_test_graphs._get_jump_policy
S3_FULL = _doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})


def _playground(target_trust: dict[str, Any]) -> Judgement:
    """PMapper's playground graph, with the trust of an admin role (so it is stronger) set to ``target_trust``."""
    directory = _details(
        _user("admin", admin=True, account=PMAPPER),
        _role("ec2_ssm_role", account=PMAPPER),
        _role("s3_access_role", inline={"s3": S3_FULL}, account=PMAPPER),
        _user("jumpuser", inline={"jump": JUMP_POLICY}, account=PMAPPER),
        _user("somepath/some_other_jumpuser", inline={"jump": JUMP_POLICY}, account=PMAPPER),
        _role("somepath/somerole", inline={"s3": S3_FULL}, account=PMAPPER),
        _role("ops-admin", EC2, admin=True, account=PMAPPER),
    )
    event = _update(target_trust)
    event["account"] = event["detail"]["recipientAccountId"] = PMAPPER
    event["detail"]["userIdentity"]["accountId"] = PMAPPER
    return judge_event(event, Settings(), directory=directory)


@pytest.mark.parametrize(
    "trust",
    [_trust(f"arn:aws:iam::{PMAPPER}:root"), _trust(PMAPPER)],
    ids=["root_trusted_policy_doc", "alt_root_trusted_policy_doc"],
)
def test_pmapper_playground_jump_users_are_let_in_through_the_account(trust: dict[str, Any]) -> None:
    """test_edge_identification.test_playground_assume_role: jumpuser reaches the root-trusted roles."""
    finding = _escalation(_playground(trust))

    assert "user jumpuser (through its account" in finding.reason
    assert "user some_other_jumpuser (through its account" in finding.reason  # a path in the user's ARN
    for strong_or_without_grant in ("user admin", "s3_access_role", "somerole", "ec2_ssm_role"):
        assert strong_or_without_grant not in finding.reason


def test_pmapper_playground_another_account_is_not_this_edge() -> None:
    """test_playground_assume_role: external_s3_access_role (other_acct_trusted_policy_doc) is not reached."""
    judgement = _playground(_trust("999999999999"))

    assert [f.rule_id for f in judgement.findings] == ["trust-policy-untrusted"]


def test_pmapper_a_trust_naming_a_user_lets_it_in_whatever_its_boundary_says() -> None:
    """test_permissions_boundaries.test_permissions_boundary_with_resource_policy: asdf2 (no policies, an empty
    boundary) is named by the trust; asdf1 (``*`` bounded to sts:AssumeRole on JumpRole) comes in through the
    account. The test does not say what JumpRole may do: here it is admin-equivalent, so both are weaker."""
    jump_boundary = f"arn:aws:iam::{PMAPPER}:policy/AssumeJumpRole"
    empty = f"arn:aws:iam::{PMAPPER}:policy/EmptyPolicy"
    directory = _details(
        _role("JumpRole", EC2, admin=True, account=PMAPPER),
        _user(
            "asdf1",
            inline={"admin_policy": _doc({"Effect": "Allow", "Action": "*", "Resource": "*"})},
            boundary=jump_boundary,
            account=PMAPPER,
        ),
        _user("asdf2", boundary=empty, account=PMAPPER),
        policies=[
            _managed(
                jump_boundary,
                _doc(
                    {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f"arn:aws:iam::{PMAPPER}:role/JumpRole"}
                ),
            ),
            _managed(empty, _doc()),
        ],
    )
    event = _update(_trust(f"arn:aws:iam::{PMAPPER}:user/asdf2", f"arn:aws:iam::{PMAPPER}:root"), role="JumpRole")
    event["account"] = event["detail"]["recipientAccountId"] = PMAPPER

    finding = _escalation(judge_event(event, Settings(), directory=directory))

    assert "user asdf2 (named in the trust policy)" in finding.reason
    assert "user asdf1 (through its account, holding sts:AssumeRole on it" in finding.reason
