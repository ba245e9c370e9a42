"""Read what ``aws iam get-account-authorization-details`` prints into a ``RoleDirectory``.

That JSON (the input cloudsplaining and PMapper consume) holds every user, group,
role and managed policy of an account: ``UserDetailList`` (``UserPolicyList``,
``GroupList``, ``AttachedManagedPolicies``, ``PermissionsBoundary``),
``GroupDetailList`` (``GroupPolicyList``, ``AttachedManagedPolicies``),
``RoleDetailList`` (``RolePolicyList``, ``AttachedManagedPolicies``,
``PermissionsBoundary``, ``InstanceProfileList``, ``AssumeRolePolicyDocument``: the
trust policy) and ``Policies`` (each with its
``PolicyVersionList``, one ``IsDefaultVersion``). The shape is the AWS CLI's
(awscli ``examples/iam/get-account-authorization-details.rst``); documents may be
objects (the CLI decodes them) or URL-encoded strings (the raw API). Pages
concatenated as a JSON list are merged.

``iamwarden evaluate --authorization-details FILE`` judges events with it. A group's members are the
users whose ``GroupList`` names it (the file lists every user of the account). Pure:
a malformed file is one ``AuthorizationDetailsError`` naming the bad field.
A principal that references a managed policy or group the file lacks is known
to exist but its policy set is unknown (None), never guessed without it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from iamwarden.domain.directory import PrincipalKey, StaticDirectory, group_source, inline_source
from iamwarden.domain.events import json_type_name
from iamwarden.domain.exceptions import IamWardenError, InvalidEventError
from iamwarden.domain.held_texts import parsed_readings
from iamwarden.domain.managed_documents import PolicyVersion, read_version
from iamwarden.domain.policy import Policy, parse_policy
from iamwarden.domain.principals import NamedPolicy, PrincipalPolicies

_LISTS = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")


class AuthorizationDetailsError(IamWardenError):
    """The input is not the JSON ``get-account-authorization-details`` prints; the message says where."""


def load_authorization_details(content: bytes | str) -> StaticDirectory:
    """Parse the JSON text; ``AuthorizationDetailsError`` if it is not authorization details."""
    try:
        data = json.loads(content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise AuthorizationDetailsError(f"not JSON: {exc}") from exc
    return authorization_details_directory(data)


def authorization_details_directory(data: Any) -> StaticDirectory:
    """The directory of everything the (already decoded) authorization details describe."""
    pages = data if isinstance(data, list) else [data]
    merged: dict[str, list[Any]] = {name: [] for name in _LISTS}
    for number, page in enumerate(pages):
        where = f"page {number}" if isinstance(data, list) else "the top level"
        if not isinstance(page, dict):
            raise AuthorizationDetailsError(f"{where} must be an object, got {json_type_name(page)}")
        if not any(name in page for name in _LISTS):
            raise AuthorizationDetailsError(f"{where} has none of {', '.join(_LISTS)}")
        for name in _LISTS:
            items = page.get(name, [])
            if not isinstance(items, list):
                raise AuthorizationDetailsError(f"{name} must be a list, got {json_type_name(items)}")
            merged[name].extend(items)
    return _Reader(merged).directory()


class _Reader:
    def __init__(self, lists: Mapping[str, list[Any]]) -> None:
        self.lists = lists
        #: policy ARN -> its default version's document, parsed
        self.managed: dict[str, Policy] = {}
        #: policy ARN -> the other readings of its default version's text (``held_readings``), when it has some
        self.managed_readings: dict[str, tuple[Policy, ...]] = {}
        #: policy ARN -> (default version id, version id -> version)
        self.versions: dict[str, tuple[str, dict[str, PolicyVersion]]] = {}
        for index, item in enumerate(lists["Policies"]):
            where = f"Policies[{index}]"
            arn = _text(item, "Arn", where)
            self.managed[arn] = self._versions(item, arn, f"{where} ({arn})")

    def directory(self) -> StaticDirectory:
        principals: dict[PrincipalKey, PrincipalPolicies | None] = {}
        groups: dict[tuple[str, str], tuple[NamedPolicy, ...] | None] = {}
        group_arns: dict[tuple[str, str], str] = {}
        for index, item in enumerate(self.lists["GroupDetailList"]):
            where = f"GroupDetailList[{index}]"
            arn, key = self._key(item, where)
            policies = self._policies(item, key.name, "GroupPolicyList", where)
            groups[(key.account, key.name)] = policies
            group_arns[(key.account, key.name)] = arn
            principals[key] = None if policies is None else PrincipalPolicies(arn, policies)
        roles: dict[str, list[str]] = {}
        behind: dict[str, list[str]] = {}
        for index, item in enumerate(self.lists["RoleDetailList"]):
            where = f"RoleDetailList[{index}]"
            arn, key = self._key(item, where)
            roles.setdefault(key.account, []).append(arn)
            profiles = item.get("InstanceProfileList", [])
            if not isinstance(profiles, list):
                raise AuthorizationDetailsError(f"{where}.InstanceProfileList must be a list")
            profile_arns = [
                _text(profile, "Arn", f"{where}.InstanceProfileList[{number}]")
                for number, profile in enumerate(profiles)
            ]
            for profile_arn in profile_arns:
                behind.setdefault(profile_arn, []).append(arn)
            role = self._principal(item, arn, key, "RolePolicyList", where)
            principals[key] = (
                None
                if role is None
                else role._replace(trust=_trust(item, where), instance_profiles=tuple(profile_arns))
            )
        members: dict[PrincipalKey, list[str]] = {
            PrincipalKey((account, "group", name)): [] for account, name in groups
        }
        for index, item in enumerate(self.lists["UserDetailList"]):
            where = f"UserDetailList[{index}]"
            arn, key = self._key(item, where)
            names = item.get("GroupList", [])
            if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
                raise AuthorizationDetailsError(f"{where}.GroupList must be a list of group names")
            for group in names:
                members.setdefault(PrincipalKey((key.account, "group", group)), []).append(arn)
            through: list[NamedPolicy] | None = []
            for group in names:
                held = groups.get((key.account, group))
                if held is None or through is None:
                    through = None  # a group the file lacks, or one whose policies are unknown
                    continue
                through.extend(named._replace(source=group_source(group, named.source)) for named in held)
            if through is None:
                principals[key] = None
                continue
            user = self._principal(item, arn, key, "UserPolicyList", where, through_groups=tuple(through))
            # Its groups by ARN, also those without policies (a group a role may write a policy on).
            partition = arn.split(":", 2)[1]
            in_groups = tuple(
                group_arns.get((key.account, group), f"arn:{partition}:iam::{key.account}:group/{group}")
                for group in names
            )
            principals[key] = None if user is None else user._replace(groups=in_groups)
        attachments: dict[str, list[str]] = {}
        for name in ("GroupDetailList", "RoleDetailList", "UserDetailList"):
            for index, item in enumerate(self.lists[name]):
                attached = item.get("AttachedManagedPolicies", [])
                if not isinstance(attached, list):
                    raise AuthorizationDetailsError(f"{name}[{index}].AttachedManagedPolicies must be a list")
                for number, entry in enumerate(attached):
                    where = f"{name}[{index}].AttachedManagedPolicies[{number}]"
                    attachments.setdefault(_text(entry, "PolicyArn", where), []).append(item["Arn"])
        return StaticDirectory(
            principals,
            roles=roles,
            behind=behind,
            attachments=attachments,
            versions=self.versions,
            members=members,
        )

    def _principal(
        self,
        item: Mapping[str, Any],
        arn: str,
        key: PrincipalKey,
        inline_list: str,
        where: str,
        *,
        through_groups: tuple[NamedPolicy, ...] = (),
    ) -> PrincipalPolicies | None:
        policies = self._policies(item, key.name, inline_list, where)
        if policies is None:
            return None
        boundary: Policy | None = None
        boundary_arn: str | None = None
        limit = item.get("PermissionsBoundary")
        if limit is not None:
            boundary_arn = _text(limit, "PermissionsBoundaryArn", f"{where}.PermissionsBoundary")
            boundary = self.managed.get(boundary_arn)
            if boundary is None:
                return None
        return PrincipalPolicies(
            arn,
            policies + through_groups,
            boundary,
            boundary_arn=boundary_arn,
            boundary_readings=self.managed_readings.get(boundary_arn or "", ()),
        )

    def _policies(
        self, item: Mapping[str, Any], principal: str, inline_list: str, where: str
    ) -> tuple[NamedPolicy, ...] | None:
        """The inline and attached policies of one entry; None if an attached policy is not in the file."""
        found: list[NamedPolicy] = []
        inline = item.get(inline_list, [])
        if not isinstance(inline, list):
            raise AuthorizationDetailsError(f"{where}.{inline_list} must be a list")
        for index, entry in enumerate(inline):
            at = f"{where}.{inline_list}[{index}]"
            name = _text(entry, "PolicyName", at)
            document = _document(entry, "PolicyDocument", at)
            readings = parsed_readings(entry.get("PolicyDocument"), f"{at}.PolicyDocument")
            found.append(NamedPolicy(inline_source(principal, name), document, readings))
        attached = item.get("AttachedManagedPolicies", [])
        if not isinstance(attached, list):
            raise AuthorizationDetailsError(f"{where}.AttachedManagedPolicies must be a list")
        complete = True
        for index, entry in enumerate(attached):
            policy_arn = _text(entry, "PolicyArn", f"{where}.AttachedManagedPolicies[{index}]")
            policy = self.managed.get(policy_arn)
            if policy is None:
                complete = False
                continue
            found.append(NamedPolicy(policy_arn, policy, self.managed_readings.get(policy_arn, ())))
        return tuple(found) if complete else None

    def _key(self, item: Any, where: str) -> tuple[str, PrincipalKey]:
        arn = _text(item, "Arn", where)
        key = PrincipalKey.of(arn)
        if key is None:
            raise AuthorizationDetailsError(f"{where}.Arn is not an IAM role, user or group ARN: {arn!r}")
        return arn, key

    def _versions(self, item: Mapping[str, Any], arn: str, where: str) -> Policy:
        """Every version of a managed policy (kept for ``ManagedPolicyDocuments``); the default one, parsed."""
        versions = item.get("PolicyVersionList")
        if not isinstance(versions, list):
            raise AuthorizationDetailsError(f"{where}.PolicyVersionList must be a list")
        default: Policy | None = None
        default_id = ""
        documents: dict[str, PolicyVersion] = {}
        for index, version in enumerate(versions):
            at = f"{where}.PolicyVersionList[{index}]"
            version_id = _text(version, "VersionId", at)
            parsed = _document(version, "Document", at)
            raw = version.get("Document")
            # The file's text keeps a key named twice (``read_version``: every reading); a decoded one has one.
            documents[version_id] = (
                read_version(version_id, raw)._replace(document=parsed.raw)
                if isinstance(raw, str)
                else PolicyVersion(version_id, parsed.raw)
            )
            if version.get("IsDefaultVersion") is True:
                if default is not None:
                    raise AuthorizationDetailsError(f"{where} must have exactly one version with IsDefaultVersion true")
                default, default_id = parsed, version_id
                readings = parsed_readings(raw, f"{at}.Document")
                if readings:
                    self.managed_readings[arn] = readings
        if default is None:
            raise AuthorizationDetailsError(f"{where} must have exactly one version with IsDefaultVersion true")
        self.versions[arn] = (default_id, documents)
        return default


def _trust(item: Mapping[str, Any], where: str) -> Policy | None:
    """A role's trust policy (``AssumeRolePolicyDocument``); ``None`` when the file leaves it out."""
    if item.get("AssumeRolePolicyDocument") is None:
        return None
    return _document(item, "AssumeRolePolicyDocument", where)


def _text(item: Any, key: str, where: str) -> str:
    if not isinstance(item, dict):
        raise AuthorizationDetailsError(f"{where} must be an object, got {json_type_name(item)}")
    value = item.get(key)
    if not isinstance(value, str) or not value:
        raise AuthorizationDetailsError(f"{where}.{key} must be a non-empty string")
    return value


def _document(item: Mapping[str, Any], key: str, where: str) -> Policy:
    raw = item.get(key)
    try:
        document = json.loads(unquote(raw)) if isinstance(raw, str) else raw
    except ValueError as exc:
        raise AuthorizationDetailsError(f"{where}.{key} is not a JSON policy document") from exc
    if not isinstance(document, dict):
        raise AuthorizationDetailsError(f"{where}.{key} must be a policy document, got {json_type_name(document)}")
    try:
        return parse_policy(document, field=f"{where}.{key}")
    except InvalidEventError as exc:
        raise AuthorizationDetailsError(str(exc)) from exc


__all__ = ["AuthorizationDetailsError", "authorization_details_directory", "load_authorization_details"]
