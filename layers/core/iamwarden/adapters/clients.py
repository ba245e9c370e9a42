"""One factory for every AWS client, keyed by account and region.

All clients share one botocore configuration (adaptive retries), so throttling
in a busy account slows IAM Warden down instead of failing it. The account the
code runs in is reached with its own credentials; any other managed account by
assuming ``member_role_name`` there. Clients are cached per account and region,
and assumed-role sessions are refreshed before their credentials expire.

``CallLog`` rides on botocore's event hooks, so the audit trail lists every API
call actually made (and a benchmark can count them) without wrapping clients.
"""

import os
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Literal, NamedTuple

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from iamwarden.adapters.errors import NO_REGION, classify, response_error_code
from iamwarden.domain.arns import partition_of
from iamwarden.domain.exceptions import AwsAccessError, ConfigurationError
from iamwarden.domain.own import MEMBER_SESSION

#: What a botocore call raises (an error answer, or no answer at all). The app layers catch these
#: through this name: only the adapters import the SDK.
AWS_ERRORS: tuple[type[Exception], ...] = (BotoCoreError, ClientError)

#: Retries shared by every client (botocore's adaptive mode adds client-side rate limiting).
RETRY_MODE: Literal["adaptive"] = "adaptive"
MAX_ATTEMPTS = 8
#: Assumed-role credentials are renewed this long before they expire.
_REFRESH_MARGIN_SECONDS = 300
_SESSION_SECONDS = 3600
#: sts:AssumeRoot sessions last at most 900 seconds (15 minutes).
_ROOT_SESSION_SECONDS = 900


def retry_config(*, max_attempts: int = MAX_ATTEMPTS, **overrides: Any) -> Any:
    """The one botocore ``Config`` every IAM Warden client uses (fewer attempts where a slow answer costs more than
    a missed one: the heartbeat's Block Public Access reads)."""
    return Config(
        retries={"mode": RETRY_MODE, "max_attempts": max_attempts},
        user_agent_extra="iamwarden",
        **overrides,
    )


#: API operations whose IAM action has another name, keyed by (service, operation). S3's bucket-level
#: and S3 Control's account-level Get/Put/DeletePublicAccessBlock share operation names (and the
#: signing name "s3") but are authorised by different actions; deleting is authorised by Put.
_IAM_ACTIONS_BY_OPERATION = {
    ("s3", "GetPublicAccessBlock"): "s3:GetBucketPublicAccessBlock",
    ("s3", "PutPublicAccessBlock"): "s3:PutBucketPublicAccessBlock",
    ("s3", "DeletePublicAccessBlock"): "s3:PutBucketPublicAccessBlock",
    ("s3control", "GetPublicAccessBlock"): "s3:GetAccountPublicAccessBlock",
    ("s3control", "PutPublicAccessBlock"): "s3:PutAccountPublicAccessBlock",
    ("s3control", "DeletePublicAccessBlock"): "s3:PutAccountPublicAccessBlock",
    ("s3", "ListBuckets"): "s3:ListAllMyBuckets",  # the heartbeat lists the buckets whose Block Public Access it reads
    ("s3", "HeadBucket"): "s3:ListBucket",  # S3 API reference, HeadBucket: "permissions ... s3:ListBucket action"
    ("lambda", "Invoke"): "lambda:InvokeFunction",  # the Slack endpoint hands an undo to the enforcer
}


#: Services whose SigV4 signing name is not their IAM action prefix (CloudWatch signs as "monitoring").
_IAM_PREFIX_BY_SIGNING_NAME = {"monitoring": "cloudwatch"}


def iam_action_of(service_model: Any, operation: str) -> str:
    """The IAM action that authorises ``operation`` of a botocore service model (``s3:PutBucketAcl``)."""
    # The SigV4 signing name is the IAM action prefix for every service IAM Warden calls, but CloudWatch's.
    prefix = service_model.signing_name or service_model.service_name
    prefix = _IAM_PREFIX_BY_SIGNING_NAME.get(prefix, prefix)
    return _IAM_ACTIONS_BY_OPERATION.get((service_model.service_name, operation), f"{prefix}:{operation}")


def aws_session(region: str | None = None) -> boto3.Session:
    """A boto3 session over the caller's own credentials (the CLI's ``--region``, or the environment's)."""
    return boto3.Session(region_name=region)


def operator_session(region: str | None) -> boto3.Session:
    """The operator's session in ``--region`` or the profile's region; never a silent us-east-1."""
    session = aws_session(region or os.environ.get("AWS_REGION") or None)  # boto3 reads only AWS_DEFAULT_REGION
    if not session.region_name:
        raise ConfigurationError(NO_REGION)
    return session


class ApiCall(NamedTuple):
    """One AWS API call as the audit trail records it."""

    service: str
    operation: str
    account: str
    region: str
    ok: bool
    error_code: str | None = None

    @property
    def iam_action(self) -> str:
        """The IAM action this call needs (``iam:DeleteUserPolicy``)."""
        return f"{self.service}:{self.operation}"

    @property
    def writes(self) -> bool:
        return not self.operation.startswith(("Get", "List", "Describe", "Head"))

    def to_dict(self) -> dict[str, Any]:
        return {
            "call": self.iam_action,
            "account": self.account,
            "region": self.region,
            "ok": self.ok,
            **({"error": self.error_code} if self.error_code else {}),
        }


class CallLog:
    """Collects the API calls made while it is active (thread-local, nestable)."""

    def __init__(self) -> None:
        self._local = threading.local()

    @contextmanager
    def recording(self) -> Iterator[list[ApiCall]]:
        calls: list[ApiCall] = []
        stack: list[list[ApiCall]] = self._stack()
        stack.append(calls)
        try:
            yield calls
        finally:
            stack.pop()

    def _stack(self) -> list[list[ApiCall]]:
        stack = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    def attach(self, client: Any, account: str, region: str) -> None:
        """Register on ``client``'s event hooks; every completed call is appended to the active logs."""
        service_model = client.meta.service_model

        def after_call(http_response: Any, parsed: Any, model: Any, **_: Any) -> None:
            stack = self._stack()
            if not stack:
                return
            error = response_error_code(parsed)
            ok = http_response is not None and http_response.status_code < 300
            prefix, operation = iam_action_of(service_model, model.name).split(":", 1)
            call = ApiCall(prefix, operation, account, region, ok, None if ok else str(error or "Unknown"))
            for calls in stack:
                calls.append(call)

        client.meta.events.register("after-call.*.*", after_call)


class _Credentials(NamedTuple):
    session: boto3.Session
    expires_at: float


class ClientFactory:
    """Clients for the account IAM Warden runs in and, through ``member_role_name``, for others."""

    def __init__(
        self,
        home_account: str | None = None,
        member_role_name: str = "iamwarden-remediator",
        *,
        session: boto3.Session | None = None,
        call_log: CallLog | None = None,
        session_name: str = MEMBER_SESSION,
    ) -> None:
        self._home_account = home_account
        self.member_role_name = member_role_name
        self._session = session
        self.call_log = call_log or CallLog()
        self._session_name = session_name
        self._clients: dict[tuple[str, str, str, bool, tuple[tuple[str, int], ...]], Any] = {}
        self._sessions: dict[str, _Credentials] = {}
        self._root_clients: dict[tuple[str, str, str, str], tuple[Any, float]] = {}
        self._lock = threading.Lock()

    @property
    def session(self) -> boto3.Session:
        if self._session is None:
            self._session = boto3.Session()
        return self._session

    @property
    def home_account(self) -> str:
        """The account these credentials belong to (asked of STS once when not given)."""
        if self._home_account is None:
            try:
                identity = self.session.client("sts", config=retry_config()).get_caller_identity()
            except (BotoCoreError, ClientError) as exc:
                raise AwsAccessError(f"cannot tell which account these credentials belong to: {classify(exc)}") from exc
            self._home_account = str(identity["Account"])
        return self._home_account

    def client(
        self, service: str, account: str, region: str, *, logged: bool = True, timeouts: Mapping[str, int] | None = None
    ) -> Any:
        """A client for ``service`` acting in ``account`` and ``region``; ``logged`` calls go to ``call_log``.
        ``timeouts``: ``retry_config`` overrides (``max_attempts``, ``connect_timeout``, ``read_timeout``); None: the
        house's retries. Clients are kept by the overrides' values, so equal ones share a client whatever object
        holds them (review bpamember-s14 F7: never by an object's ``id``, which is reused once it is freed)."""
        overrides = tuple(sorted((timeouts or {}).items()))
        key = (service, account, region, logged, overrides)
        with self._lock:
            session = self._session_for(account, region)
            cached = self._clients.get(key)
            if cached is not None and cached[0] is session:
                return cached[1]
            client = session.client(  # type: ignore[call-overload]
                service, region_name=region, config=retry_config(**dict(overrides))
            )
            if logged:
                self.call_log.attach(client, account, region)
            self._clients[key] = (session, client)
            return client

    def renew_session(self, account: str) -> None:
        """Drop ``account``'s member-role session, so the next client assumes the role afresh (its clients follow the
        session); nothing for the home account, whose credentials are the function's own."""
        with self._lock:
            self._sessions.pop(account, None)

    def home_client(self, service: str, region: str | None = None) -> Any:
        """A client for IAM Warden's own resources (audit table, queues, topics, parameters).

        Its calls are not in ``call_log``: the audit trail lists the calls made to customer resources.
        """
        return self.client(service, self.home_account, region or self.session.region_name or "us-east-1", logged=False)

    def root_task_client(self, service: str, account: str, region: str, task_policy_arn: str) -> Any:
        """A ``service`` client acting as ``account``'s root user, limited to the root task ``task_policy_arn``.

        AWS Organizations centralized root access: ``sts:AssumeRoot`` from this (the management or delegated
        administrator) account's credentials, at the regional STS endpoint (AssumeRoot has no global one),
        for at most 900 seconds. The session is kept for its lifetime, so capture and apply share it; its
        calls, AssumeRoot's too, go to ``call_log``.
        """
        key = (service, account, region, task_policy_arn)
        with self._lock:
            cached = self._root_clients.get(key)
            if cached is not None and cached[1] - _REFRESH_MARGIN_SECONDS > time.time():
                return cached[0]
        sts = self.client("sts", self.home_account, region)
        try:
            answer = sts.assume_root(
                TargetPrincipal=account, TaskPolicyArn={"arn": task_policy_arn}, DurationSeconds=_ROOT_SESSION_SECONDS
            )
        except (BotoCoreError, ClientError) as exc:
            raise AwsAccessError(
                f"cannot start a root session in account {account} (sts:AssumeRoot with {task_policy_arn}): "
                f"{classify(exc)}"
            ) from exc
        credentials = answer["Credentials"]
        session = self.session_with(credentials, region)
        client = session.client(service, region_name=region, config=retry_config())  # type: ignore[call-overload]
        self.call_log.attach(client, account, region)
        with self._lock:
            self._root_clients[key] = (client, credentials["Expiration"].timestamp())
        return client

    @staticmethod
    def session_with(credentials: Mapping[str, Any], region: str) -> boto3.Session:
        """A session with temporary credentials as STS returns them."""
        return boto3.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=region,
        )

    def member_role_arn(self, account: str, region: str) -> str:
        return f"arn:{partition_of(region)}:iam::{account}:role/{self.member_role_name}"

    def _session_for(self, account: str, region: str) -> boto3.Session:
        if account == self.home_account:
            return self.session
        cached = self._sessions.get(account)
        if cached is not None and cached.expires_at - _REFRESH_MARGIN_SECONDS > time.time():
            return cached.session
        role_arn = self.member_role_arn(account, region)
        sts = self.session.client("sts", region_name=region, config=retry_config())
        try:
            answer = sts.assume_role(
                RoleArn=role_arn, RoleSessionName=self._session_name, DurationSeconds=_SESSION_SECONDS
            )
        except (BotoCoreError, ClientError) as exc:
            raise AwsAccessError(f"cannot assume {role_arn} to act in account {account}: {classify(exc)}") from exc
        credentials = answer["Credentials"]
        session = self.session_with(credentials, region)
        self._sessions[account] = _Credentials(session, credentials["Expiration"].timestamp())
        return session
