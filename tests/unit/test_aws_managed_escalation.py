"""An AWS-managed attachment judged by privilege-escalation on the principal's whole power (issue 13 items 3, 4, 7).

Offline, as ``iamwarden evaluate --authorization-details`` judges it: the details are the account before the event,
their ``Policies`` hold the AWS-managed documents in use. The documents are AWS's own, as moto bundles them
(``moto.iam.aws_managed_policies``, taken from the AWS Managed Policy Reference), not written here.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from moto.iam.aws_managed_policies import aws_managed_policies_data

from iamwarden.app.cli import DetailsDocuments
from iamwarden.domain.authorization_details import authorization_details_directory
from iamwarden.domain.directory import StaticDirectory
from iamwarden.domain.findings import Finding, Judgement, StepAction, Verdict
from iamwarden.domain.settings import Settings, load_settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import load_event

ACCOUNT = "111122223333"
APP = f"arn:aws:iam::{ACCOUNT}:role/app"
ADMIN = f"arn:aws:iam::{ACCOUNT}:role/admin"
PROFILE = f"arn:aws:iam::{ACCOUNT}:instance-profile/admin"
_AWS = json.loads(aws_managed_policies_data)


def _aws(name: str) -> str:
    return f"arn:aws:iam::aws:policy{_AWS[name]['Path']}{name}"


def _policy(name: str) -> dict[str, Any]:
    """A ``Policies`` entry as ``get-account-authorization-details`` prints an AWS-managed policy."""
    data = _AWS[name]
    version = data["DefaultVersionId"]
    return {
        "PolicyName": name,
        "Arn": _aws(name),
        "Path": data["Path"],
        "DefaultVersionId": version,
        "PolicyVersionList": [{"Document": data["Document"], "VersionId": version, "IsDefaultVersion": True}],
    }


def _trust(service: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
    }


def _details(
    *,
    app_inline: dict[str, Any] | None = None,
    app_attached: tuple[str, ...] = (),
    admin_trusts: str = "ec2.amazonaws.com",
    admin_profiles: tuple[str, ...] = (PROFILE,),
    policies: tuple[str, ...] = ("AdministratorAccess",),
) -> StaticDirectory:
    app: dict[str, Any] = {
        "RoleName": "app",
        "Arn": APP,
        "Path": "/",
        "AssumeRolePolicyDocument": _trust("ec2.amazonaws.com"),
        "RolePolicyList": ([] if app_inline is None else [{"PolicyName": "older", "PolicyDocument": app_inline}]),
        "AttachedManagedPolicies": [{"PolicyName": n, "PolicyArn": _aws(n)} for n in app_attached],
        "InstanceProfileList": [],
    }
    admin = {
        "RoleName": "admin",
        "Arn": ADMIN,
        "Path": "/",
        "AssumeRolePolicyDocument": _trust(admin_trusts),
        "RolePolicyList": [],
        "AttachedManagedPolicies": [{"PolicyName": "AdministratorAccess", "PolicyArn": _aws("AdministratorAccess")}],
        "InstanceProfileList": [
            {"InstanceProfileName": arn.rsplit("/", 1)[-1], "Arn": arn, "Path": "/", "Roles": []}
            for arn in admin_profiles
        ],
    }
    return authorization_details_directory(
        {
            "UserDetailList": [],
            "GroupDetailList": [],
            "RoleDetailList": [app, admin],
            "Policies": [_policy(name) for name in dict.fromkeys((*policies, *app_attached))],
        }
    )


PASS_ANY_ROLE = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}]}


def _attach(name: str, role: str = "app") -> dict[str, Any]:
    event = copy.deepcopy(load_event("attach-admin-to-role.json"))
    event["detail"]["requestParameters"] = {"roleName": role, "policyArn": _aws(name)}
    return event


def _settings(*, managed: str = "alert") -> Settings:
    return load_settings({"rules": {"managed-policy-attached": {"mode": managed}}})


def _judge(name: str, directory: StaticDirectory | None, settings: Settings | None = None) -> Judgement:
    documents = None if directory is None else DetailsDocuments(directory)
    return judge_event(_attach(name), settings or _settings(), documents, directory)


def _by_rule(judgement: Judgement) -> dict[str, Finding]:
    return {finding.rule_id: finding for finding in judgement.findings}


def test_iam_full_access_is_alerted_once_by_the_rule_that_names_it_admin_equivalent() -> None:
    judgement = _judge("IAMFullAccess", _details(policies=("AdministratorAccess", "IAMFullAccess")))
    [finding] = judgement.findings
    assert finding.rule_id == "managed-policy-attached"
    assert "gives full control of IAM" in finding.reason


@pytest.mark.parametrize("name", ["IAMFullAccess", "AdministratorAccess"])
def test_the_strongest_policies_are_not_left_to_a_name_rule_that_does_less(name: str) -> None:
    """Review s9 finding 3: managed-policy-attached alerting while privilege-escalation remediates would leave the
    strongest policies alerted only and detach weaker ones: then privilege-escalation judges (and plans) them too."""
    settings = load_settings(
        {"rules": {"managed-policy-attached": {"mode": "alert"}, "privilege-escalation": {"mode": "remediate"}}}
    )

    judgement = _judge(name, _details(policies=("AdministratorAccess", "IAMFullAccess")), settings)

    by_rule = _by_rule(judgement)
    assert set(by_rule) == {"managed-policy-attached", "privilege-escalation"}
    [step] = by_rule["privilege-escalation"].plan
    assert step.action is StepAction.DETACH_MANAGED_POLICY
    both = load_settings({"rules": {"managed-policy-attached": {"mode": "remediate"}}})
    assert set(_by_rule(_judge(name, _details(policies=("AdministratorAccess", "IAMFullAccess")), both))) == {
        "managed-policy-attached"
    }, "the name rule remediates as far: one finding"


def test_iam_full_access_is_an_escalation_on_the_whole_power_when_the_name_rule_is_off() -> None:
    judgement = _judge(
        "IAMFullAccess", _details(policies=("AdministratorAccess", "IAMFullAccess")), _settings(managed="off")
    )
    [finding] = judgement.findings
    assert finding.rule_id == "privilege-escalation"
    assert finding.reason.startswith("The AWS-managed policy IAMFullAccess (default version v2) was attached to role")
    assert finding.offending[0] == {"policy_arn": _aws("IAMFullAccess"), "version_id": "v2"}
    assert any(item.get("method") == "PutRolePolicy" for item in finding.offending)
    # The details list every attachment before the event: it was not there, so detaching it takes away only it.
    [step] = finding.plan
    assert step.action is StepAction.DETACH_MANAGED_POLICY
    assert step.parameters == {"principal_type": "role", "principal_name": "app", "policy_arn": _aws("IAMFullAccess")}
    assert finding.needs_context == ()


def test_read_only_access_is_no_escalation() -> None:
    directory = _details(app_inline=PASS_ANY_ROLE, policies=("AdministratorAccess", "ReadOnlyAccess"))
    judgement = _judge("ReadOnlyAccess", directory)
    assert [finding.rule_id for finding in judgement.findings] == ["managed-policy-attached"]
    alone = _judge("ReadOnlyAccess", directory, _settings(managed="off"))
    assert alone.verdict is Verdict.COMPLIANT
    assert "the AWS-managed policy ReadOnlyAccess (version" in alone.reason
    assert "opens no known privilege-escalation method that role app did not already have" in alone.reason


def _methods(finding: Finding) -> dict[str, list[str]]:
    """Each method the finding names, with the roles it leads to."""
    methods = [item for item in finding.offending if "method" in item]
    return {str(item["method"]): [lead["arn"] for lead in item["leads_to"]] for item in methods}


def test_lambda_full_access_passes_a_role_to_lambda_and_leads_to_the_admin_role() -> None:
    directory = _details(admin_trusts="lambda.amazonaws.com", policies=("AdministratorAccess", "AWSLambda_FullAccess"))
    found = _by_rule(_judge("AWSLambda_FullAccess", directory))
    # Each says something different: the name rule what the policy is, the escalation rule where it leads.
    assert found["managed-policy-attached"].severity.value == "high"
    escalation = found["privilege-escalation"]
    assert escalation.severity.value == "critical"
    assert _methods(escalation)["PassRoleToNewLambdaFunction"] == [ADMIN]
    assert "iam:PassRole on * (statement 1 of arn:aws:iam::aws:policy/AWSLambda_FullAccess)" in escalation.reason


def test_lambda_full_access_passes_no_role_lambda_may_not_assume() -> None:
    directory = _details(admin_trusts="ec2.amazonaws.com", policies=("AdministratorAccess", "AWSLambda_FullAccess"))
    escalation = _by_rule(_judge("AWSLambda_FullAccess", directory))["privilege-escalation"]
    methods = _methods(escalation)
    assert "PassRoleToNewLambdaFunction" not in methods
    # lambda:UpdateFunctionCode on every function still runs code as whichever role a function has.
    assert "EditExistingLambdaFunctionWithRole" in methods


def test_ec2_full_access_completes_an_older_pass_role_into_the_ec2_method() -> None:
    directory = _details(app_inline=PASS_ANY_ROLE, policies=("AdministratorAccess", "AmazonEC2FullAccess"))
    escalation = _by_rule(_judge("AmazonEC2FullAccess", directory))["privilege-escalation"]
    assert _methods(escalation)["CreateEC2WithExistingIP"] == [ADMIN]
    assert "Role app already held the rest of it: iam:PassRole (inline app/older)." in escalation.reason
    assert {"completed_by": ["iam:PassRole (inline app/older)"]} in escalation.offending
    [step] = escalation.plan  # only the attachment this event made: the older inline policy stays
    assert step.parameters["policy_arn"] == _aws("AmazonEC2FullAccess")


def test_ec2_full_access_passes_no_role_that_is_in_no_instance_profile() -> None:
    directory = _details(
        app_inline=PASS_ANY_ROLE, admin_profiles=(), policies=("AdministratorAccess", "AmazonEC2FullAccess")
    )
    escalation = _by_rule(_judge("AmazonEC2FullAccess", directory))["privilege-escalation"]
    assert "CreateEC2WithExistingIP" not in _methods(escalation)


def test_an_attachment_held_before_is_alerted_but_never_removed() -> None:
    directory = _details(
        app_inline=PASS_ANY_ROLE,
        app_attached=("AmazonEC2FullAccess",),
        policies=("AdministratorAccess",),
    )
    [finding] = _judge("AmazonEC2FullAccess", directory, _settings(managed="off")).findings
    assert finding.rule_id == "privilege-escalation"
    assert finding.plan == ()
    assert "AmazonEC2FullAccess was attached to role app before this event: nothing was added" in finding.reason


def test_offline_without_the_document_the_escalation_cannot_be_judged() -> None:
    judgement = _judge("AWSLambdaBasicExecutionRole", None)
    assert judgement.verdict is Verdict.IGNORED
    assert "cannot judge" in judgement.reason
    assert "--authorization-details made without --filter" in judgement.reason


def test_details_made_with_a_filter_lack_the_aws_managed_policy_and_say_so() -> None:
    directory = _details(policies=("AdministratorAccess",))  # AWSLambda_FullAccess is not in the file
    judgement = _judge("AWSLambda_FullAccess", directory)
    [unjudged] = judgement.unjudged
    assert unjudged.rule_id == "privilege-escalation"
    assert "only when the file was made without --filter" in unjudged.reason


@pytest.mark.parametrize("name", ["AWSDenyAll", "AWSCompromisedKeyQuarantineV2"])
def test_a_policy_that_only_denies_is_never_an_escalation(name: str) -> None:
    if name not in _AWS:
        pytest.skip(f"moto does not bundle {name}")
    judgement = _judge(name, None)
    assert judgement.verdict is Verdict.COMPLIANT
    assert "only denies: it adds no power to escalate with" in judgement.reason
