"""What an undo writes into a principal's ``attachments`` record (``attachments.record_after_undo``), and what each
undoable action that changes what the record describes says it put back (``undone_on``)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from iamwarden.domain.canonical import document_digest
from iamwarden.domain.findings import RemediationStep
from iamwarden.domain.recorded import ATTACHMENTS, INLINE_DOCUMENTS, Snapshot
from iamwarden.guardrails.attachments import (
    CHANGED,
    CHANGED_AT,
    UndoneOn,
    inline_put_again,
    member_again,
    policy_attached_again,
    record_after_undo,
)
from iamwarden.guardrails.group_membership import RemoveUserFromGroup
from iamwarden.guardrails.identity_policy import RewriteInlinePolicy
from iamwarden.guardrails.managed_policy import DetachManagedPolicy

ROLE = "arn:aws:iam::111122223333:role/app"
TAKEN = "2026-11-24T10:15:00.000+00:00"
EARLIER = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
PUT = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:*", "Resource": "*"}]}


def _stored(data: dict[str, Any] | None = None, *, rank: int = 2, unusable: bool = False) -> Snapshot:
    kept = {
        "policies": ["arn:aws:iam::aws:policy/ReadOnlyAccess"],
        "inline": {"ops": document_digest(EARLIER)},
        INLINE_DOCUMENTS: {"ops": json.dumps(EARLIER)},
    }
    return Snapshot(ATTACHMENTS, ROLE, TAKEN, data if data is not None else kept, rank=rank, unusable=unusable)


def test_an_inline_document_put_back_replaces_the_one_the_remediation_left() -> None:
    kept = record_after_undo(_stored(), inline_put_again("role", "app", "ops", PUT))

    assert kept is not None
    assert kept.data["inline"]["ops"] == document_digest(PUT)
    assert json.loads(kept.data[INLINE_DOCUMENTS]["ops"]) == PUT
    assert kept.data["policies"] == ["arn:aws:iam::aws:policy/ReadOnlyAccess"], "nothing else changes"


def test_it_is_dated_as_the_stored_record_derived_from_it_and_ranked_above_it() -> None:
    kept = record_after_undo(_stored(rank=2), policy_attached_again("role", "app", "arn:aws:iam::aws:policy/X"))

    assert kept is not None
    assert (kept.kind, kept.resource_arn, kept.taken_at) == (ATTACHMENTS, ROLE, TAKEN)
    assert kept.base == (TAKEN, 2), "kept only while the record it corrects is still the stored one"
    assert kept.rank == 3
    assert kept.data["policies"] == ["arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/X"]


def test_a_membership_put_back_is_listed_once() -> None:
    user = _stored({"policies": [], "groups": ["dev"], "inline": {}}, rank=0)

    kept = record_after_undo(user, member_again("alice", "admins"))
    held = user._replace(data={**user.data, "groups": ["admins", "dev"]})
    twice = record_after_undo(held, member_again("alice", "admins"))

    assert kept is not None
    assert twice is not None
    assert kept.data["groups"] == ["admins", "dev"]
    assert twice.data["groups"] == ["admins", "dev"]


@pytest.mark.parametrize(
    ("stored", "why"),
    [
        (None, "no record: the heartbeat writes the next one"),
        (_stored(unusable=True), "distrusted already: alert-only until the heartbeat reads again"),
        (_stored({"policies": []}), "kept before inline policies were: an inline put over it is not known either way"),
    ],
)
def test_nothing_is_written_where_there_is_nothing_to_correct(stored: Snapshot | None, why: str) -> None:
    assert record_after_undo(stored, inline_put_again("role", "app", "ops", PUT)) is None, why


def test_a_record_of_that_second_s_events_lists_the_undone_item_among_them() -> None:
    """Within the record's own second, what the undo changed is no longer known as it stood (``CHANGED``)."""
    data = {**_stored().data, CHANGED: ["policy:arn:aws:iam::aws:policy/A"], CHANGED_AT: TAKEN}

    kept = record_after_undo(_stored(data), inline_put_again("role", "app", "ops", PUT))

    assert kept is not None
    assert kept.data[CHANGED] == ["inline:ops", "policy:arn:aws:iam::aws:policy/A"]


def test_a_record_of_an_older_second_keeps_its_list_as_it_was() -> None:
    data = {**_stored().data, CHANGED: ["inline:ops"], CHANGED_AT: "2026-11-24T10:14:00.000+00:00"}

    kept = record_after_undo(_stored(data), policy_attached_again("role", "app", "arn:aws:iam::aws:policy/X"))

    assert kept is not None
    assert kept.data[CHANGED] == ["inline:ops"]


def _step(action: Any, parameters: dict[str, Any]) -> RemediationStep:
    return RemediationStep(action.action, ROLE, parameters)


def test_each_action_says_what_its_undo_put_back_only_when_the_remediation_changed_something() -> None:
    detach = _step(DetachManagedPolicy, {"principal_type": "role", "principal_name": "app", "policy_arn": "arn:p"})
    remove = _step(RemoveUserFromGroup, {"user_name": "alice", "group_name": "admins"})
    rewrite = _step(
        RewriteInlinePolicy,
        {"principal_type": "role", "principal_name": "app", "policy_name": "ops", "document": PUT, "restore": EARLIER},
    )

    assert DetachManagedPolicy().undone_on(detach, {"exists": True, "attached": True}) == UndoneOn(
        "role", "app", "policy:arn:p"
    )
    assert DetachManagedPolicy().undone_on(detach, {"exists": True, "attached": False}) is None
    assert RemoveUserFromGroup().undone_on(remove, {"member": True}) == UndoneOn("user", "alice", "group:admins")
    assert RemoveUserFromGroup().undone_on(remove, {"member": None}) is None
    assert RewriteInlinePolicy().undone_on(rewrite, {"document": PUT}) == UndoneOn("role", "app", "inline:ops", PUT)
    assert RewriteInlinePolicy().undone_on(rewrite, {"document": EARLIER}) is None, "a later put: nothing was changed"
    assert RewriteInlinePolicy().undone_on(rewrite, {"document": None}) is None
