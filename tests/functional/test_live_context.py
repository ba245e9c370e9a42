"""Issue 13, items 3, 4 and 7 end to end against moto: the enforcer reads the principal's whole power live.

Split grants are found and remediated by removing only the policy the event added; a role passed to
CloudFormation is resolved to what it may do; a read the enforcer is denied makes the finding alert-only
(``needs_context``) and nothing changes.
"""

from __future__ import annotations

import contextlib
import copy
import json
from typing import Any

import boto3
from botocore.exceptions import ClientError

from iamwarden.adapters.clients import ClientFactory
from iamwarden.adapters.principals import LiveRoleDirectory
from iamwarden.app.service import EnforcerService
from iamwarden.domain.escalation import assess_principal
from iamwarden.domain.findings import Finding, Outcome
from iamwarden.guardrails.remediation import statement_list, without_offending
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier

TRUST = json.dumps({"Version": "2012-10-17", "Statement": []})
#: What a role passed to a service needs: its trust admits the service (PMapper's ec2_edges/lambda_edges).
SERVICES_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["lambda.amazonaws.com", "ec2.amazonaws.com", "cloudformation.amazonaws.com"]},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
PASS_ANY_ROLE = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "PassAnyRole", "Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}],
}
WEAK = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::acme-app-assets/*"}],
}


def _put_sample(account: Account, sample: str) -> dict[str, Any]:
    """The live state after the sample's PutRolePolicy (its role created if needed); the event to judge."""
    event = copy.deepcopy(load_event(sample))
    parameters = event["detail"]["requestParameters"]
    with contextlib.suppress(ClientError):  # the test may have created the role with older policies
        account.iam.create_role(RoleName=parameters["roleName"], AssumeRolePolicyDocument=TRUST)
    account.iam.put_role_policy(
        RoleName=parameters["roleName"],
        PolicyName=parameters["policyName"],
        PolicyDocument=parameters["policyDocument"],
    )
    return event


def _admin_role(account: Account) -> None:
    """An administrator role in the account: passing any role leads to it (else passing one escalates nothing). It is
    in an instance profile, as EC2 needs to run as it (the live directory reads that: a role in none is no lead)."""
    account.iam.create_role(RoleName="deploy-admin", AssumeRolePolicyDocument=SERVICES_TRUST)
    account.iam.attach_role_policy(RoleName="deploy-admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    account.iam.create_instance_profile(InstanceProfileName="deploy-admin")
    account.iam.add_role_to_instance_profile(InstanceProfileName="deploy-admin", RoleName="deploy-admin")


def _inline(account: Account, role: str) -> list[str]:
    return sorted(account.iam.list_role_policies(RoleName=role)["PolicyNames"])


def test_a_method_split_across_two_policies_is_alerted_with_a_plan_removing_only_the_new_one(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set("rules/privilege-escalation/mode", "remediate")
    account.iam.create_role(RoleName="build-runner", AssumeRolePolicyDocument=TRUST)
    account.iam.put_role_policy(
        RoleName="build-runner", PolicyName="pass-any-role", PolicyDocument=json.dumps(PASS_ANY_ROLE)
    )
    _admin_role(account)
    event = _put_sample(account, "put-role-policy-split-escalation.json")

    [finding] = enforcer.handle(event)["findings"]

    # Live, what the put replaced is unknown (IAM keeps no history of inline policies; audit gap 5): alerted with
    # that said, never remediated; the plan still names the proportional cut.
    assert (finding["rule"], finding["outcome"]) == ("privilege-escalation", "alerted")
    assert _inline(account, "build-runner") == ["deploy-functions", "pass-any-role"]
    [alert] = notifier.sent
    assert alert.finding is not None
    # Proportional: only lambda:CreateFunction, the event's part of the method, would go; the older grant stays.
    assert [statement["Action"] for statement in _left_by_plan(alert.finding)] == [
        ["lambda:InvokeFunction", "lambda:GetFunction"]
    ]
    assert "PassExistingRoleToNewLambdaThenInvoke" in alert.finding.reason
    assert "already held the rest of it: iam:PassRole (inline build-runner/pass-any-role)" in alert.finding.reason
    assert not alert.finding.certain
    assert alert.finding.needs_context[-1].startswith("the previous document of inline policy deploy-functions")


def _left_by_plan(finding: Finding) -> list[Any]:
    """What the plan's rewrite would leave of the event's inline document."""
    [step] = finding.plan
    return without_offending(statement_list(step.parameters["document"]), step.parameters["statements"])


def test_the_same_policy_alone_is_compliant(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/privilege-escalation/mode", "remediate")
    event = _put_sample(account, "put-role-policy-split-escalation.json")

    result = enforcer.handle(event)

    assert result["verdict"] == "compliant"
    assert "did not already have, with everything else it holds" in result["reason"]
    assert _inline(account, "build-runner") == ["deploy-functions"]


def test_passing_one_named_weaker_role_is_compliant(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/privilege-escalation/mode", "remediate")
    account.iam.create_role(RoleName="cfn-deploy-app", AssumeRolePolicyDocument=TRUST)
    account.iam.put_role_policy(RoleName="cfn-deploy-app", PolicyName="deploy-app", PolicyDocument=json.dumps(WEAK))
    event = _put_sample(account, "put-role-policy-ci-passrole-deploy-role.json")

    result = enforcer.handle(event)

    assert result["verdict"] == "compliant"
    assert _inline(account, "ci-pipeline") == ["deploy-app-stacks"]


def test_passing_an_admin_role_is_alerted_and_the_alert_names_the_role(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set("rules/privilege-escalation/mode", "remediate")
    account.iam.create_role(RoleName="cfn-deploy-admin", AssumeRolePolicyDocument=SERVICES_TRUST)
    account.iam.attach_role_policy(RoleName="cfn-deploy-admin", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    event = _put_sample(account, "put-role-policy-ci-passrole-admin-role.json")

    [finding] = enforcer.handle(event)["findings"]

    # Live, what the put replaced is unknown (IAM keeps no history of inline policies; audit gap 5): alerted with
    # that said, never remediated; the plan still names the proportional cut.
    assert (finding["rule"], finding["outcome"]) == ("privilege-escalation", "alerted")
    [alert] = notifier.sent
    assert alert.finding is not None
    # Proportional: only the PassRole statement would go; the stack grants stay (no stack runs as a stronger role).
    assert [statement["Sid"] for statement in _left_by_plan(alert.finding)] == ["DeployStacks"]
    assert "That leads to role cfn-deploy-admin, which is admin-equivalent" in alert.finding.reason


def _escalations_now(account: Account, role: str) -> list[str]:
    """The escalation methods the role holds now, judged afresh on the live account (no cache)."""
    directory = LiveRoleDirectory(ClientFactory(HOME_ACCOUNT, account.config.member_role_name, session=account.session))
    principal = directory.principal(f"arn:aws:iam::{HOME_ACCOUNT}:role/{role}")
    assert principal is not None
    return [path.method.name for path in assess_principal(principal, directory).escalations]


OLD_PASS_ANY_ROLE = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "Pass", "Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}],
}
#: The event's one statement grants both halves of CreateEC2WithExistingIP; the role already held iam:PassRole.
PASS_AND_RUN = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "Both", "Effect": "Allow", "Action": ["iam:PassRole", "ec2:RunInstances"], "Resource": "*"},
        {"Sid": "Keep", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
    ],
}


def _put(account: Account, role: str, name: str, document: dict[str, Any]) -> dict[str, Any]:
    """Put ``document`` live and return the PutRolePolicy event that says so."""
    event = copy.deepcopy(load_event("put-role-policy-split-escalation.json"))
    event["detail"]["requestParameters"] = {
        "roleName": role,
        "policyName": name,
        "policyDocument": json.dumps(document),
    }
    account.iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(document))
    return event


def test_the_cut_closes_the_path_when_an_older_policy_grants_the_same_action(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Cutting iam:PassRole from the new statement would leave the older iam:PassRole and the path open: the
    cut is ec2:RunInstances, which only the new policy grants, and the role no longer escalates."""
    account.set("rules/privilege-escalation/mode", "remediate")
    _admin_role(account)
    account.iam.create_role(RoleName="app", AssumeRolePolicyDocument=TRUST)
    account.iam.put_role_policy(RoleName="app", PolicyName="old", PolicyDocument=json.dumps(OLD_PASS_ANY_ROLE))
    event = _put(account, "app", "new", PASS_AND_RUN)
    assert "CreateEC2WithExistingIP" in _escalations_now(account, "app")

    [finding] = enforcer.handle(event)["findings"]

    # Live, what the put replaced is unknown (IAM keeps no history of inline policies; audit gap 5): alerted with
    # that said, never remediated; the plan still names the proportional cut.
    assert (finding["rule"], finding["outcome"]) == ("privilege-escalation", "alerted")
    assert _inline(account, "app") == ["new", "old"]  # the older grant is not this event's to remove
    [alert] = notifier.sent
    assert alert.finding is not None
    assert [statement["Action"] for statement in _left_by_plan(alert.finding)] == ["iam:PassRole", "s3:GetObject"]
    assert "iam:PassRole (inline app/old)" in alert.finding.reason


def _deny(operation: str) -> Any:
    def denied(**_: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "AccessDenied", "Message": f"not authorized to perform iam:{operation}"}}, operation
        )

    return denied


def test_a_read_that_is_denied_makes_the_finding_alert_only_and_nothing_changes(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set("rules/privilege-escalation/mode", "remediate")
    account.iam.create_role(RoleName="build-runner", AssumeRolePolicyDocument=TRUST)
    account.iam.put_role_policy(
        RoleName="build-runner", PolicyName="pass-any-role", PolicyDocument=json.dumps(PASS_ANY_ROLE)
    )
    _admin_role(account)
    event = _put_sample(account, "put-role-policy-split-escalation.json")
    account.session.events.register("before-call.iam.ListRolePolicies", _deny("ListRolePolicies"))

    [finding] = enforcer.handle(event)["findings"]

    assert (finding["rule"], finding["outcome"]) == ("privilege-escalation", "alerted")
    assert _inline(account_without_denial(account), "build-runner") == ["deploy-functions", "pass-any-role"]
    [alert] = notifier.sent
    assert alert.outcome is Outcome.ALERTED
    assert alert.finding is not None
    assert alert.finding.needs_context == (
        "the other policies, groups and permissions boundary of role build-runner (they could not be read)",
    )
    assert "cannot tell whether together they open one" in alert.finding.reason


def account_without_denial(account: Account) -> Account:
    """The account read through a fresh session, which the test's denial hook does not reach."""
    return account._replace(iam=boto3.Session(region_name=account.session.region_name).client("iam"))


def test_a_harmless_looking_version_that_completes_a_holders_method_is_rolled_back(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set("rules/privilege-escalation/mode", "remediate")
    account.iam.create_role(RoleName="build-runner", AssumeRolePolicyDocument=TRUST)
    account.iam.put_role_policy(
        RoleName="build-runner", PolicyName="pass-any-role", PolicyDocument=json.dumps(PASS_ANY_ROLE)
    )
    _admin_role(account)
    arn = account.iam.create_policy(PolicyName="app-deploy", PolicyDocument=json.dumps(WEAK))["Policy"]["Arn"]
    account.iam.attach_role_policy(RoleName="build-runner", PolicyArn=arn)
    lambda_deploy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": ["lambda:CreateFunction", "lambda:InvokeFunction"], "Resource": "*"}
        ],
    }
    created = account.iam.create_policy_version(
        PolicyArn=arn, PolicyDocument=json.dumps(lambda_deploy), SetAsDefault=True
    )
    event = copy.deepcopy(load_event("create-policy-version-escalation.json"))
    event["detail"]["requestParameters"].update(policyArn=arn, policyDocument=json.dumps(lambda_deploy))
    event["detail"]["responseElements"]["policyVersion"]["versionId"] = created["PolicyVersion"]["VersionId"]

    [finding] = enforcer.handle(event)["findings"]

    assert (finding["rule"], finding["outcome"]) == ("privilege-escalation", "remediated")
    assert account.iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v1"
    [alert] = notifier.sent
    assert alert.finding is not None
    assert "For role build-runner: it opens 2 privilege-escalation methods" in alert.finding.reason


def test_updating_a_stack_whose_service_role_is_an_administrator_is_an_escalation(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """The same weak passed role, but an app-* stack already runs as an administrator role: updating it is."""
    account.set("rules/privilege-escalation/mode", "alert")
    account.iam.create_role(RoleName="cfn-deploy-app", AssumeRolePolicyDocument=TRUST)
    account.iam.put_role_policy(RoleName="cfn-deploy-app", PolicyName="deploy-app", PolicyDocument=json.dumps(WEAK))
    _admin_role(account)
    admin = account.iam.get_role(RoleName="deploy-admin")["Role"]["Arn"]
    template = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic"}}}
    cloudformation = account.session.client("cloudformation", region_name="us-east-1")
    cloudformation.create_stack(StackName="app-web", TemplateBody=json.dumps(template), RoleARN=admin)
    event = _put_sample(account, "put-role-policy-ci-passrole-deploy-role.json")

    [finding] = enforcer.handle(event)["findings"]

    assert (finding["rule"], finding["outcome"]) == ("privilege-escalation", "alerted")
    [alert] = notifier.sent
    assert alert.finding is not None
    # certain but for what the put replaced, which a live read cannot know (audit gap 5)
    assert [fact[:40] for fact in alert.finding.needs_context] == ["the previous document of inline policy d"]
    assert "UpdateExistingCloudFormationStack" in alert.finding.reason
    assert "That leads to role deploy-admin, which is admin-equivalent" in alert.finding.reason


class _CountingClients:
    """The account's clients, each IAM call counted (what a PassRole on ``*`` costs to judge)."""

    def __init__(self, account: Account) -> None:
        self.calls: list[str] = []
        self.iam = account.session.client("iam")
        self.iam.meta.events.register("before-call.iam", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls.append(model.name)

    def client(self, service: str, account: str, region: str, *, logged: bool = True) -> Any:
        assert service == "iam"
        return self.iam


def test_every_role_a_pattern_reaches_is_read_in_one_listing_and_holds_what_it_holds_read_alone(
    account: Account,
) -> None:
    """``GetAccountAuthorizationDetails`` answers each role as ``GetRole`` and its policy lists would (moto's
    shapes), so a PassRole on ``*`` costs a listing and each managed policy once, not four calls a role."""
    _admin_role(account)
    account.iam.create_policy(PolicyName="limit", PolicyDocument=json.dumps(WEAK))
    for index in range(12):
        name = f"app-{index:02}"
        account.iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
            **({"PermissionsBoundary": f"arn:aws:iam::{HOME_ACCOUNT}:policy/limit"} if index % 3 == 0 else {}),
        )
        account.iam.put_role_policy(RoleName=name, PolicyName="assets", PolicyDocument=json.dumps(WEAK))
        account.iam.attach_role_policy(RoleName=name, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    listed = _CountingClients(account)
    directory = LiveRoleDirectory(listed)

    roles = directory.roles_matching(HOME_ACCOUNT, "*") or ()
    held = {arn: directory.principal(arn) for arn in roles}

    assert len(roles) == 13
    assert listed.calls.count("GetAccountAuthorizationDetails") == 1
    assert {"GetRole", "ListRolePolicies", "GetRolePolicy", "ListAttachedRolePolicies", "ListRoles"}.isdisjoint(
        listed.calls
    )
    assert listed.calls.count("GetPolicyVersion") == 3  # ReadOnlyAccess, AdministratorAccess, limit: once each
    for arn in roles:
        reader = LiveRoleDirectory(_CountingClients(account))
        alone = reader.principal(arn)
        assert alone is not None
        listed_role = held[arn]
        assert listed_role is not None
        # The listing carries the instance profiles too; read alone, they are read when an EC2 method asks.
        assert listed_role.instance_profiles == reader.instance_profiles_of(arn), arn
        assert listed_role._replace(instance_profiles=None) == alone, arn
        assert alone.trust is not None
    boundaries = [arn for arn, role in held.items() if role is not None and role.boundary is not None]
    assert len(boundaries) == 4
