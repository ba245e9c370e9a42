"""The judgements that rest on IAM Warden's own record (snapshots, remediations), with a recorded state in memory."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

from iamwarden.domain.findings import Judgement, Verdict
from iamwarden.domain.recorded import BOUNDARY, TRAIL, PastRemediation, Snapshot
from iamwarden.domain.settings import Settings, parse_settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import SAMPLE_OWN, load_event

TRAIL_ARN = "arn:aws:cloudtrail:eu-west-1:111122223333:trail/org-audit"
GOOD_TRAIL = {
    "name": "org-audit",
    "settings": {
        "S3BucketName": "acme-cloudtrail-logs",
        "IsMultiRegionTrail": True,
        "IncludeGlobalServiceEvents": True,
    },
    "logging": True,
    "event_selectors": [{"ReadWriteType": "All", "IncludeManagementEvents": True}],
    "advanced_event_selectors": None,
    "insight_selectors": [{"InsightType": "ApiCallRateInsight"}, {"InsightType": "ApiErrorRateInsight"}],
}


class InMemory:
    def __init__(self, snapshots: Sequence[Snapshot] = (), remediations: Sequence[PastRemediation] = ()) -> None:
        self._snapshots = {(s.kind, s.resource_arn): s for s in snapshots}
        self._remediations = list(remediations)

    def remediations(self, resource_arn: str) -> list[PastRemediation]:
        del resource_arn
        return self._remediations

    def snapshot(self, kind: str, resource_arn: str) -> Snapshot | None:
        return self._snapshots.get((kind, resource_arn))


ALICE = "arn:aws:iam::111122223333:user/alice"
DEVELOPER_ROLE = "arn:aws:iam::111122223333:role/developer"
DEVELOPER = "arn:aws:sts::111122223333:assumed-role/developer/dev@example.com"


def _judge(event: dict[str, Any], recorded: InMemory | None) -> Judgement:
    return judge_event(event, Settings(), recorded=recorded)


def _trail_snapshot() -> InMemory:
    return InMemory([Snapshot(TRAIL, TRAIL_ARN, "2026-11-20T09:00:00Z", GOOD_TRAIL)])


def test_an_update_to_the_same_bucket_is_compliant_with_a_snapshot_and_a_finding_without() -> None:
    event = load_event("cloudtrail-update-trail-bucket.json")
    event["detail"]["requestParameters"] = {"name": "org-audit", "s3BucketName": "acme-cloudtrail-logs"}

    assert _judge(event, _trail_snapshot()).verdict is Verdict.COMPLIANT
    [finding] = _judge(event, None).findings
    assert finding.needs_context
    assert "S3BucketName set to 'acme-cloudtrail-logs' (before: unknown)" in finding.reason


def test_a_changed_bucket_is_restored_from_the_snapshot() -> None:
    [finding] = _judge(load_event("cloudtrail-update-trail-bucket.json"), _trail_snapshot()).findings

    assert finding.certain
    assert "S3BucketName changed from 'acme-cloudtrail-logs' to 'exfil-logs-9f2c'" in finding.reason
    [step] = finding.plan
    assert step.action == "restore_trail"
    assert step.parameters["snapshot"] == GOOD_TRAIL
    assert step.parameters["taken_at"] == "2026-11-20T09:00:00Z"


def test_a_restore_names_only_what_the_event_changed_and_what_it_set() -> None:
    """The step carries the event's settings (the restore acts only while the trail still holds them)."""
    [finding] = _judge(load_event("cloudtrail-update-trail-bucket.json"), _trail_snapshot()).findings

    [step] = finding.plan
    assert step.parameters["event"] == "UpdateTrail"
    assert step.parameters["changed_to"] == {
        "settings": {"S3BucketName": "exfil-logs-9f2c", "IsMultiRegionTrail": False}
    }
    assert step.summary.startswith("put back the settings the change set of trail org-audit")


def test_a_snapshot_taken_after_the_change_is_no_before() -> None:
    """Audit s7 gap 4, P4: the heartbeat read the redirected trail after the change (09:03:41): judged against it,
    the bucket change would look compliant. It is no "before": the change is critical and alert-only."""
    late = InMemory(
        [
            Snapshot(
                TRAIL, TRAIL_ARN, "2026-11-20T09:04:00Z", GOOD_TRAIL | {"settings": {"S3BucketName": "exfil-logs-9f2c"}}
            )
        ]
    )

    [finding] = _judge(load_event("cloudtrail-update-trail-bucket.json"), late).findings

    assert finding.plan == ()
    [missing] = finding.needs_context
    assert "taken at 2026-11-20T09:04:00Z, not before the change at 2026-11-20T09:03:41Z" in missing
    assert finding.severity.value == "critical"


def test_insights_dropped_are_named_from_the_snapshot() -> None:
    event = load_event("cloudtrail-event-selectors-no-management.json")
    detail = event["detail"]
    detail["eventName"] = "PutInsightSelectors"
    detail["requestParameters"] = {
        "trailName": "org-audit",
        "insightSelectors": [{"insightType": "ApiCallRateInsight"}],
    }

    [finding] = _judge(event, _trail_snapshot()).findings
    assert "Insights ApiErrorRateInsight switched off" in finding.reason
    keep_all = copy.deepcopy(event)
    keep_all["detail"]["requestParameters"]["insightSelectors"].append({"insightType": "ApiErrorRateInsight"})
    assert _judge(keep_all, _trail_snapshot()).verdict is Verdict.COMPLIANT


def test_an_admin_boundary_is_restored_and_one_that_still_bounds_is_compared_with_the_previous_one() -> None:
    role = "arn:aws:iam::111122223333:role/team-deployer"
    previous = "arn:aws:iam::111122223333:policy/deployer-boundary"
    recorded = InMemory([Snapshot(BOUNDARY, role, "2026-11-20T09:00:00Z", {"boundary_arn": previous})])
    admin = load_event("put-role-permissions-boundary-admin.json")

    [finding] = _judge(admin, recorded).findings
    assert [step.parameters["boundary_arn"] for step in finding.plan] == [previous]
    read_only = copy.deepcopy(admin)
    read_only["detail"]["requestParameters"]["permissionsBoundary"] = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    [compared] = _judge(read_only, recorded).findings  # no documents here: test_boundary_weakened compares them
    assert compared.needs_context == (f"the document of boundary {previous} (it cannot be read here)",)


def test_an_admin_boundary_on_a_role_that_had_none_is_no_weakening() -> None:
    role = "arn:aws:iam::111122223333:role/team-deployer"
    recorded = InMemory([Snapshot(BOUNDARY, role, "2026-11-20T09:00:00Z", {"boundary_arn": None})])

    judgement = _judge(load_event("put-role-permissions-boundary-admin.json"), recorded)

    assert judgement.verdict is Verdict.COMPLIANT
    assert "had no boundary when last seen" in judgement.reason


def test_a_removed_boundary_set_after_the_snapshot_is_unknown() -> None:
    role = "arn:aws:iam::111122223333:role/team-deployer"
    recorded = InMemory([Snapshot(BOUNDARY, role, "2026-11-20T09:00:00Z", {"boundary_arn": None})])

    [finding] = _judge(load_event("delete-role-permissions-boundary.json"), recorded).findings

    assert finding.plan == ()
    assert finding.needs_context == (
        "which boundary role team-deployer had before (it was set after the last snapshot)",
    )


def _deactivated(key: str, status: str) -> PastRemediation:
    step = {"action": "deactivate_access_key", "parameters": {"user_name": "backdoor-admin", "access_key_id": key}}
    return PastRemediation("rem-1", "access-key-created", status, "2026-11-20T09:00:00Z", (step,), ("deactivated",))


def test_a_reactivation_is_a_reversal_only_while_the_remediation_is_in_force() -> None:
    event = load_event("update-access-key-reactivated.json")
    key = event["detail"]["requestParameters"]["accessKeyId"]

    [finding] = _judge(event, InMemory(remediations=[_deactivated(key, "remediated")])).findings
    assert finding.rule_id == "remediation-reversed"
    # Marked undone with no undo record naming an operator: still a reversal (audit s7 gap 6).
    [finding] = _judge(event, InMemory(remediations=[_deactivated(key, "undone")])).findings
    assert "is marked undone, but no undo record says who undid it" in finding.reason
    # An operator's iamwarden undo, and the change is the operator's (the sample's alice): no reversal.
    operators, _ = parse_settings({"rules": {"iamwarden-tampered": {"operators": [ALICE]}}})
    by_operator = _deactivated(key, "undone")._replace(undone_by="undo-1", undo_actor=ALICE)
    judged = judge_event(event, operators, recorded=InMemory(remediations=[by_operator]))
    assert judged.verdict is Verdict.COMPLIANT
    assert (
        _judge(event, InMemory(remediations=[_deactivated("AKIAOTHERKEY", "remediated")])).verdict is Verdict.COMPLIANT
    )
    assert _judge(event, None).verdict is Verdict.IGNORED


def test_deactivating_a_key_is_never_a_reversal() -> None:
    event = load_event("update-access-key-reactivated.json")
    event["detail"]["requestParameters"]["status"] = "Inactive"

    assert _judge(event, None).verdict is Verdict.COMPLIANT


def test_a_deleted_policy_other_than_the_quarantine_is_no_reversal() -> None:
    event = load_event("delete-quarantine-policy.json")
    event["detail"]["requestParameters"]["policyName"] = "app-read"

    judgement = _judge(event, None)
    # No reversal; restraint-removed cannot judge the deletion offline (the deleted document is in no event).
    assert judgement.findings == ()
    assert "remediation-reversed" in judgement.rule_ids
    assert "inline policy app-read" in judgement.reason


def test_a_root_access_key_is_no_reversal_of_a_user_quarantine() -> None:
    """CreateAccessKey by the root user names no IAM user (requestParameters null): root-access-key-created's."""
    judgement = judge_event(load_event("create-access-key-root.json"), Settings(), recorded=InMemory())
    assert [finding.rule_id for finding in judgement.findings] == ["root-access-key-created"]


def test_a_trail_arn_of_another_region_than_the_event_is_never_restored_there() -> None:
    """Its snapshot exists, but the enforcer acts in the event's region, not the trail's home: alerted, no plan."""
    other = "arn:aws:cloudtrail:us-east-1:111122223333:trail/org-audit"
    recorded = InMemory([Snapshot(TRAIL, other, "2026-11-20T09:00:00Z", GOOD_TRAIL)])
    for sample in ("cloudtrail-update-trail-bucket.json", "cloudtrail-stop-logging.json"):
        event = load_event(sample)
        event["detail"]["requestParameters"]["name"] = other

        [finding] = _judge(event, recorded).findings

        assert finding.plan == (), sample
        [missing] = finding.needs_context
        assert f"where trail {other} lives: the change was recorded in eu-west-1" in missing


def test_a_trail_arn_of_another_account_than_the_event_is_rejected() -> None:
    other = "arn:aws:cloudtrail:eu-west-1:999988887777:trail/org-audit"
    event = load_event("cloudtrail-stop-logging.json")
    event["detail"]["requestParameters"]["name"] = other

    judgement = _judge(event, InMemory([Snapshot(TRAIL, other, "2026-11-20T09:00:00Z", GOOD_TRAIL)]))

    assert judgement.findings == ()
    assert "belongs to 999988887777" in judgement.reason


# --- a role's quarantine (iamwarden-tampered's deny-all inline policy) lifted by hand ---------------------------

QUARANTINED_ROLE = "iamwarden-heartbeat-us-east-1"
ROLE_DENY_ALL = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "IamWardenQuarantine", "Effect": "Deny", "Action": "*", "Resource": "*"}],
    }
)


def _role_quarantine(status: str) -> PastRemediation:
    step = {
        "action": "quarantine_role",
        "target": f"arn:aws:iam::111122223333:role/{QUARANTINED_ROLE}",
        "parameters": {"role_name": QUARANTINED_ROLE, "policy_name": "iamwarden-quarantine"},
        "summary": "quarantine",
    }
    before = {"exists": True, "policy": None, "boundary": None, "role_id": QUARANTINED_ROLE_ID}
    return PastRemediation("rem-q", "iamwarden-tampered", status, "2026-12-04T20:00:00Z", (step,), ("put",), (before,))


#: The RoleId of the role quarantined (its record captured it; issue 15: only that role's changes are reversals).
QUARANTINED_ROLE_ID = "AROAEXAMPLEQUARANTINE"


class _LiveRole:
    """``GetRole`` of the quarantined role, as IAM answers it now: the same role (RoleId) as the record's."""

    def get_role(self, RoleName: str) -> dict[str, Any]:
        return {"Role": {"RoleName": RoleName, "RoleId": QUARANTINED_ROLE_ID}}


def _live(account: str, region: str) -> Any:
    return SimpleNamespace(iam=_LiveRole())


SAMPLE_OWN_SETTINGS = Settings(own=SAMPLE_OWN)


def _reversals(event: dict[str, Any], recorded: InMemory | None) -> list[Any]:
    judgement = judge_event(event, SAMPLE_OWN_SETTINGS, recorded=recorded, live_clients=_live)
    return [finding for finding in judgement.findings if finding.rule_id == "remediation-reversed"]


def _role_overwrite(document: str) -> dict[str, Any]:
    event = load_event("tamper-enforcer-role-policy.json")
    event["detail"]["requestParameters"] = {
        "roleName": QUARANTINED_ROLE,
        "policyName": "iamwarden-quarantine",
        "policyDocument": document,
    }
    return event


def test_a_deleted_role_quarantine_in_force_is_a_critical_reversal_quarantining_it_again() -> None:
    event = load_event("remediation-reversed-role-quarantine-deleted.json")

    [finding] = _reversals(event, InMemory(remediations=[_role_quarantine("remediated")]))

    assert finding.severity.value == "critical"
    assert finding.needs_context == ()
    [step] = finding.plan
    assert step.action == "quarantine_role"
    assert step.parameters == {"role_name": QUARANTINED_ROLE, "policy_name": "iamwarden-quarantine"}
    assert "rem-q" in finding.reason


def test_a_role_quarantine_no_longer_in_force_or_never_made_is_no_reversal() -> None:
    event = load_event("remediation-reversed-role-quarantine-deleted.json")
    assert len(_reversals(event, InMemory(remediations=[_role_quarantine("undone")]))) == 1  # no operator's undo
    by_operator = _role_quarantine("undone")._replace(undone_by="undo-1", undo_actor=DEVELOPER)
    settings, _ = parse_settings({"rules": {"iamwarden-tampered": {"operators": [DEVELOPER_ROLE]}}})
    judged = judge_event(
        event, settings._replace(own=SAMPLE_OWN_SETTINGS.own), recorded=InMemory(remediations=[by_operator])
    )
    assert [f for f in judged.findings if f.rule_id == "remediation-reversed"] == []
    assert _reversals(event, InMemory()) == []


def test_offline_a_deleted_role_quarantine_cannot_be_judged() -> None:
    judgement = judge_event(load_event("remediation-reversed-role-quarantine-deleted.json"), Settings())
    assert judgement.verdict is Verdict.IGNORED
    assert f"whether IAM Warden quarantined role {QUARANTINED_ROLE} is in its audit table" in judgement.reason


def test_a_role_quarantine_overwritten_with_another_document_is_a_reversal_and_with_its_own_is_not() -> None:
    recorded = InMemory(remediations=[_role_quarantine("remediated")])
    harmless = json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*"}]}
    )

    [finding] = _reversals(_role_overwrite(harmless), recorded)
    assert "overwrote the quarantine policy iamwarden-quarantine" in finding.reason
    assert _reversals(_role_overwrite(ROLE_DENY_ALL), recorded) == []


def test_another_inline_policy_of_a_quarantined_role_is_no_reversal() -> None:
    event = load_event("remediation-reversed-role-quarantine-deleted.json")
    event["detail"]["requestParameters"]["policyName"] = "heartbeat-runtime"
    assert _reversals(event, InMemory(remediations=[_role_quarantine("remediated")])) == []


def _quarantined_with(key: str, done: str) -> PastRemediation:
    """A REMEDIATED quarantine of the sample's user, its key Active before, with one done line for the key."""
    step = {
        "action": "quarantine_user",
        "target": "arn:aws:iam::111122223333:user/backdoor-admin",
        "parameters": {"user_name": "backdoor-admin", "quarantine_policy_name": "iamwarden-quarantine"},
    }
    before = {"exists": True, "access_keys": [{"id": key, "status": "Active"}], "login_profile": None, "tags": {}}
    lines = ("set the deny-all permissions boundary", "attached deny-all inline policy", done)
    return PastRemediation("rem-q", "iam-user-created", "remediated", "2026-11-20T09:00:00Z", (step,), lines, (before,))


def test_a_key_whose_quarantine_deactivation_was_refused_is_no_key_iam_warden_shut() -> None:
    """Lead decision s13 (a): only what the quarantine's done shows deactivated counts. A refused deactivation (an
    SCP: a "NOT deactivated" line) left the key Active; turning it Active again reverses nothing IAM Warden did."""
    event = load_event("update-access-key-reactivated.json")
    key = event["detail"]["requestParameters"]["accessKeyId"]

    shut = _quarantined_with(key, f"deactivated access key {key}")
    [finding] = _judge(event, InMemory(remediations=[shut])).findings
    assert finding.rule_id == "remediation-reversed"  # control: the key it did shut

    refused = _quarantined_with(key, f"NOT deactivated: access key {key} of backdoor-admin (AccessDenied)")
    judged = _judge(event, InMemory(remediations=[refused]))
    assert judged.verdict is Verdict.COMPLIANT
    assert judged.reason == f"IAM Warden never deactivated access key {key} of user backdoor-admin"
