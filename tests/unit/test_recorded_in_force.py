"""``in_force``: the one filter of IAM Warden's remediations still in force (the reversal and tampering rules')."""

from __future__ import annotations

from typing import Any

from iamwarden.domain.recorded import PastRemediation, in_force


def _past(remediation_id: str, status: str, done: tuple[str, ...], *steps: tuple[str, dict[str, Any]]) -> Any:
    plan = tuple({"action": action, "parameters": parameters} for action, parameters in steps)
    return PastRemediation(remediation_id, "remediation-reversed", status, "2026-12-01T00:00:00Z", plan, done)


STOPPED = _past("a", "remediated", ("stopped",), ("stop_function", {"function_name": "payroll"}))
UNDONE = _past("b", "undone", ("stopped",), ("stop_function", {"function_name": "payroll"}))
NOTHING_DONE = _past("c", "remediated", (), ("stop_function", {"function_name": "payroll"}))
QUARANTINED = _past("d", "remediated", ("quarantined",), ("quarantine_user", {"user_name": "alice"}))
OTHER_FUNCTION = _past("e", "remediated", ("stopped",), ("stop_function", {"function_name": "billing"}))
EVERY = [STOPPED, UNDONE, NOTHING_DONE, QUARANTINED, OTHER_FUNCTION]


def test_only_a_remediation_that_changed_something_and_was_not_undone_is_in_force() -> None:
    assert in_force(EVERY) == [STOPPED, QUARANTINED, OTHER_FUNCTION]


def test_an_action_keeps_those_with_a_step_of_it_and_where_those_whose_step_it_accepts() -> None:
    assert in_force(EVERY, "quarantine_user") == [QUARANTINED]
    assert in_force(EVERY, "stop_function") == [STOPPED, OTHER_FUNCTION]
    assert in_force(EVERY, "stop_function", lambda step: step.get("function_name") == "payroll") == [STOPPED]
    assert in_force(EVERY, "disable_roles_anywhere") == []
