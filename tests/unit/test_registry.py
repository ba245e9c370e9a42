"""The registry derives everything from the guardrail modules; action names read back as the listed ones."""

from __future__ import annotations

import pytest

from iamwarden.domain.catalog import RuleSpec, register_rules
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.guardrails.iam_user import IAM_USER_CREATED, QuarantineUser
from iamwarden.guardrails.registry import ACTIONS, GUARDRAILS, MODULES, RULES, STEP_PERMISSIONS, UNDO_PERMISSIONS


def test_a_step_read_back_from_the_audit_trail_names_the_listed_action() -> None:
    step = RemediationStep(QuarantineUser.action, "arn:aws:iam::111122223333:user/bob", {"user_name": "bob"})
    data = step.to_dict()
    assert data["action"] == "quarantine_user"
    assert type(data["action"]) is str
    again = RemediationStep.from_dict(data)
    assert again == step
    assert again.action is QuarantineUser.action
    assert again.action.permissions == QuarantineUser.permissions


def test_an_unknown_action_name_reads_back_without_permissions_and_is_not_listed() -> None:
    unknown = StepAction("no_such_action")
    assert unknown == "no_such_action"
    assert unknown.permissions == ()
    assert unknown not in ACTIONS
    with pytest.raises(AttributeError, match=r"StepAction\.NO_SUCH_ACTION"):
        _ = StepAction.NO_SUCH_ACTION


def test_the_enum_view_lists_exactly_the_modules_actions() -> None:
    declared = [action.action for module in MODULES for action in module.ACTIONS]
    assert declared == list(ACTIONS)
    # Listed as their modules are loaded (an event's first): the same actions, in the order they came.
    assert sorted(StepAction) == sorted(declared)
    assert len(StepAction) == len(declared)
    assert StepAction.QUARANTINE_USER is QuarantineUser.action
    assert StepAction.QUARANTINE_USER.name == "QUARANTINE_USER"
    assert StepAction.QUARANTINE_USER.value == "quarantine_user"


def test_permissions_come_from_the_action_classes() -> None:
    for name, action in ACTIONS.items():
        assert action.permissions == name.permissions
        session = getattr(action, "session_permissions", ())
        assert set(session) <= set(action.permissions), f"{name}: a session permission it does not declare"
        assert STEP_PERMISSIONS[name] == tuple(p for p in action.permissions if p not in session)
        assert UNDO_PERMISSIONS[name] == action.undo_permissions


def test_rules_come_from_the_guardrails_specs_each_once() -> None:
    specs = {spec.id: spec for guardrail in GUARDRAILS for spec in guardrail.specs}
    assert dict(RULES) == specs
    assert RULES["iam-user-created"] == IAM_USER_CREATED  # the generated index's copy of the module's spec


def test_a_rule_id_cannot_be_registered_twice_with_a_different_spec() -> None:
    impostor = RuleSpec(IAM_USER_CREATED.id, "another title", "iam.amazonaws.com", frozenset({"CreateUser"}), "r.")
    with pytest.raises(ValueError, match="iam-user-created is declared twice"):
        register_rules([impostor])
    assert RULES["iam-user-created"] == IAM_USER_CREATED  # the generated index's copy of the module's spec
    assert register_rules([IAM_USER_CREATED]) is RULES  # the same spec again is fine
