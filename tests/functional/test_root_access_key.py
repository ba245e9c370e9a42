"""Issue 14 item 7: a root access key, deleted through AWS Organizations centralized root access.

moto has no ``sts:AssumeRoot`` and no root user keys, so those calls are answered by botocore's Stubber (which
checks every request and response against the real service model); everything else (SSM settings, the audit
table, the alerts) is the moto account the other functional tests use. The record is the CloudTrail shape of
panther-analysis' ``aws_root_access_key_created`` tests (``events/create-access-key-root.json``).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from iamwarden.adapters.clients import ClientFactory
from iamwarden.app.service import EnforcementFailedError, EnforcerService
from iamwarden.domain.exceptions import UndoError
from iamwarden.domain.findings import Outcome, StepAction
from tests.aws_fixtures import HOME_ACCOUNT, REGION
from tests.conftest import load_event
from tests.functional.conftest import Account, RecordingNotifier

ROOT_KEY = "AKIAIOSFODNN7ROOTKEY"
OLD_KEY = "AKIAIOSFODNN7ROOTOLD"
TASK = "arn:aws:iam::aws:policy/root-task/IAMDeleteRootUserCredentials"


def _root_credentials() -> dict[str, Any]:
    """A root session as AssumeRoot answers it, valid 15 minutes from now: dated when the test runs, not when the
    module was collected (a slow suite would otherwise hand out a session past its refresh margin, asked again)."""
    return {
        "AccessKeyId": "ASIAIOSFODNN7EXAMPLE",
        "SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY",
        "SessionToken": "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQW",
        "Expiration": datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=15),
    }


class RootSession:
    """Answers sts:AssumeRoot on the enforcer's own STS client and the root session's IAM calls, with Stubber."""

    def __init__(self, enforcer: EnforcerService, monkeypatch: pytest.MonkeyPatch) -> None:
        factory = enforcer.executor.clients
        self.sts = Stubber(factory.client("sts", HOME_ACCOUNT, REGION))
        self.iam: Stubber | None = None
        self.iam_answers: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
        self.sessions: list[dict[str, Any]] = []
        self.credentials = _root_credentials()
        monkeypatch.setattr(ClientFactory, "session_with", staticmethod(self._session_with))

    def _session_with(self, credentials: Any, region: str) -> boto3.Session:
        self.sessions.append(dict(credentials))
        session = boto3.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=region,
        )
        create = session.client

        def client(*args: Any, **kwargs: Any) -> Any:
            made = create(*args, **kwargs)
            self.iam = Stubber(made)
            for operation, response, expected in self.iam_answers:
                self.iam.add_response(operation, response, expected)
            self.iam.activate()
            return made

        session.client = client  # type: ignore[method-assign]
        return session

    def assume_root(self) -> None:
        self.sts.add_response(
            "assume_root",
            {"Credentials": self.credentials},
            {"TargetPrincipal": HOME_ACCOUNT, "TaskPolicyArn": {"arn": TASK}, "DurationSeconds": 900},
        )
        self.sts.activate()

    def root_keys(self, *keys: str) -> None:
        created = datetime.datetime.now(datetime.UTC)
        metadata = [{"AccessKeyId": key, "Status": "Active", "CreateDate": created} for key in keys]
        self.iam_answers.append(("list_access_keys", {"AccessKeyMetadata": metadata, "IsTruncated": False}, {}))

    def deleted(self, key: str) -> None:
        self.iam_answers.append(("delete_access_key", {}, {"AccessKeyId": key}))

    def assert_all_answered(self) -> None:
        self.sts.assert_no_pending_responses()
        assert self.iam is not None
        self.iam.assert_no_pending_responses()


@pytest.fixture
def root(enforcer: EnforcerService, monkeypatch: pytest.MonkeyPatch) -> Iterator[RootSession]:
    session = RootSession(enforcer, monkeypatch)
    yield session
    session.sts.deactivate()


def _remediating(account: Account) -> None:
    account.set("rules/root-access-key-created/mode", "remediate")
    account.set("root_credentials_remediation", "on")


def test_the_new_root_key_is_deleted_through_assume_root_and_undo_says_it_cannot_come_back(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, root: RootSession
) -> None:
    _remediating(account)
    root.assume_root()
    root.root_keys(OLD_KEY, ROOT_KEY)
    root.deleted(ROOT_KEY)

    [finding] = enforcer.handle(load_event("create-access-key-root.json"))["findings"]

    assert (finding["rule"], finding["outcome"]) == ("root-access-key-created", "remediated")
    assert finding["done"] == [f"deleted root access key {ROOT_KEY} of account {HOME_ACCOUNT} (through sts:AssumeRoot)"]
    root.assert_all_answered()  # one AssumeRoot for capture and apply; only the new key deleted, the old one kept
    assert root.sessions == [root.credentials]
    record = account.audit().get(finding["remediation_id"])
    assert record is not None
    assert list(record.before) == [{"status": "Active", "root_keys": sorted([OLD_KEY, ROOT_KEY])}]
    calls = [call["call"] for call in record.calls]
    assert calls == ["sts:AssumeRoot", "iam:ListAccessKeys", "iam:DeleteAccessKey"]
    assert calls == list(StepAction.DELETE_ROOT_ACCESS_KEY.permissions)  # declared exactly, each one used
    [alert] = notifier.sent
    assert (alert.outcome, alert.finding.severity.value if alert.finding else None) == (Outcome.REMEDIATED, "critical")

    with pytest.raises(UndoError, match="cannot be undone"):
        enforcer.executor.undo(finding["remediation_id"])


def test_a_root_key_deleted_since_is_done_without_a_write(
    account: Account, enforcer: EnforcerService, root: RootSession
) -> None:
    _remediating(account)
    root.assume_root()
    root.root_keys(OLD_KEY)

    [finding] = enforcer.handle(load_event("create-access-key-root.json"))["findings"]

    assert (finding["outcome"], finding["done"]) == ("remediated", [])
    root.assert_all_answered()


def test_assume_root_refused_fails_the_remediation_and_the_alert_says_what_to_do_by_hand(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, root: RootSession
) -> None:
    _remediating(account)
    root.sts.add_client_error(
        "assume_root", "AccessDenied", "not authorized to perform: sts:AssumeRoot", 403, expected_params=None
    )
    root.sts.activate()

    with pytest.raises(EnforcementFailedError, match="cannot start a root session"):
        enforcer.handle(load_event("create-access-key-root.json"))

    [alert] = notifier.sent
    assert alert.outcome is Outcome.REMEDIATION_FAILED
    assert alert.finding is not None
    assert "aws sts assume-root --region us-east-1 --target-principal 111122223333" in alert.finding.reason
    assert f"aws iam delete-access-key --access-key-id {ROOT_KEY}" in alert.finding.reason


def test_with_the_setting_off_the_root_key_is_only_alerted(
    account: Account, enforcer: EnforcerService, notifier: RecordingNotifier, root: RootSession
) -> None:
    account.set("rules/root-access-key-created/mode", "remediate")

    [finding] = enforcer.handle(load_event("create-access-key-root.json"))["findings"]

    assert (finding["rule"], finding["done"]) == ("root-access-key-created", [])
    assert root.sessions == []  # no AssumeRoot was even tried
    [alert] = notifier.sent
    assert alert.finding is not None
    assert "root_credentials_remediation is off" in alert.finding.reason
    assert alert.finding.plan == ()
