"""The circuit breaker and the kill switch, against moto: a burst trips it once; an operator resets it."""

from __future__ import annotations

import copy
import io
from collections.abc import Callable
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from iamwarden.adapters.audit import AuditStatus
from iamwarden.adapters.errors import TransientAwsError
from iamwarden.app.cli import main
from iamwarden.app.service import EnforcementFailedError, EnforcerService
from iamwarden.app.wiring import FirstRemediationBreaker
from iamwarden.domain.breaker import BreakerSettings
from iamwarden.domain.findings import Outcome
from tests.aws_fixtures import HOME_ACCOUNT
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier
from tests.functional.guardrail_cases import heartbeat_read_attachments

ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"
SWITCH = "/iamwarden/enforcement"


def attach_admin(account: Account, role: str, event_id: str) -> dict[str, Any]:
    """Attach AdministratorAccess to a new role for real, and the CloudTrail event that says so."""
    account.iam.create_role(RoleName=role, AssumeRolePolicyDocument='{"Version":"2012-10-17","Statement":[]}')
    heartbeat_read_attachments(account, "2026-11-01T00:00:00Z")  # the event adds what the read did not see
    account.iam.attach_role_policy(RoleName=role, PolicyArn=ADMIN)
    event = copy.deepcopy(load_event("attach-admin-to-role.json"))
    event["detail"]["requestParameters"]["roleName"] = role
    event["detail"]["eventID"] = event_id
    event["id"] = event_id
    return event


def attached(account: Account, role: str) -> bool:
    policies = account.iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
    return any(policy["PolicyArn"] == ADMIN for policy in policies)


def outcomes(notifier: RecordingNotifier) -> list[Outcome]:
    return [notification.outcome for notification in notifier.sent]


def switch_value(account: Account) -> str:
    return str(account.ssm.get_parameter(Name=SWITCH)["Parameter"]["Value"])


def cli(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["breaker", *args], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def remediating(account: Account) -> Account:
    account.set("rules/managed-policy-attached/mode", "remediate")
    account.set("breaker/max_remediations", "3")
    return account


def test_the_template_creates_the_kill_switch_on(account: Account) -> None:
    assert switch_value(account) == "on"


def test_a_burst_trips_the_breaker_once_then_everything_is_held_until_reset(
    remediating: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account = remediating
    for number in range(3):
        enforcer.handle(attach_admin(account, f"app-{number}", f"00000000-0000-4000-8000-00000000000{number}"))
    assert not any(attached(account, f"app-{number}") for number in range(3))
    assert outcomes(notifier) == [Outcome.REMEDIATED] * 3

    # The fourth within the window: more than 3 allowed, so the breaker trips and nothing changes.
    enforcer.handle(attach_admin(account, "app-3", "00000000-0000-4000-8000-000000000003"))
    assert attached(account, "app-3")
    assert switch_value(account) == "off"
    assert outcomes(notifier)[3:] == [Outcome.CIRCUIT_BREAKER_TRIPPED, Outcome.ALERTED]
    tripped = notifier.sent[3]
    assert tripped.error is not None
    assert f"4 remediations in account {HOME_ACCOUNT} within 15 minutes" in tripped.error
    held = notifier.sent[4]
    assert held.error == tripped.error
    records = {record.kind: record for record in account.audit().for_event("00000000-0000-4000-8000-000000000003")}
    assert sorted(records) == ["breaker", "remediation"]
    assert records["remediation"].status == AuditStatus.ALERTED
    assert records["remediation"].error == tripped.error
    assert records["breaker"].remediation_id == tripped.remediation_id

    # Later events are held by the switch, and the critical alert is not repeated.
    enforcer.handle(attach_admin(account, "app-4", "00000000-0000-4000-8000-000000000004"))
    assert attached(account, "app-4")
    assert outcomes(notifier)[5:] == [Outcome.ALERTED]
    assert "kill switch is 'off'" in str(notifier.sent[5].error)

    code, out, err = cli("status")
    assert (code, err) == (0, "")
    assert "enforcement off" in out
    assert f"{HOME_ACCOUNT}: 4 in the window" in out

    # The operator resets: enforcement is back, and the burst no longer counts.
    code, out, err = cli("reset")
    assert (code, err) == (0, "")
    assert switch_value(account) == "on"
    assert HOME_ACCOUNT in out
    enforcer.handle(attach_admin(account, "app-5", "00000000-0000-4000-8000-000000000005"))
    assert not attached(account, "app-5")
    assert outcomes(notifier)[6:] == [Outcome.REMEDIATED]
    assert outcomes(notifier).count(Outcome.CIRCUIT_BREAKER_TRIPPED) == 1


def test_the_kill_switch_alone_holds_every_remediation_and_one_put_parameter_resumes(
    remediating: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account = remediating
    account.ssm.put_parameter(Name=SWITCH, Value="off", Type="String", Overwrite=True)
    enforcer.handle(attach_admin(account, "app-a", "00000000-0000-4000-8000-0000000000a1"))
    assert attached(account, "app-a")
    assert outcomes(notifier) == [Outcome.ALERTED]
    [record] = account.audit().for_event("00000000-0000-4000-8000-0000000000a1")
    assert record.status == AuditStatus.ALERTED
    assert record.error is not None
    assert "switched off" in record.error

    account.ssm.put_parameter(Name=SWITCH, Value="on", Type="String", Overwrite=True)
    enforcer.handle(attach_admin(account, "app-b", "00000000-0000-4000-8000-0000000000b1"))
    assert not attached(account, "app-b")
    assert outcomes(notifier) == [Outcome.ALERTED, Outcome.REMEDIATED]


def test_a_switch_set_back_on_by_hand_counts_only_what_follows(
    remediating: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account = remediating
    for number in range(4):
        enforcer.handle(attach_admin(account, f"svc-{number}", f"00000000-0000-4000-8000-00000000010{number}"))
    assert switch_value(account) == "off"
    account.ssm.put_parameter(Name=SWITCH, Value="on", Type="String", Overwrite=True)  # no `breaker reset`
    enforcer.handle(attach_admin(account, "svc-9", "00000000-0000-4000-8000-000000000109"))
    assert not attached(account, "svc-9")
    assert outcomes(notifier)[-1] is Outcome.REMEDIATED


def test_a_retry_of_the_same_remediation_counts_once(
    remediating: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    assert enforcer.breaker is not None
    one = BreakerSettings(max_remediations=1)
    assert enforcer.breaker.permit(HOME_ACCOUNT, "rem-same", one).allowed
    assert enforcer.breaker.permit(HOME_ACCOUNT, "rem-same", one).allowed  # Lambda's retry of the same one
    decision = enforcer.breaker.permit(HOME_ACCOUNT, "rem-other", one)
    assert not decision.allowed
    assert decision.tripped


def _refuse(client: Any, operation: str, code: str = "AccessDenied", status: int = 403) -> Callable[[], None]:
    def refuse(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        error = {"Error": {"Code": code, "Message": "injected"}, "ResponseMetadata": {"HTTPStatusCode": status}}
        return AWSResponse("https://ssm.amazonaws.com/", status, {}, None), error  # type: ignore[arg-type]

    event = f"before-call.{client.meta.service_model.service_id.hyphenize()}.{operation}"
    client.meta.events.register(event, refuse, unique_id="refuse")
    return lambda: client.meta.events.unregister(event, unique_id="refuse")


def test_a_breaker_that_cannot_read_its_switch_does_not_remediate(
    remediating: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account = remediating
    assert isinstance(enforcer.breaker, FirstRemediationBreaker)
    heal = _refuse(enforcer.breaker.switch._ssm, "GetParameter")
    event = attach_admin(account, "app-x", "00000000-0000-4000-8000-0000000000c1")
    with pytest.raises(EnforcementFailedError, match="could not be read or written"):
        enforcer.handle(copy.deepcopy(event))  # failed, so Lambda retries it and then dead-letters it
    assert attached(account, "app-x")
    assert outcomes(notifier) == [Outcome.ALERTED]
    assert "could not be read or written" in str(notifier.sent[0].error)
    assert "AccessDenied" in str(notifier.sent[0].error)

    with pytest.raises(EnforcementFailedError):
        enforcer.handle(copy.deepcopy(event))  # Lambda's retry: still held, not alerted again
    assert outcomes(notifier) == [Outcome.ALERTED]

    heal()  # the operator grants the permission back, then replays the dead-lettered event
    enforcer.handle(event)
    assert not attached(account, "app-x")
    assert outcomes(notifier) == [Outcome.ALERTED, Outcome.REMEDIATED]


def test_a_throttled_switch_fails_the_event_so_lambda_retries_it_instead_of_holding_it(
    remediating: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    account = remediating
    assert isinstance(enforcer.breaker, FirstRemediationBreaker)
    heal = _refuse(enforcer.breaker.switch._ssm, "GetParameter", "ThrottlingException", 400)
    event = attach_admin(account, "app-t", "00000000-0000-4000-8000-0000000000c2")
    with pytest.raises(TransientAwsError, match="kill switch"):
        enforcer.handle(copy.deepcopy(event))
    assert attached(account, "app-t")
    assert notifier.sent == [], "nothing is alerted as held: the retry decides"

    heal()
    enforcer.handle(event)  # Lambda's retry
    assert not attached(account, "app-t")
    assert outcomes(notifier) == [Outcome.REMEDIATED]


def test_reset_and_status_report_aws_errors_in_one_line(account: Account) -> None:
    code, _, err = cli("status", "--audit-table", "no-such-table")
    assert code == 2
    assert err.startswith("iamwarden breaker: ")
    assert len(err.strip().splitlines()) == 1
