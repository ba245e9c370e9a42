"""Issue 14 item 6 against moto: the GitHub owners and Cognito identity pools read from SSM bound who may assume a role.

The enforcer reads ``github_owners`` and ``cognito_identity_pools`` from Parameter Store (as the template
creates them from its GitHubOwners and CognitoIdentityPools parameters); a trust outside them is remediated
like any other untrusted trust statement, the rest of the trust policy kept, and undo puts it back.
"""

from __future__ import annotations

import json
from typing import Any

from iamwarden.app.service import EnforcerService
from iamwarden.domain.findings import Outcome
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier

EC2 = {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}


def _document(sample: str) -> dict[str, Any]:
    request = load_event(sample)["detail"]["requestParameters"]
    return dict(json.loads(request.get("policyDocument") or request["assumeRolePolicyDocument"]))


def _trust(account: Account, role: str) -> dict[str, Any]:
    return dict(account.iam.get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"])


def test_a_github_trust_of_another_owner_is_removed_and_undo_puts_it_back(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set("rules/trust-policy-untrusted/mode", "remediate")
    account.set("github_owners", "acme")
    other = _document("trust-github-oidc-other-owner.json")
    mixed = {**other, "Statement": [EC2, *other["Statement"]]}
    account.iam.create_role(RoleName="github-deploy", AssumeRolePolicyDocument=json.dumps(mixed))
    event = load_event("trust-github-oidc-other-owner.json")
    event["detail"]["requestParameters"]["policyDocument"] = json.dumps(mixed)

    [finding] = enforcer.handle(event)["findings"]

    assert (finding["rule"], finding["outcome"]) == ("trust-policy-untrusted", "remediated")
    assert _trust(account, "github-deploy")["Statement"] == [EC2]
    [alert] = notifier.sent
    assert alert.finding is not None
    assert "octo-org" in alert.finding.reason

    enforcer.executor.undo(finding["remediation_id"])

    assert _trust(account, "github-deploy") == mixed


def test_a_github_trust_of_our_own_owner_is_left_alone(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/trust-policy-untrusted/mode", "remediate")
    account.set("github_owners", "acme")
    own = _document("trust-github-oidc-own-owner.json")
    account.iam.create_role(RoleName="github-deploy", AssumeRolePolicyDocument=json.dumps(own))

    result = enforcer.handle(load_event("trust-github-oidc-own-owner.json"))

    assert (result["verdict"], result["findings"]) == ("compliant", [])
    assert _trust(account, "github-deploy") == own


def test_an_unlisted_cognito_pool_is_a_finding_and_a_listed_one_is_not(
    account: Account, enforcer: EnforcerService
) -> None:
    account.set("cognito_identity_pools", "us-east-1:8d2b6f3a-5c1e-4f7a-9b0d-2e6c4a1f3b57")

    listed = enforcer.handle(load_event("trust-cognito-listed-pool.json"))
    [finding] = enforcer.handle(load_event("trust-cognito-unlisted-pool.json"))["findings"]

    assert listed["verdict"] == "compliant"
    assert (finding["rule"], finding["outcome"]) == ("trust-policy-untrusted", "alerted")


def test_a_refused_owner_list_is_a_configuration_alert_and_the_owner_is_not_checked(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set("github_owners", "*")

    result = enforcer.handle(load_event("trust-github-oidc-other-owner.json"))

    assert result["verdict"] == "compliant"
    [alert] = [n for n in notifier.sent if n.outcome is Outcome.CONFIGURATION_ERROR]
    assert [problem.key for problem in alert.problems] == ["github_owners"]
