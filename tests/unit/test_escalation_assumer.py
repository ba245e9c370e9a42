"""A role that writes users' or groups' permissions, assumed by a user (audit gap 12).

iam-vulnerable's privesc7/8/10/11/13 *role* variants (modules/free-resources/privesc-paths/) hold
``iam:PutUserPolicy``/``AttachUserPolicy``/``AddUserToGroup``/``PutGroupPolicy``/``AttachGroupPolicy`` on ``*``;
the published way to use them is a user who may assume the role writing an admin policy onto itself or its group.
The role's trust policy says who may assume it; offline without authorization details that is not known, so the
path is only possible (alert-only). A trust that admits no user, or a grant on another user, is no path.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from iamwarden.app.cli import DetailsDocuments
from iamwarden.domain.authorization_details import authorization_details_directory
from iamwarden.domain.directory import PrincipalKey, StaticDirectory
from iamwarden.domain.escalation import PolicyRisk, assess_principal
from iamwarden.domain.findings import Verdict
from iamwarden.domain.policy import Policy, parse_policy
from iamwarden.domain.principals import NamedPolicy, PrincipalPolicies
from iamwarden.domain.settings import Settings
from iamwarden.domain.trust_escalation import judge_trust_change
from iamwarden.guardrails.engine import judge_event
from tests.conftest import load_event

ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app-backend"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
BOB = f"arn:aws:iam::{ACCOUNT}:user/bob"
DEVS = f"arn:aws:iam::{ACCOUNT}:group/devs"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(action: str, resource: str = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


def _trust(principal: dict[str, str]) -> dict[str, Any]:
    return _doc({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"})


NAMES_ALICE = _trust({"AWS": ALICE})
ACCOUNT_ROOT = _trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"})
LAMBDA_ONLY = _trust({"Service": "lambda.amazonaws.com"})
ASSUME_APP = _allow("sts:AssumeRole", ROLE)


def _policy(document: dict[str, Any]) -> Policy:
    return parse_policy(document)


def _user(arn: str, *documents: dict[str, Any], groups: tuple[str, ...] | None = ()) -> PrincipalPolicies:
    name = arn.rsplit("/", 1)[-1]
    policies = tuple(NamedPolicy(f"inline {name}/p{i}", _policy(d)) for i, d in enumerate(documents))
    return PrincipalPolicies(arn, policies, groups=groups)


def _role(grant: dict[str, Any], trust: dict[str, Any] | None) -> PrincipalPolicies:
    policy = NamedPolicy("inline app-backend/grant", _policy(_doc(grant)))
    return PrincipalPolicies(ROLE, (policy,), trust=None if trust is None else _policy(trust))


def _key(arn: str) -> PrincipalKey:
    key = PrincipalKey.of(arn)
    assert key is not None
    return key


def _directory(*principals: PrincipalPolicies, **kwargs: Any) -> StaticDirectory:
    """Everything the account holds (its role and user lists are complete)."""
    roles = {ACCOUNT: [p.principal_arn for p in principals if p.kind == "role"]}
    return StaticDirectory({_key(p.principal_arn): p for p in principals}, roles=roles, **kwargs)


def _judge(grant: dict[str, Any], trust: dict[str, Any] | None, *users: PrincipalPolicies, **kwargs: Any) -> PolicyRisk:
    role = _role(grant, trust)
    return assess_principal(role, _directory(role, *users, **kwargs))


def _only(risk: PolicyRisk) -> Any:
    [path] = risk.escalations
    return path


@pytest.mark.parametrize(
    ("action", "method", "gain"),
    [
        ("iam:PutUserPolicy", "PutAssumerUserPolicy", "write itself a policy granting anything"),
        ("iam:AttachUserPolicy", "AttachAssumerUserPolicy", "attach itself any managed policy"),
        ("iam:AddUserToGroup", "AddAssumerToGroup", "add itself to any group * names"),
    ],
)
def test_a_user_named_in_the_trust_escalates_through_the_role(action: str, method: str, gain: str) -> None:
    path = _only(_judge(_allow(action), NAMES_ALICE, _user(ALICE, _doc(ASSUME_APP))))

    assert path.method.name == method
    assert path.certain
    [lead] = path.leads_to
    assert lead.arn == ALICE
    assert lead.why == f"can assume role app-backend (its trust policy names it) and, through it, {gain}" + (
        ", an administrators group too" if method == "AddAssumerToGroup" else ""
    )
    explained = path.explain()
    assert f"({method}), because it is allowed {action} on * (statement 0 of inline app-backend/grant)" in explained
    assert "That leads to user alice, which can assume role app-backend" in explained


def test_a_trust_naming_the_user_lets_it_in_without_its_own_grant() -> None:
    """Same account: a trust naming the user's ARN is enough (as ``_trust_lets_in`` reads it)."""
    path = _only(_judge(_allow("iam:PutUserPolicy"), NAMES_ALICE, _user(ALICE)))

    assert path.certain
    assert [lead.arn for lead in path.leads_to] == [ALICE]


def test_a_trust_naming_the_account_lets_in_the_users_allowed_to_assume_it() -> None:
    """bob holds no sts:AssumeRole on the role: the account's trust does not let him in; alice's grant does."""
    risk = _judge(_allow("iam:PutUserPolicy"), ACCOUNT_ROOT, _user(BOB), _user(ALICE, _doc(ASSUME_APP)))

    [lead] = _only(risk).leads_to
    assert lead.arn == ALICE
    assert "its trust policy admits the account, and it is allowed sts:AssumeRole on it" in lead.why
    assert "statement 0 of inline alice/p0" in lead.why


def test_a_trust_naming_the_account_with_no_user_allowed_is_no_path() -> None:
    assert _judge(_allow("iam:PutUserPolicy"), ACCOUNT_ROOT, _user(BOB)).escalations == ()


def test_a_trust_naming_the_account_whose_users_cannot_be_listed_is_unknown() -> None:
    class NoUsers:
        """A directory that knows the principals but cannot list the account's users."""

        def __init__(self, directory: StaticDirectory) -> None:
            self.directory = directory

        def principal(self, principal_arn: str) -> PrincipalPolicies | None:
            return self.directory.principal(principal_arn)

        def roles_matching(self, account: str, pattern: str) -> tuple[str, ...] | None:
            return self.directory.roles_matching(account, pattern)

        def roles_behind(self, resource_arn: str) -> tuple[str, ...] | None:
            return None

    role = _role(_allow("iam:PutUserPolicy"), ACCOUNT_ROOT)
    path = _only(assess_principal(role, NoUsers(_directory(role, _user(ALICE, _doc(ASSUME_APP))))))

    assert not path.certain
    assert path.unknown == (
        f"which users of account {ACCOUNT} hold sts:AssumeRole on role app-backend (its trust policy admits the "
        "account; its users could not be listed)",
    )


@pytest.mark.parametrize(
    "action", ["iam:PutUserPolicy", "iam:AttachUserPolicy", "iam:AddUserToGroup", "iam:PutGroupPolicy"]
)
def test_a_service_role_stays_compliant(action: str) -> None:
    """iam-vulnerable's false-positive side: a role only Lambda may assume reaches no user through its writes."""
    assert _judge(_allow(action), LAMBDA_ONLY, _user(ALICE, _doc(ASSUME_APP))).escalations == ()


def test_a_grant_on_another_user_is_not_this_method() -> None:
    """The role may write bob's policies; alice (who may assume it) gains nothing, and bob is not read."""
    risk = _judge(_allow("iam:PutUserPolicy", BOB), NAMES_ALICE, _user(ALICE, _doc(ASSUME_APP)), _user(BOB))

    assert risk.escalations == ()


def test_a_grant_on_the_callers_own_user_names_no_user_for_a_role() -> None:
    """A role's session has no aws:username: ``user/${aws:username}`` reaches no user."""
    grant = _allow("iam:PutUserPolicy", f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}")

    assert _judge(grant, NAMES_ALICE, _user(ALICE)).escalations == ()


def test_a_user_already_admin_gains_nothing() -> None:
    admin = _doc({"Effect": "Allow", "Action": "*", "Resource": "*"})

    assert _judge(_allow("iam:PutUserPolicy"), NAMES_ALICE, _user(ALICE, admin)).escalations == ()


def test_a_user_whose_own_deny_keeps_it_out_is_no_path() -> None:
    deny = _doc({"Effect": "Deny", "Action": "sts:AssumeRole", "Resource": ROLE})

    assert _judge(_allow("iam:PutUserPolicy"), NAMES_ALICE, _user(ALICE, deny)).escalations == ()


def test_a_user_whose_policies_cannot_be_read_is_unknown() -> None:
    path = _only(_judge(_allow("iam:PutUserPolicy"), NAMES_ALICE))

    assert not path.certain
    assert path.unknown == ("whether user alice can assume role app-backend (its policies could not be read)",)


def test_an_unread_trust_policy_is_unknown() -> None:
    path = _only(_judge(_allow("iam:PutUserPolicy"), None, _user(ALICE, _doc(ASSUME_APP))))

    assert path.unknown == ("which users can assume role app-backend (its trust policy could not be read)",)


@pytest.mark.parametrize(
    ("action", "unknown"),
    [
        ("iam:PutUserPolicy", "which users can assume role app-backend, and whether * names one"),
        ("iam:PutGroupPolicy", "which users can assume role app-backend, and whether * names one of their groups"),
        ("iam:AddUserToGroup", "which users can assume role app-backend"),
    ],
)
def test_without_a_directory_it_is_only_possible(action: str, unknown: str) -> None:
    path = _only(assess_principal(_role(_allow(action), NAMES_ALICE)))

    assert path.unknown == (f"{unknown} (no authorization details)",)


@pytest.mark.parametrize("action", ["iam:PutGroupPolicy", "iam:AttachGroupPolicy"])
def test_a_group_of_a_user_who_can_assume_the_role(action: str) -> None:
    path = _only(_judge(_allow(action, DEVS), NAMES_ALICE, _user(ALICE, groups=(DEVS,))))

    assert path.certain
    assert path.leads_to[0].why.endswith("its group devs")


def test_a_group_grant_for_a_user_in_no_such_group_is_no_path() -> None:
    assert _judge(_allow("iam:PutGroupPolicy"), NAMES_ALICE, _user(ALICE, groups=())).escalations == ()
    other = _allow("iam:PutGroupPolicy", f"arn:aws:iam::{ACCOUNT}:group/ops")
    assert _judge(other, NAMES_ALICE, _user(ALICE, groups=(DEVS,))).escalations == ()


def test_a_group_grant_for_a_user_whose_groups_are_not_listed() -> None:
    """Groups not listed: those it holds policies through count; a wildcard may name another (unknown); a group
    named exactly is asked of the directory's members."""
    unlisted = _user(ALICE, groups=None)
    path = _only(_judge(_allow("iam:PutGroupPolicy"), NAMES_ALICE, unlisted))
    assert path.unknown == ("whether user alice is in a group * names (its groups were not listed)",)

    through = PrincipalPolicies(ALICE, (NamedPolicy("group devs: inline devs/read", _policy(_doc())),))
    assert _only(_judge(_allow("iam:PutGroupPolicy"), NAMES_ALICE, through)).certain

    members = {_key(DEVS): (ALICE,)}
    assert _only(_judge(_allow("iam:PutGroupPolicy", DEVS), NAMES_ALICE, unlisted, members=members)).certain


def test_a_user_holding_the_grant_is_judged_by_the_self_method_only() -> None:
    user = _user(ALICE, _doc(_allow("iam:PutUserPolicy")))

    assert {path.method.name for path in assess_principal(user, _directory(user)).escalations} == {"PutUserPolicy"}


# --- through the guardrail, with the authorization details the audit's probe used --------------------------------


def _details(trust: dict[str, Any], *, groups: tuple[str, ...] = ()) -> StaticDirectory:
    """The audit's probe (d_assumer.json): alice may assume app-backend, whose trust is ``trust``; she is in
    ``groups`` (each without policies)."""
    users = [
        {
            "Path": "/",
            "UserName": "alice",
            "Arn": ALICE,
            "UserPolicyList": [{"PolicyName": "assume-app", "PolicyDocument": _doc(ASSUME_APP)}],
            "GroupList": list(groups),
            "AttachedManagedPolicies": [],
        }
    ]
    group_list = [
        {
            "Path": "/teams/",
            "GroupName": name,
            "Arn": f"arn:aws:iam::{ACCOUNT}:group/teams/{name}",
            "GroupPolicyList": [],
            "AttachedManagedPolicies": [],
        }
        for name in groups
    ]
    role = {
        "Path": "/",
        "RoleName": "app-backend",
        "Arn": ROLE,
        "AssumeRolePolicyDocument": trust,
        "RolePolicyList": [],
        "AttachedManagedPolicies": [],
        "InstanceProfileList": [],
    }
    writes = {
        "PolicyName": "user-admin",
        "Arn": f"arn:aws:iam::{ACCOUNT}:policy/user-admin",
        "DefaultVersionId": "v1",
        "PolicyVersionList": [
            {"VersionId": "v1", "IsDefaultVersion": True, "Document": _doc(_allow("iam:AttachUserPolicy"))}
        ],
    }
    return authorization_details_directory(
        {"UserDetailList": users, "GroupDetailList": group_list, "RoleDetailList": [role], "Policies": [writes]}
    )


def _put(document: dict[str, Any]) -> dict[str, Any]:
    event = copy.deepcopy(load_event("put-role-policy-admin-star.json"))
    event["detail"]["requestParameters"].update(
        roleName="app-backend", policyName="read-invoices", policyDocument=json.dumps(document)
    )
    return event


def test_the_put_is_an_escalation_removed_as_any_other() -> None:
    judgement = judge_event(_put(_doc(_allow("iam:PutUserPolicy"))), Settings(), directory=_details(NAMES_ALICE))

    [finding] = judgement.findings
    assert (finding.rule_id, finding.certain) == ("privilege-escalation", True)
    assert "(PutAssumerUserPolicy)" in finding.reason
    assert "That leads to user alice, which can assume role app-backend (its trust policy names it)" in finding.reason
    [step] = finding.plan  # the existing plan: the put policy removed, nothing else
    assert (step.action.value, step.target) == ("rewrite_inline_policy", ROLE)
    assert step.summary.startswith("delete inline policy read-invoices from role app-backend")


def test_the_put_for_a_service_role_is_compliant() -> None:
    judgement = judge_event(_put(_doc(_allow("iam:PutUserPolicy"))), Settings(), directory=_details(LAMBDA_ONLY))

    assert judgement.verdict is Verdict.COMPLIANT, judgement.reason


def test_the_put_without_authorization_details_is_alerted_only() -> None:
    [finding] = judge_event(_put(_doc(_allow("iam:PutUserPolicy"))), Settings()).findings

    assert not finding.certain
    assert finding.needs_context == (
        "which users can assume role app-backend, and whether * names one (no authorization details)",
    )


def test_attaching_the_policy_is_an_escalation_detached_as_any_other() -> None:
    event = copy.deepcopy(load_event("attach-customer-managed.json"))
    event["detail"]["requestParameters"].update(policyArn=f"arn:aws:iam::{ACCOUNT}:policy/user-admin")
    directory = _details(NAMES_ALICE)

    judgement = judge_event(event, Settings(), documents=DetailsDocuments(directory), directory=directory)

    [finding] = judgement.findings
    assert finding.certain
    assert "(AttachAssumerUserPolicy)" in finding.reason
    [step] = finding.plan  # the existing plan: the attachment undone, nothing else
    assert (step.action.value, step.target) == ("detach_managed_policy", ROLE)
    assert step.parameters["policy_arn"] == f"arn:aws:iam::{ACCOUNT}:policy/user-admin"


def test_a_group_without_policies_from_the_details_is_reached() -> None:
    """GroupList names alice's groups, also one without policies; its ARN (path and all) is the details' own."""
    grant = _allow("iam:PutGroupPolicy", f"arn:aws:iam::{ACCOUNT}:group/teams/*")

    in_group = judge_event(_put(_doc(grant)), Settings(), directory=_details(NAMES_ALICE, groups=("devs",)))
    in_none = judge_event(_put(_doc(grant)), Settings(), directory=_details(NAMES_ALICE))

    [finding] = in_group.findings
    assert finding.certain
    assert "through it, write a policy granting anything on its group devs" in finding.reason
    assert in_none.verdict is Verdict.COMPLIANT, in_none.reason


def test_a_trust_change_letting_a_user_into_a_role_that_writes_users_is_found() -> None:
    """From the trust's end (``judge_trust_change``): the role is judged with the trust the change leaves, so a user
    it newly names can write itself anything through it; the directory still holds the trust from before."""
    writes = _role(_allow("iam:PutUserPolicy"), LAMBDA_ONLY)
    directory = _directory(writes, _user(ALICE))

    judged = judge_trust_change(ROLE, _policy(NAMES_ALICE), _policy(LAMBDA_ONLY), directory)

    assert judged is not None
    assert judged.role_reaches.startswith("can escalate further (PutAssumerUserPolicy")
    assert [(admitted.principal_arn, admitted.how) for admitted in judged.admitted] == [
        (ALICE, "named in the trust policy")
    ]
    assert judge_trust_change(ROLE, _policy(LAMBDA_ONLY), _policy(NAMES_ALICE), directory) is None


def test_a_trust_with_not_principal_lets_in_every_user_it_spares_conservatively() -> None:
    """``NotPrincipal`` admits everyone it does not name (read as letting the account's users in): alice, allowed
    sts:AssumeRole on the role, is reached, and not said to be named."""
    spared = _doc({"Effect": "Allow", "NotPrincipal": {"AWS": BOB}, "Action": "sts:AssumeRole"})

    [lead] = _only(_judge(_allow("iam:PutUserPolicy"), spared, _user(ALICE, _doc(ASSUME_APP)))).leads_to

    assert lead.arn == ALICE
    assert "its trust policy admits the account" in lead.why


def test_adding_to_one_named_group_does_not_claim_an_administrators_group() -> None:
    path = _only(_judge(_allow("iam:AddUserToGroup", DEVS), NAMES_ALICE, _user(ALICE, _doc(ASSUME_APP))))

    assert path.leads_to[0].why.endswith(f"add itself to any group {DEVS} names")
