"""A default policy version whose text reads two ways is never undone by writing a version from one reading (moto).

``RestoreDefaultPolicyVersion`` makes the previous default the default again when it is known and safe; otherwise it
writes a new default from the live text (``_write_safe_version``), which botocore decodes keeping each key's last
value. For a text read two ways that write is a guess: the statements to cut come from the reading IAM Warden acted
on, and may not exist in the last-wins text at all (review 2 of s14, F1: ``[{"Action": "*", "Action":
"s3:GetObject"}, {"Action": "s3:ListBucket", "Action": "iam:PassRole"}]`` was rewritten to a version granting
``iam:PassRole`` on ``*``). So such a finding is alert-only at judgement time, and the executor refuses the write.
"""

from __future__ import annotations

import copy
import json
from types import SimpleNamespace
from typing import Any, cast

import pytest

from iamwarden.app.executor import StepRun
from iamwarden.app.service import EnforcerService
from iamwarden.domain.exceptions import RemediationError
from iamwarden.domain.findings import RemediationStep
from iamwarden.guardrails.identity_policy import RestoreDefaultPolicyVersion
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier

HOLDER_TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
)
UNSAFE_V1 = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "iam:CreateAccessKey", "Resource": "*"}],
}
SAFE_V1 = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}
NO_WRITE = "the policy reads two ways; IAM Warden will not write a version from either reading"


def _statements(*bodies: str) -> str:
    return '{"Version": "2012-10-17", "Statement": [' + ", ".join(bodies) + "]}"


#: The review's texts (``/tmp/rv2-attach/t_fallback.py``), each in both orders of its duplicate values.
TEXTS = {
    "statement_named_twice": '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", '
    '"Resource": "*"}], "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}, '
    '{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}]}',
    "statement_named_twice_swapped": '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": '
    '"s3:GetObject", "Resource": "*"}, {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "*"}], '
    '"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}',
    "action_twice_in_two_statements": _statements(
        '{"Effect": "Allow", "Action": "*", "Action": "s3:GetObject", "Resource": "*"}',
        '{"Effect": "Allow", "Action": "s3:ListBucket", "Action": "iam:PassRole", "Resource": "*"}',
    ),
    "action_twice_in_two_statements_swapped": _statements(
        '{"Effect": "Allow", "Action": "s3:GetObject", "Action": "*", "Resource": "*"}',
        '{"Effect": "Allow", "Action": "iam:PassRole", "Action": "s3:ListBucket", "Resource": "*"}',
    ),
    "resource_twice": _statements(
        '{"Effect": "Allow", "Action": "*", "Action": "s3:GetObject", "Resource": "*"}',
        '{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::app-bucket/*", "Resource": "*"}',
    ),
    "resource_twice_swapped": _statements(
        '{"Effect": "Allow", "Action": "s3:GetObject", "Action": "*", "Resource": "*"}',
        '{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Resource": "arn:aws:s3:::app-bucket/*"}',
    ),
}


def _held_policy(account: Account, v1: dict[str, Any]) -> str:
    arn = account.iam.create_policy(PolicyName="app-deploy", PolicyDocument=json.dumps(v1))["Policy"]["Arn"]
    account.iam.create_role(RoleName="app-deploy-holder", AssumeRolePolicyDocument=HOLDER_TRUST)
    account.iam.attach_role_policy(RoleName="app-deploy-holder", PolicyArn=arn)
    return str(arn)


def _created_default(account: Account, arn: str, text: str) -> dict[str, Any]:
    """v2 created from ``text`` as the default, live, and its CreatePolicyVersion event."""
    account.iam.create_policy_version(PolicyArn=arn, PolicyDocument=text, SetAsDefault=True)
    event = copy.deepcopy(load_event("create-policy-version-admin.json"))
    event["detail"]["requestParameters"]["policyArn"] = arn
    event["detail"]["requestParameters"]["policyDocument"] = text
    event["detail"]["responseElements"]["policyVersion"]["versionId"] = "v2"
    return event


def _versions(account: Account, arn: str) -> tuple[str, list[str]]:
    default = account.iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    listed = account.iam.list_policy_versions(PolicyArn=arn)["Versions"]
    return default, sorted(v["VersionId"] for v in listed)


def _remediate(account: Account) -> None:
    account.set("rules/policy-version-admin/mode", "remediate")
    account.set("rules/privilege-escalation/mode", "remediate")


@pytest.mark.parametrize("name", list(TEXTS))
def test_an_unsafe_previous_default_leaves_a_text_read_two_ways_alerted_and_nothing_written(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, name: str
) -> None:
    _remediate(account)
    arn = _held_policy(account, UNSAFE_V1)
    event = _created_default(account, arn, TEXTS[name])

    result = enforcer.handle(event)

    assert _versions(account, arn) == ("v2", ["v1", "v2"])
    assert result["findings"], result
    assert {f["outcome"] for f in result["findings"]} == {"alerted"}
    alerted = [sent.finding for sent in notifier.sent if sent.finding is not None]
    assert alerted
    for finding in alerted:
        assert not finding.certain
        assert any(NO_WRITE in need and "v1" in need for need in finding.needs_context), finding.needs_context


def test_a_safe_previous_default_is_still_made_the_default_again(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Restoring a known, safe, unambiguous previous default writes nothing from the text: it still runs."""
    _remediate(account)
    arn = _held_policy(account, SAFE_V1)
    event = _created_default(account, arn, TEXTS["action_twice_in_two_statements"])

    result = enforcer.handle(event)

    assert _versions(account, arn) == ("v1", ["v1", "v2"])
    assert "remediated" in {f["outcome"] for f in result["findings"]}


def test_a_previous_default_read_two_ways_is_not_made_the_default_again(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """The previous default must itself read one way to be restored: its last value may be the only safe one."""
    _remediate(account)
    v1 = _statements('{"Effect": "Allow", "Action": "iam:*", "Action": "s3:ListBucket", "Resource": "*"}')
    arn = account.iam.create_policy(PolicyName="app-deploy", PolicyDocument=v1)["Policy"]["Arn"]
    account.iam.create_role(RoleName="app-deploy-holder", AssumeRolePolicyDocument=HOLDER_TRUST)
    account.iam.attach_role_policy(RoleName="app-deploy-holder", PolicyArn=arn)
    event = _created_default(account, arn, TEXTS["action_twice_in_two_statements"])

    result = enforcer.handle(event)

    assert _versions(account, arn) == ("v2", ["v1", "v2"])
    assert {f["outcome"] for f in result["findings"]} == {"alerted"}
    needs = [need for sent in notifier.sent if sent.finding for need in sent.finding.needs_context]
    assert any("v1" in need and "reads two ways" in need for need in needs), needs


def test_readings_that_agree_with_no_previous_default_known_write_nothing(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """Both readings admin (they agree), the previous default not known: the write fallback would still write from
    the last-wins text (``iam:PassRole`` on ``*``, a grant the first reading never had), so it is alerted only."""
    _remediate(account)
    arn = _held_policy(account, UNSAFE_V1)
    text = _statements(
        '{"Effect": "Allow", "Action": "*", "Action": "iam:*", "Resource": "*"}',
        '{"Effect": "Allow", "Action": "s3:ListBucket", "Action": "iam:PassRole", "Resource": "*"}',
    )
    account.iam.create_policy_version(PolicyArn=arn, PolicyDocument=text, SetAsDefault=False)
    account.iam.set_default_policy_version(PolicyArn=arn, VersionId="v2")
    event = copy.deepcopy(load_event("set-default-policy-version.json"))
    event["detail"]["requestParameters"] = {"policyArn": arn, "versionId": "v2"}

    result = enforcer.handle(event)

    assert _versions(account, arn) == ("v2", ["v1", "v2"])
    assert result["findings"], result
    assert {f["outcome"] for f in result["findings"]} == {"alerted"}
    needs = [need for sent in notifier.sent if sent.finding for need in sent.finding.needs_context]
    assert any(NO_WRITE in need for need in needs), needs


def test_the_executor_refuses_to_write_a_version_for_a_text_read_two_ways(account: Account) -> None:
    """The second guard: a plan marked as acting on a text read two ways never reaches ``_write_safe_version``."""
    arn = _held_policy(account, UNSAFE_V1)
    account.iam.create_policy_version(
        PolicyArn=arn, PolicyDocument=TEXTS["action_twice_in_two_statements"], SetAsDefault=True
    )
    step = RemediationStep(
        RestoreDefaultPolicyVersion.action,
        arn,
        {
            "policy_arn": arn,
            "version_id": "v2",
            "delete_version": False,
            "statements": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
            "previous_version": "v1",
            "read_two_ways": "the event's policy text (Action)",
        },
    )
    action = RestoreDefaultPolicyVersion()
    aws = cast(Any, SimpleNamespace(iam=account.iam))
    before = action.capture(aws, step)
    done: list[str] = []

    with pytest.raises(RemediationError, match="will not write a version from either reading"):
        action.apply(StepRun(aws, "f-1", "2026-12-06T06:00:00.000+00:00"), step, before, done)

    assert done == []
    assert _versions(account, arn) == ("v2", ["v1", "v2"])


def test_a_new_default_over_a_previous_default_read_two_ways_is_alerted_saying_so(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    """v2 reads one way; v1, the previous default, reads two ways (``iam:*`` first, ``s3:ListBucket`` last). What v2
    adds is judged against v1's last value only, and v1 is no safe default to restore: alerted, saying why (F2)."""
    _remediate(account)
    v1 = _statements('{"Effect": "Allow", "Action": "iam:*", "Action": "s3:ListBucket", "Resource": "*"}')
    arn = account.iam.create_policy(PolicyName="app-deploy", PolicyDocument=v1)["Policy"]["Arn"]
    account.iam.create_role(RoleName="app-deploy-holder", AssumeRolePolicyDocument=HOLDER_TRUST)
    account.iam.attach_role_policy(RoleName="app-deploy-holder", PolicyArn=arn)
    event = _created_default(account, arn, json.dumps(UNSAFE_V1))

    result = enforcer.handle(event)

    assert _versions(account, arn) == ("v2", ["v1", "v2"])
    assert result["findings"], result
    assert {f["outcome"] for f in result["findings"]} == {"alerted"}
    needs = [need for sent in notifier.sent if sent.finding for need in sent.finding.needs_context]
    assert any(need.startswith("the previous default v1 reads two ways: what this change adds") for need in needs)
