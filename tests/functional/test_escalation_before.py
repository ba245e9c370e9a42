"""Audit gap 5 end to end against moto: an edit that keeps a long-standing escalation grant opens nothing.

The probe (/work/tools-tmp/s5/probe/tests/test_probe_before.py): role app-backend holds iam:PassRole and
ec2:RunInstances on ``*`` (admin-role, AdministratorAccess, trusts EC2), in version v1 of app-deploy or in
inline policy deploy; the edit adds only s3:GetObject on logs/*. On main it was a CERTAIN escalation, and in
remediate mode PassRole was stripped from the long-standing grant. Now:

* a new default version is judged against the previous default (the other version IAM still lists): the
  read adds nothing, and an added method is rolled back to v1, which keeps the older grant;
* an inline put is read after the change, and IAM keeps no history of inline policies, so what it replaced
  is unknown: a method it holds is alerted with that said, never remediated.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from iamwarden.app.service import EnforcerService
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier

EC2_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)
DEPLOY = {"Sid": "Deploy", "Effect": "Allow", "Action": ["iam:PassRole", "ec2:RunInstances"], "Resource": "*"}
LOGS = {"Sid": "Logs", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::logs/*"}
KEYS = {"Sid": "Keys", "Effect": "Allow", "Action": "iam:CreateAccessKey", "Resource": "*"}
OLD = {"Version": "2012-10-17", "Statement": [DEPLOY]}
NEW = {"Version": "2012-10-17", "Statement": [DEPLOY, LOGS]}
NEW_WITH_KEYS = {"Version": "2012-10-17", "Statement": [DEPLOY, LOGS, KEYS]}


def _roles(account: Account) -> None:
    account.iam.create_role(RoleName="admin-role", AssumeRolePolicyDocument=EC2_TRUST)
    account.iam.attach_role_policy(RoleName="admin-role", PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    # EC2 runs as a role only through an instance profile (the live directory reads whether it is in one).
    account.iam.create_instance_profile(InstanceProfileName="admin-role")
    account.iam.add_role_to_instance_profile(InstanceProfileName="admin-role", RoleName="admin-role")
    account.iam.create_role(RoleName="app-backend", AssumeRolePolicyDocument=EC2_TRUST)


def _version_event(document: dict[str, Any], version_id: str) -> dict[str, Any]:
    event = copy.deepcopy(load_event("create-policy-version-admin.json"))
    event["detail"]["requestParameters"]["policyDocument"] = json.dumps(document)
    event["detail"]["responseElements"]["policyVersion"]["versionId"] = version_id
    return event


def _deploy_policy(account: Account, new: dict[str, Any]) -> str:
    """app-deploy attached to app-backend: v1 the long-standing grant, v2 (the default) the edit."""
    arn: str = account.iam.create_policy(PolicyName="app-deploy", PolicyDocument=json.dumps(OLD))["Policy"]["Arn"]
    account.iam.attach_role_policy(RoleName="app-backend", PolicyArn=arn)
    account.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(new), SetAsDefault=True)
    return arn


def _default_document(account: Account, arn: str) -> tuple[str, Any]:
    default = account.iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    return default, account.iam.get_policy_version(PolicyArn=arn, VersionId=default)["PolicyVersion"]["Document"]


def test_a_new_default_version_that_only_adds_a_read_is_compliant_and_untouched(
    account: Account, enforcer: EnforcerService
) -> None:
    account.set("rules/privilege-escalation/mode", "remediate")
    account.set("rules/policy-version-admin/mode", "remediate")
    _roles(account)
    arn = _deploy_policy(account, NEW)

    result = enforcer.handle(_version_event(NEW, "v2"))

    assert result["verdict"] == "compliant", result
    assert result["findings"] == []
    assert _default_document(account, arn) == ("v2", NEW)


def test_a_new_default_version_that_adds_a_method_goes_back_to_the_previous_default_keeping_the_older_grant(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set("rules/privilege-escalation/mode", "remediate")
    account.set("rules/policy-version-admin/mode", "remediate")
    _roles(account)
    arn = _deploy_policy(account, NEW_WITH_KEYS)

    [finding] = enforcer.handle(_version_event(NEW_WITH_KEYS, "v2"))["findings"]

    assert (finding["rule"], finding["outcome"]) == ("privilege-escalation", "remediated")
    [sent] = notifier.sent
    assert sent.finding is not None
    assert "CreateAccessKey" in sent.finding.reason
    assert "CreateEC2WithExistingIP" not in sent.finding.reason
    assert _default_document(account, arn) == ("v1", OLD)  # PassRole stays: it is not what the change added

    enforcer.executor.undo(finding["remediation_id"])

    assert _default_document(account, arn) == ("v2", NEW_WITH_KEYS)


def test_an_inline_put_whose_previous_document_is_unknown_is_alerted_never_remediated(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set("rules/privilege-escalation/mode", "remediate")
    _roles(account)
    account.iam.put_role_policy(RoleName="app-backend", PolicyName="deploy", PolicyDocument=json.dumps(NEW))
    event = copy.deepcopy(load_event("put-role-policy-admin-star.json"))
    event["detail"]["requestParameters"].update(
        roleName="app-backend", policyName="deploy", policyDocument=json.dumps(NEW)
    )

    [finding] = enforcer.handle(event)["findings"]

    assert (finding["rule"], finding["outcome"]) == ("privilege-escalation", "alerted")
    [sent] = notifier.sent
    assert sent.finding is not None
    assert any(
        fact.startswith("the previous document of inline policy deploy of role app-backend is unknown")
        for fact in sent.finding.needs_context
    )
    document = account.iam.get_role_policy(RoleName="app-backend", PolicyName="deploy")["PolicyDocument"]
    assert document == NEW  # PassRole is not stripped from what may be a long-standing grant
