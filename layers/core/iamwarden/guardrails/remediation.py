"""What every remediation action shares: the contract, the clients it acts through, policy statements.

Each guardrail module holds its own action classes beside its judgement. Every
action follows the same contract, which the executor relies on:

* ``capture`` only reads. It returns the exact before-state as JSON-able data;
  the executor stores it before any write.
* ``apply`` writes only what the live before-state shows is still wrong, so a
  second run, or a run on a resource that is already compliant, is a no-op.
  It appends one plain line per change to ``done`` as it goes, so a failure
  part way leaves an exact record of what was and was not done.
* ``undo`` restores the before-state into the *current* state (a later,
  unrelated change is kept) and returns what it restored.
* "Already gone" (NoSuchEntity, NoSuchBucketPolicy) counts as done
  (``iamwarden.adapters.errors``: ``ignoring``, ``is_gone``).

``action`` names the action and carries the IAM actions ``capture`` and
``apply`` call (``permissions``, declared on the class); ``undo_permissions``
are what ``undo`` calls. Tests check both against the calls actually made and
the template.

Statements are matched by meaning (``statement_meaning``: however the service re-spelt what it stored, a root
ARN for a bare account id, action case, a one-element list), never by position. On undo the Sid of a
recorded statement counts too (``same_statement``): ``remove_statements`` takes exactly the statements the
remediation wrote out, ``restore_statements`` puts the removed ones back into whatever the document holds now
and refuses when a Sid is taken by a different statement. ``without_offending`` is the finer cut the
identity-policy and trust-policy rules use: a reference that names ``actions``
(or ``principals``) takes only those entries out of the statement's Action list
(or Principal) and keeps the statement with the rest.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable
from urllib.parse import unquote

from iamwarden.domain.exceptions import UndoError
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.domain.policy import Statement
from iamwarden.domain.recorded import Snapshot

# ``domain.statement_meaning`` (with ``canonical``) is imported by the helpers that match statements by meaning, on
# first use: the enforcer imports this module at every cold start, and only a cut or a restore needs it.

#: Permissions, as declared on an action class: exact IAM actions, e.g. ``iam:DetachRolePolicy``.
Permissions = tuple[str, ...]


class AuditEntry(Protocol):
    """What an action reads of an earlier remediation in the audit table (``adapters.audit.AuditRecord``)."""

    @property
    def remediation_id(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def status(self) -> str: ...

    @property
    def created_at(self) -> str: ...

    @property
    def rule(self) -> str: ...

    @property
    def before(self) -> Sequence[Mapping[str, Any]]: ...

    @property
    def plan(self) -> Sequence[Mapping[str, Any]]: ...

    @property
    def done(self) -> Sequence[str]: ...


class AccountClients(Protocol):
    """The clients of the account and region a step acts in."""

    @property
    def account(self) -> str: ...

    @property
    def iam(self) -> Any: ...

    @property
    def s3(self) -> Any: ...

    @property
    def s3control(self) -> Any: ...

    def client(self, service: str) -> Any:
        """Any service's client in this account and region (a resource-policy endpoint names its service)."""
        ...

    def root_task_client(self, service: str, task_policy_arn: str) -> Any:
        """A client acting as this account's root user, limited to one AWS-managed root task policy.

        Through AWS Organizations centralized root access (``sts:AssumeRoot`` from IAM Warden's own account,
        the management or delegated administrator account); short-lived.
        """
        ...

    def history(self, resource_arn: str) -> Sequence[AuditEntry]:
        """What the audit table holds for ``resource_arn``, oldest first (a last known good copy)."""
        ...

    def renew_session(self) -> None:
        """Act through a new session of the member role from now on (the old one was just revoked)."""
        ...


class StepRun(Protocol):
    """What a step is run with: its clients, the finding id and the time."""

    @property
    def aws(self) -> AccountClients: ...

    @property
    def finding_id(self) -> str: ...

    @property
    def now(self) -> str: ...


@runtime_checkable
class KeepsRun(StepRun, Protocol):
    """A run that can keep IAM Warden's record of what a step made (the executor's: ``app.executor.StepRun``). Apart
    from ``StepRun`` so that the one step that records (a re-created GuardDuty publishing destination) asks for it
    by type and says when a run cannot, and every other step and its test doubles need nothing new."""

    @property
    def keep(self) -> Callable[[Snapshot], bool] | None: ...


class RemediationAction(Protocol):
    """One remediation action: read the live state, fix it, put it back."""

    @property
    def action(self) -> StepAction: ...

    @property
    def permissions(self) -> Permissions: ...

    @property
    def undo_permissions(self) -> Permissions: ...

    @property
    def undoable(self) -> bool: ...

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]: ...

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None: ...

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]: ...


def pages(client: Any, operation: str, key: str, **kwargs: Any) -> Iterator[Any]:
    """Every item under ``key`` of every page of a paginated call."""
    for page in client.get_paginator(operation).paginate(**kwargs):
        yield from page.get(key, [])


def policy_document(value: Any) -> Any:
    """IAM returns policy documents as URL-encoded JSON strings (boto3 decodes them to dicts)."""
    if isinstance(value, str):
        return json.loads(unquote(value))
    return value


def statement_reference(statement: Statement) -> dict[str, Any]:
    """A statement as a plan names it: position and Sid (for people), the statement itself (to match on)."""
    return {"index": statement.position, "sid": statement.sid, "statement": dict(statement.raw)}


def statement_list(document: Mapping[str, Any]) -> list[Any]:
    """A document's statements as a list (one statement may come as an object)."""
    statements = document.get("Statement", [])
    return list(statements) if isinstance(statements, list) else [statements]


def offending_statements(step: RemediationStep) -> set[str]:
    """The meaning (``statement_meaning``) of each statement the step names (``statement_reference``)."""
    from iamwarden.domain.statement_meaning import statement_meaning  # noqa: PLC0415

    return {statement_meaning(reference["statement"]) for reference in step.parameters["statements"]}


def statement_cut(
    statement: Statement, actions: Iterable[str] = (), principals: Mapping[str, Iterable[str]] | None = None
) -> dict[str, Any]:
    """``statement_reference`` naming what to take out: ``actions`` of its Action list, ``principals`` (by type:
    ``{"AWS": ["arn:aws:iam::999988887777:root"]}``) of its Principal, or (neither) all of it."""
    reference = statement_reference(statement)
    if actions:
        reference["actions"] = sorted(set(actions))
    if principals:
        reference["principals"] = {kind: sorted(set(entries)) for kind, entries in principals.items()}
    return reference


def without_offending(statements: Iterable[Any], references: Iterable[Mapping[str, Any]]) -> list[Any]:
    """``statements`` with each referenced statement cut out, or with only its named ``actions`` taken out.

    Statements are matched by meaning (``statement_meaning``). A statement left with no action goes whole. Nothing
    else changes: the kept statements are the same objects, in the same order.
    """
    from iamwarden.domain.statement_meaning import statement_meaning  # noqa: PLC0415

    cuts: dict[str, set[str] | None] = {}
    for reference in references:
        key = statement_meaning(reference["statement"])
        parts = _parts(reference)
        if parts is None:
            cuts[key] = None
        elif key not in cuts:
            cuts[key] = parts
        elif (taken := cuts[key]) is not None:
            taken.update(parts)
    kept: list[Any] = []
    for statement in statements:
        key = statement_meaning(statement)
        if key not in cuts:
            kept.append(statement)
            continue
        taken = cuts[key]
        rest = None if taken is None or not isinstance(statement, dict) else _without_parts(statement, taken)
        if rest is not None:
            kept.append(rest)
    return kept


def _parts(reference: Mapping[str, Any]) -> set[str] | None:
    """What a reference takes out of its statement: ``Action`` entries and ``Principal`` entries; None: all of it."""
    actions, principals = reference.get("actions"), reference.get("principals")
    if actions is None and principals is None:
        return None
    parts = {f"Action\0{str(action).lower()}" for action in actions or ()}
    parts.update(_principal_part(kind, entry) for kind, entries in (principals or {}).items() for entry in entries)
    return parts


def _without_parts(statement: dict[str, Any], taken: set[str]) -> dict[str, Any] | None:
    """``statement`` without the taken Action and Principal entries; None when no action or no principal is left."""
    rest = dict(statement)
    listed = statement.get("Action")
    if listed is not None:
        actions = [a for a in _as_list(listed) if f"Action\0{str(a).lower()}" not in taken]
        if not actions:
            return None
        rest["Action"] = _as_value(actions)
    principal = statement.get("Principal")
    if principal == "*":
        principal = {"AWS": "*"}  # the same principal (IAM User Guide): a cut of {"AWS": "*"} takes it
    if isinstance(principal, dict) and any(part.startswith("Principal\0") for part in taken):
        kept = {
            kind: [e for e in _as_list(entries) if _principal_part(kind, e) not in taken]
            for kind, entries in principal.items()
        }
        kept = {kind: entries for kind, entries in kept.items() if entries}
        if not kept:
            return None
        rest["Principal"] = {kind: _as_value(entries) for kind, entries in kept.items()}
    return rest


def _principal_part(kind: str, entry: Any) -> str:
    """A Principal entry as a cut names it: an account's root ARN and its bare id are the same entry."""
    from iamwarden.domain.statement_meaning import aws_principal  # noqa: PLC0415

    return f"Principal\0{kind}\0{aws_principal(entry) if kind == 'AWS' and isinstance(entry, str) else entry}"


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _as_value(values: list[Any]) -> Any:
    return values[0] if len(values) == 1 else values


def remove_statements(statements: Iterable[Any], recorded: Sequence[Any]) -> list[Any]:
    """``statements`` without those that are one of the ``recorded`` statements (``same_statement``: by meaning,
    and by Sid when the recorded one has a Sid, so an older statement that only means the same stays)."""
    from iamwarden.domain.statement_meaning import same_statement  # noqa: PLC0415

    return [s for s in statements if not any(same_statement(s, r) for r in recorded)]


def restore_statements(current: Sequence[Any], removed: Iterable[Any], where: str) -> list[Any]:
    """The removed statements that ``current`` lacks, to append to it; ``UndoError`` on a Sid clash.

    A removed statement whose Sid a different statement now holds cannot go back without losing one of
    them (a policy's Sids are unique): the operator restores it by hand from the audit record.
    """
    from iamwarden.domain.statement_meaning import same_statement  # noqa: PLC0415

    missing = [r for r in removed if not any(same_statement(s, r) for s in current)]
    taken = {s.get("Sid") for s in current if isinstance(s, dict) and s.get("Sid")}
    clash = [s["Sid"] for s in missing if isinstance(s, dict) and s.get("Sid") in taken]
    if clash:
        raise UndoError(
            f"{where} now has different statements with Sid {', '.join(clash)}; "
            "restore them by hand from the audit record"
        )
    return missing
