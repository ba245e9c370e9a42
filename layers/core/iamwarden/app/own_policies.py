"""IAM Warden's own managed policies (its remediation grants): the version its stack deployed, and a watch on it.

``iamwarden-tampered`` puts a policy's default version back to the one its stack deployed, so that version must
be known as a fact, never guessed: IAM does not say which version was the default before a change, and a
snapshot refreshed from whatever is live would record an intruder's version as the good one. So:

* the deploy records it (``record``, through the stack's ``DeploySnapshot`` custom resource, which depends on the
  policies and carries a digest of what they grant, so CloudFormation asks again whenever a grant changes);
* the heartbeat (``check``) records a policy only when no version is recorded yet (a stack deployed before this
  watch existed), and otherwise compares: a default version other than the recorded one, or a policy gone, is
  one more problem in its critical alert.

Either records a live default version only when its document is the one the template declares
(``declared_content.declared_own_policy``, generated from template.yaml): who invokes the deploy snapshot, or
writes a version before the heartbeat's first run, cannot make their own grants "the version its stack deployed".
A live document other than the declared one is a problem, never a record; an unknown declared document (a name
it needs is not configured) records nothing either.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from iamwarden.adapters.errors import error_code
from iamwarden.adapters.recorded import take_own_policy_snapshots
from iamwarden.domain.canonical import canonical
from iamwarden.domain.recorded import OWN_POLICY, Snapshot


class SnapshotRecord(Protocol):
    """The audit table's snapshots (``adapters.recorded.AuditRecorded``)."""

    def snapshot(self, kind: str, resource_arn: str) -> Snapshot | None: ...

    def put_all(self, snapshots: Iterable[Snapshot]) -> int: ...


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class OwnPolicyWatch:
    """Records the deployed default version of each own managed policy, and checks the live one against it."""

    def __init__(
        self,
        record: SnapshotRecord,
        iam: Any,
        policy_arns: Sequence[str],
        *,
        declared: Callable[[str], Any | None],
        clock: Callable[[], str] = _now,
    ) -> None:
        self.record_store = record
        self.iam = iam
        self.policy_arns = tuple(policy_arns)
        #: policy ARN -> the document the template declares for it, or None (unknown: nothing is recorded).
        self.declared = declared
        self.clock = clock

    def record(self) -> tuple[int, list[str]]:
        """At deploy: each live default version whose document is the declared one; how many were recorded, and
        what could not be (a policy gone, or a live document that is not the template's)."""
        try:
            taken = take_own_policy_snapshots(self.iam, self.policy_arns, self.clock())
        except Exception as exc:
            return 0, [self._unreadable(exc)]
        declared = [snapshot for snapshot in taken if self._undeclared(snapshot) is None]
        problems = [problem for problem in map(self._undeclared, taken) if problem is not None]
        try:
            stored = self.record_store.put_all(declared)
        except Exception as exc:
            return 0, [self._unreadable(exc)]
        missing = sorted(set(self.policy_arns) - {snapshot.resource_arn for snapshot in taken})
        return stored, [*problems, *(f"IAM Warden's policy {arn} is gone: nothing to record" for arn in missing)]

    def _undeclared(self, live: Snapshot) -> str | None:
        """Why ``live`` cannot be recorded as the deployed version (its document is not the template's), or None."""
        arn, version = live.resource_arn, live.data["default_version"]
        declared = self.declared(arn)
        if declared is None:
            return (
                f"the document IAM Warden's template declares for its policy {arn} is not known here: its default "
                f"version {version} is not recorded as the deployed one, so a restore of it only alerts"
            )
        if canonical(live.data["document"]) != canonical(declared):
            return (
                f"the default version {version} of IAM Warden's policy {arn} grants other than its template "
                "declares: not recorded as the deployed one. Redeploy the stack to put its grants back "
                f"(aws iam list-policy-versions --policy-arn {arn} shows who wrote which)"
            )
        return None

    def check(self) -> tuple[int, list[str]]:
        """Each run: the first record of a policy that has none; a problem for each default version not deployed."""
        stored, problems = 0, []
        now = self.clock()
        for arn in self.policy_arns:
            try:
                recorded = self.record_store.snapshot(OWN_POLICY, arn)
                taken = take_own_policy_snapshots(self.iam, [arn], now)
                live = taken[0] if taken else None
                if live is None:
                    problems.append(f"IAM Warden's policy {arn} (its remediation grants) is gone")
                elif recorded is None and (undeclared := self._undeclared(live)) is not None:
                    problems.append(undeclared)
                elif recorded is None or (
                    live.data["default_version"] != recorded.data.get("default_version")
                    and canonical(live.data["document"]) == canonical(recorded.data.get("document"))
                ):
                    # No record yet; or the deployed document under a new version id (a restore wrote it again
                    # after the deployed version was deleted): the same grants, recorded under the id they have now.
                    stored += self.record_store.put_all([live])
                elif live.data["default_version"] != recorded.data.get("default_version"):
                    deployed = recorded.data.get("default_version")
                    problems.append(
                        f"the default version of IAM Warden's policy {arn} is {live.data['default_version']}, not "
                        f"{deployed} as its stack deployed it (recorded {recorded.taken_at}): aws iam "
                        f"set-default-policy-version --policy-arn {arn} --version-id {deployed}"
                    )
            except Exception as exc:
                problems.append(self._unreadable(exc))
        return stored, problems

    @staticmethod
    def _unreadable(exc: Exception) -> str:
        return (
            f"IAM Warden's own managed policies cannot be read or recorded ({error_code(exc) or exc}): a restore of "
            "their default version only alerts until they are"
        )


class DeployTakers:
    """What the deploy's snapshot takes: the evasion snapshots, the own policies' deployed versions, and the own
    functions' code where none is recorded yet."""

    def __init__(self, snapshots: Any, own_policies: OwnPolicyWatch | None, functions: Any = None) -> None:
        self.snapshots = snapshots
        self.own_policies = own_policies
        #: Records each own function's code where none is recorded yet (``OwnFunctionCheck.record_first``).
        self.functions = functions

    def refresh(self) -> tuple[int, list[str]]:
        stored, problems = self.snapshots.refresh() if self.snapshots is not None else (0, [])
        for taker in (
            self.own_policies.record if self.own_policies is not None else None,
            getattr(self.functions, "record_first", None),
        ):
            if taker is not None:
                recorded, failures = taker()
                stored, problems = stored + recorded, [*problems, *failures]
        return stored, problems
