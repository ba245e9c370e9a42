"""Resource policies: a remediation removes what the change added, no more (review s11 F3).

The generic rule (the made-up queue of ``test_resource_policy``) with a fake record of what the enforcer last saw
(``RESOURCE_POLICY`` snapshots) and of its past remediations: offending statements already in force before the
change (by meaning: a bare account id is its root ARN) are named and alerted, never planned for removal; those the
change added are removed as before; without a usable record the whole document is the change's, and the reason
says older statements may be among them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from iamwarden.domain.catalog import Mode, Severity
from iamwarden.domain.exposure import NetworkOwner
from iamwarden.domain.recorded import RESOURCE_POLICY, PastRemediation, Snapshot, resource_policy_kind
from iamwarden.domain.settings import RuleSettings, Settings
from iamwarden.domain.statement_meaning import statement_meaning
from iamwarden.guardrails.resource_policy import record_key
from tests.unit.test_resource_policy import (
    EVERYONE,
    OUTSIDER,
    OWN,
    PUBLIC,
    QUEUE_ARN,
    SHARED,
    VENDOR,
    context,
    document,
    make,
    statement,
)

#: The change judged is at 2026-12-04T08:00:00Z (``context``): a record of 07:00 is from before it.
BEFORE = "2026-12-04T07:00:00.000+00:00"
AFTER = "2026-12-04T09:00:00.000+00:00"
#: The vendor's statement as the service stored it (the bare account id as its root ARN spells the same grant).
VENDOR_BARE = {**VENDOR, "Principal": {"AWS": OUTSIDER}}
TLS_ONLY = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "sqs:*",
    "Resource": QUEUE_ARN,
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}
ALICE = "arn:aws:iam::111122223333:user/alice"  # how the reason names an IAM user
OTHER = statement("Other", {"AWS": "arn:aws:iam::444455556666:root"})


class FakeRecorded:
    """A record holding one resource-policy snapshot of the queue and some past remediations of it."""

    def __init__(self, snapshot: Snapshot | None, remediations: Sequence[PastRemediation] = ()) -> None:
        self._snapshot = snapshot
        self._remediations = tuple(remediations)
        self.remediations_read = 0

    def remediations(self, resource_arn: str) -> Sequence[PastRemediation]:
        self.remediations_read += 1
        return self._remediations if resource_arn == QUEUE_ARN else ()

    def snapshot(self, kind: str, resource_arn: str) -> Snapshot | None:
        if self._snapshot is None or (kind, resource_arn) != (self._snapshot.kind, self._snapshot.resource_arn):
            return None
        return self._snapshot


def seen(*statements: dict[str, Any], taken: str = BEFORE, **data: Any) -> Snapshot:
    return Snapshot(RESOURCE_POLICY, QUEUE_ARN, taken, {"policy": document(*statements), **data})


def judged(
    policy: dict[str, Any],
    recorded: FakeRecorded | None,
    *,
    remediate: bool = True,
    modes: dict[str, Mode] | None = None,
    restorable: bool = False,
    **context_fields: Any,
) -> Any:
    rule, _, _ = make(restorable=restorable)
    base = context(policy)
    mode = Mode.REMEDIATE if remediate else Mode.ALERT
    chosen = {spec.id: mode for spec in (PUBLIC, SHARED)} | (modes or {})
    settings = Settings(rules={rule_id: RuleSettings(rule_id, m) for rule_id, m in chosen.items()})
    return rule.evaluate(base._replace(settings=settings, recorded=recorded, **context_fields))


def recorded_after(evaluation: Any, *, remediated: bool) -> FakeRecorded:
    """The record the enforcer keeps after ``evaluation`` (what the plan left when remediated), taken before the next
    change is judged."""
    [snapshot] = evaluation.observed
    data = snapshot.if_remediated if remediated else snapshot.data
    return FakeRecorded(snapshot._replace(data=data, taken_at=BEFORE))


class NetworkOwnersSaying:
    """Who owns a network, as a look-up answers it: ``None`` when it failed (the owner is unknown)."""

    def __init__(self, owner: str | None) -> None:
        self.owner = owner

    def owner_of(self, network_id: str, account: str, region: str) -> NetworkOwner:
        if self.owner is None:
            return NetworkOwner(None, "DescribeVpcEndpoints was denied in 111122223333 eu-west-1")
        return NetworkOwner(self.owner, f"DescribeVpcEndpoints says {network_id} belongs to {self.owner}")


def planned(finding: Any) -> list[dict[str, Any]]:
    return [reference["statement"] for step in finding.plan for reference in step.parameters["statements"]]


def test_an_older_statement_beside_a_new_deny_is_alerted_only_and_named_as_older() -> None:
    recorded = FakeRecorded(seen(OWN, VENDOR))

    [finding] = judged(document(OWN, VENDOR, TLS_ONLY), recorded).findings

    assert finding.rule_id == SHARED.id
    assert finding.severity is Severity.HIGH  # what the exposure deserves, not lowered
    assert finding.plan == ()
    assert finding.needs_context == ()
    assert "statement 1 (Vendor) of the policy IAM Warden recorded at " + BEFORE in finding.reason
    assert f"This statement predates the change by {ALICE}, which did not add it:" in finding.reason
    assert f"set by {ALICE}" not in finding.reason  # the editor is not blamed for the vendor's grant
    assert [o.get("older") for o in finding.offending] == [True]


def test_a_statement_re_spelt_by_the_service_is_still_the_older_one() -> None:
    """The record holds the account id bare, the event its root ARN (or the other way): the same grant."""
    for record, event in ((VENDOR_BARE, VENDOR), (VENDOR, VENDOR_BARE)):
        [finding] = judged(document(OWN, event, TLS_ONLY), FakeRecorded(seen(OWN, record))).findings
        assert finding.plan == ()


def test_only_the_statement_the_change_added_is_planned_and_the_older_one_is_named() -> None:
    recorded = FakeRecorded(seen(OWN, VENDOR))

    public, shared = judged(document(OWN, VENDOR, EVERYONE), recorded).findings

    assert planned(public) == [EVERYONE]
    assert public.severity is Severity.CRITICAL
    assert shared.plan == ()
    assert f"set by {ALICE}" in public.reason


def test_a_mixed_finding_removes_the_added_one_and_leaves_the_older_one_in_place() -> None:
    recorded = FakeRecorded(seen(OWN, VENDOR))

    [finding] = judged(document(OWN, VENDOR, OTHER), recorded).findings

    assert planned(finding) == [OTHER]
    assert "Statement 1 (Vendor) of the policy also lets in account 999988887777, but predates this change" in (
        finding.reason
    )
    assert [o.get("older", False) for o in finding.offending] == [True, False]


def test_two_older_statements_are_named_in_the_plural() -> None:
    public_then = {**EVERYONE, "Sid": "PublicThen"}
    [public, shared] = judged(
        document(OWN, VENDOR, OTHER, public_then, TLS_ONLY), FakeRecorded(seen(OWN, VENDOR, OTHER, public_then))
    ).findings
    assert public.plan == shared.plan == ()
    assert "These statements predate the change by " + ALICE + ", which did not add them:" in shared.reason
    assert "This statement predates the change by " + ALICE + ", which did not add it:" in public.reason


def test_a_statement_widening_an_offending_older_one_of_the_same_sid_is_removed_and_the_older_never_put_back() -> None:
    """Review s12 F3 / s13 F1: the vendor's share widened to a second account is the change's (a wider meaning); the
    older share is an untrusted grant (never judged compliant), so its removal puts nothing back, and the alert says
    the older grant is cut too. A compliant older statement is put back (``test_resource_policy_restore``)."""
    widened = {**VENDOR, "Principal": {"AWS": [f"arn:aws:iam::{OUTSIDER}:root", "444455556666"]}}

    [finding] = judged(document(OWN, widened), FakeRecorded(seen(OWN, VENDOR))).findings

    assert planned(finding) == [widened]
    assert "puts back statement Vendor as it was before this call" not in finding.reason
    assert "cuts that older grant too" in finding.reason
    assert [o.get("restores") for o in finding.offending] == [None]


def test_a_new_statement_under_a_new_sid_says_nothing_of_an_older_grant() -> None:
    [finding] = judged(document(OWN, VENDOR, OTHER), FakeRecorded(seen(OWN, VENDOR))).findings
    assert "cuts that older grant" not in finding.reason
    assert "rewrites_older" not in finding.offending[1]


def test_a_pending_statement_of_the_same_sid_is_no_older_grant() -> None:
    """Only a statement in force and accepted is an older grant: a pending one under the Sid is not."""
    widened = {**VENDOR, "Action": "sqs:*"}
    recorded = FakeRecorded(seen(OWN, VENDOR, pending=[statement_meaning(VENDOR)]))
    [finding] = judged(document(OWN, widened), recorded).findings
    assert planned(finding) == [widened]
    assert "cuts that older grant" not in finding.reason


@pytest.mark.parametrize(
    ("recorded", "why"),
    [
        (None, "offline"),
        (FakeRecorded(None), "no record"),
        (FakeRecorded(seen(OWN, VENDOR, taken=AFTER)), "a record newer than the change may show the change itself"),
        (FakeRecorded(seen(OWN, VENDOR)._replace(unusable=True)), "a record another write may have left stale"),
        (FakeRecorded(Snapshot(RESOURCE_POLICY, QUEUE_ARN, BEFORE, {"policy": None})), "an AddPermission since"),
    ],
)
def test_without_a_usable_record_the_whole_document_is_the_change_s_and_the_reason_says_so(
    recorded: FakeRecorded | None, why: str
) -> None:
    [finding] = judged(document(OWN, VENDOR, TLS_ONLY), recorded).findings

    assert planned(finding) == [VENDOR], why
    assert (
        "No earlier record of this policy: all of it counts as this change's, though statement 1 (Vendor) may predate"
        in (finding.reason)
    )


def test_with_a_record_lacking_the_statement_it_is_the_change_s_and_no_doubt_is_said() -> None:
    [finding] = judged(document(OWN, VENDOR), FakeRecorded(seen(OWN))).findings

    assert planned(finding) == [VENDOR]
    assert "may predate" not in finding.reason
    assert "predates" not in finding.reason


def test_a_statement_iam_warden_meant_to_remove_never_counts_as_older() -> None:
    """The record keeps what was in force even when a breaker held the removal, but marks it pending."""
    recorded = FakeRecorded(seen(OWN, VENDOR, pending=[statement_meaning(VENDOR)]))

    [finding] = judged(document(OWN, VENDOR, TLS_ONLY), recorded).findings

    assert planned(finding) == [VENDOR]


@pytest.mark.parametrize("status", ["remediated", "undone", "failed", "in_progress"])
def test_a_statement_iam_warden_remediated_before_never_counts_as_older(status: str) -> None:
    """The two-step attack: a statement removed once, then kept in the record through an alert-mode re-add, is still
    the change's when it comes back (whatever became of that remediation)."""
    past = PastRemediation(
        "rem-1",
        SHARED.id,
        status,
        "2026-12-01T00:00:00Z",
        (
            {
                "action": "remove_example_queue_policy_statements",
                "target": QUEUE_ARN,
                "parameters": {"queue": "orders", "statements": [{"index": 1, "sid": "Vendor", "statement": VENDOR}]},
            },
        ),
        ("removed 1 statement(s)",),
    )
    recorded = FakeRecorded(seen(OWN, VENDOR_BARE), [past])

    [finding] = judged(document(OWN, VENDOR, TLS_ONLY), recorded).findings

    assert planned(finding) == [VENDOR]


def test_past_remediations_are_read_only_when_an_offending_statement_is_on_record() -> None:
    recorded = FakeRecorded(seen(OWN))
    judged(document(OWN, VENDOR), recorded)
    assert recorded.remediations_read == 0


def test_the_change_keeps_what_it_set_and_after_a_remediation_what_the_plan_leaves() -> None:
    evaluation = judged(document(OWN, VENDOR, EVERYONE), FakeRecorded(None))

    [snapshot] = evaluation.observed
    assert (snapshot.kind, snapshot.resource_arn, snapshot.taken_at) == (
        RESOURCE_POLICY,
        QUEUE_ARN,
        "2026-12-04T08:00:00.000+00:00",
    )
    assert snapshot.whatever_the_verdict
    assert snapshot.data["policy"] == document(OWN, VENDOR, EVERYONE)
    assert len(snapshot.data["pending"]) == 2
    assert snapshot.if_remediated == {"policy": document(OWN), "pending": []}


def test_in_alert_mode_nothing_is_pending_so_an_accepted_share_is_older_next_time() -> None:
    [snapshot] = judged(document(OWN, VENDOR), FakeRecorded(None), remediate=False).observed
    # Alerted, not pending: older next time, but marked as judged offending, so never put back in place of another.
    alerted = [statement_meaning(VENDOR)]
    assert snapshot.data == {"policy": document(OWN, VENDOR), "pending": [], "alerted": alerted}
    assert snapshot.if_remediated == {"policy": document(OWN, VENDOR), "pending": [], "alerted": alerted}


def test_an_uncertain_finding_in_remediate_mode_leaves_its_statement_pending() -> None:
    """A statement whose verdict rests on an unknown fact is not removed now, but IAM Warden would have removed it:
    a fact unknown once (a failed look-up) must not make it "already there" for every later change."""
    vpce = {**VENDOR, "Principal": "*", "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-0a1b2c3d4e5f60718"}}}
    evaluation = judged(document(OWN, vpce), FakeRecorded(None))
    [finding] = evaluation.findings
    assert not finding.certain
    [snapshot] = evaluation.observed
    assert snapshot.data["pending"] == [statement_meaning(vpce)]


def test_a_break_glass_finding_leaves_its_statements_pending_so_the_next_edit_removes_them() -> None:
    """Review s12 F1: a break-glass actor is alerted on, never remediated; its grant must not become older."""
    first = judged(document(OWN, OTHER), FakeRecorded(None), alert_only=True)
    [finding] = first.findings
    assert finding.alert_only
    assert finding.plan == ()
    assert first.observed[0].data["pending"] == [statement_meaning(OTHER)]

    [later] = judged(document(OWN, OTHER, TLS_ONLY), recorded_after(first, remediated=False)).findings

    assert planned(later) == [OTHER]
    assert "predate" not in later.reason


def test_a_break_glass_finding_of_a_rule_in_alert_mode_accepts_the_grant() -> None:
    """The rule in ``alert`` is the operator's choice: the grant would have been alerted only anyway."""
    first = judged(document(OWN, OTHER), FakeRecorded(None), remediate=False, alert_only=True)
    assert first.observed[0].data["pending"] == []


def test_a_rule_off_beside_its_sibling_leaves_its_statements_pending() -> None:
    """Review s12 F1 (p04): the public rule off, the cross-account one on: turning the public rule on later removes the
    public grant at the next edit, it is not older."""
    first = judged(document(OWN, EVERYONE), FakeRecorded(None), modes={PUBLIC.id: Mode.OFF})
    [finding] = first.findings
    assert finding.mode is Mode.OFF
    assert first.observed[0].data["pending"] == [statement_meaning(EVERYONE)]

    [later] = judged(document(OWN, EVERYONE, TLS_ONLY), recorded_after(first, remediated=False)).findings

    assert planned(later) == [EVERYONE]


def test_an_older_statement_of_a_remediate_mode_finding_stays_older() -> None:
    """Only what the change added is pending: the vendor's older grant beside a new public one is not."""
    evaluation = judged(document(OWN, VENDOR, EVERYONE), FakeRecorded(seen(OWN, VENDOR)))
    [snapshot] = evaluation.observed
    assert snapshot.data["pending"] == [statement_meaning(EVERYONE)]
    assert snapshot.if_remediated == {
        "policy": document(OWN, VENDOR),
        "pending": [],
        "alerted": [statement_meaning(VENDOR)],
    }


def test_an_uncertain_statement_beside_a_certain_one_stays_pending_and_is_removed_once_known() -> None:
    """Review s12 F2: the certain stranger is removed, the grant behind a network whose owner look-up failed is left
    in place; once the owner is known (untrusted), the next change removes it: it never became older."""
    via_endpoint = {
        "Sid": "ViaEndpoint",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "sqs:SendMessage",
        "Resource": QUEUE_ARN,
        "Condition": {"StringEquals": {"aws:SourceVpce": "vpce-0aaaabbbbccccdddd"}},
    }
    first = judged(document(OWN, OTHER, via_endpoint), FakeRecorded(None), networks=NetworkOwnersSaying(None))
    [finding] = first.findings
    assert planned(finding) == [OTHER]
    [snapshot] = first.observed
    assert snapshot.if_remediated == {
        "policy": document(OWN, via_endpoint),  # left in place: in force
        "pending": [statement_meaning(via_endpoint)],  # but never older
    }

    [later] = judged(
        document(OWN, via_endpoint, TLS_ONLY),
        recorded_after(first, remediated=True),
        networks=NetworkOwnersSaying("999988887777"),
    ).findings

    assert planned(later) == [via_endpoint]
    assert later.needs_context == ()


def test_offline_nothing_is_kept() -> None:
    assert judged(document(OWN, VENDOR), None).observed == []


def test_a_policy_slot_keeps_its_own_record() -> None:
    assert resource_policy_kind() == RESOURCE_POLICY
    assert resource_policy_kind("vault-lock") == f"{RESOURCE_POLICY}:vault-lock"


def test_a_bucket_s_record_is_kept_under_its_account_an_arn_naming_one_as_it_is() -> None:
    """Review s12 F6: a bucket's ARN names no account; one made again under the same name in another account must not
    find the first one's record."""
    assert record_key("arn:aws:s3:::acme-media", "111122223333") == "arn:aws:s3:::acme-media#111122223333"
    assert record_key("arn:aws:s3:::acme-media", "444455556666") != record_key(
        "arn:aws:s3:::acme-media", "111122223333"
    )
    assert record_key(QUEUE_ARN, "111122223333") == QUEUE_ARN
    assert record_key("not-an-arn", "111122223333") == "not-an-arn#111122223333"
