"""The guardrails, indexed by the CloudTrail events they judge, loaded when an event needs them.

Each guardrail module declares, side by side, its specs, its judgement
(``GUARDRAILS``) and its remediation actions (``ACTIONS``). Everything else
(settings, alerts, the executor, the template's rules and grants, the README
table) reads them from here. Adding a guardrail is adding its module's name to
``MODULE_NAMES`` and running ``tools/generate.py``.

An event is judged by one to three of some thirty-five guardrail modules, so a
cold enforcer does not import them all. ``iamwarden.guardrails.index`` (written by
``tools/generate.py`` from the modules, checked by ``tests/unit/test_lazy_registry.py``)
holds what is needed before a module is: every rule's spec, which modules judge
each event (in judging order) and which module declares each remediation action.

* ``RULES`` (rule id to spec) comes from the index and is registered with the
  settings model at import: no guardrail module is imported for it.
* ``GUARDRAILS_BY_EVENT[(source, name)]`` imports only the modules that judge
  that event; its keys (the guarded events) need none.
* ``ACTIONS[name]`` and ``action_for`` import the module that declares the action.
* ``MODULES``, ``GUARDRAILS``, ``STEP_PERMISSIONS``, ``UNDO_PERMISSIONS`` and
  ``GRANTED_APART`` are about every guardrail: reading one imports them all
  (``load_all``; the generator, the tests and the CLI's listings do).

A module is checked against the index when it is loaded: a stale index (a spec
or an action that differs) fails loudly instead of judging by old data.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from importlib import import_module
from types import MappingProxyType, ModuleType
from typing import Any

from iamwarden.domain.catalog import RuleSpec, register_rules
from iamwarden.domain.exceptions import RemediationError
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.guardrails import index
from iamwarden.guardrails.base import Evaluation, Guardrail, RuleContext
from iamwarden.guardrails.remediation import RemediationAction

#: The package whose modules ``MODULE_NAMES`` names.
PACKAGE = __name__.rpartition(".")[0]

#: The guardrail modules, in the order their rules are listed (and judged, for an event several judge).
MODULE_NAMES: tuple[str, ...] = (
    "iam_user",
    "managed_policy",
    "bucket_policy",
    "identity_policy",
    # review s11 note: a managed policy created with a key named twice (read either way at creation)
    "managed_policy_readings",
    "restraint_removed",
    "credentials",
    "trust_policy",
    "s3_acl",
    "s3_acl_cross_account",
    "public_access_block",
    "sqs_queue_policy",
    "sns_topic_policy",
    "lambda_permissions",
    "kms_key_policy",
    "secret_policy",
    "ecr_repository_policy",
    "event_bus_policy",
    "snapshot_sharing",
    "dynamodb_policy",
    "efs_policy",
    "access_point_policy",
    "multi_region_access_point_policy",
    "object_lambda_access_point_policy",
    "opensearch_policy",
    "backup_vault_policy",
    # issue 18: Glacier vaults and CloudWatch Logs destinations
    "glacier_vault_policy",
    "logs_destination_policy",
    "tampering",
    "cloudtrail",
    "security_services",
    # issue 15 item 3: service control policies that blind IAM Warden or stop guarding it
    "service_control_policies",
    "group_membership",
    # issue 13: a role entering an instance profile makes it launchable by whoever may pass it to EC2
    "instance_profile_role",
    "permissions_boundary",
    "remediation_reversed",
    "identity_providers",
    "roles_anywhere",
    "identity_center",
    # issue 15: a role exempted from the permission pruner by someone not an operator
    "prune_exemption",
)


class StaleIndexError(RuntimeError):
    """A guardrail module no longer matches the generated index: run ``tools/generate.py``."""


#: Every rule id to its spec (the settings model sees the same, registered in ``domain.catalog``).
RULES: Mapping[str, RuleSpec] = register_rules(index.RULES)

_loaded: dict[str, ModuleType] = {}


def load(name: str, *, check: bool = True) -> ModuleType:
    """The guardrail module ``name`` (one of ``MODULE_NAMES``), imported and checked against the index once.

    ``check=False`` is for ``tools/generate.py`` only, which loads the modules to rewrite a stale index.
    """
    module = _loaded.get(name)
    if module is not None:
        return module
    if name not in MODULE_NAMES:
        raise ValueError(f"{name} is no guardrail module (registry.MODULE_NAMES)")
    module = import_module(f"{PACKAGE}.{name}")
    if check:
        _check_against_index(name, module)
    StepAction.list_actions(action.action for action in module.ACTIONS)
    _loaded[name] = module
    return module


def _check_against_index(name: str, module: ModuleType) -> None:
    """Refuse a module whose specs or actions the index tells differently (cheap: a few tuple comparisons)."""
    rerun = "run tools/generate.py"
    for guardrail in module.GUARDRAILS:
        for spec in guardrail.specs:
            if RULES.get(spec.id) != spec:
                raise StaleIndexError(f"the guardrail index is stale: rule {spec.id} of {name} differs; {rerun}")
    for action in module.ACTIONS:
        if index.ACTION_MODULES.get(action.action) != name:
            raise StaleIndexError(f"the guardrail index is stale: action {action.action} of {name}; {rerun}")
        if action.action.permissions != action.permissions:
            raise ValueError(f"{action.action} is not named with the permissions its class declares")


class _GuardrailsByEvent(Mapping[tuple[str, str], tuple[Guardrail, ...]]):
    """(event source, event name) to the guardrails that judge it, importing only their modules."""

    def __init__(self) -> None:
        self._found: dict[tuple[str, str], tuple[Guardrail, ...]] = {}

    def __getitem__(self, key: tuple[str, str]) -> tuple[Guardrail, ...]:
        found = self._found.get(key)
        if found is None:
            found = tuple(load(module).GUARDRAILS[position] for module, position in index.ROUTES[key])
            self._found[key] = found
        return found

    def get(self, key: tuple[str, str], default: Any = None) -> Any:
        """``Mapping.get`` without its exception: every event asks it, and most events are guarded."""
        found = self._found.get(key)
        if found is not None:
            return found
        return self[key] if key in index.ROUTES else default

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(index.ROUTES)

    def __len__(self) -> int:
        return len(index.ROUTES)

    def __contains__(self, key: object) -> bool:
        return key in index.ROUTES


#: Every guarded event to the guardrails that judge it, in judging order (``MODULE_NAMES`` order).
GUARDRAILS_BY_EVENT: Mapping[tuple[str, str], tuple[Guardrail, ...]] = _GuardrailsByEvent()


class _Actions(Mapping[StepAction, RemediationAction]):
    """Action name to action, importing the module that declares it; iterating imports every module."""

    def __init__(self) -> None:
        self._found: dict[str, RemediationAction] = {}

    def __getitem__(self, name: StepAction) -> RemediationAction:
        found = self._found.get(name)
        if found is None:
            module = index.ACTION_MODULES[name]  # KeyError: no module declares it
            found = next((action for action in load(module).ACTIONS if action.action == name), None)
            if found is None:
                raise StaleIndexError(f"the guardrail index is stale: {module} declares no action {name}")
            self._found[name] = found
        return found

    def __iter__(self) -> Iterator[StepAction]:
        return (self[StepAction(name)].action for name in index.ACTION_MODULES)

    def __len__(self) -> int:
        return len(index.ACTION_MODULES)

    def __contains__(self, name: object) -> bool:
        return name in index.ACTION_MODULES


#: Every remediation action, by name (``detach_managed_policy``).
ACTIONS: Mapping[StepAction, RemediationAction] = _Actions()


def action_for(step: RemediationStep) -> RemediationAction:
    """The action that carries out ``step`` (importing the module that declares it)."""
    try:
        return ACTIONS[step.action]
    except KeyError as exc:
        raise RemediationError(f"no remediation action implements {step.action}") from exc


def rules_of(guardrails: Iterable[Guardrail]) -> dict[str, RuleSpec]:
    """Every rule once, in guardrail order; a rule several guardrails share comes with the last of them."""
    listed = list(guardrails)
    last = {spec.id: position for position, guardrail in enumerate(listed) for spec in guardrail.specs}
    return {spec.id: spec for position, g in enumerate(listed) for spec in g.specs if last[spec.id] == position}


def load_all(*, check: bool = True) -> tuple[ModuleType, ...]:
    """Every guardrail module, in ``MODULE_NAMES`` order (what ``MODULES`` and the other totals read)."""
    modules = tuple(load(name, check=check) for name in MODULE_NAMES)
    declared = [str(action.action) for module in modules for action in module.ACTIONS]
    twice = sorted({name for name in declared if declared.count(name) > 1})
    if twice:
        raise ValueError(f"two remediation actions are named {', '.join(twice)}")
    return modules


def _totals() -> dict[str, Any]:
    modules = load_all()
    actions = {action.action: action for module in modules for action in module.ACTIONS}
    return {
        "MODULES": modules,
        "GUARDRAILS": tuple(guardrail for module in modules for guardrail in module.GUARDRAILS),
        # What each action's ``capture`` and ``apply`` call with the enforcer's role (the role grants their
        # union). An action may also call with a session it obtains (``session_permissions``: the root user's,
        # through ``sts:AssumeRoot``); those calls are authorised by that session, not granted to the role.
        "STEP_PERMISSIONS": {
            action.action: tuple(p for p in action.permissions if p not in getattr(action, "session_permissions", ()))
            for action in actions.values()
        },
        # Declared permissions the generated grants leave out, with where the template grants them instead.
        "GRANTED_APART": MappingProxyType(
            {p: where for module in modules for p, where in getattr(module, "GRANTED_APART", {}).items()}
        ),
        # What undoing each action calls (``iamwarden undo`` runs with the operator's credentials).
        "UNDO_PERMISSIONS": {action.action: action.undo_permissions for action in actions.values()},
    }


#: Every guardrail module, in ``MODULE_NAMES`` order (reading it imports them all, as the names below do).
MODULES: tuple[ModuleType, ...]
#: Every guardrail, in judging order.
GUARDRAILS: tuple[Guardrail, ...]
#: What each remediation action's ``capture`` and ``apply`` call with the enforcer's role.
STEP_PERMISSIONS: Mapping[StepAction, tuple[str, ...]]
#: What undoing each remediation action calls.
UNDO_PERMISSIONS: Mapping[str, tuple[str, ...]]
#: Declared permissions the generated grants leave out, with where the template grants them instead.
GRANTED_APART: Mapping[str, str]


def __getattr__(name: str) -> Any:
    """The totals over every guardrail, computed (importing every module) when first read."""
    if name not in {"MODULES", "GUARDRAILS", "STEP_PERMISSIONS", "UNDO_PERMISSIONS", "GRANTED_APART"}:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals().update(_totals())
    return globals()[name]


__all__ = [
    "ACTIONS",
    "GRANTED_APART",
    "GUARDRAILS",
    "GUARDRAILS_BY_EVENT",
    "MODULES",
    "MODULE_NAMES",
    "RULES",
    "STEP_PERMISSIONS",
    "UNDO_PERMISSIONS",
    "Evaluation",
    "Guardrail",
    "RuleContext",
    "StaleIndexError",
    "StepAction",
    "action_for",
    "load",
    "load_all",
    "rules_of",
]
