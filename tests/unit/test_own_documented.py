"""The escalation methods IAM Warden's own roles are documented to hold, and their compositions (review2 reattach-s16
item 6): what CloudFormation may deploy onto exactly those roles (``engine._exemption``)."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from iamwarden.domain.escalation_methods import EscalationMethod, catalogue
from iamwarden.domain.own import DOCUMENTED_ESCALATIONS, compositions, documented_methods
from tests.conftest import SAMPLE_HOME_ACCOUNT, SAMPLE_OWN

_THEN_ASSUME = {"CreatePolicyVersionThenAssumeRole", "PutRolePolicyThenAssumeRole"}
#: Compositions with a part no own role is documented to hold alone: never documented, whatever the kind.
_NEVER = {
    "AttachRolePolicyThenUpdateAssumeRolePolicy",  # the enforcer's attach is its declared grant's only
    "PutUserPolicyThenCreateAccessKey",
    "AttachUserPolicyThenCreateAccessKey",
    "CreateAndRotateAccessKey",
    "CreateRoleThenAttachRolePolicy",
    "CreateRoleThenPutRolePolicy",
    "PassExistingRoleToNewLambdaThenInvoke",
}


def _method(name: str, **actions: str) -> EscalationMethod:
    return EscalationMethod(name, name, MappingProxyType({k.replace("_", ":", 1): v for k, v in actions.items()}))


def test_the_enforcer_holds_the_compositions_of_its_remediation_grants_with_the_member_roles_it_assumes() -> None:
    found = documented_methods("enforcer")
    assert found - DOCUMENTED_ESCALATIONS["enforcer"] == {*_THEN_ASSUME, "DeleteRolePermissionsBoundaryThenAssumeRole"}
    assert not found & _NEVER
    assert "AttachRolePolicyThenAssumeRole" not in found


def test_the_pruner_holds_the_compositions_of_its_pruning_grants_with_the_member_roles_it_assumes() -> None:
    for kind in ("pruner", "pruner-member"):
        found = documented_methods(kind)
        assert found - DOCUMENTED_ESCALATIONS[kind] == {*_THEN_ASSUME, "AttachRolePolicyThenAssumeRole"}, kind
        assert not found & (_NEVER | {"DeleteRolePermissionsBoundaryThenAssumeRole"}), kind


def test_the_member_remediator_assumes_no_role_so_gains_no_then_assume_role() -> None:
    """Its hand-listed combinations with UpdateAssumeRolePolicy are compositions of its own parts: nothing new."""
    found = documented_methods("remediator")
    assert found == DOCUMENTED_ESCALATIONS["remediator"]
    parts_only = DOCUMENTED_ESCALATIONS["remediator"] - {
        "CreatePolicyVersionThenUpdateAssumeRolePolicy",
        "PutRolePolicyThenUpdateAssumeRolePolicy",
    }
    assert compositions(parts_only, catalogue().methods) == {
        "CreatePolicyVersionThenUpdateAssumeRolePolicy",
        "PutRolePolicyThenUpdateAssumeRolePolicy",
    }


@pytest.mark.parametrize("kind", ["heartbeat", "exception-watch", "snapshot-reader", "slack-interactions"])
def test_roles_that_only_assume_or_read_gain_nothing(kind: str) -> None:
    assert documented_methods(kind) == DOCUMENTED_ESCALATIONS[kind]


def test_every_documented_name_is_a_catalogue_method() -> None:
    names = {method.name for method in catalogue().methods}
    for kind, held in DOCUMENTED_ESCALATIONS.items():
        assert held <= names, (kind, held - names)


def test_a_part_counts_only_on_its_kind_of_resource() -> None:
    held = frozenset({"Assume", "Write"})
    methods = [
        _method("Assume", sts_AssumeRole="iam:role/"),
        _method("Write", iam_PutRolePolicy="iam:role/"),
        _method("WriteThenAssume", iam_PutRolePolicy="iam:role/", sts_AssumeRole="iam:role/"),
        _method("WriteElsewhere", iam_PutRolePolicy="iam:user/", sts_AssumeRole="iam:role/"),
        _method("OneMore", iam_PutRolePolicy="iam:role/", iam_PassRole="iam:role/"),
    ]
    assert compositions(held, methods) == {"WriteThenAssume"}


def test_a_held_composition_lends_none_of_its_parts() -> None:
    """Only a documented method of one action is a part: holding a composition documents no part of it alone."""
    methods = [
        _method("Assume", sts_AssumeRole="iam:role/"),
        _method("CreateKeyThenAssume", iam_CreateAccessKey="iam:user/", sts_AssumeRole="iam:role/"),
        _method("CreateKeyThenDelete", iam_CreateAccessKey="iam:user/", iam_DeleteAccessKey="iam:user/"),
    ]
    assert compositions(frozenset({"Assume", "CreateKeyThenAssume"}), methods) == frozenset()


def test_only_an_own_role_by_exact_arn_holds_them() -> None:
    enforcer = f"arn:aws:iam::{SAMPLE_HOME_ACCOUNT}:role/iamwarden-enforcer-us-east-1"
    assert SAMPLE_OWN.documented_escalations(enforcer, SAMPLE_HOME_ACCOUNT) == documented_methods("enforcer")
    for arn in (
        f"arn:aws:iam::{SAMPLE_HOME_ACCOUNT}:role/iamwarden-enforcer-eu-west-1",
        f"arn:aws:iam::{SAMPLE_HOME_ACCOUNT}:role/dev/iamwarden-enforcer-us-east-1",
        f"arn:aws:iam::{SAMPLE_HOME_ACCOUNT}:role/app",
    ):
        assert SAMPLE_OWN.documented_escalations(arn, SAMPLE_HOME_ACCOUNT) == frozenset(), arn
