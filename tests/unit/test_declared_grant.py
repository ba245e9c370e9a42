"""The declared documents a detached remediation grant is compared with before ``reattach_own_grant`` attaches it,
and the attach grant the privilege-escalation exemption holds for (``domain.declared_content``)."""

from __future__ import annotations

import json

import pytest

from iamwarden.app.config import own_identity_from_environment
from iamwarden.domain import declared
from iamwarden.domain.declared_content import declared_grant, declared_reattach_grant
from tests.conftest import SAMPLE_OWN

HOME = "111122223333"
MEMBER = "444455556666"


def test_the_enforcers_grant_is_its_template_document_for_the_stacks_user_remediation() -> None:
    arn = f"arn:aws:iam::{HOME}:policy/iamwarden-enforcer-remediations-1-us-east-1"
    quarantine = declared_grant(arn, SAMPLE_OWN, HOME)
    delete = declared_grant(arn, SAMPLE_OWN._replace(user_remediation="delete"), HOME)
    assert quarantine is not None
    assert delete is not None
    assert quarantine != delete  # deleting users is granted only with UserRemediation=delete
    raw = declared.OWN_POLICY_DOCUMENTS["quarantine"]["iamwarden-enforcer-remediations-1-${AWS::Region}"]
    assert quarantine == json.loads(raw.replace("${AWS::Partition}", "aws").replace("${AWS::AccountId}", HOME))


def test_the_member_grant_is_the_member_templates_document_in_that_account() -> None:
    arn = f"arn:aws:iam::{MEMBER}:policy/iamwarden-remediator-remediations-3"
    document = declared_grant(arn, SAMPLE_OWN, MEMBER)
    raw = declared.MEMBER_POLICY_DOCUMENTS["quarantine"]["${member-role:remediator}-remediations-3"]
    assert document == json.loads(raw.replace("${AWS::Partition}", "aws").replace("${AWS::AccountId}", MEMBER))


@pytest.mark.parametrize(
    ("arn", "account"),
    [
        (f"arn:aws:iam::{MEMBER}:policy/iamwarden-remediator-remediations-3", "777788889999"),  # another account's
        (f"arn:aws:iam::{MEMBER}:policy/iamwarden-remediator-remediations-9", MEMBER),  # no such grant
        (f"arn:aws:iam::{HOME}:policy/iamwarden-enforcer-remediations-1-eu-west-1", HOME),  # another region's
        (f"arn:aws:iam::{HOME}:policy/iamwarden-remediator-remediations-1", HOME),  # the member's name at home
        ("not-an-arn", HOME),
    ],
)
def test_any_other_policy_has_no_declared_document(arn: str, account: str) -> None:
    assert declared_grant(arn, SAMPLE_OWN, account) is None


def test_without_the_stacks_user_remediation_no_document_is_known() -> None:
    arn = f"arn:aws:iam::{HOME}:policy/iamwarden-enforcer-remediations-1-us-east-1"
    assert declared_grant(arn, SAMPLE_OWN._replace(user_remediation=None), HOME) is None


@pytest.mark.parametrize(
    ("value", "known"), [("quarantine", "quarantine"), ("delete", "delete"), ("", None), ("x", None)]
)
def test_the_user_remediation_is_known_from_the_environment_only_as_the_templates_values(
    value: str, known: str | None
) -> None:
    env = {"IAMWARDEN_OWN_ROLE_ARNS": f"enforcer=arn:aws:iam::{HOME}:role/iamwarden-enforcer-us-east-1"}
    assert own_identity_from_environment({**env, "IAMWARDEN_USER_REMEDIATION": value}).user_remediation == known


def test_the_attach_grants_pin_each_role_and_its_own_remediation_policies() -> None:
    enforcer = declared_reattach_grant("enforcer", SAMPLE_OWN, "aws", HOME)
    remediator = declared_reattach_grant("remediator", SAMPLE_OWN, "aws", MEMBER)
    assert enforcer is not None
    assert remediator is not None
    [home] = enforcer[1]["Statement"]
    [member] = remediator[1]["Statement"]
    assert (enforcer[0], home["Resource"]) == (
        "enforcer-reattach-own-grants",
        f"arn:aws:iam::{HOME}:role/iamwarden-enforcer-us-east-1",
    )
    assert home["Condition"] == {
        "ArnEquals": {
            "iam:PolicyARN": [
                f"arn:aws:iam::{HOME}:policy/iamwarden-enforcer-remediations-{n}-us-east-1" for n in (1, 2, 3, 4)
            ]
        }
    }
    assert (remediator[0], member["Resource"]) == (
        "reattach-own-grants",
        f"arn:aws:iam::{MEMBER}:role/iamwarden-remediator",
    )
    assert member["Condition"] == {
        "ArnEquals": {
            "iam:PolicyARN": [f"arn:aws:iam::{MEMBER}:policy/iamwarden-remediator-remediations-{n}" for n in (1, 2, 3)]
        }
    }
    assert declared_reattach_grant("pruner", SAMPLE_OWN, "aws", HOME) is None
