"""policy-version-admin live (moto): the enforcer reads who holds the policy (``ListEntitiesForPolicy``) and each
holder's own policies (issue 13, session 11). A new admin default version is put back whatever its holders hold (main's
verdict on the document is the floor: review s11); a role that gains is named, and one whose own guard denies
everything is not (the reason says no holder gains now)."""

from __future__ import annotations

import copy
import json
from typing import Any

from iamwarden.app.service import EnforcerService
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier

RULE = "policy-version-admin"
SAFE = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
ADMIN = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "ShortcutAdmin", "Effect": "Allow", "Action": "*", "Resource": "*"}],
}
GUARD = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
NO_TRUST = json.dumps({"Version": "2012-10-17", "Statement": []})


def _admin_version(
    account: Account, *holders: tuple[str, dict[str, Any] | None], document: dict[str, Any] = ADMIN
) -> tuple[str, dict[str, Any]]:
    """app-deploy v1 SAFE, v2 ADMIN (the default), attached to each role ``(name, its own inline policy)``; v2's
    event."""
    iam = account.iam
    arn = str(iam.create_policy(PolicyName="app-deploy", PolicyDocument=json.dumps(SAFE))["Policy"]["Arn"])
    for name, own in holders:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=NO_TRUST)
        if own is not None:
            iam.put_role_policy(RoleName=name, PolicyName="own", PolicyDocument=json.dumps(own))
        iam.attach_role_policy(RoleName=name, PolicyArn=arn)
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(document), SetAsDefault=True)
    account.set(f"rules/{RULE}/mode", "remediate")
    event = copy.deepcopy(load_event("create-policy-version-admin.json"))
    event["detail"]["requestParameters"]["policyDocument"] = json.dumps(document)
    event["detail"]["responseElements"]["policyVersion"]["versionId"] = "v2"
    return arn, event


def _default(account: Account, arn: str) -> str:
    return str(account.iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"])


def test_a_version_only_a_guarded_role_holds_is_still_put_back_saying_no_holder_gains_now(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Review s11 finding 4: left in force, the version arms the role once its guard is removed (restraint-removed
    is alert-only) or whoever it is attached to next; main put it back, so does this."""
    arn, event = _admin_version(account, ("app-guarded", GUARD))

    [finding] = [f for f in enforcer.handle(event)["findings"] if f["rule"] == RULE]

    assert finding["outcome"] == "remediated"
    assert _default(account, arn) == "v1"
    [alert] = [sent for sent in notifier.sent if sent.finding is not None]
    assert alert.finding is not None
    assert "None of the 1 roles, users and groups it is attached to gains it now" in alert.finding.reason


def test_a_version_with_an_always_true_condition_is_put_back(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Review s11 finding 1: a condition the author wrote into the version is no reason to leave it in force."""
    conditioned = {
        "Effect": "Allow",
        "Action": "*",
        "Resource": "*",
        "Condition": {"Bool": {"aws:SecureTransport": "true"}},
    }
    arn, event = _admin_version(
        account, ("app-backend", None), document={"Version": "2012-10-17", "Statement": [conditioned]}
    )

    [finding] = [f for f in enforcer.handle(event)["findings"] if f["rule"] == RULE]

    assert finding["outcome"] == "remediated"
    assert _default(account, arn) == "v1"


def test_a_version_a_role_gains_admin_by_is_put_back_naming_that_role(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    arn, event = _admin_version(account, ("app-guarded", GUARD), ("app-backend", None))

    [finding] = [f for f in enforcer.handle(event)["findings"] if f["rule"] == RULE]

    assert finding["outcome"] == "remediated"
    assert _default(account, arn) == "v1"
    [alert] = [sent for sent in notifier.sent if sent.finding is not None]
    assert alert.finding is not None
    assert "For role app-backend:" in alert.finding.reason
    assert "app-guarded" not in alert.finding.reason
