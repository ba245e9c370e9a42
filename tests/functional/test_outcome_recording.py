"""What was done survives a failure to record the outcome, and the retry's alert says it.

The audit table is made to refuse the write of the outcome (``audit.finish``) through botocore's
``before-call`` hook on the enforcer's own DynamoDB client, the way DynamoDB would answer.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse

from iamwarden.adapters.audit import AuditStatus
from iamwarden.app.service import EnforcementFailedError, EnforcerService
from iamwarden.domain.earlier_sessions import PREFIX as SESSIONS
from iamwarden.domain.exceptions import IamWardenError
from iamwarden.domain.findings import Outcome
from tests.aws_fixtures import HOME_ACCOUNT, REGION
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier


def _refuse_outcome(
    enforcer: EnforcerService, status: str | None, refused: list[str] | None = None
) -> Callable[[], None]:
    """Make the audit table refuse to record ``status`` (None: the progress writes); return the undo.

    Each refused write's ``done`` list is appended to ``refused``.
    """
    dynamodb = enforcer.executor.clients.home_client("dynamodb")
    table = enforcer.audit.table_name

    def refuse(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        request = json.loads(params["body"])
        written = request.get("ExpressionAttributeValues", {}).get(":status", {}).get("S")
        if request.get("TableName") != table or written != status or "#done" not in request["UpdateExpression"]:
            return None
        if refused is not None:
            refused.append(request["ExpressionAttributeValues"][":done"]["S"])
        error = {
            "Error": {"Code": "AccessDeniedException", "Message": "injected"},
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        return AWSResponse("https://dynamodb.amazonaws.com/", 400, {}, None), error  # type: ignore[arg-type]

    event = "before-call.dynamodb.UpdateItem"
    dynamodb.meta.events.register(event, refuse, unique_id="refuse-outcome")
    return lambda: dynamodb.meta.events.unregister(event, unique_id="refuse-outcome")


def _backdoor_user(account: Account) -> str:
    account.set("rules/iam-user-created/mode", "remediate")
    account.iam.create_user(UserName="backdoor-admin")
    key: str = account.iam.create_access_key(UserName="backdoor-admin")["AccessKey"]["AccessKeyId"]
    account.iam.create_login_profile(UserName="backdoor-admin", Password="correct-Horse-battery-9")
    return key


def test_a_failed_outcome_write_keeps_what_was_done_and_the_retry_alerts_it(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    key = _backdoor_user(account)
    event = load_event("create-user-backdoor-cli.json")
    allow = _refuse_outcome(enforcer, AuditStatus.REMEDIATED)

    with pytest.raises(IamWardenError, match="audit item"):
        enforcer.handle(event)

    # The quarantine's order: keys, console password, the deny-all boundary, then the deny-all inline policy.
    expected = [
        "set the deny-all permissions boundary arn:aws:iam::aws:policy/AWSDenyAll on backdoor-admin",
        "attached deny-all inline policy iamwarden-quarantine to backdoor-admin",
        f"deactivated access key {key}",
        "deleted the console password of backdoor-admin",
    ]
    [record] = account.audit().for_event(event["detail"]["eventID"])
    assert record.status == AuditStatus.IN_PROGRESS
    assert list(record.done[:4]) == expected, "each line is recorded as it happens, before the outcome"
    assert notifier.sent == [], "no alert until the outcome is known"

    allow()
    result = enforcer.handle(event)  # Lambda's retry: the user is already quarantined

    assert result["findings"][0]["outcome"] == "remediated"
    [alert] = notifier.sent
    assert alert.outcome is Outcome.REMEDIATED
    assert list(alert.actions[:4]) == expected, "the retry's alert says what the first attempt did"
    stored = account.audit().get(record.remediation_id)
    assert stored is not None
    assert stored.status == AuditStatus.REMEDIATED
    assert list(stored.done[: len(record.done)]) == list(record.done), "nothing lost"
    # A step that could not be done (moto lists no service-specific credentials) is tried again by the retry and
    # says so again; nothing that was done is done or recorded twice. The look-up of the user's earlier role sessions
    # is made again only because the first one was incomplete (moto has no LookupEvents: "unknown"), and the new
    # block's lines are marked as looked up again, so none repeats the first's (review3 R2, review s15 F4).
    done = [line for line in stored.done if not line.startswith("NOT ")]
    assert len(set(done)) == len(done), "nothing recorded twice"
    first = [line for line in record.done if not line.startswith("NOT ")]
    assert done[: len(first)] == first
    assert any(line.startswith(SESSIONS) for line in first), "the first attempt's look-up is kept"
    again = done[len(first) :]
    assert again, "the incomplete look-up is made again"
    assert all(line.startswith(f"{SESSIONS} (looked up again at ") for line in again)
    assert [call["call"] for call in stored.calls].count("iam:DeleteLoginProfile") == 1


def test_a_failed_write_of_a_failure_still_alerts_and_keeps_what_was_done(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    key = _backdoor_user(account)
    iam = account.iam
    event = load_event("create-user-backdoor-cli.json")
    _refuse_outcome(enforcer, AuditStatus.FAILED)
    iam_client = enforcer.executor.clients.client("iam", HOME_ACCOUNT, REGION)

    def refuse(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        error = {"Error": {"Code": "AccessDenied", "Message": "injected"}, "ResponseMetadata": {"HTTPStatusCode": 403}}
        return AWSResponse("https://iam.amazonaws.com/", 403, {}, None), error  # type: ignore[arg-type]

    # Both deny-alls refused: the quarantine fails (a refused key or password write alone is tolerated once a
    # deny-all holds, review s13 quar item 2).
    # First: ahead of conftest's emulation of the user boundary, which moto lacks.
    for operation in ("PutUserPermissionsBoundary", "PutUserPolicy", "DeleteLoginProfile"):
        iam_client.meta.events.register_first(f"before-call.iam.{operation}", refuse, unique_id=f"refuse-{operation}")

    with pytest.raises(EnforcementFailedError):
        enforcer.handle(event)

    [record] = account.audit().for_event(event["detail"]["eventID"])
    # The deny-alls go first; both refused, the quarantine still shuts what it can and names what it could not.
    assert f"deactivated access key {key}" in record.done
    assert any(line.startswith("NOT set: the deny-all permissions boundary") for line in record.done)
    assert "NOT deleted: the console password of backdoor-admin (AccessDenied)" in record.done
    [alert] = notifier.sent
    assert alert.outcome is Outcome.REMEDIATION_FAILED
    assert f"deactivated access key {key}" in alert.actions
    assert "could not record" in (alert.error or "")
    assert iam.get_login_profile(UserName="backdoor-admin")["LoginProfile"]


def test_a_failed_progress_write_does_not_stop_the_plan_and_the_outcome_records_it_all(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier
) -> None:
    key = _backdoor_user(account)
    event = load_event("create-user-backdoor-cli.json")
    refused: list[str] = []
    _refuse_outcome(enforcer, None, refused)

    result = enforcer.handle(event)

    assert result["findings"][0]["outcome"] == "remediated"
    [record] = account.audit().for_event(event["detail"]["eventID"])
    assert record.status == AuditStatus.REMEDIATED
    assert f"deactivated access key {key}" in record.done
    assert "deleted the console password of backdoor-admin" in record.done
    assert [alert.outcome for alert in notifier.sent] == [Outcome.REMEDIATED]
    # One write per line, and one for the whole earlier-sessions block (review s15 F7: never half a block).
    sessions = [line for line in record.done if line.startswith(SESSIONS)]
    assert sessions
    assert len(refused) == len(record.done) - len(sessions) + 1, "every progress write was refused"
