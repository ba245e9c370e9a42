"""``statement_meaning``: one form for every spelling of the same grant, apart for every different grant; and
``still_granted``, the check after a cut (review s11 F18)."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

from iamwarden.domain.exceptions import UndoError
from iamwarden.domain.findings import RemediationStep
from iamwarden.domain.policy import Principal
from iamwarden.domain.statement_meaning import (
    aws_principal,
    judged_entries,
    parsed_statement,
    statement_meaning,
    still_granted,
)
from iamwarden.guardrails.remediation import remove_statements, restore_statements, without_offending
from iamwarden.guardrails.trust_policy import RestorePreviousTrustPolicy, RestoreTrustPolicy

OWN = "111122223333"
OUTSIDER = "999988887777"
ROOT = f"arn:aws:iam::{OUTSIDER}:root"
EVENT: dict[str, Any] = {
    "Sid": "Share",
    "Effect": "Allow",
    "Principal": {"AWS": OUTSIDER},
    "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::acme-exports/*",
    "Condition": {"StringEquals": {"aws:PrincipalTag/team": ["data", "etl"]}},
}
PUBLIC: dict[str, Any] = {"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Resource": "*"}


@pytest.mark.parametrize(
    "stored",
    [
        {**EVENT, "Principal": {"AWS": ROOT}},
        {**EVENT, "Principal": {"AWS": [ROOT]}},
        {**EVENT, "Principal": {"AWS": f"arn:aws-cn:iam::{OUTSIDER}:root"}},
        {**EVENT, "Action": "S3:GetObject"},
        {**EVENT, "Action": ["s3:getobject"]},
        {**EVENT, "Resource": ["arn:aws:s3:::acme-exports/*"]},
        {key: value for key, value in EVENT.items() if key != "Sid"},
        {**EVENT, "Sid": "AnotherName"},
        dict(reversed(list(EVENT.items()))),
        {**EVENT, "Condition": {"StringEquals": {"aws:principaltag/team": ["etl", "data"]}}},
    ],
    ids=[
        "root-arn",
        "root-arn-in-a-list",
        "root-arn-other-partition",
        "service-prefix-case",
        "action-in-a-list-lower-case",
        "resource-in-a-list",
        "sid-less",
        "another-sid",
        "key-order",
        "condition-key-case-and-value-order",
    ],
)
def test_a_re_spelling_means_the_same(stored: dict[str, Any]) -> None:
    assert statement_meaning(stored) == statement_meaning(EVENT)


def test_principal_star_means_aws_star() -> None:
    assert statement_meaning({**PUBLIC, "Principal": {"AWS": "*"}}) == statement_meaning(PUBLIC)
    assert statement_meaning({**PUBLIC, "Principal": {"AWS": ["*"]}}) == statement_meaning(PUBLIC)


@pytest.mark.parametrize(
    "other",
    [
        {**EVENT, "Principal": {"AWS": "444455556666"}},
        {**EVENT, "Principal": {"AWS": f"arn:aws:iam::{OUTSIDER}:role/etl"}},
        {**EVENT, "Principal": "*"},
        {**EVENT, "Action": "s3:PutObject"},
        {**EVENT, "Action": ["s3:GetObject", "s3:PutObject"]},
        {**{k: v for k, v in EVENT.items() if k != "Action"}, "NotAction": "s3:GetObject"},
        {**EVENT, "Resource": "arn:aws:s3:::acme-exports/private/*"},
        {**EVENT, "Effect": "Deny"},
        {**EVENT, "Condition": {"StringEquals": {"aws:PrincipalTag/team": ["data"]}}},
        {**EVENT, "Condition": {**EVENT["Condition"], "Bool": {"aws:SecureTransport": "true"}}},
        {k: v for k, v in EVENT.items() if k != "Condition"},
        {**EVENT, "Condition": {"StringLike": {"aws:PrincipalTag/team": ["data", "etl"]}}},
    ],
    ids=[
        "another-account",
        "a-role-of-the-account",
        "everyone",
        "another-action",
        "an-action-added",
        "not-action",
        "another-resource",
        "deny",
        "a-condition-value-dropped",
        "a-condition-added",
        "no-condition",
        "another-operator",
    ],
)
def test_a_different_grant_stays_different(other: dict[str, Any]) -> None:
    assert statement_meaning(other) != statement_meaning(EVENT)


def test_a_statement_iam_would_refuse_is_compared_by_its_text() -> None:
    odd = {"Effect": "Maybe", "Action": "s3:GetObject"}
    assert statement_meaning(odd) == statement_meaning(dict(reversed(list(odd.items()))))
    assert statement_meaning(odd) != statement_meaning({**odd, "Action": "S3:GetObject"})
    assert statement_meaning("not a statement") != statement_meaning(odd)


def test_aws_principal_folds_only_the_root_arn() -> None:
    assert aws_principal(ROOT) == OUTSIDER
    assert aws_principal(OUTSIDER) == OUTSIDER
    assert aws_principal(f"arn:aws:iam::{OUTSIDER}:role/root") == f"arn:aws:iam::{OUTSIDER}:role/root"
    assert aws_principal(f"arn:aws:iam::{OUTSIDER}:rootx") == f"arn:aws:iam::{OUTSIDER}:rootx"


# --- still_granted -------------------------------------------------------------------------------------------------


def parsed_principal(statement: dict[str, Any]) -> Principal | None:
    parsed = parsed_statement(statement)
    assert parsed is not None
    return parsed.principal


def _reference(statement: dict[str, Any], **cut: Any) -> dict[str, Any]:
    return {"index": 1, "sid": statement.get("Sid"), "statement": statement, **cut}


def test_a_live_statement_granting_the_event_grantee_an_overlapping_action_is_still_granted() -> None:
    left = [
        {"Sid": "Own", **EVENT, "Principal": {"AWS": OWN}},
        {**EVENT, "Sid": "Wide", "Principal": {"AWS": ROOT}, "Action": "s3:*"},
    ]
    left[1].pop("Condition")
    assert still_granted(left, [_reference(EVENT)], OWN) == [("statement 1 (Wide)", [OUTSIDER])]


def test_a_narrower_grant_another_action_or_another_grantee_is_not_the_events() -> None:
    narrower = {**EVENT, "Condition": {**EVENT["Condition"], "IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}}
    other_action = {**EVENT, "Action": "s3:PutObject"}
    other_account = {**EVENT, "Principal": {"AWS": "444455556666"}}
    deny = {**EVENT, "Effect": "Deny"}
    assert still_granted([narrower, other_action, other_account, deny], [_reference(EVENT)], OWN) == []


def test_the_resource_owner_is_no_grantee_and_a_cut_names_the_grantees() -> None:
    both = {**EVENT, "Principal": {"AWS": [OUTSIDER, f"arn:aws:iam::{OWN}:role/ci", "444455556666"]}}
    own_only = {**EVENT, "Principal": {"AWS": f"arn:aws:iam::{OWN}:role/ci"}}
    partner = {**EVENT, "Principal": {"AWS": "444455556666"}}
    assert still_granted([own_only], [_reference(both)], OWN) == []
    assert still_granted([partner], [_reference(both, principals={"AWS": [OUTSIDER]})], OWN) == []
    assert still_granted([partner], [_reference(both)], OWN) == [("statement 0 (Share)", ["444455556666"])]


def test_everyone_counts_only_for_a_public_grant() -> None:
    vendor = {**PUBLIC, "Principal": {"AWS": OUTSIDER}}
    assert still_granted([{**PUBLIC, "Principal": {"AWS": "*"}}], [_reference(PUBLIC)], OWN) == [
        ("statement 0", ["everyone"])
    ]
    assert still_granted([PUBLIC], [_reference(vendor)], OWN) == []


def test_a_cut_of_actions_checks_only_those_actions() -> None:
    both = {**EVENT, "Action": ["s3:GetObject", "s3:PutObject"]}
    reads = {**EVENT, "Action": "s3:GetObject"}
    assert still_granted([reads], [_reference(both, actions=["s3:PutObject"])], OWN) == []
    assert still_granted([reads], [_reference(both, actions=["S3:GETOBJECT"])], OWN) == [
        ("statement 0 (Share)", [OUTSIDER])
    ]


def test_only_the_judged_outsiders_are_looked_for_after_the_cut() -> None:
    """Review R2: a trusted account or a bound service principal the event's statement named as well, still let
    in by its own statement, is no failure; the outsider still let in is."""
    trusted = "222233334444"
    event = {**EVENT, "Principal": {"AWS": [trusted, OUTSIDER]}}
    outsiders = judged_entries(parsed_principal(event), untrusted=[OUTSIDER])
    assert outsiders == [f"AWS:{OUTSIDER}"]
    partner = {**EVENT, "Sid": "OrgRead", "Principal": {"AWS": f"arn:aws:iam::{trusted}:root"}, "Action": "s3:*"}
    assert still_granted([partner], [_reference(event, outsiders=outsiders)], OWN) == []
    assert still_granted([partner], [_reference(event)], OWN) == [("statement 0 (OrgRead)", [trusted])]
    wide = {**partner, "Principal": {"AWS": ROOT}}
    assert still_granted([wide], [_reference(event, outsiders=outsiders)], OWN) == [
        ("statement 0 (OrgRead)", [OUTSIDER])
    ]


def test_with_any_values_a_key_test_of_the_event_counts_whatever_its_values() -> None:
    """Review R2b: used when no statement matched; a key test the event lacked still sets a statement apart."""
    event = {**PUBLIC, "Condition": {"NotIpAddress": {"aws:SourceIp": "203.0.113.5"}}}
    cidr = {**event, "Condition": {"NotIpAddress": {"aws:SourceIp": "203.0.113.5/32"}}}
    assert still_granted([cidr], [_reference(event)], OWN) == []
    assert still_granted([cidr], [_reference(event)], OWN, any_values=True) == [("statement 0", ["everyone"])]
    vpce = {**cidr, "Condition": {**cidr["Condition"], "StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}}
    assert still_granted([vpce], [_reference(event)], OWN, any_values=True) == []


def test_judged_entries_keep_everyone_unbound_services_and_named_providers_only() -> None:
    trail = "cloudtrail.amazonaws.com"
    mixed = {**EVENT, "Principal": {"Service": trail, "AWS": f"arn:aws:iam::{OUTSIDER}:role/x"}}
    assert judged_entries(parsed_principal(mixed), untrusted=[OUTSIDER]) == [f"AWS:arn:aws:iam::{OUTSIDER}:role/x"]
    assert judged_entries(parsed_principal(mixed), untrusted=[], services=[trail]) == [f"Service:{trail}"]
    assert judged_entries(parsed_principal(PUBLIC), untrusted=[]) == ["*"]
    saml = {**EVENT, "Principal": {"Federated": "arn:aws:iam::999988887777:saml-provider/okta"}}
    named = ["federated arn:aws:iam::999988887777:saml-provider/okta"]
    assert judged_entries(parsed_principal(saml), untrusted=named) == [
        "Federated:arn:aws:iam::999988887777:saml-provider/okta"
    ]


# --- the remediation helpers match by meaning ----------------------------------------------------------------------


def test_without_offending_cuts_a_root_arn_entry_the_event_named_by_account_id() -> None:
    event = {**EVENT, "Principal": {"AWS": [OUTSIDER, f"arn:aws:iam::{OWN}:role/ci"]}}
    stored = {**EVENT, "Principal": {"AWS": [f"arn:aws:iam::{OWN}:role/ci", ROOT]}}
    assert without_offending([stored], [_reference(event, principals={"AWS": [OUTSIDER]})]) == [
        {**EVENT, "Principal": {"AWS": f"arn:aws:iam::{OWN}:role/ci"}}
    ]


def test_without_offending_cuts_a_principal_star_stored_as_a_string() -> None:
    assert (
        without_offending([PUBLIC], [_reference({**PUBLIC, "Principal": {"AWS": "*"}}, principals={"AWS": ["*"]})])
        == []
    )


def test_remove_and_restore_statements_compare_meanings() -> None:
    stored = {**EVENT, "Principal": {"AWS": ROOT}, "Action": "S3:GetObject"}
    keep = {**EVENT, "Principal": {"AWS": "444455556666"}}
    assert remove_statements([stored, keep], [EVENT]) == [keep]
    assert restore_statements([stored, keep], [EVENT], "the policy") == []


def test_remove_statements_keeps_an_older_statement_that_only_means_the_same() -> None:
    older = {**EVENT, "Sid": "Older", "Principal": {"AWS": ROOT}}
    written = {**EVENT, "Principal": {"AWS": ROOT}}  # the recorded statement's Sid (Share), re-spelt
    assert remove_statements([older, written], [EVENT]) == [older]
    unnamed = {key: value for key, value in EVENT.items() if key != "Sid"}
    assert remove_statements([older], [unnamed]) == []  # no Sid recorded: the meaning alone decides


def test_restore_statements_puts_back_a_statement_another_sid_only_means() -> None:
    older = {**EVENT, "Sid": "Older"}
    assert restore_statements([older], [EVENT], "the policy") == [EVENT]


# --- the previous trust restore compares whole documents by meaning ------------------------------------------------


class _Iam:
    """``get_role`` answering one trust document, as IAM stored it; ``update_assume_role_policy`` stores verbatim."""

    def __init__(self, trust: dict[str, Any]) -> None:
        self.trust = trust
        self.written: list[dict[str, Any]] = []

    def get_role(self, RoleName: str) -> dict[str, Any]:
        return {"Role": {"AssumeRolePolicyDocument": self.trust}}

    def update_assume_role_policy(self, RoleName: str, PolicyDocument: str) -> None:
        self.trust = json.loads(PolicyDocument)
        self.written.append(self.trust)


def _trust_step(event: dict[str, Any], previous: dict[str, Any]) -> RemediationStep:
    return RemediationStep(
        RestorePreviousTrustPolicy.action,
        f"arn:aws:iam::{OWN}:role/app",
        {"role_name": "app", "policy": event, "restore_to": previous},
    )


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


ASSUME: dict[str, Any] = {"Effect": "Allow", "Principal": {"AWS": OUTSIDER}, "Action": "sts:AssumeRole"}
EC2: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}


def test_the_previous_trust_goes_back_when_iam_stored_the_events_document_re_spelt() -> None:
    stored = _doc(EC2, {**ASSUME, "Principal": {"AWS": ROOT}})
    aws = SimpleNamespace(iam=_Iam(stored))
    captured = RestorePreviousTrustPolicy().capture(aws, _trust_step(_doc(ASSUME, EC2), _doc(EC2)))
    assert captured["restore_to"] == _doc(EC2)


def test_a_trust_changed_since_in_meaning_is_left_alone() -> None:
    changed = _doc(EC2, {**ASSUME, "Principal": {"AWS": ROOT}, "Action": "sts:TagSession"})
    aws = SimpleNamespace(iam=_Iam(changed))
    captured = RestorePreviousTrustPolicy().capture(aws, _trust_step(_doc(ASSUME, EC2), _doc(EC2)))
    assert captured["restore_to"] is None
    assert captured["why"] == "changed again since the event"


# --- undo: IAM's re-spelling of IAM Warden's own write is no change; the Sid tells statements apart (review R1) ----


def _respelt(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` as IAM stores it: every bare account id principal as the account's root ARN."""
    text = json.dumps(document)
    for account in (OWN, OUTSIDER):
        text = text.replace(f'"{account}"', f'"arn:aws:iam::{account}:root"')
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def test_the_previous_trust_restore_is_undone_when_iam_stored_the_restored_trust_re_spelt() -> None:
    previous = _doc({**ASSUME, "Principal": {"AWS": OWN}})
    event = _doc({**ASSUME, "Principal": {"AWS": f"arn:aws:iam::{OWN}:role/weak"}})
    iam = _Iam(event)
    aws = SimpleNamespace(iam=iam)
    step = _trust_step(event, previous)
    action = RestorePreviousTrustPolicy()
    before = action.capture(aws, step)
    action.apply(SimpleNamespace(aws=aws), step, before, [])
    iam.trust = _respelt(iam.trust)

    assert action.undo(aws, step, before) == ["put the trust policy of role app back as the event set it"]
    assert iam.trust == event


def test_the_previous_trust_undo_refuses_after_a_later_change_of_a_sid_only() -> None:
    previous = _doc(EC2)
    event = _doc(ASSUME, EC2)
    iam = _Iam(event)
    aws = SimpleNamespace(iam=iam)
    step = _trust_step(event, previous)
    action = RestorePreviousTrustPolicy()
    before = action.capture(aws, step)
    action.apply(SimpleNamespace(aws=aws), step, before, [])
    iam.trust = _doc({**EC2, "Sid": "Later"})

    with pytest.raises(UndoError, match="changed since the remediation"):
        action.undo(aws, step, before)
    assert iam.trust == _doc({**EC2, "Sid": "Later"})


CI = f"arn:aws:iam::{OWN}:role/ci"


def _restore_step(*references: dict[str, Any]) -> RemediationStep:
    return RemediationStep(
        RestoreTrustPolicy.action,
        f"arn:aws:iam::{OWN}:role/deploy",
        {"role_name": "deploy", "event_name": "CreateRole", "statements": list(references)},
    )


def test_the_trust_undo_puts_the_policy_back_as_it_was_when_iam_re_spelt_the_cut() -> None:
    event = {**ASSUME, "Sid": "Event", "Principal": {"AWS": [CI, OUTSIDER]}}
    live = _doc({**ASSUME, "Sid": "Own", "Principal": {"AWS": OWN}}, event)
    iam = _Iam(live)
    aws = SimpleNamespace(iam=iam, account=OWN)
    step = _restore_step(_reference(event, principals={"AWS": [OUTSIDER]}))
    action = RestoreTrustPolicy()
    before = action.capture(aws, step)
    action.apply(SimpleNamespace(aws=aws), step, before, [])
    iam.trust = _respelt(iam.trust)  # the account id as its root ARN
    iam.trust["Statement"][1]["Principal"]["AWS"] = [CI]  # and a one-element list where the cut wrote a string

    assert action.undo(aws, step, before) == ["restored the trust policy of role deploy as it was"]
    assert iam.trust == live


def test_the_trust_undo_after_a_later_change_keeps_an_older_statement_that_means_the_same_as_the_cut() -> None:
    older = {**ASSUME, "Sid": "CI", "Principal": {"AWS": CI}}
    event = {**ASSUME, "Sid": "Event", "Principal": {"AWS": [CI, f"arn:aws:iam::{OUTSIDER}:root"]}}
    iam = _Iam(_doc(older, event))
    aws = SimpleNamespace(iam=iam, account=OWN)
    step = _restore_step(_reference(event, principals={"AWS": [f"arn:aws:iam::{OUTSIDER}:root"]}))
    action = RestoreTrustPolicy()
    before = action.capture(aws, step)
    action.apply(SimpleNamespace(aws=aws), step, before, [])
    assert iam.trust["Statement"] == [older, {**event, "Principal": {"AWS": CI}}]
    iam.trust = {**iam.trust, "Statement": [*iam.trust["Statement"], {**EC2, "Sid": "Later"}]}

    assert action.undo(aws, step, before) == ["restored 1 statement(s) into the current trust policy of role deploy"]
    assert iam.trust["Statement"] == [older, {**EC2, "Sid": "Later"}, event]
