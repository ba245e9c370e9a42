"""Customer-managed policy documents from ``aws iam get-account-authorization-details`` output.

The enforcer reads a policy's document live when CloudTrail does not carry it
(``Attach*Policy``, ``SetDefaultPolicyVersion``). A backtest acts on nothing and
calls nothing, so it reads them from this snapshot instead: the documents as
they were when the snapshot was taken, not necessarily at the event's time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from iamwarden.domain.managed_documents import PolicyVersion, read_version


class AuthorizationDetailsError(ValueError):
    """The file is not authorization details output."""


class AuthorizationDetails:
    """``ManagedPolicyDocuments`` over the ``Policies`` of one or more snapshots, keyed by policy ARN."""

    def __init__(
        self,
        versions: Mapping[str, Mapping[str, PolicyVersion]],
        defaults: Mapping[str, str],
        accounts: Iterable[str] = (),
    ) -> None:
        self._versions = dict(versions)
        self._defaults = dict(defaults)
        #: The accounts the snapshots describe: only their events are judged with these documents. For
        #: another account a missing policy means "not in the snapshot", not "deleted".
        self.accounts = frozenset(accounts)

    def __len__(self) -> int:
        return len(self._versions)

    @classmethod
    def from_documents(cls, documents: Iterable[tuple[str, Any]]) -> AuthorizationDetails:
        """From (name, parsed JSON) pairs; ``AuthorizationDetailsError`` names the file and what is wrong."""
        versions: dict[str, dict[str, PolicyVersion]] = {}
        defaults: dict[str, str] = {}
        accounts: set[str] = set()
        for name, data in documents:
            policies = data.get("Policies") if isinstance(data, dict) else None
            if not isinstance(policies, list):
                raise AuthorizationDetailsError(
                    f"{name}: no 'Policies' list: not the output of aws iam get-account-authorization-details"
                )
            for index, policy in enumerate(policies):
                try:
                    arn = str(policy["Arn"])
                    accounts.update(_account(arn))
                    listed = policy.get("PolicyVersionList") or []
                    for version in listed:
                        version_id = str(version["VersionId"])
                        versions.setdefault(arn, {})[version_id] = read_version(version_id, version["Document"])
                        if version.get("IsDefaultVersion") is True:
                            defaults[arn] = version_id
                    if isinstance(policy.get("DefaultVersionId"), str):
                        defaults[arn] = policy["DefaultVersionId"]
                except (KeyError, TypeError, AttributeError, ValueError) as exc:
                    raise AuthorizationDetailsError(f"{name}: Policies[{index}] is malformed: {exc!r}") from None
            for key in ("UserDetailList", "GroupDetailList", "RoleDetailList"):
                for entity in data.get(key) or []:
                    if isinstance(entity, dict) and isinstance(entity.get("Arn"), str):
                        accounts.update(_account(entity["Arn"]))
        return cls(versions, defaults, accounts)

    @classmethod
    def from_files(cls, paths: Iterable[str | Path]) -> AuthorizationDetails:
        loaded = []
        for path in paths:
            try:
                loaded.append((str(path), json.loads(Path(path).read_text(encoding="utf-8"))))
            except OSError as exc:
                raise AuthorizationDetailsError(f"{path}: cannot read: {exc.strerror}") from None
            except ValueError as exc:
                raise AuthorizationDetailsError(f"{path}: not valid JSON: {exc}") from None
        return cls.from_documents(loaded)

    def default_version(self, account: str, policy_arn: str) -> PolicyVersion | None:
        version_id = self._defaults.get(policy_arn)
        return self.version(account, policy_arn, version_id) if version_id else None

    def version(self, account: str, policy_arn: str, version_id: str) -> PolicyVersion | None:
        return self._versions.get(policy_arn, {}).get(version_id)


def _account(arn: str) -> set[str]:
    fields = arn.split(":", 5)
    return {fields[4]} if len(fields) == 6 and fields[4].isdigit() else set()
