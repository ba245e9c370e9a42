"""Resource policies: a widened statement gives way to the older one it replaced (issue 13 item 7), and what an
operator put back with ``iamwarden undo`` stays (accepted) at the next change.

The generic rule (the made-up queue of ``test_resource_policy``) with a fake record (``test_resource_policy_history``):
an older statement in force and judged fine that the change replaced (same Sid only) is put back in place of the
wider one, never a guess when several could be the one; apply and
undo run on the fake endpoint, so the document after each is checked whole.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from iamwarden.domain.exceptions import RemediationError, UndoError
from iamwarden.domain.findings import RemediationStep
from iamwarden.domain.recorded import PastRemediation, Snapshot
from iamwarden.domain.statement_meaning import statement_meaning
from iamwarden.guardrails.resource_policy import record_key
from tests.unit.test_resource_policy import OUTSIDER, OWN, QUEUE_ARN, VENDOR, NoClients, Run, document, make, statement
from tests.unit.test_resource_policy_history import BEFORE, OTHER, FakeRecorded, planned, seen
from tests.unit.test_resource_policy_history import judged as judged_by


def judged(policy: dict[str, Any], recorded: FakeRecorded | None, **fields: Any) -> Any:
    """The made-up queue as a service where every removal reaches the record (restorable), unless told otherwise."""
    return judged_by(policy, recorded, **{"restorable": True} | fields)


#: The older statement in force and judged compliant (this account's own role); widened under its Sid to an outsider.
TEAM = statement("Team", {"AWS": "arn:aws:iam::111122223333:role/reader"})
WIDENED = {**TEAM, "Principal": {"AWS": ["arn:aws:iam::111122223333:role/reader", f"arn:aws:iam::{OUTSIDER}:root"]}}
PARTNER = statement("Partner", {"AWS": "arn:aws:iam::555566667777:root"})


def restored(finding: Any) -> list[Any]:
    return [reference.get("restore") for step in finding.plan for reference in step.parameters["statements"]]


def remediate(policy: dict[str, Any], finding: Any) -> tuple[Any, Any, Any, list[str]]:
    """Apply the finding's one step on the fake queue holding ``policy``: (action, endpoint, before, done)."""
    _, action, endpoint = make()
    endpoint.policies["orders"] = json.dumps(policy)
    [step] = finding.plan
    before = action.capture(NoClients(), step)
    done: list[str] = []
    action.apply(Run(), step, before, done)
    return action, endpoint, before, done


def live(endpoint: Any) -> Any:
    text = endpoint.policies["orders"]
    return json.loads(text) if text is not None else None


def test_a_statement_widened_under_its_sid_gives_way_to_the_older_one_and_undo_puts_back_the_call_s_document() -> None:
    """The team's share widened to an outside account: the plan removes the wider statement and restores the older
    one in its place (in force, judged compliant, and the policy left is compliant); undo writes what the call wrote."""
    policy = document(OWN, WIDENED)
    [finding] = judged(policy, FakeRecorded(seen(OWN, TEAM))).findings

    assert planned(finding) == [WIDENED]
    assert restored(finding) == [TEAM]
    assert finding.offending[0]["restores"] == TEAM
    assert "rewrites_older" not in finding.offending[0]
    assert (
        "Statement 1 (Team) replaced statement Team, which was in force and judged compliant in the policy IAM Warden "
        f"recorded at {BEFORE}, and is compliant now: IAM Warden puts back statement Team as IAM Warden last recorded "
        f"it at {BEFORE}, so only what this change added goes."
    ) in finding.reason
    assert "as it was before this call" not in finding.reason  # never checked: the record may be older (review 2 N1)
    assert f"restore statement Team as IAM Warden last recorded it at {BEFORE}" in finding.plan[0].summary

    action, endpoint, before, done = remediate(policy, finding)

    assert live(endpoint) == document(OWN, TEAM)
    assert f"restored statement Team as IAM Warden last recorded it at {BEFORE} into the policy of queue orders" in done
    action.undo(NoClients(), finding.plan[0], before)
    assert live(endpoint) == policy


def test_a_statement_under_a_new_sid_never_replaces_the_only_older_one_gone_same_sid_only() -> None:
    """Review 2 N1: pairing "the only statement changed" with "the only older one gone" may pair with a statement
    revoked unseen long ago; only a same-Sid rewrite restores, so this one is removed outright."""
    renamed = {**WIDENED, "Sid": "TeamAndFriend"}
    policy = document(OWN, renamed)
    [finding] = judged(policy, FakeRecorded(seen(OWN, TEAM))).findings

    assert restored(finding) == [None]
    _, endpoint, _, _ = remediate(policy, finding)
    assert live(endpoint) == document(OWN)


# --- Review F1: an older statement that offends is never put back ------------------------------------------------


@pytest.mark.parametrize(
    ("older", "new"),
    [
        # a public grant alerted as older (alert-mode days), narrowed under its Sid to one outside account
        (statement("Vendor", "*"), VENDOR),
        # a public sqs:* narrowed to sqs:ReceiveMessage under its Sid: still public, and far wider before
        (statement("Assets", "*", "sqs:*"), statement("Assets", "*", "sqs:ReceiveMessage")),
        # the old public statement dropped and a new vendor share added (the only-changed pairing)
        (statement("Assets", "*", "sqs:*"), statement("VendorFeed", {"AWS": f"arn:aws:iam::{OUTSIDER}:root"})),
        # an untrusted vendor's older share replaced by a wider one
        (VENDOR, {**VENDOR, "Principal": {"AWS": [f"arn:aws:iam::{OUTSIDER}:root", "arn:aws:iam::444455556666:root"]}}),
    ],
)
def test_an_offending_older_statement_is_never_put_back_the_added_one_is_removed_as_before(
    older: dict[str, Any], new: dict[str, Any]
) -> None:
    policy = document(OWN, new)
    evaluation = judged(policy, FakeRecorded(seen(OWN, older)))
    for finding in evaluation.findings:
        assert restored(finding) == [None]
        assert "IAM Warden puts back" not in finding.reason
        assert "restore" not in finding.plan[0].summary
        _, endpoint, _, _ = remediate(policy, finding)
        assert live(endpoint) == document(OWN)
    [snapshot] = evaluation.observed
    assert snapshot.if_remediated is not None
    assert older not in snapshot.if_remediated["policy"]["Statement"]


def test_an_older_statement_judged_offending_when_recorded_is_never_put_back_though_compliant_now() -> None:
    """Only a statement judged compliant when recorded counts: one alerted then (``alerted`` in the record) is not."""
    record = seen(OWN, TEAM, pending=[], alerted=[statement_meaning(TEAM)])
    [finding] = judged(document(OWN, WIDENED), FakeRecorded(record)).findings
    assert restored(finding) == [None]


def test_no_restore_when_the_policy_left_would_still_hold_an_offending_statement() -> None:
    """An older offending statement the plan leaves in place (alerted, not removed): the document the plan would leave
    is not compliant, so nothing is put back."""
    public_old = statement("Old", "*", "sqs:ReceiveMessage")
    policy = document(OWN, public_old, WIDENED)
    findings = judged(policy, FakeRecorded(seen(OWN, public_old, TEAM))).findings
    assert findings
    assert all(restored(f) in ([], [None]) for f in findings)


def test_the_record_marks_what_was_judged_offending_in_alert_mode_too() -> None:
    evaluation = judged(document(OWN, VENDOR), FakeRecorded(seen(OWN)), remediate=False)
    [snapshot] = evaluation.observed
    assert snapshot.data["alerted"] == [statement_meaning(VENDOR)]


def test_in_alert_mode_the_alert_says_a_remediation_would_put_back_the_older_statement() -> None:
    [finding] = judged(document(OWN, WIDENED), FakeRecorded(seen(OWN, TEAM)), remediate=False).findings
    assert f"a remediation would put back statement Team as IAM Warden last recorded it at {BEFORE}" in finding.reason
    assert "IAM Warden puts back" not in finding.reason


# --- Review F2: pairing is never a guess ----------------------------------------------------------------------


@pytest.mark.parametrize("sid", ["Partner", "Fresh"])
def test_no_restore_when_the_change_also_dropped_a_pending_statement(sid: str) -> None:
    """The record holds {Own, Team, Partner (pending)}; the change writes {Own, <new>}: two statements vanished, so
    which one the new statement replaced is a guess."""
    record = seen(OWN, TEAM, PARTNER, pending=[statement_meaning(PARTNER)])
    new = statement(sid, "*")
    policy = document(OWN, new)
    [finding] = judged(policy, FakeRecorded(record)).findings
    assert restored(finding) == [None]
    assert "IAM Warden puts back" not in finding.reason
    _, endpoint, _, _ = remediate(policy, finding)
    assert live(endpoint) == document(OWN)


def test_no_restore_when_the_change_also_dropped_a_statement_remediated_once() -> None:
    removed_once = PastRemediation(
        "r-1",
        "example-queue-policy-cross",
        "remediated",
        BEFORE,
        ({"action": "x", "parameters": {"statements": [{"statement": PARTNER}]}},),
    )
    [finding] = judged(document(OWN, WIDENED), FakeRecorded(seen(OWN, TEAM, PARTNER), [removed_once])).findings
    assert restored(finding) == [None]


def test_an_ambiguous_replacement_is_never_guessed_the_added_statement_goes_and_the_alert_names_the_older_grants() -> (
    None
):
    """Two older statements gone, one new statement under neither Sid: which it replaced is unknown."""
    policy = document(OWN, OTHER)
    [finding] = judged(policy, FakeRecorded(seen(OWN, VENDOR, PARTNER))).findings

    assert planned(finding) == [OTHER]
    assert restored(finding) == [None]
    assert (
        "This change also dropped statement Partner and statement Vendor of the policy IAM Warden recorded at "
        f"{BEFORE}, and which statement replaced them is not known: if statement 1 (Other) widened one of them, "
        "removing it cuts that older grant too"
    ) in finding.reason
    _, endpoint, _, _ = remediate(policy, finding)
    assert live(endpoint) == document(OWN)


def test_two_changed_statements_and_one_older_gone_is_ambiguous_too() -> None:
    policy = document(OWN, OTHER, {**WIDENED, "Sid": "Renamed"})
    [finding] = judged(policy, FakeRecorded(seen(OWN, VENDOR))).findings
    assert restored(finding) == [None, None]
    assert "This change also dropped statement Vendor" in finding.reason


def test_an_older_statement_that_was_pending_or_remediated_is_never_put_back() -> None:
    """Only a statement in force and judged fine is restored: one IAM Warden meant to remove, or removed once, is not
    an older grant."""
    pending = FakeRecorded(seen(OWN, TEAM, pending=[statement_meaning(TEAM)]))
    [finding] = judged(document(OWN, WIDENED), pending).findings
    assert restored(finding) == [None]

    removed_once = PastRemediation(
        "r-1",
        "example-queue-policy-cross",
        "remediated",
        BEFORE,
        ({"action": "x", "parameters": {"statements": [{"statement": TEAM}]}},),
    )
    [finding] = judged(document(OWN, WIDENED), FakeRecorded(seen(OWN, TEAM), [removed_once])).findings
    assert restored(finding) == [None]


def test_the_record_after_a_restoring_remediation_holds_the_older_statement_in_force() -> None:
    evaluation = judged(document(OWN, WIDENED), FakeRecorded(seen(OWN, TEAM)))
    [snapshot] = evaluation.observed
    assert snapshot.data["pending"] == [statement_meaning(WIDENED)]
    assert snapshot.if_remediated == {
        "policy": document(OWN, TEAM),
        "pending": [],
    }


# --- An operator's undo is accepted ---------------------------------------------------------------------------


def test_undo_records_the_policy_it_left_with_what_it_put_back_accepted() -> None:
    policy = document(OWN, OTHER)
    [finding] = judged(policy, FakeRecorded(None)).findings
    action, _, before, _ = remediate(policy, finding)
    previous = Snapshot(
        "resource-policy",
        QUEUE_ARN,
        BEFORE,
        {"policy": document(OWN, PARTNER), "pending": [statement_meaning(PARTNER)]},
    )
    action.endpoint.policies["orders"] = json.dumps(document(OWN, PARTNER))

    action.undo(NoClients(), finding.plan[0], before)
    kept = action.accepted_after_undo(
        NoClients(),
        finding.plan[0],
        before,
        "111122223333",
        "2026-12-04T09:00:00.000+00:00",
        recorded=FakeRecorded(previous),
    )

    assert kept is not None
    assert (kept.kind, kept.resource_arn, kept.taken_at) == (
        "resource-policy",
        record_key(QUEUE_ARN, "111122223333"),
        "2026-12-04T09:00:00.000+00:00",
    )
    assert kept.data == {
        "policy": document(OWN, PARTNER, OTHER),
        "pending": [statement_meaning(PARTNER)],  # still there, still pending
        "accepted": [statement_meaning(OTHER)],
        "alerted": [statement_meaning(OTHER)],
    }


def test_an_accepted_statement_is_older_at_the_next_change_though_it_was_remediated_once() -> None:
    """After the undo the statement is in the remediation history as undone; accepted on record, it is named and
    alerted, never removed; and it stays accepted in the record the change leaves."""
    undone = PastRemediation(
        "r-1",
        "example-queue-policy-cross",
        "undone",
        BEFORE,
        ({"action": "x", "parameters": {"statements": [{"statement": OTHER}]}},),
    )
    record = seen(OWN, OTHER, pending=[], accepted=[statement_meaning(OTHER)])
    tls = statement("Tls", "*")
    tls = {**tls, "Effect": "Deny"}
    evaluation = judged(document(OWN, OTHER, tls), FakeRecorded(record, [undone]))

    [finding] = evaluation.findings
    assert finding.plan == ()
    assert finding.offending[0]["older"] is True
    [snapshot] = evaluation.observed
    assert snapshot.data["accepted"] == [statement_meaning(OTHER)]
    assert snapshot.data["pending"] == []


def test_an_accepted_statement_dropped_and_added_again_is_the_change_s() -> None:
    undone = PastRemediation(
        "r-1",
        "example-queue-policy-cross",
        "undone",
        BEFORE,
        ({"action": "x", "parameters": {"statements": [{"statement": OTHER}]}},),
    )
    # The record after a change that dropped it: accepted no longer carried (the document lacks it).
    evaluation = judged(document(OWN), FakeRecorded(seen(OWN, OTHER, accepted=[statement_meaning(OTHER)])))
    assert evaluation.findings == []
    [snapshot] = evaluation.observed
    assert "accepted" not in snapshot.data

    [finding] = judged(document(OWN, OTHER), FakeRecorded(seen(OWN), [undone])).findings
    assert planned(finding) == [OTHER]


def test_an_accepted_statement_once_removed_by_its_sid_is_older_too() -> None:
    """An ``AddPermission`` statement is removed by its Sid (``match: sid``); put back by an undo and accepted, its Sid
    no longer makes it the change's."""
    undone = PastRemediation(
        "r-1",
        "example-queue-policy-cross",
        "undone",
        BEFORE,
        ({"action": "x", "parameters": {"statements": [{"statement": OTHER, "sid": "Other", "match": "sid"}]}},),
    )
    record = seen(OWN, OTHER, pending=[], accepted=[statement_meaning(OTHER)])
    deny = {**statement("Tls", "*"), "Effect": "Deny"}

    [finding] = judged(document(OWN, OTHER, deny), FakeRecorded(record, [undone])).findings

    assert finding.plan == ()
    assert finding.offending[0]["older"] is True


def _undone_step() -> tuple[Any, Any, Any]:
    policy = document(OWN, OTHER)
    [finding] = judged(policy, FakeRecorded(None)).findings
    action, _, before, _ = remediate(policy, finding)
    return action, finding.plan[0], before


def test_undo_of_a_resource_gone_since_records_nothing() -> None:
    action, step, before = _undone_step()
    del action.endpoint.policies["orders"]
    kept = action.accepted_after_undo(NoClients(), step, before, "111122223333", BEFORE, recorded=FakeRecorded(None))
    assert kept is None


def test_undo_with_no_policy_before_records_nothing() -> None:
    action, step, _ = _undone_step()
    kept = action.accepted_after_undo(
        NoClients(), step, {"exists": True, "policy": None}, "111122223333", BEFORE, recorded=FakeRecorded(None)
    )
    assert kept is None


def test_undo_after_an_unusable_record_accepts_only_what_it_put_back_and_a_failed_read_raises() -> None:
    """A record another write may have left stale says nothing; a read that fails is the executor's to report
    ("NOT restored: IAM Warden's record of …"), the undo itself stays done."""
    action, step, before = _undone_step()
    action.endpoint.policies["orders"] = json.dumps(document(OWN, OTHER))
    stale = Snapshot(
        "resource-policy",
        QUEUE_ARN,
        BEFORE,
        {"policy": document(OWN), "pending": [statement_meaning(OWN)]},
        unusable=True,
    )
    kept = action.accepted_after_undo(NoClients(), step, before, "111122223333", BEFORE, recorded=FakeRecorded(stale))
    assert kept is not None
    assert kept.data == {
        "policy": document(OWN, OTHER),
        "pending": [statement_meaning(OWN)],  # the record knew nothing: what the undo did not put back is unjudged
        "accepted": [statement_meaning(OTHER)],
        "alerted": [statement_meaning(OTHER)],
    }
    action.endpoint.fail_get = "ThrottlingException"
    with pytest.raises(Exception, match="ThrottlingException"):
        action.accepted_after_undo(NoClients(), step, before, "111122223333", BEFORE, recorded=FakeRecorded(None))


# --- Review F3: an undo accepts only what it put back -----------------------------------------------------------


@pytest.mark.parametrize(
    "previous",
    [
        None,
        Snapshot("resource-policy", QUEUE_ARN, BEFORE, {"policy": None}),  # after an AddPermission-style change
        Snapshot("resource-policy", QUEUE_ARN, BEFORE, {"policy": document(OWN)}, unusable=True),
    ],
)
def test_undo_with_no_usable_record_leaves_every_other_live_statement_pending(previous: Snapshot | None) -> None:
    """A public statement that arrived while the record knew nothing is never made older by an unrelated undo: the
    next whole-document change still removes it."""
    anyone = statement("Anyone", "*", "sqs:ReceiveMessage")
    action, step, before = _undone_step()
    action.endpoint.policies["orders"] = json.dumps(document(OWN, anyone))
    action.undo(NoClients(), step, before)
    kept = action.accepted_after_undo(
        NoClients(), step, before, "111122223333", BEFORE, recorded=FakeRecorded(previous)
    )
    assert kept is not None
    assert kept.data["accepted"] == [statement_meaning(OTHER)]
    assert set(kept.data["pending"]) == {statement_meaning(OWN), statement_meaning(anyone)}

    tls = {**statement("Tls", "*"), "Effect": "Deny"}
    findings = judged(document(OWN, anyone, OTHER, tls), FakeRecorded(kept)).findings
    public = next(f for f in findings if f.rule_id == "example-queue-policy-public")
    assert planned(public) == [anyone]


# --- Review F5: undo restores exactly the before-state ---------------------------------------------------------


def test_undo_never_takes_out_an_older_statement_the_remediation_did_not_put_back() -> None:
    """Team was live again at capture (before = {Own, Team widened to everyone, Team}): apply puts nothing back, and
    undo restores that before-state whole rather than swapping Team out."""
    new = statement("Team", "*", "sqs:ReceiveMessage")
    [finding] = judged(document(OWN, new), FakeRecorded(seen(OWN, TEAM))).findings
    assert restored(finding) == [TEAM]
    before_state = document(OWN, new, TEAM)
    action, endpoint, before, done = remediate(before_state, finding)
    assert live(endpoint) == document(OWN, TEAM)
    assert not any(line.startswith("restored") for line in done)
    # Team stays (it was live before): the call's statement cannot go back beside it under the same Sid, so the undo
    # says so rather than swapping Team out.
    with pytest.raises(UndoError, match="Sid Team"):
        action.undo(NoClients(), finding.plan[0], before)
    assert live(endpoint) == document(OWN, TEAM)


# --- Review F9: a Sid taken at apply time -----------------------------------------------------------------------


def test_a_restore_whose_sid_is_taken_in_the_live_policy_falls_back_to_plain_removal() -> None:
    """Between the call and the remediation another statement took the older one's Sid: putting it back would make a
    policy with two "Team" Sids (rejected); the removal goes ahead without the restore."""
    renamed = WIDENED
    [finding] = judged(document(OWN, renamed), FakeRecorded(seen(OWN, TEAM))).findings
    assert restored(finding) == [TEAM]
    other_team = statement("Team", {"AWS": "arn:aws:iam::111122223333:role/writer"})
    _, endpoint, _, done = remediate(document(OWN, renamed, other_team), finding)
    assert live(endpoint) == document(OWN, other_team)
    assert not any(line.startswith("restored") for line in done)


# --- Review 2 -----------------------------------------------------------------------------------------------------


def test_a_service_whose_removals_do_not_all_reach_the_record_never_restores() -> None:
    """N1 (the reviewer's q1): the record holds Team, which the team revoked with a by-Sid removal IAM Warden never sees
    (SQS ``RemovePermission``); Team widened to everyone under its Sid must not bring Team back: removed outright."""
    team = statement("Team", {"AWS": "arn:aws:iam::111122223333:role/reader"}, "sqs:ReceiveMessage")
    widened = statement("Team", "*", "sqs:ReceiveMessage")
    policy = document(OWN, widened)
    [finding] = judged(policy, FakeRecorded(seen(OWN, team)), restorable=False).findings

    assert restored(finding) == [None]
    assert "IAM Warden puts back" not in finding.reason
    _, endpoint, _, done = remediate(policy, finding)
    assert live(endpoint) == document(OWN)
    assert not any(line.startswith("restored") for line in done)


def test_only_the_bucket_policy_rule_restores_among_the_shipped_resource_policy_rules() -> None:
    """N1: SQS, SNS and Lambda (``RemovePermission``), access points (``DeleteAccessPointPolicy``) and every service
    whose resource deletion is not routed may lose a statement unseen; only S3 bucket policies route every removal
    (PutBucketPolicy, DeleteBucketPolicy, DeleteBucket)."""
    from iamwarden.guardrails.bucket_policy import BUCKET_POLICY_RULE
    from iamwarden.guardrails.registry import GUARDRAILS
    from iamwarden.guardrails.resource_policy import ResourcePolicyRule

    rules = [g for g in GUARDRAILS if isinstance(g, ResourcePolicyRule)]
    assert len(rules) > 10
    assert [g for g in rules if g.restorable] == [BUCKET_POLICY_RULE]
    assert {"PutBucketPolicy", "DeleteBucketPolicy", "DeleteBucket"} <= BUCKET_POLICY_RULE.public.event_names
    assert BUCKET_POLICY_RULE.deletions == frozenset({"DeleteBucketPolicy", "DeleteBucket"})


def test_a_put_back_statement_that_grants_the_finding_s_exposure_again_is_a_failure() -> None:
    """T1: apply checks the document it writes, put-back statements included: a restore that re-grants what the finding
    removes (here a plan edited to put back the outsider's share) is reported as failed, never as done."""
    [finding] = judged(document(OWN, WIDENED), FakeRecorded(seen(OWN, TEAM))).findings
    [step] = finding.plan
    [reference] = step.parameters["statements"]
    regrant = {**TEAM, "Principal": {"AWS": f"arn:aws:iam::{OUTSIDER}:root"}}
    edited = RemediationStep(
        step.action, step.target, {**step.parameters, "statements": [{**reference, "restore": regrant}]}, step.summary
    )
    _, action, endpoint = make()
    endpoint.policies["orders"] = json.dumps(document(OWN, WIDENED))
    before = action.capture(NoClients(), edited)

    with pytest.raises(RemediationError, match=OUTSIDER):
        action.apply(Run(), edited, before, [])
    assert live(endpoint) == document(OWN, regrant)


def test_undo_keeps_the_record_s_earlier_alerted_marks_for_statements_still_live() -> None:
    """N2: an older statement alerted earlier (kept in alert mode) and still live stays marked after an undo, so IAM
    Warden never offers it as a compliant older statement to put back; a mark for a statement gone since is dropped."""
    public_old = statement("Old", "*", "sqs:ReceiveMessage")
    gone = statement("Gone", "*", "sqs:DeleteMessage")
    policy = document(OWN, OTHER)
    [finding] = judged(policy, FakeRecorded(None)).findings
    action, _, before, _ = remediate(policy, finding)
    previous = seen(OWN, public_old, pending=[], alerted=[statement_meaning(public_old), statement_meaning(gone)])
    action.endpoint.policies["orders"] = json.dumps(document(OWN, public_old))

    action.undo(NoClients(), finding.plan[0], before)
    kept = action.accepted_after_undo(
        NoClients(),
        finding.plan[0],
        before,
        "111122223333",
        "2026-12-04T09:00:00.000+00:00",
        recorded=FakeRecorded(previous),
    )

    assert kept is not None
    assert set(kept.data["alerted"]) == {statement_meaning(public_old), statement_meaning(OTHER)}
    assert statement_meaning(gone) not in kept.data["alerted"]


@pytest.mark.parametrize(
    ("older", "marks", "says"),
    [
        # public when recorded (no mark: recorded before marks existed), still offending now
        (statement("Vendor", "*"), {}, "itself offending"),
        # marked alerted when recorded, compliant by today's settings: still not to be put back as it was
        (TEAM, {"alerted": [statement_meaning(TEAM)]}, "itself offending"),
        # compliant then and now: the operator may put it back
        (TEAM, {}, "put the older one back by hand if it is still wanted"),
    ],
)
def test_the_alert_never_advises_putting_back_an_older_statement_that_was_itself_offending(
    older: dict[str, Any], marks: dict[str, Any], says: str
) -> None:
    """N3: a statement rewriting an older one of its Sid, removed outright (no restore here: the service does not
    restore), cuts the older grant; the alert advises putting that back by hand only when it was not offending."""
    new = statement(str(older["Sid"]), {"AWS": [f"arn:aws:iam::{OUTSIDER}:root", "arn:aws:iam::444455556666:root"]})
    [finding] = judged(
        document(OWN, new), FakeRecorded(seen(OWN, older, pending=[], **marks)), restorable=False
    ).findings
    assert says in finding.reason
    if says == "itself offending":
        assert "if it is still wanted" not in finding.reason


# --- Review s13 R4: a record older than record_max_age_days puts nothing back -------------------------------------


def judged_with_max_age(policy: dict[str, Any], recorded: FakeRecorded, days: str | None) -> Any:
    """The restorable queue, both rules remediating, with ``record_max_age_days`` set to ``days`` (None: default)."""
    from iamwarden.domain.catalog import Mode
    from iamwarden.domain.settings import RuleSettings, Settings
    from tests.unit.test_resource_policy import PUBLIC, SHARED, context, make

    rule, _, _ = make(restorable=True)
    options = {"record_max_age_days": days} if days is not None else {}
    settings = Settings(
        rules={spec.id: RuleSettings(spec.id, Mode.REMEDIATE, options=options) for spec in (PUBLIC, SHARED)}
    )
    return rule.evaluate(context(policy)._replace(settings=settings, recorded=recorded))


#: The change is judged at 2026-12-04T08:00:00Z: a record of exactly 30 days before is at the default's boundary.
THIRTY_DAYS_BEFORE = "2026-11-04T08:00:00.000+00:00"
JUST_OVER_THIRTY = "2026-11-04T07:59:59.000+00:00"


@pytest.mark.parametrize(
    ("taken", "days", "restores"),
    [
        (BEFORE, None, True),  # an hour old: fresh
        (THIRTY_DAYS_BEFORE, None, True),  # exactly the default 30 days: still trusted
        (JUST_OVER_THIRTY, None, False),  # one second over: stale
        ("2026-10-04T08:00:00.000+00:00", None, False),  # two months old
        ("2026-11-28T08:00:00.000+00:00", "7", True),  # six days, under a chosen 7
        ("2026-11-26T08:00:00.000+00:00", "7", False),  # eight days, over a chosen 7
        ("2026-11-28T08:00:00.000+00:00", "90", True),
        ("2026-10-04T08:00:00.000+00:00", "90", True),  # two months, under a chosen 90
    ],
)
def test_an_older_statement_is_put_back_only_from_a_record_younger_than_record_max_age_days(
    taken: str, days: str | None, restores: bool
) -> None:
    policy = document(OWN, WIDENED)
    [finding] = judged_with_max_age(policy, FakeRecorded(seen(OWN, TEAM, taken=taken)), days).findings

    assert planned(finding) == [WIDENED]
    _, endpoint, _, done = remediate(policy, finding)
    if restores:
        assert restored(finding) == [TEAM]
        assert live(endpoint) == document(OWN, TEAM)
        assert "is not put back" not in finding.reason
        return
    assert restored(finding) == [None]
    assert "restore" not in finding.plan[0].summary
    assert "IAM Warden puts back" not in finding.reason
    limit = days or "30"
    assert (
        f"Statement Team, which statement 1 (Team) replaced, is not put back: IAM Warden's record of the policy, taken "
        f"at {taken}, is older than {limit} days (record_max_age_days), and the statement may have been changed or "
        "revoked since, so only the wider statement is removed."
    ) in finding.reason
    assert "put the older one back by hand if it is still wanted" in finding.reason
    assert live(endpoint) == document(OWN)  # removed outright, nothing put back
    assert not any(line.startswith("restored") for line in done)


def test_a_record_time_that_does_not_read_is_no_before_to_restore_from() -> None:
    """The first gate: a record whose time does not read is no "before" at all (``Snapshot.taken_before``), so
    ``_too_old`` is never asked and nothing is restored."""
    policy = document(OWN, WIDENED)
    [finding] = judged_with_max_age(policy, FakeRecorded(seen(OWN, TEAM, taken="zzzz")), None).findings
    assert restored(finding) == [None]


@pytest.mark.parametrize(
    ("taken", "change_time"),
    [
        ("zzzz", None),  # the record's time does not read
        (BEFORE, "zzzz"),  # the change's time does not read
        ("", None),
    ],
)
def test_too_old_counts_a_time_that_does_not_read_as_too_old(taken: str, change_time: str | None) -> None:
    """The second gate itself (review s14 F4: the test above never reaches it): ``_too_old`` fails safe on its own,
    whatever ``taken_before`` lets through."""
    from iamwarden.guardrails.resource_policy import _too_old
    from tests.unit.test_resource_policy import PUBLIC, context

    judged = context(document(OWN, WIDENED))
    assert _too_old(judged, PUBLIC, BEFORE) == ""  # control: a readable, hour-old record is fresh
    if change_time is not None:
        judged = judged._replace(change=judged.change._replace(time=change_time))
    reason = _too_old(judged, PUBLIC, taken)
    assert reason == (
        f"IAM Warden's record of the policy, taken at {taken}, is older than 30 days (record_max_age_days), and the "
        "statement may have been changed or revoked since, so only the wider statement is removed"
    )


def test_a_restorable_rule_without_record_max_age_days_is_refused_at_import() -> None:
    from iamwarden.domain.catalog import RuleSpec
    from iamwarden.guardrails.resource_policy import ResourcePolicyRule
    from tests.unit.test_resource_policy import QUEUE, make

    _, action, _ = make()
    bare = RuleSpec("example-bare", "Bare", "sqs.amazonaws.com", frozenset({"SetQueue"}), "r.")
    with pytest.raises(ValueError, match="record_max_age_days"):
        ResourcePolicyRule(bare, bare, QUEUE, action, restorable=True)
    assert ResourcePolicyRule(bare, bare, QUEUE, action).restorable is False  # no restore, no option needed
