"""An ``Allow *`` cut down by an unconditional Deny with NotAction or NotResource (audit s6, gap 9).

The audit's probes b07, b21, b22, b23 and b25 (``/work/tools-tmp/s6/probe/mk.py``, ``mk2.py``): the inline
policy ``debug-shortcut`` put on role ``app-backend``. What survives the Deny decides the verdict: only
``s3:GetObject`` (b07), only s3 on one bucket (b22), nothing (b21) is no admin and opens no method; ``iam:*``
on every resource (b25) still is admin.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from iamwarden.domain.escalation import assess, assess_principal, cancelled_actions
from iamwarden.domain.findings import Verdict
from iamwarden.domain.policy import Policy, parse_policy
from iamwarden.domain.principals import NamedPolicy, PrincipalPolicies
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import load_event

ROLE = "arn:aws:iam::111122223333:role/app-backend"
ALLOW_ALL = {"Effect": "Allow", "Action": "*", "Resource": "*"}
LOGS = "arn:aws:s3:::logs/*"

B07 = [ALLOW_ALL, {"Effect": "Deny", "NotAction": "s3:GetObject", "Resource": "*"}]
B21 = [ALLOW_ALL, {"Effect": "Deny", "Action": "*", "Resource": "*"}]
B22 = [ALLOW_ALL, {"Effect": "Deny", "Action": "*", "NotResource": LOGS}]
B23 = [ALLOW_ALL, {"Effect": "Deny", "NotAction": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"}]
B25 = [ALLOW_ALL, {"Effect": "Deny", "NotAction": "iam:*", "Resource": "*"}]


def _policy(statements: list[dict[str, Any]]) -> Policy:
    return parse_policy({"Version": "2012-10-17", "Statement": statements})


def _put_role_policy(statements: list[dict[str, Any]]) -> dict[str, Any]:
    """The audit's probe event: ``put-role-policy-admin-star.json`` with the document replaced."""
    event = copy.deepcopy(load_event("put-role-policy-admin-star.json"))
    event["detail"]["requestParameters"]["policyDocument"] = json.dumps(
        {"Version": "2012-10-17", "Statement": statements}
    )
    return event


@pytest.mark.parametrize("statements", [B07, B21, B22, B23], ids=["b07", "b21", "b22", "b23"])
def test_an_allow_all_the_deny_cuts_down_is_no_admin_and_opens_nothing(statements: list[dict[str, Any]]) -> None:
    risk = assess(_policy(statements))
    assert risk.admin == ()
    assert risk.escalations == ()
    principal = PrincipalPolicies(ROLE, (NamedPolicy("inline app-backend/debug-shortcut", _policy(statements)),))
    assert not assess_principal(principal).risky


@pytest.mark.parametrize("statements", [B07, B21, B22, B23], ids=["b07", "b21", "b22", "b23"])
def test_the_rule_calls_the_cut_down_document_compliant(statements: list[dict[str, Any]]) -> None:
    """Offline, without the principal's other policies: no admin, and no part of a method left to alert."""
    judgement = judge_event(_put_role_policy(statements), Settings())
    assert judgement.verdict is Verdict.COMPLIANT, [finding.reason for finding in judgement.findings]


def test_b25_a_deny_sparing_iam_leaves_admin() -> None:
    [grant] = assess(_policy(B25)).admin
    assert grant.critical
    judgement = judge_event(_put_role_policy(B25), Settings())
    [finding] = judgement.findings
    assert finding.rule_id == "inline-policy-admin"
    assert finding.needs_context == ()


def test_a_deny_sparing_one_service_everywhere_leaves_no_admin_equivalent_grant() -> None:
    risk = assess(_policy([ALLOW_ALL, {"Effect": "Deny", "NotAction": "s3:*", "Resource": "*"}]))
    assert not risk.critical
    assert risk.admin == ()  # what "allows every action" became (s3 everywhere) is not that grant any more


def test_a_deny_notresource_sparing_every_resource_leaves_admin() -> None:
    assert assess(_policy([ALLOW_ALL, {"Effect": "Deny", "Action": "*", "NotResource": "*"}])).admin


def test_a_conditional_deny_notaction_cuts_nothing() -> None:
    deny = {"Effect": "Deny", "NotAction": "s3:GetObject", "Resource": "*", "Condition": {"Bool": {"x": "true"}}}
    assert assess(_policy([ALLOW_ALL, deny])).critical


def test_a_deny_notresource_on_one_bucket_spares_s3_there_but_no_iam_resource() -> None:
    """``*`` is narrowed to the action's service before the NotResource test: IAM methods stay closed."""
    allow = {"Effect": "Allow", "Action": ["iam:PassRole", "ec2:RunInstances", "iam:PutRolePolicy"], "Resource": "*"}
    assert assess(_policy([allow, {"Effect": "Deny", "Action": "*", "NotResource": LOGS}])).escalations == ()
    spared_roles = {"Effect": "Deny", "Action": "*", "NotResource": "arn:aws:iam::*:role/*"}
    names = {path.method.name for path in assess(_policy([allow, spared_roles])).escalations}
    assert "PutRolePolicy" in names  # the roles are spared: rewriting one is still open


def test_an_assume_role_deny_notresource_sparing_roles_keeps_the_roles() -> None:
    """sts:AssumeRole acts on IAM roles (its kind), not on ``arn:*:sts:…``: a Deny sparing roles spares it."""
    allow = {"Effect": "Allow", "Action": ["iam:AttachRolePolicy", "sts:AssumeRole"], "Resource": "*"}
    deny = {"Effect": "Deny", "Action": "*", "NotResource": "arn:aws:iam::111122223333:role/*"}
    assert "AttachRolePolicyThenAssumeRole" in {p.method.name for p in assess(_policy([allow, deny])).escalations}


def test_cancelled_actions_are_those_the_documents_own_deny_removes() -> None:
    assert "iam:passrole" in cancelled_actions(_policy(B21))
    assert "iam:passrole" in cancelled_actions(_policy(B07))
    assert cancelled_actions(_policy([ALLOW_ALL])) == frozenset()
    assert "iam:passrole" not in cancelled_actions(_policy(B25))
