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


# --- second reading (selfdeploy2-s17): can a composition widen the exemption? ---------------------------------


def test_parts_documented_for_different_kinds_never_compose() -> None:
    """``AttachRolePolicy`` is the pruners' part, ``AssumeStrongerRole`` the enforcer's, ``UpdateAssumeRolePolicy``
    the remediator kinds': composed across kinds they make methods that no kind is documented to hold."""
    every_part = frozenset().union(*DOCUMENTED_ESCALATIONS.values())
    across = compositions(every_part, catalogue().methods)
    assert {"AttachRolePolicyThenAssumeRole", "AttachRolePolicyThenUpdateAssumeRolePolicy"} <= across
    assert "AttachRolePolicyThenAssumeRole" not in documented_methods("enforcer")
    for kind in DOCUMENTED_ESCALATIONS:
        assert "AttachRolePolicyThenUpdateAssumeRolePolicy" not in documented_methods(kind), kind
        own = compositions(DOCUMENTED_ESCALATIONS[kind], catalogue().methods)
        assert documented_methods(kind) == DOCUMENTED_ESCALATIONS[kind] | own, kind


def test_a_method_of_one_action_is_documented_only_by_name_never_as_a_composition() -> None:
    """``PutAssumerUserPolicy`` and ``PutAssumerGroupPolicy`` have the one action of the enforcer's documented
    ``PutUserPolicy`` and ``PutGroupPolicy``, but reach further (a user who may assume the holder): not documented."""
    for kind in ("enforcer", "remediator"):
        found = documented_methods(kind)
        assert {"PutUserPolicy", "PutGroupPolicy"} <= found, kind
        assert not found & {"PutAssumerUserPolicy", "PutAssumerGroupPolicy"}, kind
    methods = [
        _method("Write", iam_PutUserPolicy="iam:user/"),
        _method("WriteAssumer", iam_PutUserPolicy="iam:user/"),
    ]
    assert compositions(frozenset({"Write"}), methods) == frozenset()


def test_a_part_held_by_two_documented_methods_counts_once_and_only_with_its_kind() -> None:
    """A part is an (action, resource kind) pair: a documented method on users lends nothing on roles."""
    methods = [
        _method("Assume", sts_AssumeRole="iam:role/"),
        _method("WriteUser", iam_PutUserPolicy="iam:user/"),
        _method("WriteUserAgain", iam_PutUserPolicy="iam:user/"),
        _method("WriteUserThenAssume", iam_PutUserPolicy="iam:user/", sts_AssumeRole="iam:role/"),
        _method("WriteRoleThenAssume", iam_PutUserPolicy="iam:role/", sts_AssumeRole="iam:role/"),
        _method("AssumeAnything", sts_AssumeRole=""),
        _method("AssumeAnythingThenWrite", sts_AssumeRole="", iam_PutUserPolicy="iam:user/"),
    ]
    held = frozenset({"Assume", "WriteUser", "WriteUserAgain"})
    assert compositions(held, methods) == {"WriteUserThenAssume"}


def test_a_member_roles_name_holds_them_only_at_path_slash_in_the_account_of_the_change() -> None:
    member = "444455556666"
    remediator = f"arn:aws:iam::{member}:role/iamwarden-remediator"
    assert SAMPLE_OWN.documented_escalations(remediator, member) == documented_methods("remediator")
    for arn, account in (
        (f"arn:aws:iam::{member}:role/dev/iamwarden-remediator", member),  # another path
        (f"arn:aws:iam::{SAMPLE_HOME_ACCOUNT}:role/iamwarden-remediator", SAMPLE_HOME_ACCOUNT),  # the home account
        (remediator, "777788889999"),  # named in another account's change
    ):
        assert SAMPLE_OWN.documented_escalations(arn, account) == frozenset(), (arn, account)
