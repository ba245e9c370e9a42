"""iamwarden-tampered on IAM Warden's own managed policies (its remediation grants), against moto.

The intruder rewrites a grant without touching the role: a new default version (CreatePolicyVersion with
SetAsDefault), an older or staged version made the default (SetDefaultPolicyVersion), a version or the policy
deleted. The events are the samples under events/ (tamper-own-policy-*.json: CloudTrail's request parameters
``policyArn``, ``versionId``, ``policyDocument``, ``setAsDefault`` and the created ``policyVersion`` as IAM's
API and the existing CreatePolicyVersion samples record them), with the version ids moto answered.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from iamwarden.adapters.audit import AuditStatus
from iamwarden.adapters.recorded import AuditRecorded
from iamwarden.app.own_policies import OwnPolicyWatch
from iamwarden.app.service import EnforcerService
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier

RULE = "iamwarden-tampered"
OPERATOR = f"arn:aws:iam::{HOME_ACCOUNT}:user/secops"
NAME = "iamwarden-enforcer-remediations-1-us-east-1"
GRANTS = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "RestoreTrustPolicies", "Effect": "Allow", "Action": "iam:GetRole", "Resource": "*"}],
}
NOTHING = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}


def _own_policy(account: Account, *, recorded: bool, name: str = NAME, path: str = "/") -> str:
    """IAM Warden's policy as its stack deployed it (v1), and the deploy's record of it (when ``recorded``)."""
    arn = str(account.iam.create_policy(PolicyName=name, Path=path, PolicyDocument=json.dumps(GRANTS))["Policy"]["Arn"])
    if recorded:
        watch = OwnPolicyWatch(
            AuditRecorded(account.audit(), account.dynamodb), account.iam, [arn], declared=lambda _arn: GRANTS
        )
        assert watch.record() == (1, [])
    return arn


def _default(account: Account, arn: str) -> str:
    return str(account.iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"])


def _new_default_event(arn: str, version: str) -> dict[str, Any]:
    event = copy.deepcopy(load_event("tamper-own-policy-version.json"))
    event["detail"]["requestParameters"]["policyArn"] = arn
    event["detail"]["responseElements"]["policyVersion"]["versionId"] = version
    return event


def _finding(result: dict[str, Any]) -> dict[str, Any]:
    [finding] = [finding for finding in result["findings"] if finding["rule"] == RULE]
    return dict(finding)


def _alerts(notifier: RecordingNotifier) -> list[Any]:
    return [n for n in notifier.sent if n.finding is not None and n.finding.rule_id == RULE]


def test_a_new_default_version_is_put_back_to_the_deployed_one_and_undo_restores_the_intruders(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    arn = _own_policy(account, recorded=True)
    created = account.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(NOTHING), SetAsDefault=True)
    version = created["PolicyVersion"]["VersionId"]

    result = enforcer.handle(_new_default_event(arn, version))

    finding = _finding(result)
    assert finding["outcome"] == "remediated"
    assert [f["rule"] for f in result["findings"]] == [RULE], "policy-version-admin leaves the own policy alone"
    assert _default(account, arn) == "v1"
    [alert] = _alerts(notifier)
    assert alert.finding.severity.value == "critical"
    undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert undo.status == AuditStatus.UNDO
    assert _default(account, arn) == version


def test_an_older_version_made_the_default_is_put_back(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    arn = _own_policy(account, recorded=True)
    account.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(NOTHING), SetAsDefault=False)
    account.iam.set_default_policy_version(PolicyArn=arn, VersionId="v2")
    event = copy.deepcopy(load_event("tamper-own-policy-default.json"))
    event["detail"]["requestParameters"].update(policyArn=arn, versionId="v2")

    finding = _finding(enforcer.handle(event))

    assert _default(account, arn) == "v1"
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert _default(account, arn) == "v2"


def test_a_deleted_deployed_version_is_written_again_from_the_record_and_undo_drops_it(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    arn = _own_policy(account, recorded=True)
    account.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(NOTHING), SetAsDefault=True)
    account.iam.delete_policy_version(PolicyArn=arn, VersionId="v1")

    finding = _finding(enforcer.handle(_new_default_event(arn, "v2")))

    assert finding["outcome"] == "remediated"
    default = _default(account, arn)
    assert default not in ("v1", "v2")
    written = account.iam.get_policy_version(PolicyArn=arn, VersionId=default)["PolicyVersion"]["Document"]
    assert written == GRANTS
    enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
    assert _default(account, arn) == "v2"
    versions = [v["VersionId"] for v in account.iam.list_policy_versions(PolicyArn=arn)["Versions"]]
    assert versions == ["v2"], "the version the restore wrote is gone again"


def test_without_a_record_of_the_deployed_version_it_is_only_alerted(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    arn = _own_policy(account, recorded=False)
    account.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(NOTHING), SetAsDefault=True)

    finding = _finding(enforcer.handle(_new_default_event(arn, "v2")))

    assert finding["outcome"] == "alerted"
    assert _default(account, arn) == "v2", "never put back on a guess (v1 is only probably the deployed one)"
    [alert] = _alerts(notifier)
    [missing] = alert.finding.needs_context
    assert f"the default version of {NAME} its stack deployed" in missing


def test_a_default_changed_again_since_is_left_to_its_own_event(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    arn = _own_policy(account, recorded=True)
    account.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(NOTHING), SetAsDefault=True)
    account.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(NOTHING), SetAsDefault=True)

    finding = _finding(enforcer.handle(_new_default_event(arn, "v2")))

    assert _default(account, arn) == "v3"
    record = account.audit().get(finding["remediation_id"])
    assert record is not None
    assert record.done == []


def test_the_deployed_version_made_the_default_again_is_fine(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    arn = _own_policy(account, recorded=True)
    event = copy.deepcopy(load_event("tamper-own-policy-default.json"))
    event["detail"]["requestParameters"].update(policyArn=arn, versionId="v1")

    result = enforcer.handle(event)

    assert result["verdict"] == "compliant"
    assert _alerts(notifier) == []


@pytest.mark.parametrize("sample", ["tamper-own-policy-deleted.json", "tamper-own-policy-version-deleted.json"])
def test_a_deleted_policy_or_version_is_alerted_and_nothing_is_changed(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, sample: str
) -> None:
    result = enforcer.handle(load_event(sample))

    finding = _finding(result)
    assert finding["outcome"] == "alerted"
    [alert] = _alerts(notifier)
    assert alert.finding.plan == ()
    if sample == "tamper-own-policy-deleted.json":
        assert alert.finding.severity.value == "critical"
        assert "sam deploy --stack-name iamwarden" in alert.finding.reason
    else:
        assert alert.finding.severity.value == "high"
        assert "nothing is put back" in alert.finding.reason


@pytest.mark.parametrize("path", ["/dev/", "/"], ids=["other-path", "other-name"])
def test_a_look_alike_policy_is_judged_like_any_other(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, path: str
) -> None:
    name = NAME if path != "/" else "iamwarden-enforcer-remediations-1-eu-west-1"
    arn = _own_policy(account, recorded=False, name=name, path=path)
    # A role holds it: a version is remediated only when a holder gains (issue 13, session 11).
    account.iam.create_role(
        RoleName="look-alike-holder", AssumeRolePolicyDocument='{"Version": "2012-10-17", "Statement": []}'
    )
    account.iam.attach_role_policy(RoleName="look-alike-holder", PolicyArn=arn)
    admin = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    account.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(admin), SetAsDefault=True)
    account.set("rules/policy-version-admin/mode", "remediate")
    event = _new_default_event(arn, "v2")
    event["detail"]["requestParameters"]["policyDocument"] = json.dumps(admin)

    result = enforcer.handle(event)

    assert {finding["rule"] for finding in result["findings"]} == {"policy-version-admin"}
    assert _default(account, arn) == "v1"
