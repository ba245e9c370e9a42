"""Faults lose nothing: every remediation survives a failure at any step, after Lambda's retries and a replay.

For every rule with a contract case (tests/functional/guardrail_cases.py), a clean run of its
violating event records every AWS call the enforcer makes, its own tables and parameters
included. Then, for each step of that run (the first read of the live state, every write to the
account, every write to the audit and idempotency tables, and the alert), a fresh account runs
the same event while a botocore hook makes that one call fail: throttled, a 5xx, a read timeout
(transient: it fails once), or AccessDenied (it keeps failing until an operator fixes it).

Lambda's asynchronous invocation is simulated (three attempts, then the dead-letter queue), and
an event still failing is replayed once the cause is gone (what ``iamwarden replay`` does). Then:

* the account is remediated, and the audit record says so;
* no write to the account succeeded twice (every action is done once);
* the remediation is alerted as remediated exactly once;
* undo still restores the exact state before the change (the before-state survived the retries).
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Iterator, Sequence
from enum import StrEnum
from typing import Any, NamedTuple

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.exceptions import ReadTimeoutError

from iamwarden.adapters.audit import AuditStatus
from iamwarden.adapters.clients import ClientFactory
from iamwarden.app.service import EnforcerService
from iamwarden.app.wiring import build_enforcer_service
from iamwarden.domain.delivery import Delivery, DeliveryReport
from iamwarden.domain.findings import Outcome
from iamwarden.guardrails.registry import RULES
from tests.aws_fixtures import HOME_ACCOUNT, REGION
from tests.functional.conftest import (
    Account,
    RecordingNotifier,
    account_environment,
    answer_user_boundaries,
    moto_account,
)
from tests.functional.guardrail_cases import CASES, Behaviour, GuardrailCase, no_permission_set_boundary

#: Lambda's attempts for an asynchronous event (template: MaximumRetryAttempts 2), before the dead-letter queue.
LAMBDA_ATTEMPTS = 3
OPERATOR = f"arn:aws:iam::{HOME_ACCOUNT}:user/secops"
_READ_PREFIXES = ("Get", "List", "Describe", "Head", "Query", "Scan", "BatchGet")


class Fault(StrEnum):
    THROTTLED = "throttled"
    SERVER_ERROR = "server error"
    TIMEOUT = "read timeout"
    ACCESS_DENIED = "AccessDenied"
    #: A 503 that lasts past botocore's retries and Lambda's attempts (an outage), until healed.
    OUTAGE = "outage"


_ANSWERS = {
    Fault.THROTTLED: (400, "Throttling"),
    Fault.SERVER_ERROR: (503, "ServiceUnavailable"),
    Fault.ACCESS_DENIED: (403, "AccessDenied"),
    Fault.OUTAGE: (503, "ServiceUnavailable"),
}

#: Writes a plan tolerates when refused for good (issue 15: a quarantine's key, password and credential writes after
#: its deny-alls: a named "NOT" line, the quarantine holds, no retry). This contract ("a fault loses nothing") is
#: about faults that pass: there they meet an outage instead of AccessDenied, which the step finishes around and
#: then fails on, so the retry reaches the full end state. The permanent refusal has its own test below.
_TOLERATED_WRITES = {
    "iam-user-created": frozenset(
        {
            "iam.UpdateAccessKey",
            "iam.DeleteLoginProfile",
            "iam.UpdateSSHPublicKey",
            "iam.UpdateSigningCertificate",
            "iam.UpdateServiceSpecificCredential",
        }
    )
}


def _writes(operation: str) -> bool:
    return not operation.split(".", 1)[1].startswith(_READ_PREFIXES)


class FaultInjector:
    """Sees every call of one botocore session, fails the chosen one, and counts the writes that succeed."""

    def __init__(self, session: boto3.Session) -> None:
        self.calls: list[str] = []  # "iam.DetachRolePolicy", in order
        self.succeeded: Counter[tuple[str, str]] = Counter()  # successful writes by operation and parameters
        self._target: int | None = None
        self._fault: Fault | None = None
        self._failing: str | None = None  # the operation AccessDenied keeps refusing
        session.events.register("before-parameter-build", self._remember_parameters)
        session.events.register("before-call", self._before_call)  # type: ignore[arg-type]  # it may answer
        session.events.register("after-call", self._after_call)

    def arm(self, index: int, fault: Fault) -> None:
        """Fail the ``index``-th call from now on (counting from the calls seen so far)."""
        self._target, self._fault = len(self.calls) + index, fault

    def heal(self) -> None:
        """The operator fixed the cause (granted the permission): nothing fails any more."""
        self._target = self._fault = self._failing = None

    @staticmethod
    def _operation(model: Any) -> str:
        return f"{model.service_model.service_id.hyphenize()}.{model.name}"

    def _remember_parameters(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["fault_params"] = json.dumps(params, sort_keys=True, default=str)

    def _before_call(self, model: Any, **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        operation = self._operation(model)
        index = len(self.calls)
        self.calls.append(operation)
        fault = self._fault
        if fault is None or not (index == self._target or operation == self._failing):
            return None
        if fault in (Fault.ACCESS_DENIED, Fault.OUTAGE):
            self._failing = operation  # it keeps failing until healed
        else:
            self._fault = None  # transient: once
        if fault is Fault.TIMEOUT:
            raise ReadTimeoutError(endpoint_url=f"https://{operation.split('.')[0]}.{REGION}.amazonaws.com/")
        status, code = _ANSWERS[fault]
        error = {"Code": code, "Message": f"injected {fault} for {operation}"}
        response = {"Error": error, "ResponseMetadata": {"HTTPStatusCode": status}}
        return AWSResponse("https://aws.amazon.com/", status, HTTPHeaders(), None), response

    def _after_call(self, model: Any, http_response: Any, context: dict[str, Any], **_: Any) -> None:
        operation = self._operation(model)
        if http_response.status_code < 300 and _writes(operation):
            self.succeeded[operation, context.get("fault_params", "")] += 1


class FlakyNotifier(RecordingNotifier):
    """The alert channels, failing their first delivery when told to (kept on the audit item for redelivery)."""

    def __init__(self) -> None:
        super().__init__()
        self.fail_next = False

    def notify(self, notification: Any) -> DeliveryReport:
        if self.fail_next:
            self.fail_next = False
            return DeliveryReport((Delivery("recorder", ok=False, error="injected: the channel is down"),))
        return super().notify(notification)


class RetryTimeContext:
    """The Lambda context as an asynchronous retry sees the first attempt's lock.

    Lambda retries a failed asynchronous event after a minute, then two; the enforcer's timeout
    (template: 60 s) has passed by then, so Powertools' in-progress record of the failed attempt has
    expired. A deadline of "now" models that without waiting.
    """

    function_name = "iamwarden-enforcer"
    aws_request_id = "7f3c2d1e-0000-4000-8000-000000000001"

    def get_remaining_time_in_millis(self) -> int:
        return 0


class Run(NamedTuple):
    account: Account
    enforcer: EnforcerService
    injector: FaultInjector
    notifier: FlakyNotifier
    event: dict[str, Any]
    failures: list[str]


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    account_environment(monkeypatch)


def _start(account: Account, case: GuardrailCase) -> Run:
    account.set(f"rules/{case.rule}/mode", "remediate")
    for name, value in case.violation.settings.items():
        account.set(name, value)
    event = case.violation.prepare(account)
    session = boto3.Session(region_name=REGION)  # the enforcer's own session: only its calls are seen
    # moto lacks GetPermissionsBoundaryForPermissionSet: answered as Identity Center answers a set without one, as
    # the cases answer it on the test's session (identity-center-group-admin reads it for each assigned set).
    session.events.register(
        "before-call.sso-admin.GetPermissionsBoundaryForPermissionSet",
        no_permission_set_boundary,  # type: ignore[arg-type]
    )
    # moto keeps no user permissions boundary (the quarantine sets one): answered as on the test's session, sharing
    # what it keeps, so the state the case reads shows what the enforcer set.
    answer_user_boundaries(session, account.user_boundaries)
    injector = FaultInjector(session)
    notifier = FlakyNotifier()
    clients = ClientFactory(HOME_ACCOUNT, account.config.member_role_name, session=session)
    enforcer = build_enforcer_service(account.config, clients=clients, notifier=notifier)
    return Run(account, enforcer, injector, notifier, event, [])


def _deliver(run: Run) -> int:
    """Lambda's asynchronous invocation: up to three attempts; then the dead-letter queue and a replay.

    Returns the attempts it took (``LAMBDA_ATTEMPTS + 1``: it was replayed).
    """
    for attempt in range(1, LAMBDA_ATTEMPTS + 1):
        try:
            run.enforcer.handle(copy.deepcopy(run.event), RetryTimeContext())
        except Exception as exc:  # Lambda retries whatever the handler raises
            run.failures.append(f"attempt {attempt}: {type(exc).__name__}: {exc}")
            continue
        return attempt
    run.injector.heal()
    run.enforcer.handle(
        copy.deepcopy(run.event), RetryTimeContext()
    )  # iamwarden replay invokes the function with the same event
    return LAMBDA_ATTEMPTS + 1


def _clean_calls(case: GuardrailCase) -> list[str]:
    with moto_account() as account:
        run = _start(account, case)
        run.enforcer.handle(copy.deepcopy(run.event))
        return run.injector.calls


#: Rules whose every step is failed in turn, IAM Warden's own writes included (the settings, the breaker, the
#: audit item's begin, progress and outcome, the idempotency record, the alert claim): those steps are the
#: same code for every rule, so three rules with different remediations stand for all of them.
THOROUGH = frozenset({"managed-policy-attached", "s3-bucket-policy-public", "iam-user-created"})
_OWN = ("dynamodb.", "ssm.", "sqs.", "sns.", "secrets-manager.")


def _steps(calls: list[str], thorough: bool) -> Iterator[int]:
    """The calls worth failing: every write to the account and the first read of the live state; for a
    thorough rule also the first and last call of each of IAM Warden's own operations.

    IAM Warden's own writes repeat (a progress write per line of the plan); their first and last stand for
    "before the before-state is recorded", "between writes" and "while recording the outcome".
    """
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    for index, operation in enumerate(calls):
        first.setdefault(operation, index)
        last[operation] = index
    account_reads = [index for index, operation in enumerate(calls) if not operation.startswith(_OWN)]
    for index, operation in enumerate(calls):
        if operation.startswith(_OWN):
            worth = thorough and index in (first[operation], last[operation])
        else:
            worth = _writes(operation) or index == account_reads[0]
        if worth:
            yield index


def _cases() -> list[Any]:
    params = []
    for rule in sorted(RULES):
        case = CASES.get(rule)
        if case is None:
            continue  # the contract test fails for it
        # A case that moto cannot fail a write for (its API emulated by hooks on the test's session) cannot be
        # driven through faults either.
        gap = next(
            (
                case.moto_gaps[b]
                for b in (Behaviour.REMEDIATED, Behaviour.UNDO, Behaviour.PARTIAL_FAILURE)
                if b in case.moto_gaps
            ),
            None,
        )
        marks = [pytest.mark.skip(reason=f"moto cannot: {gap}")] if gap else []
        if case.alert_only is not None:
            # No plan, so no call to fail: the finding is alerted in every mode (the contract test checks it).
            marks = [pytest.mark.skip(reason=f"no remediation plan: {case.alert_only}")]
        params.append(pytest.param(case, id=rule, marks=marks))
    return params


#: The writes a plan may have refused and still hold (review s11 R7/R10: a user quarantine needs one deny-all of
#: two, and its tags are bookkeeping): the ``done`` line that says so, and the part of the case's state it leaves
#: as it was before the change.
_TOLERATED_REFUSALS = {
    "NOT attached: deny-all inline policy": "inline_policies",
    "NOT set: the deny-all permissions boundary": "boundary",
    "NOT tagged:": "tags",
}


def _remediated_state(case: GuardrailCase, before: Any, done: Sequence[str]) -> Any:
    """The state the remediation leaves: the case's, but for a refused write the plan tolerated (its ``done`` says
    which, and what holds instead), whose part of the state is as it was before."""
    expected = case.remediated
    for line in done:
        key = next((key for prefix, key in _TOLERATED_REFUSALS.items() if line.startswith(prefix)), None)
        if key is None:
            continue
        expected = {name: value for name, value in expected.items() if name != key}
        if key in before:
            expected[key] = before[key]
    return expected


def _assert_nothing_lost(run: Run, case: GuardrailCase, before: Any, where: str) -> None:
    account = run.account
    records = [r for r in account.audit().for_event(run.event["detail"]["eventID"]) if r.rule == case.rule]
    [record] = [r for r in records if r.kind == "remediation"]
    assert case.violation.state(account) == _remediated_state(case, before, record.done), where
    assert record.status == AuditStatus.REMEDIATED, f"{where}: {record.status} {record.error}"
    twice = {call: count for call, count in run.injector.succeeded.items() if count > 1 and "dynamodb" not in call[0]}
    assert not twice, f"{where}: done more than once: {twice}"
    remediated = [
        n
        for n in run.notifier.sent
        if n.finding is not None and n.finding.rule_id == case.rule and n.outcome is Outcome.REMEDIATED
    ]
    assert len(remediated) == 1, f"{where}: {len(remediated)} remediated alerts"
    if case.undo_refused is None:
        run.injector.heal()
        run.enforcer.executor.undo(record.remediation_id, actor=OPERATOR)
        assert case.violation.state(account) == before, f"{where}: undo did not restore the state before the change"


@pytest.mark.parametrize("case", _cases())
def test_a_fault_at_any_step_loses_nothing(case: GuardrailCase) -> None:
    calls = _clean_calls(case)
    faults: list[Fault] = [fault for fault in Fault if fault is not Fault.OUTAGE]
    for number, index in enumerate(_steps(calls, case.rule in THOROUGH)):
        fault = faults[number % len(faults)]  # every kind of fault meets every kind of step across the rules
        if fault is Fault.ACCESS_DENIED and calls[index] in _TOLERATED_WRITES.get(case.rule, ()):
            fault = Fault.OUTAGE
        where = f"{fault} at call {index} ({calls[index]})"
        with moto_account() as account:
            run = _start(account, case)
            before = case.violation.state(account)
            run.injector.arm(index, fault)
            try:
                _deliver(run)
            except Exception as exc:
                raise AssertionError(f"{where}: the replay failed after {run.failures}") from exc
            _assert_nothing_lost(run, case, before, where)


def test_a_quarantine_write_refused_for_good_is_named_and_the_quarantine_holds_without_a_retry() -> None:
    """The permanent counterpart of the outage above (issue 15): AccessDenied (an SCP) on the key's deactivation is a
    "NOT deactivated" line, the deny-alls hold, the run succeeds at its first attempt and the key stays Active."""
    case = CASES["iam-user-created"]
    calls = _clean_calls(case)
    index = calls.index("iam.UpdateAccessKey")
    with moto_account() as account:
        run = _start(account, case)
        run.injector.arm(index, Fault.ACCESS_DENIED)
        assert _deliver(run) == 1, run.failures
        [record] = [
            r
            for r in account.audit().for_event(run.event["detail"]["eventID"])
            if r.rule == case.rule and r.kind == "remediation"
        ]
        assert record.status == AuditStatus.REMEDIATED
        assert any(line.startswith("NOT deactivated: access key") and "(AccessDenied)" in line for line in record.done)
        assert not any(line.startswith("deactivated access key") for line in record.done)
        state = case.violation.state(account)
        assert state["access_keys"] == ["Active"]
        assert {key: value for key, value in state.items() if key != "access_keys"} == {
            key: value for key, value in case.remediated.items() if key != "access_keys"
        }


@pytest.mark.parametrize("case", _cases())
def test_an_alert_that_cannot_be_delivered_is_kept_and_the_remediation_stands(case: GuardrailCase) -> None:
    with moto_account() as account:
        run = _start(account, case)
        before = case.violation.state(account)
        run.notifier.fail_next = True
        assert _deliver(run) == 1, "a failed delivery does not fail the event"
        record = next(r for r in account.audit().for_event(run.event["detail"]["eventID"]) if r.rule == case.rule)
        assert [failure["outcome"] for failure in record.delivery_failures] == [Outcome.REMEDIATED.value]
        assert case.violation.state(account) == case.remediated
        # redelivery is tested in test_redeliver.py; here: the remediation stands and undo still works
        if case.undo_refused is None:
            run.enforcer.executor.undo(record.remediation_id, actor=OPERATOR)
            assert case.violation.state(account) == before
