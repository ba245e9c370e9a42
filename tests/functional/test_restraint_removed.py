"""restraint-removed through the enforcer, on moto: the principal and the removed policy read live, after the change.

The live directory reads the principal after the change (the removed policy is gone from it); the detached
policy and the group are still there to read. A deleted inline document is gone for good: alerted with it as
unknown. Nothing is ever written: putting a Deny back would take ``iam:Attach*Policy`` on any principal.
"""

from __future__ import annotations

import json
from typing import Any

from iamwarden.app.service import EnforcerService
from iamwarden.domain.findings import Outcome
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier

RULE = "restraint-removed"
DENY_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
READ = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
EMPTY_TRUST = json.dumps({"Version": "2012-10-17", "Statement": []})


def _findings(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {finding["rule"]: finding for finding in result["findings"]}


def _build_bot_left_restricted(account: Account, *, group_denies: bool) -> dict[str, Any]:
    iam = account.iam
    iam.create_user(UserName="build-bot")
    iam.put_user_policy(UserName="build-bot", PolicyName="everything", PolicyDocument=json.dumps(ALLOW_ALL))
    iam.create_group(GroupName="restricted")
    document = DENY_ALL if group_denies else READ
    iam.put_group_policy(GroupName="restricted", PolicyName="fence", PolicyDocument=json.dumps(document))
    return load_event("remove-user-from-restricted-group.json")  # already removed: build-bot is in no group


def test_leaving_the_group_whose_deny_fenced_an_admin_user_is_alerted_live(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set(f"rules/{RULE}/mode", "remediate")
    event = _build_bot_left_restricted(account, group_denies=True)

    finding = _findings(enforcer.handle(event))[RULE]

    assert finding["outcome"] == Outcome.ALERTED, "nothing to carry out: a Deny is never put back by IAM Warden"
    [alerted] = [sent.finding for sent in notifier.sent if sent.finding is not None and sent.finding.rule_id == RULE]
    assert "aws iam add-user-to-group --group-name restricted --user-name build-bot" in alerted.reason
    assert account.iam.list_groups_for_user(UserName="build-bot")["Groups"] == [], "nothing was written"


def test_leaving_a_group_that_only_granted_is_compliant_live(account: Account, enforcer: EnforcerService) -> None:
    event = _build_bot_left_restricted(account, group_denies=False)

    result = enforcer.handle(event)

    assert RULE not in _findings(result)


def test_an_inline_policy_deleted_from_an_admin_role_is_alerted_with_the_document_unknown(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account.set(f"rules/{RULE}/mode", "remediate")
    account.iam.create_role(RoleName="app-backend", AssumeRolePolicyDocument=EMPTY_TRUST)
    account.iam.put_role_policy(RoleName="app-backend", PolicyName="everything", PolicyDocument=json.dumps(ALLOW_ALL))

    finding = _findings(enforcer.handle(load_event("delete-deny-inline-from-role.json")))[RULE]

    assert finding["outcome"] == Outcome.ALERTED
    [alerted] = [sent.finding for sent in notifier.sent if sent.finding is not None and sent.finding.rule_id == RULE]
    assert any("what inline policy deny-iam of role app-backend held" in f for f in alerted.needs_context)
