"""Issue 14 item 7: CreateAccessKey by the root user for itself is a critical violation, not invalid input."""

from __future__ import annotations

import copy
from typing import Any

from iamwarden.domain.findings import StepAction, Verdict
from iamwarden.domain.settings import Settings, parse_settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import load_event

ROOT_SAMPLE = "create-access-key-root.json"


def _root_event(**detail: Any) -> dict[str, Any]:
    event = copy.deepcopy(load_event(ROOT_SAMPLE))
    event["detail"].update(detail)
    return event


def _on() -> Settings:
    settings, problems = parse_settings({"root_credentials_remediation": "on"})
    assert not problems
    return settings


def test_a_root_access_key_is_a_critical_violation_alerted_with_the_steps_by_hand() -> None:
    judgement = judge_event(load_event(ROOT_SAMPLE), Settings())

    assert judgement.verdict is Verdict.VIOLATION
    [finding] = judgement.findings
    assert (finding.rule_id, finding.severity.value) == ("root-access-key-created", "critical")
    assert finding.resource_arn == "arn:aws:iam::111122223333:root"
    assert finding.plan == ()  # root_credentials_remediation is off by default
    assert "root_credentials_remediation is off" in finding.reason
    assert (
        "aws sts assume-root --region us-east-1 --target-principal 111122223333 --task-policy-arn "
        "arn=arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials" in finding.reason
    )
    assert "aws iam delete-access-key --access-key-id AKIAIOSFODNN7ROOTKEY" in finding.reason


def test_with_the_setting_on_the_plan_deletes_exactly_that_key_through_assume_root() -> None:
    [finding] = judge_event(load_event(ROOT_SAMPLE), _on()).findings

    [step] = finding.plan
    assert step.action is StepAction.DELETE_ROOT_ACCESS_KEY
    assert dict(step.parameters) == {
        "account": "111122223333",
        "access_key_id": "AKIAIOSFODNN7ROOTKEY",
        "task_policy_arn": "arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials",
    }
    assert "cannot be undone" in step.summary


def test_an_empty_request_object_is_the_same_as_null() -> None:
    [finding] = judge_event(_root_event(requestParameters={}), Settings()).findings
    assert finding.rule_id == "root-access-key-created"


def test_the_root_user_creating_a_key_for_an_iam_user_is_the_iam_user_rule() -> None:
    """panther-analysis' "Root Created Access Key For User" case: the key is the user's, not root's."""
    event = _root_event(requestParameters={"userName": "example-user"})
    event["detail"]["responseElements"]["accessKey"]["userName"] = "example-user"

    [finding] = judge_event(event, Settings()).findings

    assert (finding.rule_id, finding.severity.value) == ("access-key-created", "high")
    assert finding.resource_arn == "arn:aws:iam::111122223333:user/example-user"


def test_an_iam_user_creating_its_own_key_is_unchanged() -> None:
    [finding] = judge_event(load_event("create-access-key-self.json"), Settings()).findings
    assert finding.rule_id == "access-key-created"


def test_a_root_key_without_a_key_id_is_still_invalid_input() -> None:
    event = _root_event(responseElements={"accessKey": {"status": "Active"}})

    judgement = judge_event(event, Settings())

    assert judgement.verdict is Verdict.INVALID
    assert "accessKeyId" in judgement.reason


def test_the_setting_takes_only_on_or_off() -> None:
    settings, problems = parse_settings({"root_credentials_remediation": "yes"})

    [problem] = problems
    assert problem.key == "root_credentials_remediation"
    assert settings.root_credentials_remediation is False
