"""identity_policy judges the principal AFTER the change against BEFORE it, with a directory of what it holds.

The directory is a ``StaticDirectory`` (the offline reader's type) built by hand: split grants, a Deny that
cancels, an unknown principal, the roles a PassRole grant leads to, and the plan that removes only what the
event added.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

import pytest

from iamwarden.domain.directory import PrincipalKey, StaticDirectory, inline_source
from iamwarden.domain.escalation import assess_principal
from iamwarden.domain.findings import Judgement, Verdict
from iamwarden.domain.policy import parse_policy
from iamwarden.domain.principals import NamedPolicy, PrincipalPolicies
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from iamwarden.guardrails.remediation import statement_list, without_offending
from tests.conftest import load_event

ACCOUNT = "111122223333"
RUNNER = f"arn:aws:iam::{ACCOUNT}:role/build-runner"
ADMIN_ROLE = f"arn:aws:iam::{ACCOUNT}:role/deploy-admin"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/alice"
SHARED = f"arn:aws:iam::{ACCOUNT}:policy/shared"


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(action: str | list[str], resource: str = "*") -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource}


PASS_ANY = _doc(_allow("iam:PassRole"))
LAMBDA = _doc(_allow(["lambda:CreateFunction", "lambda:InvokeFunction"]))


def _principal(arn: str, **policies: dict[str, Any]) -> PrincipalPolicies:
    name = arn.rsplit("/", 1)[-1]
    return PrincipalPolicies(
        arn,
        tuple(
            NamedPolicy(source if source.startswith("arn:") else inline_source(name, source), parse_policy(doc))
            for source, doc in policies.items()
        ),
    )


def _deploy_admin() -> PrincipalPolicies:
    """An admin-equivalent role of the account: what passing any role to Lambda leads to (else it leads nowhere)."""
    return _principal(ADMIN_ROLE, **{SHARED: _doc(_allow("*"))})


def _directory(*principals: PrincipalPolicies, roles: tuple[str, ...] = ()) -> StaticDirectory:
    known = {PrincipalKey.of(p.principal_arn): p for p in principals}
    return StaticDirectory(
        {key: value for key, value in known.items() if key is not None},
        roles={ACCOUNT: roles or tuple(p.principal_arn for p in principals if ":role/" in p.principal_arn)},
    )


def _put_role_policy(role: str, name: str, document: dict[str, Any]) -> dict[str, Any]:
    event = copy.deepcopy(load_event("put-role-policy-split-escalation.json"))
    event["detail"]["requestParameters"] = {
        "roleName": role,
        "policyName": name,
        "policyDocument": json.dumps(document),
    }
    return event


def _judge(event: dict[str, Any], directory: StaticDirectory | None) -> Judgement:
    return judge_event(event, Settings(), directory=directory)


def test_a_method_split_across_two_policies_is_found_and_names_the_older_grant() -> None:
    """The details were taken before the put: deploy-functions is a new name, so all of it is what the put added."""
    directory = _directory(_principal(RUNNER, **{"pass-any-role": PASS_ANY}), _deploy_admin())

    judgement = _judge(_put_role_policy("build-runner", "deploy-functions", LAMBDA), directory)

    assert judgement.verdict is Verdict.VIOLATION
    [finding] = judgement.findings
    assert finding.rule_id == "privilege-escalation"
    assert finding.certain
    assert "PassExistingRoleToNewLambdaThenInvoke" in finding.reason
    assert "Role build-runner already held the rest of it: iam:PassRole (inline build-runner/pass-any-role)." in (
        finding.reason
    )
    [step] = finding.plan
    assert step.action.value == "rewrite_inline_policy"
    assert step.parameters["policy_name"] == "deploy-functions"  # only what the event added
    assert {"completed_by": ["iam:PassRole (inline build-runner/pass-any-role)"]} in finding.offending


def test_a_put_that_what_is_read_already_holds_replaced_an_unknown_document_so_it_is_only_alerted() -> None:
    """A live read comes after the put: the stored deploy-functions is the event's own document, and IAM keeps no
    history of inline policies, so it may have replaced one that granted the same (audit gap 5)."""
    directory = _directory(
        _principal(RUNNER, **{"pass-any-role": PASS_ANY, "deploy-functions": LAMBDA}), _deploy_admin()
    )

    [finding] = _judge(_put_role_policy("build-runner", "deploy-functions", LAMBDA), directory).findings

    assert finding.rule_id == "privilege-escalation"
    assert not finding.certain
    [fact] = finding.needs_context
    assert fact.startswith("the previous document of inline policy deploy-functions of role build-runner is unknown")


def test_a_method_the_principal_already_had_is_not_new() -> None:
    both = _doc(_allow(["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"]))
    directory = _directory(_principal(RUNNER, **{"older": both}))

    judgement = _judge(_put_role_policy("build-runner", "deploy-functions", LAMBDA), directory)

    assert judgement.verdict is Verdict.COMPLIANT
    assert "did not already have" in judgement.reason


def test_escalation_is_nothing_new_for_a_principal_that_already_was_admin() -> None:
    directory = _directory(_principal(RUNNER, **{SHARED: _doc(_allow("*"))}))

    judgement = _judge(_put_role_policy("build-runner", "keys", _doc(_allow("iam:CreateAccessKey"))), directory)

    assert judgement.verdict is Verdict.COMPLIANT


def test_an_admin_grant_cancelled_by_an_unconditional_deny_in_another_policy_is_not_admin() -> None:
    deny_all = _doc({"Effect": "Deny", "Action": "*", "Resource": "*"})
    directory = _directory(_principal(RUNNER, **{"quarantine": deny_all}))

    judgement = _judge(_put_role_policy("build-runner", "debug", _doc(_allow("*"))), directory)

    assert judgement.verdict is Verdict.COMPLIANT
    assert not judgement.findings


@pytest.mark.parametrize(
    "deny",
    [
        {
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}},
        },
        {"Effect": "Deny", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "*", "Resource": "arn:aws:s3:::one-bucket"},
    ],
    ids=["conditional", "other-actions", "one-resource"],
)
def test_a_deny_that_does_not_take_everything_away_leaves_the_admin_grant(deny: dict[str, Any]) -> None:
    directory = _directory(_principal(RUNNER, **{"partial": _doc(deny)}))

    [finding] = _judge(_put_role_policy("build-runner", "debug", _doc(_allow("*"))), directory).findings

    assert finding.rule_id == "inline-policy-admin"


def test_a_passrole_grant_names_the_roles_it_leads_to() -> None:
    directory = _directory(
        _principal(RUNNER, **{"lambda": LAMBDA}), _principal(ADMIN_ROLE, **{SHARED: _doc(_allow("*"))})
    )

    [finding] = _judge(
        _put_role_policy("build-runner", "pass", _doc(_allow("iam:PassRole", ADMIN_ROLE))), directory
    ).findings

    assert "That leads to role deploy-admin, which is admin-equivalent" in finding.reason
    assert {"leads_to": ["deploy-admin"]} in finding.offending


def test_a_user_completes_a_method_with_a_policy_of_its_group() -> None:
    alice = PrincipalPolicies(ALICE, (NamedPolicy("group devs: inline devs/pass", parse_policy(PASS_ANY)),))
    event = copy.deepcopy(load_event("put-user-policy-passrole-lambda.json"))
    event["detail"]["requestParameters"]["policyDocument"] = json.dumps(LAMBDA)

    [finding] = _judge(event, _directory(alice, _deploy_admin())).findings

    assert "iam:PassRole (group devs: inline devs/pass)" in finding.reason


# --- what is not known ---------------------------------------------------------------------------


def test_without_a_directory_a_document_that_grants_admin_itself_is_certain() -> None:
    [finding] = _judge(_put_role_policy("build-runner", "debug", _doc(_allow("*"))), None).findings

    assert finding.rule_id == "inline-policy-admin"
    assert finding.certain


def test_without_a_directory_part_of_a_method_cannot_be_told_as_live() -> None:
    """Offline without authorization details, part of a split method is what live is with an unread principal."""
    judgement = _judge(_put_role_policy("build-runner", "deploy-functions", LAMBDA), None)

    assert judgement.verdict is Verdict.VIOLATION
    [finding] = judgement.findings
    assert finding.needs_context == (
        "the other policies, groups and permissions boundary of role build-runner "
        "(not known without authorization details)",
    )
    assert not finding.certain
    assert "cannot tell whether together they open one" in finding.reason


def test_without_a_directory_a_harmless_document_stays_compliant() -> None:
    harmless = _doc(_allow("s3:GetObject", "arn:aws:s3:::acme/*"))

    assert _judge(_put_role_policy("build-runner", "read", harmless), None).verdict is Verdict.COMPLIANT


def test_without_a_directory_the_rest_of_a_method_that_is_a_method_by_itself_is_not_part_of_one() -> None:
    """CreateAccessKey on one's own user completes AttachUserPolicyThenCreateAccessKey only with an
    iam:AttachUserPolicy that escalates by itself: the document adds nothing, so it stays compliant."""
    own_keys = _doc(_allow("iam:CreateAccessKey", f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}"))
    event = _put_role_policy("build-runner", "keys", own_keys)
    event["detail"]["eventName"] = "PutUserPolicy"
    event["detail"]["requestParameters"] = {
        "userName": "svc-smtp",
        "policyName": "keys",
        "policyDocument": json.dumps(own_keys),
    }

    assert _judge(event, None).verdict is Verdict.COMPLIANT


def test_a_principal_the_directory_cannot_answer_makes_part_of_a_method_an_uncertain_finding() -> None:
    judgement = _judge(_put_role_policy("build-runner", "deploy-functions", LAMBDA), _directory())

    assert judgement.verdict is Verdict.VIOLATION
    [finding] = judgement.findings
    assert finding.rule_id == "privilege-escalation"
    assert finding.needs_context == (
        "the other policies, groups and permissions boundary of role build-runner (they could not be read)",
    )
    assert not finding.certain
    assert "cannot tell whether together they open one" in finding.reason
    assert finding.plan[0].parameters["policy_name"] == "deploy-functions"  # what remediation would do, never done


def test_a_principal_the_directory_cannot_answer_and_a_harmless_document_is_compliant() -> None:
    harmless = _doc(_allow("s3:GetObject", "arn:aws:s3:::acme/*"))

    judgement = _judge(_put_role_policy("build-runner", "read", harmless), _directory())

    assert judgement.verdict is Verdict.COMPLIANT


def test_an_unknown_principal_does_not_weaken_a_decisive_document() -> None:
    [finding] = _judge(_put_role_policy("build-runner", "debug", _doc(_allow("*"))), _directory()).findings

    assert finding.certain


def test_updating_a_functions_code_names_the_role_behind_the_function() -> None:
    function = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:billing"
    runner = _principal(RUNNER, **{"read": _doc(_allow("s3:GetObject"))})
    directory = StaticDirectory(
        {PrincipalKey.of(RUNNER): runner, PrincipalKey.of(ADMIN_ROLE): _deploy_admin()},  # type: ignore[dict-item]
        behind={function: (ADMIN_ROLE,)},
    )

    [finding] = _judge(
        _put_role_policy("build-runner", "hotfix", _doc(_allow("lambda:UpdateFunctionCode", function))), directory
    ).findings

    assert "EditExistingLambdaFunctionWithRole" in finding.reason
    assert "That leads to role deploy-admin, which is admin-equivalent" in finding.reason


# --- a new default version, judged for every principal that holds the policy ------------------------

APP_DEPLOY = f"arn:aws:iam::{ACCOUNT}:policy/app-deploy"


def _new_version(document: dict[str, Any]) -> dict[str, Any]:
    event = copy.deepcopy(load_event("create-policy-version-escalation.json"))
    event["detail"]["requestParameters"]["policyDocument"] = json.dumps(document)
    return event


def _holders_directory(*principals: PrincipalPolicies, others: tuple[PrincipalPolicies, ...] = ()) -> StaticDirectory:
    """``principals`` hold app-deploy; ``others`` are further principals of the account (its roles listed)."""
    known = {PrincipalKey.of(p.principal_arn): p for p in (*principals, *others)}
    roles = tuple(p.principal_arn for p in (*principals, *others) if ":role/" in p.principal_arn)
    return StaticDirectory(
        {key: value for key, value in known.items() if key is not None},
        attachments={APP_DEPLOY: tuple(p.principal_arn for p in principals)},
        roles={ACCOUNT: roles} if others else None,
    )


def test_a_harmless_version_that_completes_a_method_for_a_holder_is_found_and_rolled_back() -> None:
    runner = _principal(RUNNER, **{"pass-any-role": PASS_ANY, APP_DEPLOY: _doc(_allow("s3:GetObject"))})

    judgement = _judge(_new_version(LAMBDA), _holders_directory(runner, others=(_deploy_admin(),)))

    [finding] = judgement.findings
    assert finding.rule_id == "privilege-escalation"
    assert finding.certain
    assert "For role build-runner: it opens 2 privilege-escalation methods. It can " in finding.reason
    assert "(PassExistingRoleToNewLambdaThenInvoke), because it is allowed iam:PassRole on *" in finding.reason
    assert "Role build-runner already held the rest of it: iam:PassRole (inline build-runner/pass-any-role)." in (
        finding.reason
    )
    [step] = finding.plan
    assert step.action.value == "restore_default_policy_version"
    assert step.parameters["version_id"] == "v5"


def test_a_harmless_version_for_holders_that_gain_nothing_is_compliant() -> None:
    other = _principal(ADMIN_ROLE, **{"read": _doc(_allow("s3:GetObject"))})

    judgement = _judge(_new_version(LAMBDA), _holders_directory(other))

    assert judgement.verdict is Verdict.COMPLIANT
    assert "also with everything else the 1 roles, users and groups it is attached to hold" in judgement.reason


def test_a_version_whose_holders_are_unknown_is_an_uncertain_finding() -> None:
    [finding] = _judge(_new_version(LAMBDA), StaticDirectory()).findings

    assert finding.needs_context == ("the roles, users and groups app-deploy is attached to, and what else they hold",)
    assert finding.plan[0].action.value == "restore_default_policy_version"


def test_a_version_that_escalates_by_itself_but_is_attached_to_nothing_is_still_restored() -> None:
    """Review s11 finding 4: attached to nothing, nobody gains now, but the version would arm whoever it is attached
    to next: restored as main did, the reason saying so."""
    [finding] = _judge(load_event("create-policy-version-escalation.json"), _holders_directory()).findings

    assert finding.severity == "critical"
    assert finding.plan[0].action.value == "restore_default_policy_version"
    assert "It is attached to nothing now, but it would arm whoever it is attached to next" in finding.reason


def test_reading_everything_is_not_admin_enough_to_make_an_escalation_nothing_new() -> None:
    directory = _directory(_principal(RUNNER, **{"read-all": _doc(_allow("*:Get*"))}))

    [finding] = _judge(
        _put_role_policy("build-runner", "keys", _doc(_allow("iam:CreateAccessKey"))), directory
    ).findings

    assert finding.rule_id == "privilege-escalation"


def test_a_harmless_version_of_a_policy_attached_to_nothing_is_compliant() -> None:
    judgement = _judge(_new_version(LAMBDA), _holders_directory())

    assert judgement.verdict is Verdict.COMPLIANT
    assert "is attached to nothing" in judgement.reason


# --- issue 13 item 7: the plan closes the path, judged on the whole principal -------------------------

PASS_AND_RUN = _doc({**_allow(["iam:PassRole", "ec2:RunInstances"]), "Sid": "Both"}, _allow("s3:GetObject"))


def _remaining(step_parameters: Mapping[str, Any]) -> list[Any]:
    """What the plan's rewrite leaves of the event's document."""
    return without_offending(statement_list(step_parameters["document"]), step_parameters["statements"])


def test_the_plan_cuts_what_only_the_new_policy_grants_when_an_older_one_grants_the_same_action() -> None:
    directory = _directory(_principal(RUNNER, **{"old": PASS_ANY}), _deploy_admin())

    [finding] = _judge(_put_role_policy("build-runner", "new", PASS_AND_RUN), directory).findings

    assert "CreateEC2WithExistingIP" in finding.reason
    [step] = finding.plan
    assert [cut["actions"] for cut in step.parameters["statements"]] == [["ec2:RunInstances"]]
    assert "iam:PassRole (inline build-runner/old)" in finding.reason  # the older grant that completes it


def test_the_plan_leaves_no_path_on_the_whole_principal() -> None:
    directory = _directory(_principal(RUNNER, **{"old": PASS_ANY}), _deploy_admin())
    [finding] = _judge(_put_role_policy("build-runner", "new", PASS_AND_RUN), directory).findings
    left = {"Version": "2012-10-17", "Statement": _remaining(finding.plan[0].parameters)}

    after = _principal(RUNNER, **{"old": PASS_ANY, "new": left})

    assert not assess_principal(after, directory).escalations


def test_without_an_older_grant_the_plan_cuts_the_method_s_first_action() -> None:
    directory = _directory(_principal(RUNNER), _deploy_admin())

    [finding] = _judge(_put_role_policy("build-runner", "new", PASS_AND_RUN), directory).findings

    assert [cut["actions"] for cut in finding.plan[0].parameters["statements"]] == [["iam:PassRole"]]
    assert "already held" not in finding.reason


def test_when_every_action_of_the_path_is_also_held_elsewhere_the_new_policy_is_deleted() -> None:
    """The older policies grant both actions on the account's weak roles only; the new one widens iam:PassRole
    to every role and adds nothing else: its only grant goes (the policy is deleted), and the alert names the
    older grants that complete the path."""
    older = _doc(_allow("ec2:RunInstances"), _allow("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/weak-*"))
    widened = _doc(_allow("iam:PassRole"))
    directory = _directory(_principal(RUNNER, **{"old": older}), _deploy_admin())

    [finding] = _judge(_put_role_policy("build-runner", "wide", widened), directory).findings

    [step] = finding.plan
    assert step.summary.startswith("delete inline policy wide from role build-runner")
    assert "ec2:RunInstances (inline build-runner/old)" in finding.reason
    assert "iam:PassRole (inline build-runner/old)" in finding.reason


# --- issue 13 item 5: offline, the holder named in the event decides what "itself" is ---------------


def _put(kind: str, name: str, document: dict[str, Any]) -> dict[str, Any]:
    event = _put_role_policy("x", "p", document)
    event["detail"]["eventName"] = {"role": "PutRolePolicy", "user": "PutUserPolicy", "group": "PutGroupPolicy"}[kind]
    event["detail"]["requestParameters"] = {
        f"{kind}Name": name,
        "policyName": "p",
        "policyDocument": json.dumps(document),
    }
    return event


def test_offline_writing_its_own_role_s_policy_is_certain() -> None:
    own = _doc(_allow("iam:PutRolePolicy", RUNNER))

    [finding] = _judge(_put("role", "build-runner", own), None).findings

    assert finding.certain
    assert "PutRolePolicy" in finding.reason


def test_offline_writing_another_role_s_policy_is_possible_never_certain() -> None:
    other = _doc(_allow("iam:PutRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/other"))

    [finding] = _judge(_put("role", "build-runner", other), None).findings

    assert not finding.certain
    assert finding.needs_context == (
        f"whether a role arn:aws:iam::{ACCOUNT}:role/other names trusts role build-runner directly "
        "(its trust policy decides)",
    )


def test_offline_a_user_is_never_the_role_a_pattern_names() -> None:
    """iam:PutRolePolicy on every role, for a user: possible (a role that trusts it), not self-escalation."""
    [finding] = _judge(_put("user", "bob", _doc(_allow("iam:PutRolePolicy"))), None).findings

    assert not finding.certain
    assert "trusts user bob directly" in finding.needs_context[0]


def test_offline_a_group_the_user_may_be_in_is_possible() -> None:
    group = _doc(_allow("iam:PutGroupPolicy", f"arn:aws:iam::{ACCOUNT}:group/devs"))

    [finding] = _judge(_put("user", "bob", group), None).findings

    assert not finding.certain
    assert finding.needs_context == (
        f"whether user bob is in a group arn:aws:iam::{ACCOUNT}:group/devs names (what it holds is not known)",
    )


def test_with_details_a_group_the_user_is_not_in_is_no_path() -> None:
    group = _doc(_allow("iam:PutGroupPolicy", f"arn:aws:iam::{ACCOUNT}:group/devs"))
    bob = _principal(f"arn:aws:iam::{ACCOUNT}:user/bob", read=_doc(_allow("s3:GetObject")))

    judgement = _judge(_put("user", "bob", group), _directory(bob))

    assert judgement.verdict is Verdict.COMPLIANT


def test_offline_a_role_creating_and_attaching_to_new_roles_is_certain_through_the_created_role() -> None:
    create = _doc(_allow(["iam:CreateRole", "iam:AttachRolePolicy"], f"arn:aws:iam::{ACCOUNT}:role/new-*"))

    [finding] = _judge(_put("role", "build-runner", create), None).findings

    assert finding.certain
    assert "CreateRoleThenAttachRolePolicy" in finding.reason
    assert "(AttachRolePolicy)" not in finding.reason  # new-* does not name build-runner itself


# --- issue 13 item 6: each finding explains itself -----------------------------------------------------


def test_the_reason_explains_the_method_the_statements_and_where_it_leads() -> None:
    directory = _directory(_principal(RUNNER, **{"pass-any-role": PASS_ANY}), _deploy_admin())

    [finding] = _judge(_put_role_policy("build-runner", "deploy-functions", LAMBDA), directory).findings

    assert "It can " in finding.reason
    assert "iam:PassRole on * (statement 0 of inline build-runner/pass-any-role)" in finding.reason
    assert "lambda:CreateFunction on * (statement 0 of inline build-runner/deploy-functions)" in finding.reason
    assert "That leads to role deploy-admin, which is admin-equivalent" in finding.reason
    [path] = [item for item in finding.offending if item.get("method") == "PassExistingRoleToNewLambdaThenInvoke"]
    assert path["granted_by"]["iam:PassRole"] == ["statement 0 of inline build-runner/pass-any-role"]
    assert path["granted_by"]["lambda:CreateFunction"] == ["statement 0 of inline build-runner/deploy-functions"]
    assert [lead["arn"] for lead in path["leads_to"]] == [ADMIN_ROLE]
    assert path["explanation"].startswith("It can ")
    assert "unknown" not in path


def test_a_possible_path_explains_what_is_not_known() -> None:
    other = _doc(_allow("iam:PutRolePolicy", f"arn:aws:iam::{ACCOUNT}:role/other"))

    [finding] = _judge(_put("role", "build-runner", other), None).findings

    assert "Whether that reaches more than it has already is not known: whether a role" in finding.reason
    [path] = [item for item in finding.offending if "method" in item]
    assert path["leads_to"] == []
    assert path["unknown"] == list(finding.needs_context)


# --- issue 13 item 3: a group's change is judged on each member user's whole power --------------------

DEVS = f"arn:aws:iam::{ACCOUNT}:group/devs"
BOB = f"arn:aws:iam::{ACCOUNT}:user/bob"
RUN = _doc(_allow("ec2:RunInstances"))


def _group_directory(bob: PrincipalPolicies, *, members: tuple[str, ...] | None = (BOB,)) -> StaticDirectory:
    principals = {PrincipalKey.of(p.principal_arn): p for p in (bob, _principal(DEVS), _deploy_admin())}
    return StaticDirectory(
        {key: value for key, value in principals.items() if key is not None},
        roles={ACCOUNT: (ADMIN_ROLE,)},
        members=None if members is None else {PrincipalKey((ACCOUNT, "group", "devs")): members},
    )


def test_a_group_policy_that_completes_a_member_s_method_is_found_for_that_member() -> None:
    bob = _principal(BOB, pass_role=PASS_ANY)

    [finding] = _judge(_put("group", "devs", RUN), _group_directory(bob)).findings

    assert finding.rule_id == "privilege-escalation"
    assert finding.certain
    assert "For user bob: it opens a privilege-escalation method. It can " in finding.reason
    assert "ec2:RunInstances on * (statement 0 of group devs: inline devs/p)" in finding.reason
    assert "User bob already held the rest of it: iam:PassRole (inline bob/pass_role)." in finding.reason
    [holder] = finding.offending
    assert holder["holder"] == "user bob"
    [step] = finding.plan
    assert step.summary.startswith("delete inline policy p from group devs")  # only what the event added


def test_a_group_policy_whose_members_gain_nothing_is_compliant() -> None:
    bob = _principal(BOB, read=_doc(_allow("s3:GetObject")))

    assert _judge(_put("group", "devs", RUN), _group_directory(bob)).verdict is Verdict.COMPLIANT


def test_a_group_with_no_members_gains_nobody_anything() -> None:
    bob = _principal(BOB, pass_role=PASS_ANY)

    assert _judge(_put("group", "devs", RUN), _group_directory(bob, members=())).verdict is Verdict.COMPLIANT


def test_a_group_whose_members_are_unknown_cannot_be_told() -> None:
    bob = _principal(BOB, pass_role=PASS_ANY)

    [finding] = _judge(_put("group", "devs", RUN), _group_directory(bob, members=None)).findings

    assert not finding.certain
    assert finding.needs_context == ("the members of group devs and what else they hold (they could not be read)",)


def test_offline_a_group_policy_that_grants_part_of_a_method_cannot_be_told() -> None:
    [finding] = _judge(_put("group", "devs", RUN), None).findings

    assert finding.needs_context == (
        "the members of group devs and what else they hold (not known without authorization details)",
    )


def test_a_group_policy_that_escalates_by_itself_is_judged_on_the_document() -> None:
    own = _doc(_allow("iam:PutUserPolicy", f"arn:aws:iam::{ACCOUNT}:user/${{aws:username}}"))

    [finding] = _judge(_put("group", "devs", own), None).findings

    assert finding.certain
    assert "PutUserPolicy" in finding.reason
    assert "For user" not in finding.reason


def test_a_new_default_version_held_by_a_group_is_judged_for_its_members() -> None:
    bob = _principal(BOB, pass_role=PASS_ANY)
    policy = APP_DEPLOY
    devs = PrincipalPolicies(DEVS, (NamedPolicy(policy, parse_policy(_doc(_allow("s3:GetObject")))),))
    principals = {PrincipalKey.of(p.principal_arn): p for p in (bob, devs, _deploy_admin())}
    directory = StaticDirectory(
        {key: value for key, value in principals.items() if key is not None},
        roles={ACCOUNT: (ADMIN_ROLE,)},
        attachments={policy: (DEVS,)},
        members={PrincipalKey((ACCOUNT, "group", "devs")): (BOB,)},
    )

    [finding] = _judge(_new_version(RUN), directory).findings

    assert finding.certain
    assert "For user bob (in group devs): it opens a privilege-escalation method" in finding.reason


def test_offline_a_harmless_looking_version_that_grants_part_of_a_method_cannot_be_told() -> None:
    [finding] = _judge(_new_version(LAMBDA), None).findings

    assert not finding.certain
    assert finding.needs_context == (
        "the roles, users and groups app-deploy is attached to, and what else they hold "
        "(not known without authorization details)",
    )


def test_offline_a_harmless_version_stays_compliant() -> None:
    assert _judge(_new_version(_doc(_allow("s3:GetObject"))), None).verdict is Verdict.COMPLIANT
