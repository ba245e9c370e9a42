"""A principal's whole power: every policy together, Deny and the boundary applied, self-escalation,
and where PassRole and existing resources lead (asked of a RoleDirectory, or reported as unknown)."""

from __future__ import annotations

from typing import Any

from iamwarden.domain.escalation import EscalationPath, assess, assess_principal
from iamwarden.domain.policy import Policy, parse_policy
from iamwarden.domain.principals import NamedPolicy, PrincipalPolicies, RolesRead
from iamwarden.domain.wildcards import arn_match

ACCOUNT = "111122223333"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app"
USER = f"arn:aws:iam::{ACCOUNT}:user/alice"
ADMIN_ROLE = f"arn:aws:iam::{ACCOUNT}:role/admin"
WEAK_ROLE = f"arn:aws:iam::{ACCOUNT}:role/reader"
FUNCTION = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:deploy"


def _policy(*statements: dict[str, Any]) -> Policy:
    return parse_policy({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def _deny(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def _principal(arn: str, *policies: tuple[str, Policy], boundary: Policy | None = None) -> PrincipalPolicies:
    return PrincipalPolicies(arn, tuple(NamedPolicy(source, policy) for source, policy in policies), boundary)


def _names(paths: tuple[EscalationPath, ...]) -> set[str]:
    return {path.method.name for path in paths}


class Directory:
    """A RoleDirectory over fixed principals; ``None`` answers say "cannot know"."""

    def __init__(
        self,
        principals: dict[str, PrincipalPolicies],
        behind: dict[str, tuple[str, ...] | None] | None = None,
        blind: bool = False,
    ) -> None:
        self.principals = principals
        self.behind = behind or {}
        self.blind = blind
        self.asked: list[str] = []

    def principal(self, principal_arn: str) -> PrincipalPolicies | None:
        self.asked.append(principal_arn)
        return self.principals.get(principal_arn)

    def roles_matching(self, account: str, pattern: str) -> tuple[str, ...] | None:
        if self.blind:
            return None
        return tuple(arn for arn in self.principals if ":role/" in arn and arn_match(pattern, arn))

    def roles_behind(self, resource_arn: str) -> tuple[str, ...] | None:
        return self.behind.get(resource_arn)


ADMIN = _principal(ADMIN_ROLE, ("arn:aws:iam::aws:policy/AdministratorAccess", _policy(_allow("*"))))
WEAK = _principal(WEAK_ROLE, ("inline reader/read", _policy(_allow("s3:GetObject"))))


# --- whole power ---------------------------------------------------------------------------------


def test_a_method_split_over_policies_is_found_and_each_action_names_its_statement_and_policy() -> None:
    principal = _principal(
        ROLE,
        ("inline app/pass", _policy({**_allow("iam:PassRole"), "Sid": "Pass"})),
        ("arn:aws:iam::111122223333:policy/ci", _policy(_allow("s3:ListBucket"), _allow("ec2:RunInstances"))),
    )
    [path] = [p for p in assess_principal(principal).escalations if p.method.name == "CreateEC2WithExistingIP"]
    granted = {grant.action: grant.granted_by for grant in path.grants}
    assert granted == {
        "iam:PassRole": ("statement 0 (Pass) of inline app/pass",),
        "ec2:RunInstances": ("statement 1 of arn:aws:iam::111122223333:policy/ci",),
    }
    assert not assess_principal(principal.replaced("inline app/pass", None)).escalations


def test_an_allow_cancelled_by_an_unconditional_deny_grants_nothing_and_is_not_admin() -> None:
    principal = _principal(ROLE, ("inline app/all", _policy(_allow("*"))), ("inline app/guard", _policy(_deny("*"))))
    risk = assess_principal(principal)
    assert risk.admin == ()
    assert risk.escalations == ()
    assert not risk.risky


def test_a_conditional_deny_cancels_nothing() -> None:
    guard = _policy(_deny("*", Condition={"Bool": {"aws:MultiFactorAuthPresent": "false"}}))
    principal = _principal(ROLE, ("inline app/all", _policy(_allow("*"))), ("inline app/guard", guard))
    assert assess_principal(principal).admin


def test_a_deny_on_some_resources_cancels_only_those() -> None:
    principal = _principal(
        USER,
        ("inline alice/keys", _policy(_allow("iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/*"))),
        ("inline alice/guard", _policy(_deny("iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/admin-*"))),
    )
    assert "CreateAccessKey" in _names(assess_principal(principal).escalations)
    covering = principal.replaced("inline alice/guard", _policy(_deny("iam:*", f"arn:aws:iam::{ACCOUNT}:user/*")))
    assert assess_principal(covering).escalations == ()


def test_the_permissions_boundary_limits_what_counts() -> None:
    boundary = _policy(_allow(["s3:*", "lambda:*"]))
    principal = _principal(ROLE, ("inline app/all", _policy(_allow("*"))), boundary=boundary)
    risk = assess_principal(principal)
    assert not [grant for grant in risk.admin if grant.critical]  # admin only within s3 and lambda
    assert "PutRolePolicy" not in _names(risk.escalations)
    assert "EditExistingLambdaFunctionWithRole" in _names(risk.escalations)  # lambda is within it


def test_a_boundary_narrows_the_resources_a_grant_reaches() -> None:
    boundary = _policy(_allow("iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/ci-*"))
    principal = _principal(USER, ("inline alice/keys", _policy(_allow("iam:CreateAccessKey"))), boundary=boundary)
    [path] = assess_principal(principal).escalations
    assert path.grants[0].resources == (f"arn:aws:iam::{ACCOUNT}:user/ci-* (within the permissions boundary)",)
    elsewhere = _policy(_allow("iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:role/x"))
    assert assess_principal(principal._replace(boundary=elsewhere)).escalations == ()


def test_a_deny_in_the_boundary_applies_too() -> None:
    boundary = _policy(_allow("*"), _deny("iam:*"))
    principal = _principal(ROLE, ("inline app/all", _policy(_allow("iam:*"))), boundary=boundary)
    risk = assess_principal(principal)
    assert risk.admin == ()
    assert risk.escalations == ()


# --- self-escalation -----------------------------------------------------------------------------


def test_a_role_that_can_write_its_own_policies_escalates_without_assume_role() -> None:
    for action in ("iam:PutRolePolicy", "iam:AttachRolePolicy", "iam:UpdateAssumeRolePolicy"):
        for resource in (ROLE, "*", f"arn:aws:iam::{ACCOUNT}:role/a*"):
            risk = assess_principal(_principal(ROLE, ("inline app/x", _policy(_allow(action, resource)))))
            assert risk.escalations, (action, resource)
            assert all(path.certain for path in risk.escalations), (action, resource)


def test_a_role_writing_another_roles_policies_escalates_only_if_it_can_become_it() -> None:
    other = f"arn:aws:iam::{ACCOUNT}:role/other"
    alone = _principal(ROLE, ("inline app/x", _policy(_allow("iam:PutRolePolicy", other))))
    [path] = assess_principal(alone).escalations
    assert not path.certain  # only the other role's trust policy can say whether it lets app in
    assert path.unknown == (
        "whether a role arn:aws:iam::111122223333:role/other names trusts role app directly (its trust policy decides)",
    )
    assume = alone.replaced("inline app/y", _policy(_allow("sts:AssumeRole", other)))
    certain = {path.method.name for path in assess_principal(assume).escalations if path.certain}
    assert certain == {"PutRolePolicyThenAssumeRole"}
    elsewhere = alone.replaced("inline app/y", _policy(_allow("sts:AssumeRole", f"arn:aws:iam::{ACCOUNT}:role/third")))
    assert not [p for p in assess_principal(elsewhere).escalations if p.certain]  # not the same role


def test_a_user_writing_its_own_policies_escalates() -> None:
    own = f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}"
    for action, method in (("iam:PutUserPolicy", "PutUserPolicy"), ("iam:AttachUserPolicy", "AttachUserPolicy")):
        risk = assess_principal(_principal(USER, ("inline alice/x", _policy(_allow(action, own)))))
        assert _names(risk.escalations) == {method}
        assert assess(_policy(_allow(action, own))).escalations  # holder unknown: still its own user


def test_aws_username_is_not_another_user_for_credential_actions() -> None:
    own = f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}"
    for action in ("iam:CreateAccessKey", "iam:CreateLoginProfile", "iam:UpdateLoginProfile"):
        assert assess(_policy(_allow(action, own))).escalations == ()
        assert assess_principal(_principal(USER, ("inline alice/x", _policy(_allow(action, own))))).escalations == ()


def test_a_user_with_a_role_grant_escalates_only_through_a_role_that_trusts_it() -> None:
    risk = assess_principal(_principal(USER, ("inline alice/x", _policy(_allow("iam:PutRolePolicy")))))
    [path] = risk.escalations
    assert path.method.name == "PutRolePolicy"
    assert not path.certain


def test_a_role_cannot_self_escalate_through_a_user_grant() -> None:
    """A role is not the user or group it writes to: no self method. A user who can assume it may be (its trust
    policy tells, tests/unit/test_escalation_assumer.py): without a directory that is only possible."""
    for action in ("iam:PutUserPolicy", "iam:AttachUserPolicy", "iam:AddUserToGroup", "iam:PutGroupPolicy"):
        [path] = assess_principal(_principal(ROLE, ("inline app/x", _policy(_allow(action))))).escalations
        assert path.method.reach == "writes-assumer"
        assert not path.certain
        assert path.unknown[0].startswith("which users can assume role app")


def test_a_group_grant_for_a_user_whose_groups_are_unknown_is_unknown() -> None:
    [path] = assess_principal(
        _principal(USER, ("inline alice/x", _policy(_allow("iam:AttachGroupPolicy"))))
    ).escalations
    assert path.unknown == ("whether user alice is in a group * names (none of its policies says)",)
    named = _policy(_allow("iam:AttachGroupPolicy", f"arn:aws:iam::{ACCOUNT}:group/ops"))
    assert assess_principal(_principal(USER, ("inline alice/x", named))).escalations == ()


def test_aws_managed_policies_cannot_be_rewritten() -> None:
    grant = _policy(_allow("iam:CreatePolicyVersion", "arn:aws:iam::aws:policy/*"))
    assert assess(grant).escalations == ()
    attached = _principal(ROLE, ("arn:aws:iam::aws:policy/ReadOnlyAccess", grant))
    assert assess_principal(attached).escalations == ()


def test_an_allow_that_holds_only_before_a_past_date_grants_nothing() -> None:
    past = {"DateLessThan": {"aws:TokenIssueTime": "2020-01-01T00:00:01Z"}}
    assert assess(_policy(_allow("iam:CreatePolicyVersion", Condition=past))).escalations == ()
    future = {"DateLessThan": {"aws:CurrentTime": "2999-01-01T00:00:00Z"}}
    assert assess(_policy(_allow("iam:CreatePolicyVersion", Condition=future))).escalations
    after = {"DateGreaterThan": {"aws:TokenIssueTime": "2020-01-01T00:00:01Z"}}
    assert assess(_policy(_allow("iam:CreatePolicyVersion", Condition=after))).escalations
    epoch = {"DateLessThanEquals": {"aws:CurrentTime": "1500000000"}}
    assert assess(_policy(_allow("iam:CreatePolicyVersion", Condition=epoch))).escalations == ()
    garbled = {"DateLessThan": {"aws:CurrentTime": "soon"}}
    assert assess(_policy(_allow("iam:CreatePolicyVersion", Condition=garbled))).escalations


def test_creating_a_role_and_writing_its_permissions_escalates() -> None:
    roles = f"arn:aws:iam::{ACCOUNT}:role/tmp-*"
    for writer in ("iam:AttachRolePolicy", "iam:PutRolePolicy"):
        risk = assess_principal(
            _principal(USER, ("inline alice/x", _policy(_allow(["iam:CreateRole", writer], roles))))
        )
        assert any(name.startswith("CreateRoleThen") for name in _names(risk.escalations)), writer
    apart = _policy(
        _allow("iam:CreateRole", f"arn:aws:iam::{ACCOUNT}:role/tmp-x"),
        _allow("iam:AttachRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/other"),
    )
    assert not any(
        n.startswith("CreateRoleThen") for n in _names(assess_principal(_principal(USER, ("i", apart))).escalations)
    )


def test_policy_versions_escalate_when_the_policy_is_the_holders_own() -> None:
    own = f"arn:aws:iam::{ACCOUNT}:policy/app-deploy"
    grant = _policy(_allow("iam:CreatePolicyVersion", own))
    principal = _principal(ROLE, (own, grant))
    assert "CreateNewPolicyVersion" in _names(assess_principal(principal).escalations)
    someone_elses = _principal(ROLE, ("inline app/x", grant))
    assert "CreateNewPolicyVersion" not in _names(assess_principal(someone_elses).escalations)


def test_group_policies_escalate_for_the_groups_the_user_is_in() -> None:
    grant = _policy(_allow("iam:PutGroupPolicy", f"arn:aws:iam::{ACCOUNT}:group/devs"))
    member = _principal(USER, ("group devs: inline devs/x", grant))
    assert "PutGroupPolicy" in _names(assess_principal(member).escalations)
    outsider = _principal(USER, ("group ops: inline ops/x", grant))
    assert "PutGroupPolicy" not in _names(assess_principal(outsider).escalations)


# --- where a method leads ------------------------------------------------------------------------


def _passer(resource: str) -> PrincipalPolicies:
    policy = _policy(_allow("iam:PassRole", resource), _allow("ec2:RunInstances"))
    return _principal(ROLE, ("inline app/deploy", policy))


def test_passrole_to_a_weaker_role_is_not_an_escalation() -> None:
    directory = Directory({WEAK_ROLE: WEAK, ADMIN_ROLE: ADMIN})
    assert assess_principal(_passer(WEAK_ROLE), directory).escalations == ()


def test_passrole_to_a_stronger_role_is_one_and_says_where_it_leads() -> None:
    directory = Directory({WEAK_ROLE: WEAK, ADMIN_ROLE: ADMIN})
    [path] = assess_principal(_passer(ADMIN_ROLE), directory).escalations
    assert path.certain
    [lead] = path.leads_to
    assert lead.arn == ADMIN_ROLE
    assert "admin-equivalent" in lead.why
    sentence = path.explain()
    assert "role admin, which is admin-equivalent" in sentence
    assert "iam:PassRole on arn:aws:iam::111122223333:role/admin (statement 0 of inline app/deploy)" in sentence


def test_passrole_star_is_an_escalation_when_it_reaches_a_stronger_role() -> None:
    assert assess_principal(_passer("*"), Directory({WEAK_ROLE: WEAK, ADMIN_ROLE: ADMIN})).escalations
    assert assess_principal(_passer("*"), Directory({WEAK_ROLE: WEAK})).escalations == ()
    wildcard = f"arn:aws:iam::{ACCOUNT}:role/ad*"
    [path] = assess_principal(_passer(wildcard), Directory({WEAK_ROLE: WEAK, ADMIN_ROLE: ADMIN})).escalations
    assert [lead.arn for lead in path.leads_to] == [ADMIN_ROLE]


def test_a_role_that_can_escalate_further_counts_as_stronger() -> None:
    climber_arn = f"arn:aws:iam::{ACCOUNT}:role/climber"
    climber = _principal(climber_arn, ("inline climber/x", _policy(_allow("iam:AttachRolePolicy", climber_arn))))
    [path] = assess_principal(_passer(climber_arn), Directory({climber_arn: climber})).escalations
    assert "can escalate further (AttachRolePolicy)" in path.leads_to[0].why


def test_without_a_directory_the_path_is_reported_as_unknown_never_certain() -> None:
    risk = assess_principal(_passer(f"arn:aws:iam::{ACCOUNT}:role/app-deployer"))
    [path] = risk.escalations
    assert not path.certain
    assert risk.unknown == (
        "what the roles iam:PassRole reaches (arn:aws:iam::111122223333:role/app-deployer) may do "
        "(no authorization details)",
    )
    assert "is not known" in path.explain()


def test_a_directory_that_cannot_answer_makes_the_path_unknown() -> None:
    [path] = assess_principal(_passer("*"), Directory({}, blind=True)).escalations
    assert not path.certain
    assert "could not be read" in path.unknown[0]
    unreadable = f"arn:aws:iam::{ACCOUNT}:role/secret"
    directory = Directory({unreadable: ADMIN})
    directory.principals[unreadable] = None  # type: ignore[assignment]
    [path] = assess_principal(_passer(unreadable), directory).escalations
    assert path.unknown == ("what role secret may do (its policies could not be read)",)


def test_roles_passing_each_other_in_a_cycle_end() -> None:
    a_arn, b_arn = f"arn:aws:iam::{ACCOUNT}:role/a", f"arn:aws:iam::{ACCOUNT}:role/b"
    a = _principal(a_arn, ("inline a/x", _policy(_allow("iam:PassRole", b_arn), _allow("ec2:RunInstances"))))
    b = _principal(b_arn, ("inline b/x", _policy(_allow("iam:PassRole", a_arn), _allow("ec2:RunInstances"))))
    directory = Directory({a_arn: a, b_arn: b})
    assert assess_principal(a, directory).escalations == ()
    assert directory.asked.count(b_arn) == 1  # judged once, memoised


def test_acting_as_an_existing_functions_role_asks_what_is_behind_it() -> None:
    editor = _principal(ROLE, ("inline app/edit", _policy(_allow("lambda:UpdateFunctionCode", FUNCTION))))
    stronger = Directory({ADMIN_ROLE: ADMIN}, behind={FUNCTION: (ADMIN_ROLE,)})
    [path] = [p for p in assess_principal(editor, stronger).escalations if p.method.name.startswith("EditExisting")]
    assert path.certain
    assert [lead.arn for lead in path.leads_to] == [ADMIN_ROLE]
    weaker = Directory({WEAK_ROLE: WEAK}, behind={FUNCTION: (WEAK_ROLE,)})
    assert assess_principal(editor, weaker).escalations == ()
    unknown = Directory({}, behind={})
    [path] = [p for p in assess_principal(editor, unknown).escalations if p.method.name.startswith("EditExisting")]
    assert path.unknown == (f"which roles {FUNCTION} act as, and what they may do (could not be read)",)


def test_star_on_an_existing_resource_asks_for_that_resource_type() -> None:
    """``*`` is asked as the typed, every-region ARN (the live directory reads it over the regions it knows:
    tests/unit/test_live_role_directory.py and tests/functional/test_live_resources_behind.py)."""
    editor = _principal(ROLE, ("inline app/ssm", _policy(_allow("ssm:SendCommand"))))
    typed = f"arn:aws:ec2:*:{ACCOUNT}:instance/*"
    [path] = assess_principal(editor, Directory({ADMIN_ROLE: ADMIN}, behind={typed: (ADMIN_ROLE,)})).escalations
    assert path.method.name == "SendCommandToExistingEC2Instance"
    assert path.leads_to[0].arn == ADMIN_ROLE


class PartlyRead(Directory):
    """A directory that reads part of what a pattern reaches and says what it left unread."""

    def __init__(self, principals: dict[str, PrincipalPolicies], roles: tuple[str, ...], unread: tuple[str, ...]):
        super().__init__(principals)
        self.read = RolesRead(roles, unread)

    def roles_behind_read(self, resource_arn: str) -> RolesRead | None:
        return self.read


def test_a_stronger_role_among_what_was_read_is_certain_whatever_was_left_unread() -> None:
    editor = _principal(ROLE, ("inline app/edit", _policy(_allow("lambda:UpdateFunctionCode"))))
    unread = ("functions in regions other than us-east-1 (not read)",)

    [path] = assess_principal(editor, PartlyRead({ADMIN_ROLE: ADMIN}, (ADMIN_ROLE,), unread)).escalations
    assert path.certain
    assert [lead.arn for lead in path.leads_to] == [ADMIN_ROLE]

    [path] = assess_principal(editor, PartlyRead({WEAK_ROLE: WEAK}, (WEAK_ROLE,), unread)).escalations
    assert path.unknown == (
        "which roles * act as, and what they may do (functions in regions other than us-east-1 (not read))",
    )
    assert assess_principal(editor, PartlyRead({WEAK_ROLE: WEAK}, (WEAK_ROLE,), ())).escalations == ()


def test_a_takeover_of_a_weaker_role_is_not_an_escalation_with_a_directory() -> None:
    grant = _policy(_allow(["iam:UpdateAssumeRolePolicy"], WEAK_ROLE))
    taker = _principal(USER, ("inline alice/x", grant))
    assert assess_principal(taker, Directory({WEAK_ROLE: WEAK})).escalations == ()
    assert assess_principal(
        taker._replace(policies=(NamedPolicy("i", _policy(_allow("iam:UpdateAssumeRolePolicy", ADMIN_ROLE))),)),
        Directory({ADMIN_ROLE: ADMIN}),
    ).escalations


def test_the_explanation_is_one_sentence_naming_method_grants_and_policy() -> None:
    [path] = assess(
        _policy({**_allow("iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/*"), "Sid": "Keys"})
    ).escalations
    assert path.explain() == (
        "It can create access keys for other users and act as them (CreateAccessKey), because it is allowed "
        "iam:CreateAccessKey on arn:aws:iam::111122223333:user/* (statement 0 (Keys) of the policy)."
    )
