"""Read IAM Access Advisor (service last accessed data) for one role, completely or not at all.

boto3 has no paginator for GetServiceLastAccessedDetails, so pages are read
by hand, looping on ``IsTruncated``/``Marker``; a truncated page without a
marker, a page that fails, a job that changed between pages, a FAILED job or
data older than ``max_age`` raise ``AccessAdvisorError`` (no decision for the
role). A job still IN_PROGRESS is polled only a few times, then
``AccessAdvisorNotReady`` hands the role back to the queue, whose visibility
timeout retries it later with the same job id.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from iamwarden.adapters.errors import describe
from iamwarden.prune.domain.model import AccessReport, ServiceAccess
from iamwarden.prune.exceptions import AccessAdvisorError, AccessAdvisorNotReady

#: ListPoliciesGrantingServiceAccess takes at most 10 service namespaces per call.
_NAMESPACES_PER_CALL = 10
_MAX_PAGES = 1_000


def utcnow() -> datetime:
    return datetime.now(UTC)


class AccessAdvisor:
    """Access Advisor for one account, through an injected IAM client."""

    def __init__(
        self,
        iam: Any,
        *,
        polls: int = 3,
        poll_seconds: float = 2.0,
        max_age: timedelta = timedelta(days=1),
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._iam = iam
        self._polls = polls
        self._poll_seconds = poll_seconds
        self._max_age = max_age
        self._sleep = sleep
        self._clock = clock

    def start(self, role_arn: str) -> str:
        """Start an action-level report job; returns its id."""
        try:
            answer = self._iam.generate_service_last_accessed_details(Arn=role_arn, Granularity="ACTION_LEVEL")
        except (BotoCoreError, ClientError) as exc:
            raise AccessAdvisorError(f"cannot start an Access Advisor job for {role_arn}: {describe(exc)}") from exc
        return str(answer["JobId"])

    def report(self, role_arn: str, job_id: str) -> AccessReport:
        """The whole report of ``job_id``; raises unless it is complete, action-level and fresh."""
        page = self._page(role_arn, job_id, None)
        for _ in range(self._polls):
            if page["JobStatus"] != "IN_PROGRESS":
                break
            self._sleep(self._poll_seconds)
            page = self._page(role_arn, job_id, None)
        status = page["JobStatus"]
        if status == "IN_PROGRESS":
            raise AccessAdvisorNotReady(role_arn, job_id)
        if status == "FAILED":
            error = page.get("Error") or {}
            raise AccessAdvisorError(
                f"Access Advisor job {job_id} for {role_arn} failed: "
                f"{error.get('Code', 'unknown')}: {error.get('Message', 'no reason given')}"
            )
        if status != "COMPLETED":
            raise AccessAdvisorError(f"Access Advisor job {job_id} for {role_arn} has unknown status {status!r}")
        if page.get("JobType") != "ACTION_LEVEL":
            raise AccessAdvisorError(f"Access Advisor job {job_id} is {page.get('JobType')}, not ACTION_LEVEL")
        completed: datetime = page["JobCompletionDate"]
        age = self._clock() - completed
        if age > self._max_age:
            raise AccessAdvisorError(
                f"Access Advisor data for {role_arn} is from {completed.isoformat()}, older than {self._max_age}"
            )

        services: dict[str, ServiceAccess] = {}
        pages = 1
        while True:
            for entry in page.get("ServicesLastAccessed", []):
                service = _service(entry)
                if service.namespace in services:
                    raise AccessAdvisorError(f"Access Advisor listed service {service.namespace} twice for {role_arn}")
                services[service.namespace] = service
            if not page.get("IsTruncated"):
                break
            marker = page.get("Marker")
            if not marker:
                raise AccessAdvisorError(f"Access Advisor page {pages} for {role_arn} is truncated but has no marker")
            if pages >= _MAX_PAGES:
                raise AccessAdvisorError(f"Access Advisor returned more than {_MAX_PAGES} pages for {role_arn}")
            page = self._page(role_arn, job_id, marker)
            pages += 1
            if page["JobStatus"] != "COMPLETED" or page.get("JobCompletionDate") != completed:
                raise AccessAdvisorError(f"Access Advisor job {job_id} changed while its pages were read")
        return AccessReport(role_arn, job_id, completed, services)

    def policies_granting(self, role_arn: str, namespaces: Iterable[str]) -> dict[str, frozenset[str]]:
        """Service namespace -> keys (``inline:NAME`` or ARN) of the role's policies that grant it."""
        wanted = sorted(set(namespaces))
        granting: dict[str, set[str]] = {namespace: set() for namespace in wanted}
        for start in range(0, len(wanted), _NAMESPACES_PER_CALL):
            chunk = wanted[start : start + _NAMESPACES_PER_CALL]
            marker: str | None = None
            for _ in range(_MAX_PAGES):
                request: dict[str, Any] = {"Arn": role_arn, "ServiceNamespaces": chunk}
                if marker:
                    request["Marker"] = marker
                try:
                    page = self._iam.list_policies_granting_service_access(**request)
                except (BotoCoreError, ClientError) as exc:
                    raise AccessAdvisorError(
                        f"cannot list the policies granting {chunk} to {role_arn}: {describe(exc)}"
                    ) from exc
                for entry in page.get("PoliciesGrantingServiceAccess", []):
                    keys = granting.setdefault(entry["ServiceNamespace"], set())
                    for policy in entry.get("Policies", []):
                        keys.add(_policy_key(policy))
                if not page.get("IsTruncated"):
                    break
                marker = page.get("Marker")
                if not marker:
                    raise AccessAdvisorError(f"a truncated policies-granting page for {role_arn} has no marker")
            else:
                raise AccessAdvisorError(f"more than {_MAX_PAGES} policies-granting pages for {role_arn}")
        return {namespace: frozenset(keys) for namespace, keys in granting.items()}

    def _page(self, role_arn: str, job_id: str, marker: str | None) -> Mapping[str, Any]:
        request: dict[str, Any] = {"JobId": job_id}
        if marker:
            request["Marker"] = marker
        try:
            page: Mapping[str, Any] = self._iam.get_service_last_accessed_details(**request)
        except (BotoCoreError, ClientError) as exc:
            where = f"page after marker {marker!r}" if marker else "first page"
            raise AccessAdvisorError(
                f"cannot read the {where} of Access Advisor job {job_id} for {role_arn}: {describe(exc)}"
            ) from exc
        return page


def _service(entry: Mapping[str, Any]) -> ServiceAccess:
    namespace = str(entry["ServiceNamespace"]).lower()
    tracked_entries = entry.get("TrackedActionsLastAccessed")
    tracked: dict[str, datetime | None] | None = None
    if tracked_entries is not None:
        tracked = {}
        for action in tracked_entries:
            name = str(action.get("ActionName", "")).rpartition(":")[2].lower()
            if name:
                tracked[f"{namespace}:{name}"] = action.get("LastAccessedTime")
    return ServiceAccess(
        namespace=namespace,
        name=str(entry.get("ServiceName", namespace)),
        last_authenticated=entry.get("LastAuthenticated"),
        tracked_actions=tracked,
    )


def _policy_key(policy: Mapping[str, Any]) -> str:
    if policy.get("PolicyType") == "MANAGED" and policy.get("PolicyArn"):
        return str(policy["PolicyArn"])
    return f"inline:{policy['PolicyName']}"
