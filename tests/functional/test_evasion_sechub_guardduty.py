"""The remediations of the defense evasion gaps left by session 9 (issue 15 item 3), run by the enforcer as Lambda
wires it and undone with ``iamwarden undo``'s executor.

moto has no Security Hub V2 automation rules: the botocore Stubber checks every call and its parameters against
the real API model, in order.
"""

from __future__ import annotations

from typing import Any

import pytest
from botocore.stub import Stubber

from iamwarden.app.service import EnforcerService
from iamwarden.domain.exceptions import UndoError
from iamwarden.domain.findings import Outcome
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account

OPERATOR = f"arn:aws:iam::{HOME_ACCOUNT}:user/secops"
REGION = "eu-west-1"
RULE_V2 = f"arn:aws:securityhub:{REGION}:{HOME_ACCOUNT}:automation-rulev2/a1b2c3d4-5678-90ab-cdef-EXAMPLE22222"
V2_SAMPLE = "securityhub-automation-rule-v2-suppress-guardduty.json"


def _only(result: dict[str, Any]) -> dict[str, Any]:
    [finding] = result["findings"]
    return dict(finding)


def _client(enforcer: EnforcerService, service: str) -> Any:
    return enforcer.executor.clients.client(service, HOME_ACCOUNT, REGION)


def _rule_v2(status: str) -> dict[str, Any]:
    return {
        "RuleArn": RULE_V2,
        "RuleId": "a1b2c3d4-5678-90ab-cdef-EXAMPLE22222",
        "RuleStatus": status,
        "RuleOrder": 1.0,
        "RuleName": "suppress-guardduty",
        "Description": "Suppress GuardDuty noise",
    }


READ_V2 = {"Identifier": RULE_V2}


def _set_v2(status: str) -> dict[str, Any]:
    return {"Identifier": RULE_V2, "RuleStatus": status}


def test_a_suppressing_v2_rule_is_disabled_and_undo_enables_it(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/securityhub-disabled/mode", "remediate")
    with Stubber(_client(enforcer, "securityhub")) as stubber:
        stubber.add_response("get_automation_rule_v2", _rule_v2("ENABLED"), READ_V2)
        stubber.add_response("update_automation_rule_v2", {}, _set_v2("DISABLED"))
        finding = _only(enforcer.handle(load_event(V2_SAMPLE)))
        stubber.assert_no_pending_responses()
        stubber.add_response("get_automation_rule_v2", _rule_v2("DISABLED"), READ_V2)
        stubber.add_response("update_automation_rule_v2", {}, _set_v2("ENABLED"))
        undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
        stubber.assert_no_pending_responses()

    assert finding["outcome"] == Outcome.REMEDIATED
    assert finding["done"] == [f"disabled Security Hub automation rule {RULE_V2}"]
    assert list(undo.restored) == [f"enabled Security Hub automation rule {RULE_V2} again, as before"]


@pytest.mark.parametrize("status", ["DISABLED", None])
def test_a_v2_rule_disabled_or_deleted_before_the_remediation_is_already_done(
    account: Account, enforcer: EnforcerService, status: str | None
) -> None:
    """Idempotent: nothing is updated when the rule is disabled already, or gone ("already gone" = done)."""
    account.set("rules/securityhub-disabled/mode", "remediate")
    with Stubber(_client(enforcer, "securityhub")) as stubber:
        if status is None:
            stubber.add_client_error("get_automation_rule_v2", "ResourceNotFoundException", expected_params=READ_V2)
        else:
            stubber.add_response("get_automation_rule_v2", _rule_v2(status), READ_V2)
        finding = _only(enforcer.handle(load_event(V2_SAMPLE)))
        stubber.assert_no_pending_responses()
        undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)  # nothing to put back

    assert finding["outcome"] == Outcome.REMEDIATED
    assert finding["done"] == []
    assert list(undo.restored) == []


def test_a_v2_rule_deleted_between_read_and_disable_is_done(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/securityhub-disabled/mode", "remediate")
    with Stubber(_client(enforcer, "securityhub")) as stubber:
        stubber.add_response("get_automation_rule_v2", _rule_v2("ENABLED"), READ_V2)
        stubber.add_client_error(
            "update_automation_rule_v2", "ResourceNotFoundException", expected_params=_set_v2("DISABLED")
        )
        finding = _only(enforcer.handle(load_event(V2_SAMPLE)))
        stubber.assert_no_pending_responses()
    assert finding["outcome"] == Outcome.REMEDIATED
    assert finding["done"] == []


def test_undo_of_a_deleted_v2_rule_says_so(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/securityhub-disabled/mode", "remediate")
    with Stubber(_client(enforcer, "securityhub")) as stubber:
        stubber.add_response("get_automation_rule_v2", _rule_v2("ENABLED"), READ_V2)
        stubber.add_response("update_automation_rule_v2", {}, _set_v2("DISABLED"))
        finding = _only(enforcer.handle(load_event(V2_SAMPLE)))
        stubber.add_client_error("get_automation_rule_v2", "ResourceNotFoundException", expected_params=READ_V2)
        with pytest.raises(UndoError, match="no longer exists"):
            enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)


def test_undo_leaves_a_v2_rule_enabled_again_meanwhile_alone(account: Account, enforcer: EnforcerService) -> None:
    account.set("rules/securityhub-disabled/mode", "remediate")
    with Stubber(_client(enforcer, "securityhub")) as stubber:
        stubber.add_response("get_automation_rule_v2", _rule_v2("ENABLED"), READ_V2)
        stubber.add_response("update_automation_rule_v2", {}, _set_v2("DISABLED"))
        finding = _only(enforcer.handle(load_event(V2_SAMPLE)))
        stubber.add_response("get_automation_rule_v2", _rule_v2("ENABLED"), READ_V2)
        undo = enforcer.executor.undo(finding["remediation_id"], actor=OPERATOR)
        stubber.assert_no_pending_responses()
    assert list(undo.restored) == []


def test_a_v2_rule_in_alert_mode_is_only_alerted(account: Account, enforcer: EnforcerService) -> None:
    with Stubber(_client(enforcer, "securityhub")) as stubber:
        finding = _only(enforcer.handle(load_event(V2_SAMPLE)))
        stubber.assert_no_pending_responses()
    assert finding["outcome"] == Outcome.ALERTED
