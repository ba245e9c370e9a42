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


# --- proportional: only the outsider's principal leaves a statement it shares -------------------------

CI = "arn:aws:iam::111122223333:role/ci-deployer"
OUTSIDER = "arn:aws:iam::999988887777:root"
SHARED = {"Sid": "Deployers", "Effect": "Allow", "Principal": {"AWS": [CI, OUTSIDER]}, "Action": "sts:AssumeRole"}


def _update_event(role: str, document: dict[str, Any]) -> dict[str, Any]:
    event = load_event("trust-update-unknown-account.json")
    event["detail"]["requestParameters"] = {"roleName": role, "policyDocument": json.dumps(document)}
    return event


def test_an_outside_account_sharing_a_statement_loses_only_its_principal_and_undo_restores_it(
    account: Account, enforcer: EnforcerService
) -> None:
    account.set("rules/trust-policy-untrusted/mode", "remediate")
    document = {"Version": "2012-10-17", "Statement": [EC2, SHARED]}
    account.iam.create_role(RoleName="app-deployer", AssumeRolePolicyDocument=json.dumps(document))

    [finding] = enforcer.handle(_update_event("app-deployer", document))["findings"]

    assert finding["outcome"] == "remediated"
    kept = {**SHARED, "Principal": {"AWS": CI}}
    assert _trust(account, "app-deployer")["Statement"] == [EC2, kept]

    enforcer.executor.undo(finding["remediation_id"])

    assert _trust(account, "app-deployer") == document


def test_undo_after_a_later_change_replaces_the_narrowed_statement_with_its_original(
    account: Account, enforcer: EnforcerService
) -> None:
    account.set("rules/trust-policy-untrusted/mode", "remediate")
    document = {"Version": "2012-10-17", "Statement": [SHARED]}
    account.iam.create_role(RoleName="app-deployer", AssumeRolePolicyDocument=json.dumps(document))
    [finding] = enforcer.handle(_update_event("app-deployer", document))["findings"]
    narrowed = _trust(account, "app-deployer")["Statement"]
    later = {"Version": "2012-10-17", "Statement": [*narrowed, EC2]}
    account.iam.update_assume_role_policy(RoleName="app-deployer", PolicyDocument=json.dumps(later))

    enforcer.executor.undo(finding["remediation_id"])

    assert _trust(account, "app-deployer")["Statement"] == [EC2, SHARED]  # the later EC2 kept, no doubled Sid
