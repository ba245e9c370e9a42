"""IAM Warden's own managed policies: known by exact identity, their deployed version recorded and watched."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from iamwarden.app.own_policies import DeployTakers, OwnPolicyWatch
from iamwarden.domain.own import OwnIdentity
from iamwarden.domain.recorded import OWN_POLICY, Snapshot
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import SAMPLE_HOME_ACCOUNT, SAMPLE_OWN, load_event

HOME = SAMPLE_HOME_ACCOUNT
MEMBER = "444455556666"
GRANTS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:GetRole", "Resource": "*"}]}


# --- who owns a policy ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arn", "account", "own"),
    [
        (f"arn:aws:iam::{HOME}:policy/iamwarden-enforcer-remediations-1-us-east-1", HOME, True),
        # the stack's exact ARN only: another path, region suffix or account is someone else's
        (f"arn:aws:iam::{HOME}:policy/dev/iamwarden-enforcer-remediations-1-us-east-1", HOME, False),
        (f"arn:aws:iam::{HOME}:policy/iamwarden-enforcer-remediations-1-eu-west-1", HOME, False),
        (f"arn:aws:iam::{MEMBER}:policy/iamwarden-enforcer-remediations-1-us-east-1", MEMBER, False),
        # the member stack's names at path / of the very account the change is in, never at home
        (f"arn:aws:iam::{MEMBER}:policy/iamwarden-remediator-remediations-2", MEMBER, True),
        (f"arn:aws:iam::{MEMBER}:policy/dev/iamwarden-remediator-remediations-2", MEMBER, False),
        (f"arn:aws:iam::{MEMBER}:policy/iamwarden-remediator-remediations-2", "777766665555", False),
        (f"arn:aws:iam::{HOME}:policy/iamwarden-remediator-remediations-2", HOME, False),
        (f"arn:aws:iam::{MEMBER}:policy/iamwarden-remediator-remediations-9", MEMBER, False),
        # IAM names ignore case (review s10 finding 8): another case names the own policy itself
        (f"arn:aws:iam::{HOME}:policy/IAMWARDEN-ENFORCER-REMEDIATIONS-1-US-EAST-1", HOME, True),
        (f"arn:aws:iam::{MEMBER}:policy/IamWarden-Remediator-Remediations-2", MEMBER, True),
        (f"arn:aws:iam::{HOME}:policy/DEV/iamwarden-enforcer-remediations-1-us-east-1", HOME, False),
        ("arn:aws:iam::aws:policy/AdministratorAccess", HOME, False),
        ("not an arn", HOME, False),
        (None, HOME, False),
    ],
)
def test_own_policies_are_known_by_exact_identity(arn: str | None, account: str, own: bool) -> None:
    assert SAMPLE_OWN.is_own_policy(arn, account) is own


def test_nothing_is_an_own_policy_when_the_environment_names_none() -> None:
    arn = f"arn:aws:iam::{HOME}:policy/iamwarden-enforcer-remediations-1-us-east-1"
    assert OwnIdentity().is_own_policy(arn, HOME) is False
    assert (
        OwnIdentity(member_policies=frozenset({"x"})).is_own_policy(f"arn:aws:iam::{MEMBER}:policy/x", MEMBER) is False
    )


# --- the deployed version, recorded and watched -----------------------------------------------------------


class Store:
    """The audit table's snapshots, in memory."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], Snapshot] = {}

    def snapshot(self, kind: str, resource_arn: str) -> Snapshot | None:
        return self.items.get((kind, resource_arn))

    def put_all(self, snapshots: Iterable[Snapshot]) -> int:
        count = 0
        for snapshot in snapshots:
            self.items[(snapshot.kind, snapshot.resource_arn)] = snapshot
            count += 1
        return count


@pytest.fixture
def iam(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        yield boto3.client("iam")


def _policy(iam: Any, name: str = "iamwarden-enforcer-remediations-1-us-east-1") -> str:
    return str(iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(GRANTS))["Policy"]["Arn"])


def _watch(store: Store, iam: Any, arns: list[str], declared: dict[str, Any] | None = None) -> OwnPolicyWatch:
    """The watch, with ``declared`` (GRANTS unless given; changed in place: a new template) as every policy's
    declared document."""
    template = GRANTS if declared is None else declared
    return OwnPolicyWatch(
        store, iam, arns, declared=lambda _arn: template or None, clock=lambda: "2026-12-04T23:00:00.000+00:00"
    )


def test_the_deploy_records_the_live_default_version_and_its_document(iam: Any) -> None:
    store, arn = Store(), _policy(iam)

    assert _watch(store, iam, [arn]).record() == (1, [])

    snapshot = store.snapshot(OWN_POLICY, arn)
    assert snapshot is not None
    assert snapshot.data == {"default_version": "v1", "document": GRANTS}


def test_the_heartbeat_records_a_policy_without_a_record_and_then_only_compares(iam: Any) -> None:
    store, arn = Store(), _policy(iam)
    watch = _watch(store, iam, [arn])

    assert watch.check() == (1, [])
    assert watch.check() == (0, [])  # the same default: nothing to say, nothing rewritten
    nothing = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(nothing), SetAsDefault=True)

    stored, [problem] = watch.check()

    assert stored == 0
    assert "is v2, not v1 as its stack deployed it" in problem
    assert f"set-default-policy-version --policy-arn {arn} --version-id v1" in problem
    snapshot = store.snapshot(OWN_POLICY, arn)
    assert snapshot is not None
    assert snapshot.data["default_version"] == "v1", "never records the intruder's"


def test_the_deployed_grants_written_again_under_a_new_version_id_are_accepted_and_recorded(iam: Any) -> None:
    store, arn = Store(), _policy(iam)
    watch = _watch(store, iam, [arn])
    watch.record()
    nothing = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(nothing), SetAsDefault=True)
    iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(GRANTS), SetAsDefault=True)  # the restore

    assert watch.check() == (1, [])

    snapshot = store.snapshot(OWN_POLICY, arn)
    assert snapshot is not None
    assert snapshot.data == {"default_version": "v3", "document": GRANTS}


def test_a_new_deploy_records_the_new_version_so_the_heartbeat_accepts_it(iam: Any) -> None:
    store, arn, template = Store(), _policy(iam), dict(GRANTS)
    watch = _watch(store, iam, [arn], template)
    watch.record()
    wider = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:Get*", "Resource": "*"}]}
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(wider), SetAsDefault=True)
    assert watch.check()[1], "a new grant is a problem until its deploy records it"
    template.update(wider)  # the new template declares it

    assert watch.record() == (1, [])
    assert watch.check() == (0, [])


def test_a_deleted_own_policy_is_a_heartbeat_problem_and_nothing_to_record(iam: Any) -> None:
    store = Store()
    arn = f"arn:aws:iam::{HOME}:policy/iamwarden-enforcer-remediations-3-us-east-1"
    watch = _watch(store, iam, [arn])

    assert watch.check() == (0, [f"IAM Warden's policy {arn} (its remediation grants) is gone"])
    assert watch.record() == (0, [f"IAM Warden's policy {arn} is gone: nothing to record"])


def test_a_policy_that_cannot_be_read_is_one_problem_and_the_others_are_still_checked(iam: Any) -> None:
    store, arn = Store(), _policy(iam)
    denied = "arn:aws:iam::123456789012:policy/iamwarden-enforcer-remediations-2-us-east-1"

    def refuse(params: dict[str, Any], **_: Any) -> None:
        if params.get("PolicyArn") == denied:
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "GetPolicy")

    iam.meta.events.register("before-parameter-build.iam.GetPolicy", refuse)

    stored, [problem] = _watch(store, iam, [denied, arn]).check()

    assert stored == 1
    assert "cannot be read or recorded (AccessDenied)" in problem


INTRUDERS = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}


def test_the_deploy_never_records_a_default_version_that_is_not_the_templates(iam: Any) -> None:
    """Audit s7 gap 2: the intruder's version, made the default before the deploy snapshot ran, was recorded."""
    store, arn = Store(), _policy(iam)
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(INTRUDERS), SetAsDefault=True)

    stored, [problem] = _watch(store, iam, [arn]).record()

    assert stored == 0
    assert store.snapshot(OWN_POLICY, arn) is None
    assert f"the default version v2 of IAM Warden's policy {arn} grants other than its template declares" in problem


def test_the_heartbeat_never_records_a_first_version_that_is_not_the_templates(iam: Any) -> None:
    store, arn = Store(), _policy(iam)
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(INTRUDERS), SetAsDefault=True)
    watch = _watch(store, iam, [arn])

    stored, [problem] = watch.check()

    assert stored == 0
    assert "grants other than its template declares" in problem
    assert store.snapshot(OWN_POLICY, arn) is None
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v1")  # the deployed grants back: now recorded
    assert watch.check() == (1, [])


def test_the_template_documents_key_order_and_one_item_lists_do_not_matter(iam: Any) -> None:
    store, arn = Store(), _policy(iam)
    reordered = {
        "Statement": [{"Resource": ["*"], "Action": ["iam:GetRole"], "Effect": "Allow"}],
        "Version": "2012-10-17",
    }
    assert _watch(store, iam, [arn], reordered).record() == (1, [])


def test_an_unknown_declared_document_records_nothing_and_says_so(iam: Any) -> None:
    store, arn = Store(), _policy(iam)
    watch = OwnPolicyWatch(store, iam, [arn], declared=lambda _arn: None)

    for stored, [problem] in (watch.record(), watch.check()):
        assert stored == 0
        assert "is not known here" in problem
    assert store.snapshot(OWN_POLICY, arn) is None


class Taker:
    def __init__(self, answer: tuple[int, list[str]]) -> None:
        self.answer = answer

    def refresh(self) -> tuple[int, list[str]]:
        return self.answer


def test_the_deploy_takes_both_the_evasion_snapshots_and_the_own_policies(iam: Any) -> None:
    store, arn = Store(), _policy(iam)
    takers = DeployTakers(Taker((3, ["trail problem"])), _watch(store, iam, [arn]))

    assert takers.refresh() == (4, ["trail problem"])
    assert DeployTakers(None, None).refresh() == (0, [])


# --- the judgement ------------------------------------------------------------------------------------------

OWN_ARN = f"arn:aws:iam::{HOME}:policy/iamwarden-enforcer-remediations-1-us-east-1"


class Recorded:
    """IAM Warden's record with one own-policy snapshot (or none)."""

    def __init__(self, snapshot: Snapshot | None) -> None:
        self.kept = snapshot

    def remediations(self, resource_arn: str) -> list[Any]:
        return []

    def snapshot(self, kind: str, resource_arn: str) -> Snapshot | None:
        if self.kept is not None and (kind, resource_arn) == (self.kept.kind, self.kept.resource_arn):
            return self.kept
        return None


def _judge(sample: str, recorded: Recorded | None = None, **parameters: Any) -> Any:
    event = load_event(sample)
    event["detail"]["requestParameters"].update(parameters)
    return judge_event(event, Settings(own=SAMPLE_OWN), recorded=recorded)


def test_with_the_deploys_record_the_plan_puts_the_deployed_version_back() -> None:
    deployed = Snapshot(OWN_POLICY, OWN_ARN, "2026-12-01T10:00:00Z", {"default_version": "v1", "document": GRANTS})

    judgement = _judge("tamper-own-policy-version.json", Recorded(deployed))

    [finding] = judgement.findings
    assert finding.severity.value == "critical"
    assert finding.needs_context == ()
    [step] = finding.plan
    assert step.action.value == "restore_own_policy_version"
    assert step.parameters == {
        "policy_arn": OWN_ARN,
        "changed_to": "v2",
        "restore_to": "v1",
        "document": GRANTS,
        "source": "IAM Warden's snapshot of 2026-12-01T10:00:00Z",
    }


def test_without_a_record_the_alert_says_how_to_put_it_back_by_hand() -> None:
    [finding] = _judge("tamper-own-policy-default.json", Recorded(None)).findings

    assert finding.plan == ()
    [missing] = finding.needs_context
    assert "IAM Warden has no snapshot of it" in missing
    assert f"aws iam set-default-policy-version --policy-arn {OWN_ARN}" in finding.reason
    assert "(v3 is the default now)" in finding.reason


def test_a_version_created_without_being_the_default_is_alerted_high_with_nothing_to_do() -> None:
    [finding] = _judge("tamper-own-policy-version.json", setAsDefault=False).findings

    assert finding.rule_id == "iamwarden-tampered"
    assert finding.severity.value == "high"
    assert finding.plan == ()
    assert "grants nothing yet" in finding.reason


def test_a_member_stacks_policy_deleted_says_how_the_stack_set_writes_it_again() -> None:
    [finding] = _judge("tamper-member-policy-deleted.json").findings

    assert "update-stack-instances" in finding.reason
    assert f"--accounts {MEMBER}" in finding.reason
    assert "sam deploy" not in finding.reason


# --- the declared documents (generated from template.yaml) ----------------------------------------------------

DECLARING = OwnIdentity(
    HOME,
    home_region="us-east-1",
    alert_key=f"arn:aws:kms:us-east-1:{HOME}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    settings_prefix="/iamwarden",
)


def test_the_declared_document_of_each_enforcer_policy_is_filled_in_for_this_stack() -> None:
    from iamwarden.domain.declared_content import declared_own_policy

    documents = [
        declared_own_policy(
            f"arn:aws:iam::{HOME}:policy/iamwarden-enforcer-remediations-{n}-us-east-1", DECLARING, "quarantine"
        )
        for n in (1, 2, 3, 4)
    ]

    text = json.dumps(documents)
    assert all(document is not None for document in documents)
    assert "${" not in text
    assert f"arn:aws:kms:us-east-1:{HOME}:key/1234abcd-12ab-34cd-56ef-1234567890ab" in text
    assert f"arn:aws:ssm:us-east-1:{HOME}:parameter/iamwarden/*" in text


def test_the_declared_document_follows_the_user_remediation_the_stack_was_deployed_with() -> None:
    from iamwarden.domain.declared_content import declared_own_policy

    arn = f"arn:aws:iam::{HOME}:policy/iamwarden-enforcer-remediations-1-us-east-1"
    quarantine, delete = (declared_own_policy(arn, DECLARING, value) for value in ("quarantine", "delete"))

    assert quarantine is not None
    assert delete is not None
    assert "DeleteUsers" not in {statement.get("Sid") for statement in quarantine["Statement"]}
    assert "DeleteUsers" in {statement.get("Sid") for statement in delete["Statement"]}


@pytest.mark.parametrize(
    ("arn", "own"),
    [
        # another region's name, another path, not the enforcer's: none declared
        (f"arn:aws:iam::{HOME}:policy/iamwarden-enforcer-remediations-1-eu-west-1", DECLARING),
        (f"arn:aws:iam::{HOME}:policy/dev/iamwarden-enforcer-remediations-1-us-east-1", DECLARING),
        (f"arn:aws:iam::{HOME}:policy/iamwarden-remediator-remediations-1", DECLARING),
        ("not an arn", DECLARING),
        # a name its grants need is not configured (the alert key): unknown, never guessed
        (f"arn:aws:iam::{HOME}:policy/iamwarden-enforcer-remediations-2-us-east-1", DECLARING._replace(alert_key=None)),
        (f"arn:aws:iam::{HOME}:policy/iamwarden-enforcer-remediations-1-us-east-1", OwnIdentity(HOME)),
    ],
)
def test_no_declared_document_where_it_is_not_known(arn: str, own: OwnIdentity) -> None:
    from iamwarden.domain.declared_content import declared_own_policy

    assert declared_own_policy(arn, own, "quarantine") is None
