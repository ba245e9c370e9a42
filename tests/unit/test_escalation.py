"""The privilege-escalation methods and admin-equivalent grants, judged from policy documents alone;
and the rules that use them, offline and with a stub document reader."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from iamwarden.domain.escalation import ESCALATION_METHODS, admin_grants, assess, escalation_paths
from iamwarden.domain.findings import StepAction, Verdict
from iamwarden.domain.managed_documents import PolicyVersion
from iamwarden.domain.policy import parse_policy
from iamwarden.domain.settings import Settings, load_settings
from iamwarden.guardrails.engine import judge_event
from iamwarden.guardrails.identity_policy import PRIVILEGE_ESCALATION
from tests.conftest import load_event


def _policy(*statements: dict[str, Any]) -> Any:
    return parse_policy({"Version": "2012-10-17", "Statement": list(statements)})


def _allow(action: str | list[str], resource: str | list[str] = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def _methods(*statements: dict[str, Any]) -> set[str]:
    return {path.method.name for path in escalation_paths(_policy(*statements))}


def test_the_methods_are_data_with_unique_names_and_exact_actions() -> None:
    names = [method.name for method in ESCALATION_METHODS]
    assert len(names) == len(set(names)) >= 60
    for method in ESCALATION_METHODS:
        assert method.actions, method.name
        assert all(":" in action and "*" not in action for action in method.actions), method.name


@pytest.mark.parametrize(
    ("actions", "method"),
    [
        (["iam:PassRole", "ec2:RunInstances"], "CreateEC2WithExistingIP"),
        (["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"], "PassExistingRoleToNewLambdaThenInvoke"),
        (
            ["iam:PassRole", "lambda:CreateFunction", "lambda:CreateEventSourceMapping"],
            "PassExistingRoleToNewLambdaThenTriggerWithExistingDynamo",
        ),
        (["iam:PassRole", "cloudformation:CreateStack"], "PassExistingRoleToCloudFormation"),
        (["iam:PassRole", "glue:CreateDevEndpoint"], "PassExistingRoleToNewGlueDevEndpoint"),
        (["iam:PassRole", "datapipeline:CreatePipeline"], "PassExistingRoleToNewDataPipeline"),
        (["iam:PassRole", "sagemaker:CreateNotebookInstance"], "PassExistingRoleToNewSageMakerNotebookInstance"),
        (["iam:CreatePolicyVersion"], "CreateNewPolicyVersion"),
        (["iam:SetDefaultPolicyVersion"], "SetExistingDefaultPolicyVersion"),
        (["iam:AttachUserPolicy"], "AttachUserPolicy"),
        (["iam:AttachGroupPolicy"], "AttachGroupPolicy"),
        (["iam:AttachRolePolicy"], "AttachRolePolicy"),
        (["iam:AttachRolePolicy", "sts:AssumeRole"], "AttachRolePolicyThenAssumeRole"),
        (["iam:PutUserPolicy"], "PutUserPolicy"),
        (["iam:PutGroupPolicy"], "PutGroupPolicy"),
        (["iam:PutRolePolicy"], "PutRolePolicy"),
        (["iam:PutRolePolicy", "sts:AssumeRole"], "PutRolePolicyThenAssumeRole"),
        (["iam:CreateAccessKey"], "CreateAccessKey"),
        (["iam:CreateLoginProfile"], "CreateLoginProfile"),
        (["iam:UpdateLoginProfile"], "UpdateLoginProfile"),
        (["iam:UpdateAssumeRolePolicy"], "UpdateRolePolicyToAssumeIt"),
        (["iam:AddUserToGroup"], "AddUserToGroup"),
        (["glue:UpdateDevEndpoint"], "UpdateExistingGlueDevEndpoint"),
        (["lambda:UpdateFunctionCode"], "EditExistingLambdaFunctionWithRole"),
    ],
)
def test_each_method_is_found_from_exactly_its_actions(actions: list[str], method: str) -> None:
    assert method in _methods(_allow(actions))
    if len(actions) > 1:  # every action is needed: one missing and the method is not reachable
        for missing in actions:
            assert method not in _methods(_allow([a for a in actions if a != missing]))


def test_passrole_alone_or_lambda_alone_is_not_an_escalation() -> None:
    assert _methods(_allow("iam:PassRole")) == set()
    assert _methods(_allow(["lambda:CreateFunction", "lambda:InvokeFunction"])) == set()


def test_wildcards_and_notaction_reach_the_actions() -> None:
    assert "CreateAccessKey" in _methods(_allow("iam:Create*"))
    assert "PassExistingRoleToCloudFormation" in _methods(_allow(["iam:PassRole", "cloudformation:*"]))
    assert "PutUserPolicy" in _methods({"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"})


def test_the_finding_names_the_resources_that_make_it_reachable() -> None:
    [path] = escalation_paths(
        _policy(
            _allow("iam:PassRole", "arn:aws:iam::111122223333:role/app-*"),
            _allow("ec2:RunInstances", "arn:aws:ec2:*:111122223333:instance/*"),
            _allow("ec2:RunInstances", "arn:aws:s3:::not-ec2"),
        )
    )
    assert path.method.name == "CreateEC2WithExistingIP"
    assert {grant.action: grant.resources for grant in path.grants} == {
        "iam:PassRole": ("arn:aws:iam::111122223333:role/app-*",),
        "ec2:RunInstances": ("arn:aws:ec2:*:111122223333:instance/*",),
    }
    assert "iam:PassRole on arn:aws:iam::111122223333:role/app-*" in path.describe()


def test_resources_that_cannot_reach_the_target_do_not_count() -> None:
    assert _methods(_allow("iam:PassRole", "arn:aws:iam::111122223333:user/x"), _allow("ec2:RunInstances")) == set()
    assert _methods(_allow("iam:CreateAccessKey", "arn:aws:iam::111122223333:user/${aws:username}")) == set()
    assert _methods(_allow("iam:CreateAccessKey", "arn:aws:iam::111122223333:user/*")) == {"CreateAccessKey"}


def test_an_unconditional_deny_everywhere_removes_the_action() -> None:
    allow = _allow(["iam:PassRole", "ec2:RunInstances"])
    assert _methods(allow, {"Effect": "Deny", "Action": "iam:PassRole", "Resource": "*"}) == set()
    conditional = {"Effect": "Deny", "Action": "iam:PassRole", "Resource": "*", "Condition": {"Bool": {"x": "y"}}}
    assert _methods(allow, conditional) == {"CreateEC2WithExistingIP"}


def test_notresource_counts_as_reaching() -> None:
    statement = {"Effect": "Allow", "Action": "iam:CreateAccessKey", "NotResource": "arn:aws:iam::1:user/root-ish"}
    [path] = escalation_paths(_policy(statement))
    assert path.grants[0].resources == ("NotResource arn:aws:iam::1:user/root-ish",)


@pytest.mark.parametrize(
    ("statement", "critical"),
    [
        (_allow("*"), True),
        (_allow("iam:*"), True),
        ({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}, True),
        (_allow("*:Get*"), True),
        (_allow("s3:*"), False),
        (_allow("*", "arn:aws:*:*:*:*"), True),
    ],
)
def test_admin_equivalent_grants(statement: dict[str, Any], critical: bool) -> None:
    [grant] = admin_grants(_policy(statement))
    assert grant.critical is critical


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Deny", "Action": "*", "Resource": "*"},
        _allow("s3:*", "arn:aws:s3:::acme-invoices/*"),
        _allow("iam:*", "arn:aws:iam::111122223333:role/app-*"),
        _allow(["s3:GetObject", "s3:ListBucket"]),
    ],
)
def test_narrow_or_deny_statements_are_not_admin(statement: dict[str, Any]) -> None:
    assert admin_grants(_policy(statement)) == ()


def test_a_deny_only_policy_is_not_risky() -> None:
    assert not assess(_policy({"Effect": "Deny", "Action": "*", "Resource": "*"})).risky


# --- the rules, offline and with a document reader ---------------------------------------------------


class StubDocuments:
    def __init__(self, versions: dict[tuple[str, str], dict[str, Any]], default: str = "v1") -> None:
        self.versions = versions
        self.default = default

    def default_version(self, account: str, policy_arn: str) -> PolicyVersion | None:
        return self.version(account, policy_arn, self.default)

    def version(self, account: str, policy_arn: str, version_id: str) -> PolicyVersion | None:
        document = self.versions.get((policy_arn, version_id))
        return PolicyVersion(version_id, document) if document is not None else None


ADMIN = {"Version": "2012-10-17", "Statement": [_allow("*")]}
APP_DEPLOY = "arn:aws:iam::111122223333:policy/app-deploy"
APP_S3_READ = "arn:aws:iam::111122223333:policy/app-s3-read"


def test_set_default_policy_version_cannot_be_judged_offline() -> None:
    judgement = judge_event(load_event("set-default-policy-version.json"), Settings())
    assert judgement.verdict is Verdict.IGNORED
    assert judgement.reason.startswith("cannot judge: SetDefaultPolicyVersion names version v1")


def test_set_default_policy_version_is_judged_on_the_document_read() -> None:
    documents = StubDocuments({(APP_DEPLOY, "v1"): ADMIN})
    judgement = judge_event(load_event("set-default-policy-version.json"), Settings(), documents)
    [finding] = judgement.findings
    assert finding.rule_id == "policy-version-admin"
    [step] = finding.plan
    assert step.action is StepAction.RESTORE_DEFAULT_POLICY_VERSION
    assert dict(step.parameters) == {
        "policy_arn": APP_DEPLOY,
        "version_id": "v1",
        "delete_version": False,
        "statements": [{"index": 0, "sid": None, "statement": ADMIN["Statement"][0]}],
    }


def test_customer_managed_attachment_is_judged_on_its_default_version() -> None:
    escalating = {"Version": "2012-10-17", "Statement": [_allow(["iam:AttachRolePolicy", "sts:AssumeRole"])]}
    judgement = judge_event(
        load_event("attach-customer-managed.json"), Settings(), StubDocuments({(APP_S3_READ, "v1"): escalating})
    )
    [finding] = judgement.findings
    assert finding.rule_id == PRIVILEGE_ESCALATION.id
    assert finding.offending[0] == {"policy_arn": APP_S3_READ, "version_id": "v1"}
    assert finding.offending[1]["method"] == "AttachRolePolicy"
    assert finding.plan[0].action is StepAction.DETACH_MANAGED_POLICY


def test_an_aws_managed_attachment_is_left_to_managed_policy_attached() -> None:
    judgement = judge_event(load_event("attach-admin-to-role.json"), Settings(), StubDocuments({}))
    assert [f.rule_id for f in judgement.findings] == ["managed-policy-attached"]


def test_with_privilege_escalation_off_the_inline_rule_reports_the_escalation() -> None:
    settings = load_settings({"rules": {"privilege-escalation": {"mode": "off"}}})
    judgement = judge_event(load_event("put-user-policy-passrole-lambda.json"), settings)
    [finding] = judgement.findings
    assert finding.rule_id == "inline-policy-admin"
    assert "PassExistingRoleToNewLambdaThenInvoke" in finding.reason


def test_delete_version_setting_reaches_the_plan() -> None:
    settings = load_settings({"rules": {"policy-version-admin": {"delete_version": "delete"}}})
    [finding] = judge_event(load_event("create-policy-version-admin.json"), settings).findings
    assert finding.plan[0].parameters["delete_version"] is True


@pytest.mark.parametrize(
    ("sample", "path", "message"),
    [
        ("put-role-policy-admin-star.json", ("requestParameters", "policyDocument"), "policyDocument"),
        ("create-policy-version-admin.json", ("responseElements", "policyVersion"), "versionId"),
        ("create-access-key-for-other-user.json", ("responseElements", "accessKey"), "accessKeyId"),
        ("put-role-policy-admin-star.json", ("requestParameters", "policyName"), "policyName"),
    ],
)
def test_malformed_new_events_are_invalid(sample: str, path: tuple[str, str], message: str) -> None:
    event = copy.deepcopy(load_event(sample))
    del event["detail"][path[0]][path[1]]
    judgement = judge_event(event, Settings())
    assert judgement.verdict is Verdict.INVALID
    assert message in judgement.reason


def test_an_inline_document_that_does_not_parse_is_invalid() -> None:
    event = copy.deepcopy(load_event("put-role-policy-admin-star.json"))
    event["detail"]["requestParameters"]["policyDocument"] = json.dumps({"Statement": [{"Effect": "Maybe"}]})
    assert judge_event(event, Settings()).verdict is Verdict.INVALID


def test_login_profile_without_a_user_name_anywhere_is_invalid() -> None:
    event = copy.deepcopy(load_event("update-login-profile.json"))
    event["detail"]["requestParameters"] = {}
    judgement = judge_event(event, Settings())
    assert judgement.verdict is Verdict.INVALID  # the caller is a role, so the API default is no help


def test_a_principal_is_judged_on_all_its_policies_together() -> None:
    from iamwarden.domain.escalation import assess_principal
    from iamwarden.domain.policy import parse_policy
    from iamwarden.domain.principals import NamedPolicy, PrincipalPolicies

    def named(source: str, action: str) -> NamedPolicy:
        document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]}
        return NamedPolicy(source, parse_policy(document))

    alone = PrincipalPolicies("arn:aws:iam::111122223333:role/app", (named("inline app/a", "iam:PassRole"),))
    together = alone.replaced("inline app/b", named("x", "lambda:CreateFunction").policy)
    both = together.replaced("inline app/c", named("x", "lambda:InvokeFunction").policy)
    assert not assess_principal(alone).escalations
    assert assess_principal(both).escalations
    assert both.kind == "role"
    assert assess_principal(both.replaced("inline app/a", None)).escalations == ()
