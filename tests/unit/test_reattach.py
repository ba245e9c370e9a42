"""Whether an attach or a membership added anything decides whether it is removed (``guardrails.attachments``).

Offline, the authorization details are the account before the events (``iamwarden evaluate --authorization-details``);
live, the audit table's ``ATTACHMENTS`` record taken strictly before the event; otherwise the finding is alert-only.
The audit s7 gap 14 probe (``d_already.json``): AdministratorAccess already attached to app-backend.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from iamwarden.adapters.recorded import take_attachment_snapshots
from iamwarden.app.heartbeat import SnapshotRefresh
from iamwarden.domain.authorization_details import authorization_details_directory
from iamwarden.domain.canonical import document_digest
from iamwarden.domain.findings import Finding, Judgement, Verdict
from iamwarden.domain.recorded import ATTACHMENTS, PastRemediation, Snapshot
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import load_event

ACCOUNT = "111122223333"
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app-backend"
USER = f"arn:aws:iam::{ACCOUNT}:user/build-bot"
#: The second of attach-admin-to-role.json, as records keep it.
SECOND = "2026-11-13T09:22:18.000+00:00"
ALREADY = (
    "AdministratorAccess was attached to role app-backend before this event: nothing was added; detach it by hand if "
    "it should not be there."
)
UNKNOWN = "whether AdministratorAccess was already attached to role app-backend before this event"
BEFORE = "2026-11-13T09:00:00.000+00:00"  # attach-admin-to-role.json: 2026-11-13T09:22:18Z


def _details(*, attached: list[str], groups: list[str] | None = None) -> dict[str, Any]:
    """app-backend with ``attached``, and build-bot in ``groups`` of an administrators' group (inline ``*``)."""
    return {
        "RoleDetailList": [
            {
                "Path": "/",
                "RoleName": "app-backend",
                "Arn": ROLE,
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []},
                "InstanceProfileList": [],
                "RolePolicyList": [],
                "AttachedManagedPolicies": [{"PolicyName": a.rsplit("/", 1)[-1], "PolicyArn": a} for a in attached],
            }
        ],
        "UserDetailList": [
            {
                "Path": "/",
                "UserName": "build-bot",
                "Arn": USER,
                "UserPolicyList": [],
                "GroupList": groups or [],
                "AttachedManagedPolicies": [],
            }
        ],
        "GroupDetailList": [
            {
                "Path": "/",
                "GroupName": "platform-admins",
                "Arn": f"arn:aws:iam::{ACCOUNT}:group/platform-admins",
                "GroupPolicyList": [
                    {
                        "PolicyName": "everything",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
                        },
                    }
                ],
                "AttachedManagedPolicies": [],
            }
        ],
        "Policies": [],
    }


def _finding(judgement: Judgement, rule: str) -> Finding:
    [finding] = [f for f in judgement.findings if f.rule_id == rule]
    return finding


# --- offline: the authorization details are the account before the events ------------------------------------------


def test_offline_a_policy_the_details_show_attached_is_a_finding_without_a_plan_saying_so() -> None:
    directory = authorization_details_directory(_details(attached=[ADMIN]))

    judgement = judge_event(load_event("attach-admin-to-role.json"), Settings(), directory=directory)

    finding = _finding(judgement, "managed-policy-attached")
    assert judgement.verdict is Verdict.VIOLATION, "the role is an administrator: still a finding"
    assert finding.plan == ()
    assert finding.needs_context == ()
    assert finding.reason.endswith(ALREADY)


def test_offline_a_policy_the_details_show_absent_is_planned_for_detaching() -> None:
    directory = authorization_details_directory(_details(attached=[]))

    finding = _finding(
        judge_event(load_event("attach-admin-to-role.json"), Settings(), directory=directory), "managed-policy-attached"
    )

    [step] = finding.plan
    assert step.summary == "detach AdministratorAccess from role app-backend"
    assert finding.needs_context == ()
    assert "before this event" not in finding.reason


def test_offline_without_details_the_plan_is_only_shown_never_carried_out() -> None:
    """As for every other before-state offline (a trail's, a boundary's): nothing says it, so it is alert-only."""
    finding = _finding(judge_event(load_event("attach-admin-to-role.json"), Settings()), "managed-policy-attached")

    assert finding.needs_context == (UNKNOWN,)
    assert not finding.certain
    assert [step.summary for step in finding.plan] == ["detach AdministratorAccess from role app-backend"]


@pytest.mark.parametrize(("groups", "planned"), [([], True), (["platform-admins"], False)])
def test_offline_a_member_the_details_list_is_not_removed(groups: list[str], planned: bool) -> None:
    directory = authorization_details_directory(_details(attached=[], groups=groups))

    finding = _finding(
        judge_event(load_event("add-user-to-admin-group.json"), Settings(), directory=directory),
        "group-membership-escalation",
    )

    assert bool(finding.plan) is planned
    assert (
        finding.reason.endswith(
            "user build-bot was in group platform-admins before this event: nothing was added; remove it by hand if it "
            "should not be there."
        )
        is not planned
    )


# --- live: the audit table's record, taken strictly before the event ------------------------------------------------


class Kept:
    """The audit table's snapshots, as the enforcer reads them; counts the reads."""

    def __init__(self, *snapshots: Snapshot) -> None:
        self.snapshots = {(s.kind, s.resource_arn): s for s in snapshots}
        self.reads: list[tuple[str, str]] = []

    def remediations(self, resource_arn: str) -> tuple[PastRemediation, ...]:
        return ()

    def snapshot(self, kind: str, resource_arn: str) -> Snapshot | None:
        self.reads.append((kind, resource_arn))
        return self.snapshots.get((kind, resource_arn))


def _attachments(arn: str, taken_at: str, **data: Any) -> Snapshot:
    return Snapshot(ATTACHMENTS, arn, taken_at, data)


def _live(event: dict[str, Any], recorded: Kept) -> Judgement:
    return judge_event(event, Settings(), recorded=recorded)


@pytest.mark.parametrize(
    ("record", "plan", "needs_context"),
    [
        (_attachments(ROLE, BEFORE, policies=[ADMIN]), False, ()),
        (_attachments(ROLE, BEFORE, policies=["arn:aws:iam::aws:policy/ReadOnlyAccess"]), True, ()),
        (_attachments(ROLE, "2026-11-13T09:22:18Z", policies=[]), True, (UNKNOWN,)),  # not strictly before
        (_attachments(ROLE, "2026-11-14T00:00:00.000+00:00", policies=[]), True, (UNKNOWN,)),  # after: may show it
        (None, True, (UNKNOWN,)),
    ],
    ids=["attached-before", "absent-before", "same-second", "taken-after", "no-record"],
)
def test_live_the_record_taken_strictly_before_the_event_decides(
    record: Snapshot | None, plan: bool, needs_context: tuple[str, ...]
) -> None:
    recorded = Kept(*([record] if record else []))

    finding = _finding(_live(load_event("attach-admin-to-role.json"), recorded), "managed-policy-attached")

    assert bool(finding.plan) is plan
    assert finding.needs_context == needs_context
    assert finding.reason.endswith(ALREADY) is not plan


def test_live_the_record_is_read_once_per_event() -> None:
    """managed-policy-attached asks, and the engine keeps what the event leaves: one consistent read."""
    recorded = Kept(_attachments(ROLE, BEFORE, policies=[]))

    _live(load_event("attach-admin-to-role.json"), recorded)

    assert recorded.reads.count((ATTACHMENTS, ROLE)) == 1


# A record the enforcer kept from an event of the same second (CloudTrail's times are whole seconds): good for
# everything but what that second changed, whose order against the judged event is not known.
@pytest.mark.parametrize(
    ("changed", "plan", "needs_context"),
    [
        ([f"policy:{READ_ONLY}"], True, ()),  # a benign attach in the same second: AdministratorAccess was not there
        ([f"policy:{READ_ONLY}", "inline:deploy", "group:x"], True, ()),
        ([f"policy:{ADMIN}"], True, (UNKNOWN,)),  # the same policy changed that second: before or after? not known
        (None, True, (UNKNOWN,)),  # the heartbeat's read of that second (no list): may already show the attach
    ],
    ids=["other-policy", "others", "same-policy", "a-read-not-a-record"],
)
def test_live_a_record_of_the_same_second_decides_for_what_that_second_did_not_change(
    changed: list[str] | None, plan: bool, needs_context: tuple[str, ...]
) -> None:
    data: dict[str, Any] = {"policies": [READ_ONLY]}
    if changed is not None:
        data |= {"changed": changed, "changed_at": SECOND}
    recorded = Kept(Snapshot(ATTACHMENTS, ROLE, SECOND, data, True, rank=len(changed or [])))

    finding = _finding(_live(load_event("attach-admin-to-role.json"), recorded), "managed-policy-attached")

    assert bool(finding.plan) is plan
    assert finding.needs_context == needs_context


def test_live_a_record_of_the_same_second_listing_the_policy_as_attached_is_not_a_guess_either() -> None:
    """Same second, other changes: the policies it lists were there before the judged event (nothing was added)."""
    data = {"policies": [ADMIN, READ_ONLY], "changed": [f"policy:{READ_ONLY}"], "changed_at": SECOND}
    recorded = Kept(Snapshot(ATTACHMENTS, ROLE, SECOND, data, True, rank=1))

    finding = _finding(_live(load_event("attach-admin-to-role.json"), recorded), "managed-policy-attached")

    assert finding.plan == ()
    assert finding.reason.endswith(ALREADY)


def test_the_record_of_a_second_grows_with_each_of_its_events_and_outranks_the_one_before() -> None:
    """Two attaches to one role in one second: the second event's record lists both, and replaces the first's."""
    first = Snapshot(
        ATTACHMENTS,
        ROLE,
        SECOND,
        {"policies": [READ_ONLY], "changed": [f"policy:{READ_ONLY}"], "changed_at": SECOND},
        True,
        rank=1,
    )
    store = Store()
    store.keep(first)

    [kept] = [s for s in _live(load_event("attach-admin-to-role.json"), Kept(first)).observed if s.kind == ATTACHMENTS]

    assert kept.data["policies"] == [ADMIN, READ_ONLY]
    assert kept.data["changed"] == [f"policy:{ADMIN}", f"policy:{READ_ONLY}"]
    assert kept.rank == 2
    assert store.keep(kept) is True
    assert store.keep(first) is False, "the record of fewer of that second's events never replaces one of more"


def test_a_record_carried_into_a_later_second_starts_its_list_afresh() -> None:
    earlier = "2026-11-13T09:22:17.000+00:00"
    data = {"policies": [READ_ONLY], "changed": [f"policy:{ADMIN}"], "changed_at": earlier}
    recorded = Kept(Snapshot(ATTACHMENTS, ROLE, earlier, data, True, rank=1))

    judgement = _live(load_event("attach-admin-to-role.json"), recorded)

    [kept] = [s for s in judgement.observed if s.kind == ATTACHMENTS]
    assert kept.data["changed"] == [f"policy:{ADMIN}"]
    assert kept.data["changed_at"] == SECOND
    assert _finding(judgement, "managed-policy-attached").plan, "last second's list says nothing of this second"


def test_live_a_membership_recorded_before_is_not_removed() -> None:
    recorded = Kept(_attachments(USER, BEFORE, policies=[], groups=["platform-admins"]))
    event = load_event("add-user-to-admin-group.json")
    directory = authorization_details_directory(_details(attached=[]))

    finding = _finding(
        judge_event(event, Settings(), directory=directory, recorded=recorded), "group-membership-escalation"
    )

    assert finding.plan == ()
    assert "nothing was added" in finding.reason


# --- what the enforcer keeps from the events it judges ----------------------------------------------------------------


def test_an_attach_leaves_the_record_before_it_with_the_policy_added() -> None:
    older = "arn:aws:iam::aws:policy/ReadOnlyAccess"
    judgement = _live(load_event("attach-admin-to-role.json"), Kept(_attachments(ROLE, BEFORE, policies=[older])))

    [kept] = [s for s in judgement.observed if s.kind == ATTACHMENTS]

    assert kept == Snapshot(
        ATTACHMENTS,
        ROLE,
        SECOND,
        {"policies": [ADMIN, older], "changed": [f"policy:{ADMIN}"], "changed_at": SECOND},
        whatever_the_verdict=True,
        rank=1,
        base=(BEFORE, 0),  # written only while the record it was derived from is still the stored one
    )


def test_an_attach_without_a_record_before_it_keeps_nothing() -> None:
    """Its whole set is not known: the next event of the principal stays alert-only until the heartbeat reads it."""
    judgement = _live(load_event("attach-admin-to-role.json"), Kept())

    assert [s for s in judgement.observed if s.kind == ATTACHMENTS] == []


def test_offline_nothing_is_kept() -> None:
    assert judge_event(load_event("attach-admin-to-role.json"), Settings()).observed == ()


def test_a_created_role_starts_with_nothing_attached() -> None:
    event = copy.deepcopy(load_event("trust-create-role-public.json"))

    judgement = _live(event, Kept())

    [kept] = [s for s in judgement.observed if s.kind == ATTACHMENTS]
    assert kept.resource_arn == f"arn:aws:iam::{ACCOUNT}:role/debug-role"
    assert kept.data == {
        "policies": [],
        "inline": {},
        "inline_documents": {},
        "changed": [],
        "changed_at": kept.taken_at,
    }
    assert kept.whatever_the_verdict, "a fact about what is there, kept from a violating creation too"


def test_a_membership_adds_the_group_to_the_users_record() -> None:
    recorded = Kept(_attachments(USER, BEFORE, policies=[], groups=["developers"]))

    judgement = _live(load_event("add-user-to-admin-group.json"), recorded)

    [kept] = [s for s in judgement.observed if s.kind == ATTACHMENTS]
    assert kept.data == {
        "policies": [],
        "groups": ["developers", "platform-admins"],
        "changed": ["group:platform-admins"],
        "changed_at": kept.taken_at,
    }


# --- the heartbeat's read ---------------------------------------------------------------------------------------------


def test_the_heartbeat_records_each_principal_by_its_arn_without_path() -> None:
    page = {
        "UserDetailList": [
            {"UserName": "ci", "Arn": f"arn:aws:iam::{ACCOUNT}:user/bots/ci", "GroupList": ["b", "a"]},
        ],
        "RoleDetailList": [
            {
                "RoleName": "app",
                "Arn": f"arn:aws:iam::{ACCOUNT}:role/service/app",
                "AttachedManagedPolicies": [{"PolicyArn": ADMIN}],
            },
            {"RoleName": "theirs", "Arn": "arn:aws:iam::444455556666:role/theirs"},
        ],
        "GroupDetailList": [{"GroupName": "a", "Arn": f"arn:aws:iam::{ACCOUNT}:group/a"}],
    }

    snapshots = take_attachment_snapshots(None, ACCOUNT, BEFORE, pages=[page])

    assert {s.resource_arn: s.data for s in snapshots} == {
        f"arn:aws:iam::{ACCOUNT}:user/ci": {"groups": ["a", "b"], "policies": [], "inline": {}, "inline_documents": {}},
        f"arn:aws:iam::{ACCOUNT}:role/app": {"policies": [ADMIN], "inline": {}, "inline_documents": {}},
        f"arn:aws:iam::{ACCOUNT}:group/a": {"policies": [], "inline": {}, "inline_documents": {}},
    }
    assert {s.kind for s in snapshots} == {ATTACHMENTS}
    assert {s.taken_at for s in snapshots} == {BEFORE}


class Store:
    """The audit table as the heartbeat writes it: ``put_all`` overwrites, ``keep`` only over an older record."""

    def __init__(self, *kept: Snapshot) -> None:
        self.items = {(s.kind, s.resource_arn): s for s in kept}

    def put_all(self, snapshots: Any) -> int:
        count = 0
        for snapshot in snapshots:
            self.items[(snapshot.kind, snapshot.resource_arn)] = snapshot
            count += 1
        return count

    def keep(self, snapshot: Snapshot) -> bool:
        key = (snapshot.kind, snapshot.resource_arn)
        stored = self.items.get(key)
        if snapshot.base is not None:  # only over the record it was derived from, else that one is distrusted
            if stored is None or stored.unusable or (stored.taken_at, stored.rank) != snapshot.base:
                if stored is not None:
                    self.items[key] = stored._replace(unusable=True)
                return False
        elif stored is not None and (stored.taken_at, stored.rank) >= (snapshot.taken_at, snapshot.rank):
            return False
        self.items[key] = snapshot
        return True


def test_the_heartbeat_never_overwrites_a_record_the_enforcer_kept_after_its_read() -> None:
    """The run's read is dated at its start; an attach judged meanwhile is newer, and stays."""
    newer = Snapshot(ATTACHMENTS, ROLE, "2026-11-13T09:30:00.000+00:00", {"policies": [ADMIN]}, True)
    older_read = Snapshot(ATTACHMENTS, ROLE, "2026-11-13T09:29:00.000+00:00", {"policies": []})
    other = Snapshot(ATTACHMENTS, USER, "2026-11-13T09:29:00.000+00:00", {"policies": [], "groups": []})
    store = Store(newer)
    refresh = SnapshotRefresh(store, None, None, ACCOUNT, region="us-east-1")

    stored = refresh._store([older_read, other])

    assert stored == 1
    assert store.items[(ATTACHMENTS, ROLE)] == newer
    assert store.items[(ATTACHMENTS, USER)] == other


# --- inline policies: each one's fingerprint -----------------------------------------------------------------------

DEPLOY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["iam:PassRole"], "Resource": "*"}]}


def test_the_heartbeat_keeps_each_inline_policys_fingerprint_as_an_event_would_carry_it() -> None:
    """IAM returns the document URL-encoded; the event carries it as put (key order, one-element lists may differ)."""
    from urllib.parse import quote

    encoded = quote(json.dumps(DEPLOY))
    page = {
        "RoleDetailList": [
            {
                "RoleName": "app",
                "Arn": f"arn:aws:iam::{ACCOUNT}:role/app",
                "RolePolicyList": [
                    {"PolicyName": "deploy", "PolicyDocument": encoded},
                    {"PolicyName": "broken", "PolicyDocument": "%7Bnot json"},
                ],
            }
        ]
    }

    [snapshot] = take_attachment_snapshots(None, ACCOUNT, BEFORE, pages=[page])

    as_put = {"Statement": [{"Resource": "*", "Action": "iam:PassRole", "Effect": "Allow"}], "Version": "2012-10-17"}
    assert snapshot.data["inline"] == {"deploy": document_digest(as_put), "broken": "unreadable"}
    # The whole document beside its fingerprint (compact, as written); an unreadable one has none.
    assert {name: json.loads(text) for name, text in snapshot.data["inline_documents"].items()} == {"deploy": DEPLOY}
    assert " " not in snapshot.data["inline_documents"]["deploy"]


def test_an_inline_put_and_delete_change_the_record_before_them() -> None:
    put = copy.deepcopy(load_event("put-role-policy-split-escalation.json"))
    role = f"arn:aws:iam::{ACCOUNT}:role/build-runner"
    recorded = Kept(_attachments(role, BEFORE, policies=[], inline={"old": "x"}))

    [kept] = [s for s in _live(put, recorded).observed if s.kind == ATTACHMENTS]

    document = json.loads(put["detail"]["requestParameters"]["policyDocument"])
    assert kept.data == {
        "policies": [],
        "inline": {"old": "x", "deploy-functions": document_digest(document)},
        # "old" was kept by fingerprint only (a record from before documents were kept): it stays so.
        "inline_documents": {"deploy-functions": json.dumps(document, separators=(",", ":"))},
        "changed": ["inline:deploy-functions"],
        "changed_at": kept.taken_at,
    }

    delete = copy.deepcopy(put)
    delete["detail"]["eventName"] = "DeleteRolePolicy"
    delete["detail"]["requestParameters"] = {"roleName": "build-runner", "policyName": "old"}
    [kept] = [
        s
        for s in _live(delete, Kept(_attachments(role, BEFORE, policies=[], inline={"old": "x"}))).observed
        if s.kind == ATTACHMENTS
    ]
    assert kept.data == {
        "policies": [],
        "inline": {},
        "inline_documents": {},
        "changed": ["inline:old"],
        "changed_at": kept.taken_at,
    }


def test_a_record_from_before_inline_fingerprints_were_kept_is_not_taken_for_absent() -> None:
    """A record without ``inline`` says nothing of inline policies: the put stays "not known", nothing is kept."""
    put = copy.deepcopy(load_event("put-role-policy-split-escalation.json"))
    role = f"arn:aws:iam::{ACCOUNT}:role/build-runner"

    judgement = _live(put, Kept(_attachments(role, BEFORE, policies=[])))

    assert [s for s in judgement.observed if s.kind == ATTACHMENTS] == []
