"""The guardrails, indexed by the CloudTrail events they judge, and everything derived from their modules.

Each guardrail module declares, side by side, its specs, its judgement
(``GUARDRAILS``) and its remediation actions (``ACTIONS``). Everything else
(settings, alerts, the executor, the template's rules and grants, the README
table) reads them from here: ``GUARDRAILS``, ``RULES`` (rule id to spec),
``ACTIONS`` (action name to action), ``STEP_PERMISSIONS`` and
``UNDO_PERMISSIONS``. Adding a guardrail is adding its module to ``MODULES``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType, ModuleType

from iamwarden.domain.catalog import RuleSpec, register_rules
from iamwarden.domain.exceptions import RemediationError
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.guardrails import (
    access_point_policy,
    backup_vault_policy,
    bucket_policy,
    cloudtrail,
    credentials,
    dynamodb_policy,
    ecr_repository_policy,
    efs_policy,
    event_bus_policy,
    glacier_vault_policy,
    group_membership,
    iam_user,
    identity_center,
    identity_policy,
    identity_providers,
    kms_key_policy,
    lambda_permissions,
    logs_destination_policy,
    managed_policy,
    multi_region_access_point_policy,
    object_lambda_access_point_policy,
    opensearch_policy,
    permissions_boundary,
    public_access_block,
    remediation_reversed,
    roles_anywhere,
    s3_acl,
    s3_acl_cross_account,
    secret_policy,
    security_services,
    snapshot_sharing,
    sns_topic_policy,
    sqs_queue_policy,
    tampering,
    trust_policy,
)
from iamwarden.guardrails.base import Evaluation, Guardrail, RuleContext
from iamwarden.guardrails.remediation import RemediationAction

#: The guardrail modules, in the order their rules are listed (and judged, for an event several judge).
MODULES: tuple[ModuleType, ...] = (
    iam_user,
    managed_policy,
    bucket_policy,
    identity_policy,
    credentials,
    trust_policy,
    s3_acl,
    s3_acl_cross_account,
    public_access_block,
    sqs_queue_policy,
    sns_topic_policy,
    lambda_permissions,
    kms_key_policy,
    secret_policy,
    ecr_repository_policy,
    event_bus_policy,
    snapshot_sharing,
    dynamodb_policy,
    efs_policy,
    access_point_policy,
    multi_region_access_point_policy,
    object_lambda_access_point_policy,
    opensearch_policy,
    backup_vault_policy,
    # issue 18: Glacier vaults and CloudWatch Logs destinations
    glacier_vault_policy,
    logs_destination_policy,
    tampering,
    cloudtrail,
    security_services,
    group_membership,
    permissions_boundary,
    remediation_reversed,
    identity_providers,
    roles_anywhere,
    identity_center,
)

GUARDRAILS: tuple[Guardrail, ...] = tuple(guardrail for module in MODULES for guardrail in module.GUARDRAILS)


def _rules(guardrails: tuple[Guardrail, ...]) -> list[RuleSpec]:
    """Every rule once, in guardrail order; a rule several guardrails share comes with the last of them."""
    last = {spec.id: index for index, guardrail in enumerate(guardrails) for spec in guardrail.specs}
    return [spec for index, g in enumerate(guardrails) for spec in g.specs if last[spec.id] == index]


#: Every rule id to its spec (the settings model sees the same, registered in ``domain.catalog``).
RULES: Mapping[str, RuleSpec] = register_rules(_rules(GUARDRAILS))


def _index(guardrails: tuple[Guardrail, ...]) -> Mapping[tuple[str, str], tuple[Guardrail, ...]]:
    index: dict[tuple[str, str], list[Guardrail]] = {}
    for guardrail in guardrails:
        # A guardrail may judge fewer events than its specs name (a rule shared by several guardrails).
        events = getattr(guardrail, "event_keys", None) or {
            (spec.event_source, name) for spec in guardrail.specs for name in spec.event_names
        }
        for event in events:
            index.setdefault(event, []).append(guardrail)
    return {event: tuple(found) for event, found in index.items()}


GUARDRAILS_BY_EVENT = _index(GUARDRAILS)


def _actions(modules: tuple[ModuleType, ...]) -> dict[StepAction, RemediationAction]:
    actions: dict[StepAction, RemediationAction] = {}
    for module in modules:
        for action in module.ACTIONS:
            if actions.setdefault(action.action, action) is not action:
                raise ValueError(f"two remediation actions are named {action.action}")
            if action.action.permissions != action.permissions:
                raise ValueError(f"{action.action} is not named with the permissions its class declares")
    return actions


#: Every remediation action, by name (``detach_managed_policy``).
ACTIONS: Mapping[StepAction, RemediationAction] = MappingProxyType(_actions(MODULES))
StepAction.list_actions(ACTIONS)

#: What each remediation action's ``capture`` and ``apply`` call with the enforcer's role (the role grants their
#: union). An action may also call with a session it obtains (``session_permissions``: the root user's, through
#: ``sts:AssumeRoot``); those calls are authorised by that session, not granted to the role.
STEP_PERMISSIONS: Mapping[StepAction, tuple[str, ...]] = {
    name: tuple(p for p in action.permissions if p not in getattr(action, "session_permissions", ()))
    for name, action in ACTIONS.items()
}

#: Declared permissions the generated grants leave out, with where the template grants them instead.
GRANTED_APART: Mapping[str, str] = MappingProxyType(
    {permission: where for module in MODULES for permission, where in getattr(module, "GRANTED_APART", {}).items()}
)

#: What undoing each remediation action calls (``iamwarden undo`` runs with the operator's credentials).
UNDO_PERMISSIONS: Mapping[str, tuple[str, ...]] = {name: action.undo_permissions for name, action in ACTIONS.items()}


def action_for(step: RemediationStep) -> RemediationAction:
    """The action that carries out ``step``."""
    try:
        return ACTIONS[step.action]
    except KeyError as exc:
        raise RemediationError(f"no remediation action implements {step.action}") from exc


__all__ = [
    "ACTIONS",
    "GRANTED_APART",
    "GUARDRAILS",
    "GUARDRAILS_BY_EVENT",
    "MODULES",
    "RULES",
    "STEP_PERMISSIONS",
    "UNDO_PERMISSIONS",
    "Evaluation",
    "Guardrail",
    "RuleContext",
    "StepAction",
    "action_for",
]
