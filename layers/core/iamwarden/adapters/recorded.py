"""IAM Warden's own record, read for the judgement: its remediations, and its last-known-good snapshots.

* ``AuditRecorded`` implements ``domain.recorded.Recorded`` over the audit table: remediations from the
  ``by-resource`` index, snapshots from one item per resource (``snapshot#<kind>#<resource ARN>``, no index
  keys, like the breaker's ``breaker#`` items), so nothing new is deployed.
* ``take_trail_snapshots`` reads every trail whose home is this account and region and returns a
  snapshot of each trail that is in a good state (logging, management events read and written); a trail
  in a bad state is never snapshotted, so a restore can never put a bad state back. ``trail_home_regions``
  names the other regions this account's multi-region trails are homed in, whose trails the heartbeat takes
  there the same way.
* ``take_boundary_snapshots`` does the same for the permissions boundaries of an account's roles and users
  (``GetAccountAuthorizationDetails``, which returns them; ``ListRoles`` does not).
* ``take_trust_snapshots``: every role's trust policy (the same authorization details: the heartbeat reads them
  once, ``read_authorization_details``, and hands them to both), which an
  ``UpdateAssumeRolePolicy`` event never shows as it was (``privilege-escalation`` restores it from there).
* ``take_attachment_snapshots``: what every role, user and group holds attached and every user's groups (the same
  authorization details): an attach or ``AddUserToGroup`` of what is there already succeeds, and only a record from
  before it says that it added nothing (``guardrails.attachments``).
* ``take_identity_provider_snapshots``: every OIDC provider's client ids and thumbprints and every SAML provider's
  metadata document, which an update's event never shows as they were.

The heartbeat (issue 15 item 2) refreshes them: per managed account and region, with the member role,
``store.put_all(take_trail_snapshots(clients.client("cloudtrail"), account, region, now))`` and, in the IAM
region, ``store.put_all(take_boundary_snapshots(clients.iam, account, now))``. The deploy takes the first ones
the same way (``app.deploy_snapshot``: the stack's custom resource, answered by the heartbeat function); until
a snapshot exists, restores that need one say so and only alert.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import unquote

from botocore.exceptions import BotoCoreError, ClientError

from iamwarden.adapters.audit import AuditLog, AuditStatus
from iamwarden.adapters.errors import describe, error_code, is_gone
from iamwarden.domain.arns import iam_arn
from iamwarden.domain.detection import (
    customer_managed,
    detector_is_good,
    detector_snapshot_data,
    recorder_is_good,
    recorder_snapshot_data,
)
from iamwarden.domain.exceptions import AuditError
from iamwarden.domain.managed_documents import decoded
from iamwarden.domain.recorded import (
    ATTACHMENTS,
    BOUNDARY,
    CONFIG_RECORDER,
    GUARDDUTY_DETECTOR,
    IDENTITY_PROVIDER,
    INLINE_DOCUMENTS,
    OWN_POLICY,
    OWN_ROLE,
    OWN_SUBSCRIPTION,
    ROLE_TRUST,
    SUBSCRIPTION_ATTRIBUTES,
    TRAIL,
    PastRemediation,
    Snapshot,
    UndoAttempt,
    compact_document,
)

SNAPSHOT_PREFIX = "snapshot#"


def snapshot_key(kind: str, resource_arn: str) -> str:
    return f"{SNAPSHOT_PREFIX}{kind}#{resource_arn}"


class AuditRecorded:
    """``Recorded`` over the audit table; every DynamoDB failure is an ``AuditError`` (the event is retried)."""

    def __init__(self, audit: AuditLog, dynamodb: Any) -> None:
        self._audit = audit
        self._dynamodb = dynamodb

    def remediations(self, resource_arn: str) -> list[PastRemediation]:
        history = self._audit.history(resource_arn)
        # Who ran each undo, from the undo's own record (``iamwarden undo`` writes it with the caller's ARN).
        undoers = {
            record.remediation_id: record.actor
            for record in history
            if record.kind == "undo" and record.status == AuditStatus.UNDO
        }
        return [
            PastRemediation(
                record.remediation_id,
                record.rule,
                record.status,
                record.created_at,
                tuple(record.plan),
                tuple(record.done),
                tuple(record.before),
                record.undone_by,
                undoers.get(record.undone_by or ""),
                tuple(
                    UndoAttempt(undo.remediation_id, undo.status, undo.actor, undo.created_at, tuple(undo.restored))
                    for undo in history
                    if undo.kind == "undo" and undo.undoes == record.remediation_id
                ),
            )
            for record in history
            if record.kind == "remediation" and record.status != AuditStatus.ALERTED
        ]

    def snapshot(self, kind: str, resource_arn: str) -> Snapshot | None:
        key = snapshot_key(kind, resource_arn)
        try:
            answer = self._dynamodb.get_item(
                TableName=self._audit.table_name, Key={"remediation_id": {"S": key}}, ConsistentRead=True
            )
        except (BotoCoreError, ClientError) as exc:
            raise AuditError(f"cannot read snapshot {key}: {describe(exc)}") from exc
        item = answer.get("Item")
        if not item:
            return None
        return Snapshot(
            kind,
            resource_arn,
            item["taken_at"]["S"],
            json.loads(item["data"]["S"]),
            rank=int(item.get("snapshot_rank", {}).get("N", "0")),
            unusable="unusable" in item,
        )

    def put(self, snapshot: Snapshot) -> None:
        key = snapshot_key(snapshot.kind, snapshot.resource_arn)
        try:
            self._dynamodb.put_item(TableName=self._audit.table_name, Item=_snapshot_item(key, snapshot))
        except (BotoCoreError, ClientError) as exc:
            raise AuditError(f"cannot write snapshot {key}: {describe(exc)}") from exc

    def keep(self, snapshot: Snapshot) -> bool:
        """``put``, unless a snapshot taken later is stored already (a conditional write: the heartbeat's live read,
        or a later event's, is never overwritten by an older event judged late), or one of the same instant with no
        smaller ``rank`` (the record of a second's events replaces one of fewer of them, never the other way).

        A snapshot derived from another (``base``) is written only while that one is still stored: otherwise another
        invocation wrote from the same record meanwhile, and the stored one may lack this event's change, so it is
        marked ``unusable`` (alert-only until the heartbeat reads the principal again), never trusted."""
        key = snapshot_key(snapshot.kind, snapshot.resource_arn)
        values: dict[str, Any] = {":taken": {"S": snapshot.taken_at}, ":rank": {"N": str(snapshot.rank)}}
        condition = (
            "attribute_not_exists(remediation_id) OR taken_at < :taken OR (taken_at = :taken AND snapshot_rank < :rank)"
        )
        if snapshot.base is not None:
            base_taken, base_rank = snapshot.base
            same_rank = "snapshot_rank = :base_rank" + (
                " OR attribute_not_exists(snapshot_rank)" if base_rank == 0 else ""
            )
            condition = f"taken_at = :base_taken AND ({same_rank}) AND attribute_not_exists(unusable)"
            values = {":base_taken": {"S": base_taken}, ":base_rank": {"N": str(base_rank)}}
        try:
            self._dynamodb.put_item(
                TableName=self._audit.table_name,
                Item=_snapshot_item(key, snapshot),
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":
                raise AuditError(f"cannot write snapshot {key}: {describe(exc)}") from exc
            if snapshot.base is not None:
                self._mark_unusable(key)
            elif snapshot.ambiguous_within_instant:
                self._mark_unusable_if_other(key, snapshot)
            return False
        except BotoCoreError as exc:
            raise AuditError(f"cannot write snapshot {key}: {describe(exc)}") from exc
        return True

    def fill(self, snapshot: Snapshot, replaceable: Callable[[Snapshot], bool]) -> bool:
        """``put`` only where there is a gap: no record, or one ``replaceable`` says may go (a deletion marker, an
        expired record), unchanged since it was read (a conditional write). A live read never replaces a record
        the enforcer kept of a judged call (review pab-s13 F1/F3): that record may be from before a call whose
        event is still in flight, which the read already shows."""
        key = snapshot_key(snapshot.kind, snapshot.resource_arn)
        existing = self.snapshot(snapshot.kind, snapshot.resource_arn)
        if existing is None:
            condition, values = "attribute_not_exists(remediation_id)", None
        elif replaceable(existing):
            condition = "taken_at = :seen AND #data = :seen_data"
            values = {
                ":seen": {"S": existing.taken_at},
                ":seen_data": {"S": json.dumps(existing.data, sort_keys=True, default=str)},
            }
        else:
            return False
        request: dict[str, Any] = {
            "TableName": self._audit.table_name,
            "Item": _snapshot_item(key, snapshot),
            "ConditionExpression": condition,
        }
        if values is not None:
            request |= {"ExpressionAttributeValues": values, "ExpressionAttributeNames": {"#data": "data"}}
        try:
            self._dynamodb.put_item(**request)
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":  # written meanwhile: that record stays
                raise AuditError(f"cannot write snapshot {key}: {describe(exc)}") from exc
            return False
        except BotoCoreError as exc:
            raise AuditError(f"cannot write snapshot {key}: {describe(exc)}") from exc
        return True

    def _mark_unusable_if_other(self, key: str, snapshot: Snapshot) -> None:
        """Mark the stored record ``unusable`` when it is of ``snapshot``'s instant but says something else: two calls
        of one second set different states, and which came last is unknown (``Snapshot.ambiguous_within_instant``)."""
        try:
            self._dynamodb.update_item(
                TableName=self._audit.table_name,
                Key={"remediation_id": {"S": key}},
                UpdateExpression="SET unusable = :yes",
                ConditionExpression="taken_at = :taken AND #data <> :data",
                ExpressionAttributeNames={"#data": "data"},
                ExpressionAttributeValues={
                    ":yes": {"BOOL": True},
                    ":taken": {"S": snapshot.taken_at},
                    ":data": {"S": json.dumps(snapshot.data, sort_keys=True, default=str)},
                },
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":  # a later record, or the same state: trusted
                raise AuditError(f"cannot mark snapshot {key} unusable: {describe(exc)}") from exc
        except BotoCoreError as exc:
            raise AuditError(f"cannot mark snapshot {key} unusable: {describe(exc)}") from exc

    def _mark_unusable(self, key: str) -> None:
        try:
            self._dynamodb.update_item(
                TableName=self._audit.table_name,
                Key={"remediation_id": {"S": key}},
                UpdateExpression="SET unusable = :yes",
                ConditionExpression="attribute_exists(remediation_id)",
                ExpressionAttributeValues={":yes": {"BOOL": True}},
            )
        except ClientError as exc:
            if error_code(exc) != "ConditionalCheckFailedException":  # gone meanwhile: nothing to distrust
                raise AuditError(f"cannot mark snapshot {key} unusable: {describe(exc)}") from exc
        except BotoCoreError as exc:
            raise AuditError(f"cannot mark snapshot {key} unusable: {describe(exc)}") from exc

    def put_all(self, snapshots: Iterable[Snapshot]) -> int:
        count = 0
        for snapshot in snapshots:
            self.put(snapshot)
            count += 1
        return count


def _snapshot_item(key: str, snapshot: Snapshot) -> dict[str, Any]:
    return {
        "remediation_id": {"S": key},
        "kind": {"S": "snapshot"},
        "snapshot_kind": {"S": snapshot.kind},
        "snapshot_of": {"S": snapshot.resource_arn},
        "taken_at": {"S": snapshot.taken_at},
        "data": {"S": json.dumps(snapshot.data, sort_keys=True, default=str)},
        "snapshot_rank": {"N": str(snapshot.rank)},
    }


def take_trail_snapshots(cloudtrail: Any, account: str, region: str, now: str) -> list[Snapshot]:
    """A snapshot of each good trail whose home is ``account`` and ``region`` (shadow trails are skipped)."""
    # Imported here: only the heartbeat takes trail snapshots, and the enforcer imports this module for its audit
    # reads at every cold start (tests/unit/test_layers.py, LAZY_IMPORTS).
    from iamwarden.domain.trails import trail_is_good, trail_snapshot_data  # noqa: PLC0415

    snapshots = []
    for trail in cloudtrail.describe_trails(includeShadowTrails=False).get("trailList", []):
        arn = trail.get("TrailARN", "")
        if trail.get("HomeRegion") != region or f":{account}:" not in arn:
            continue
        status = cloudtrail.get_trail_status(Name=arn)
        selectors = cloudtrail.get_event_selectors(TrailName=arn)
        try:
            insights = cloudtrail.get_insight_selectors(TrailName=arn).get("InsightSelectors", [])
        except ClientError:
            insights = []  # InsightNotEnabledException: no Insights selectors
        data = trail_snapshot_data(trail, status, selectors, insights)
        if trail_is_good(data):
            snapshots.append(Snapshot(TRAIL, arn, now, data))
    return snapshots


def _partition(region: str) -> str:
    """The partition a region is in (a detector's ARN is built, not read: ``GetDetector`` gives none)."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def take_detector_snapshots(guardduty: Any, account: str, region: str, now: str) -> list[Snapshot]:
    """A snapshot of the region's GuardDuty detector (``ListDetectors``, ``GetDetector``), only while it is enabled:
    a suspended one is no state to re-create, and the last enabled snapshot stays."""
    snapshots = []
    for page in guardduty.get_paginator("list_detectors").paginate():
        for detector in page.get("DetectorIds", []):
            data = detector_snapshot_data(str(detector), guardduty.get_detector(DetectorId=detector))
            if detector_is_good(data):
                arn = f"arn:{_partition(region)}:guardduty:{region}:{account}:detector/{detector}"
                snapshots.append(Snapshot(GUARDDUTY_DETECTOR, arn, now, data))
    return snapshots


def take_recorder_snapshots(config: Any, account: str, region: str, now: str) -> list[Snapshot]:
    """A snapshot of each customer-managed AWS Config recorder of the region that records
    (``DescribeConfigurationRecorders``, ``DescribeConfigurationRecorderStatus``), with whether a delivery channel
    exists (``DescribeDeliveryChannels``); a stopped one, or one whose last recording failed, is skipped (its last good
    snapshot stays)."""
    recorders = [
        recorder
        for recorder in config.describe_configuration_recorders().get("ConfigurationRecorders", [])
        if customer_managed(recorder) and recorder.get("name")
    ]
    if not recorders:
        return []
    statuses = config.describe_configuration_recorder_status().get("ConfigurationRecordersStatus", [])
    recording = {str(status.get("name")): bool(status.get("recording")) for status in statuses}
    last = {str(status.get("name")): status.get("lastStatus") for status in statuses}
    channel = bool(config.describe_delivery_channels().get("DeliveryChannels"))
    snapshots = []
    for recorder in recorders:
        name = str(recorder["name"])
        data = recorder_snapshot_data(recorder, recording.get(name, False), channel, last.get(name))
        if recorder_is_good(data):
            arn = f"arn:{_partition(region)}:config:{region}:{account}:configuration-recorder/{name}"
            snapshots.append(Snapshot(CONFIG_RECORDER, arn, now, data))
    return snapshots


def trail_home_regions(cloudtrail: Any, account: str, region: str) -> list[str]:
    """The other regions ``account``'s multi-region trails are homed in, as ``region`` sees them (their shadows).

    A multi-region trail is listed in every region (a shadow trail there), with its ``HomeRegion``: one call in
    ``region`` finds every region whose trails log this region's events too. A single-region trail of another
    region is not listed here, and an organization trail of another account (the management account's) is not
    this account's to snapshot.
    """
    listed = cloudtrail.describe_trails(includeShadowTrails=True).get("trailList", [])
    return sorted(
        {
            str(trail["HomeRegion"])
            for trail in listed
            if trail.get("HomeRegion") and trail["HomeRegion"] != region and f":{account}:" in trail.get("TrailARN", "")
        }
    )


def read_authorization_details(iam: Any) -> list[dict[str, Any]]:
    """Every page of the account's users, roles and groups (``GetAccountAuthorizationDetails``), read once: the
    boundary, trust and attachment snapshots are all taken from it (``ListRoles`` gives neither boundaries nor all
    trusts)."""
    paginator = iam.get_paginator("get_account_authorization_details")
    return list(paginator.paginate(Filter=["User", "Role", "Group"]))


def _inline_held(document: Any) -> tuple[str, str | None]:
    """An inline document as the details give it (URL-encoded text or a dict): its ``document_digest`` and its
    ``compact_document`` text; an unreadable one gets a digest no event's document has and no text, so a put over
    it stays "not known"."""
    from iamwarden.domain.canonical import document_digest  # noqa: PLC0415 - with the first inline document held

    try:
        decoded_document = decoded(document)
        return document_digest(decoded_document), compact_document(decoded_document)
    except (ValueError, TypeError):
        return "unreadable", None


#: Where the authorization details list a principal's inline policies, by kind.
_INLINE_LISTS = {"user": "UserPolicyList", "role": "RolePolicyList", "group": "GroupPolicyList"}


def take_attachment_snapshots(
    iam: Any, account: str, now: str, *, pages: Sequence[Mapping[str, Any]] | None = None
) -> list[Snapshot]:
    """What every role, user and group of the account holds (``ATTACHMENTS``: its managed policy ARNs, and a user's
    groups), from the authorization details (``pages``; None: read here), keyed by the ARN without path as an event
    names the principal. One item per principal (at most 20 policies, 10 groups, and inline documents of at most
    10,240 characters in all): far from DynamoDB's 400 KB item limit however large the account."""
    snapshots = []
    lists = (("UserDetailList", "user", "UserName"), ("RoleDetailList", "role", "RoleName"))
    for page in read_authorization_details(iam) if pages is None else pages:
        for list_name, kind, name_key in (*lists, ("GroupDetailList", "group", "GroupName")):
            for detail in page.get(list_name, []):
                arn = str(detail.get("Arn", ""))
                name = detail.get(name_key)
                if f":{account}:" not in arn or not isinstance(name, str):
                    continue
                held = {
                    str(inline.get("PolicyName")): _inline_held(inline.get("PolicyDocument"))
                    for inline in detail.get(_INLINE_LISTS[kind], [])
                }
                data: dict[str, Any] = {
                    "policies": sorted(str(p.get("PolicyArn")) for p in detail.get("AttachedManagedPolicies", [])),
                    # Each inline policy's fingerprint and whole document: an inline put says only what it puts, not
                    # what it replaced; with the document, what it added is known and what it replaced can go back.
                    "inline": {name: digest for name, (digest, _) in held.items()},
                    INLINE_DOCUMENTS: {name: text for name, (_, text) in held.items() if text is not None},
                }
                if kind == "user":
                    data["groups"] = sorted(str(group) for group in detail.get("GroupList", []))
                snapshots.append(Snapshot(ATTACHMENTS, iam_arn(arn.split(":")[1], account, kind, name), now, data))
    return snapshots


#: The quarantine's deny-all boundary (``guardrails.iam_user.DENY_ALL_BOUNDARY``), as its ARN ends in any partition.
_DENY_ALL_BOUNDARY = ":iam::aws:policy/AWSDenyAll"


def quarantine_boundary_in_force(remediations: Callable[[str], Sequence[PastRemediation]], arn: str) -> bool:
    """Whether a quarantine of ``arn`` that set the deny-all boundary is in force (not undone; or failed part-way
    after setting it), as the audit table's ``remediations`` say."""
    return any(
        (past.in_force or (past.status == AuditStatus.FAILED and bool(past.done)))
        and any(line.startswith(_QUARANTINE_BOUNDARY_DONE) for line in past.done)
        for past in remediations(arn)
    )


#: How a quarantine's ``done`` says it set the deny-all boundary (``QuarantineUser`` / ``QuarantineRole.apply``).
_QUARANTINE_BOUNDARY_DONE = "set the deny-all permissions boundary "


def take_boundary_snapshots(
    iam: Any,
    account: str,
    now: str,
    *,
    pages: Sequence[Mapping[str, Any]] | None = None,
    quarantined: Callable[[str], bool] | None = None,
) -> list[Snapshot]:
    """The boundary (or its absence) of every role and user of the account, from the authorization details
    (``pages``, as ``read_authorization_details`` read them; None: read here). ``quarantined`` says whether a
    principal's ``AWSDenyAll`` is a quarantine's in force (None: not known, so no ``AWSDenyAll`` is kept)."""
    snapshots = []
    for page in read_authorization_details(iam) if pages is None else pages:
        for detail in [*page.get("UserDetailList", []), *page.get("RoleDetailList", [])]:
            boundary = detail.get("PermissionsBoundary") or {}
            arn = detail.get("Arn", "")
            if f":{account}:" not in arn:
                continue
            if str(boundary.get("PermissionsBoundaryArn", "")).endswith(_DENY_ALL_BOUNDARY) and (
                quarantined is None or quarantined(arn)
            ):
                # IAM Warden's quarantine boundary is no known-good boundary (review s11 R5): the snapshot from
                # before the quarantine stays the one its removal is judged against. An AWSDenyAll its admins set
                # is one (review s12 F6).
                continue
            snapshots.append(Snapshot(BOUNDARY, arn, now, {"boundary_arn": boundary.get("PermissionsBoundaryArn")}))
    return snapshots


def take_trust_snapshots(
    iam: Any, account: str, now: str, *, pages: Sequence[Mapping[str, Any]] | None = None
) -> list[Snapshot]:
    """The trust policy of every role of the account, from the authorization details (``pages``, as
    ``read_authorization_details`` read them; None: read here)."""
    snapshots = []
    for page in read_authorization_details(iam) if pages is None else pages:
        for detail in page.get("RoleDetailList", []):
            arn = detail.get("Arn", "")
            document = detail.get("AssumeRolePolicyDocument")
            if f":{account}:" not in arn or document is None:
                continue
            trust = json.loads(unquote(document)) if isinstance(document, str) else document
            snapshots.append(Snapshot(ROLE_TRUST, arn, now, {"trust_policy": trust}))
    return snapshots


def take_identity_provider_snapshots(iam: Any, account: str, now: str) -> list[Snapshot]:
    """Every OIDC provider's URL, client ids and thumbprints, and every SAML provider's metadata document, of
    ``account`` (for ``identity-provider-unknown``'s restores: an update's event says what a provider became, never
    what it was). A provider deleted between the listing and its read is skipped."""
    snapshots = []
    for listed in iam.list_open_id_connect_providers().get("OpenIDConnectProviderList", []):
        arn = str(listed.get("Arn", ""))
        if f":{account}:" not in arn:
            continue
        try:
            provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
        except ClientError as exc:
            if is_gone(exc):
                continue
            raise
        data = {
            "type": "oidc",
            "url": provider.get("Url"),
            "client_ids": list(provider.get("ClientIDList", [])),
            "thumbprints": list(provider.get("ThumbprintList", [])),
        }
        snapshots.append(Snapshot(IDENTITY_PROVIDER, arn, now, data))
    for listed in iam.list_saml_providers().get("SAMLProviderList", []):
        arn = str(listed.get("Arn", ""))
        if f":{account}:" not in arn:
            continue
        try:
            metadata = iam.get_saml_provider(SAMLProviderArn=arn)["SAMLMetadataDocument"]
        except ClientError as exc:
            if is_gone(exc):
                continue
            raise
        snapshots.append(Snapshot(IDENTITY_PROVIDER, arn, now, {"type": "saml", "metadata": str(metadata)}))
    return snapshots


def take_own_role_snapshots(iam: Any, role_names: Sequence[str], account: str, now: str) -> list[Snapshot]:
    """The trust policy and inline policies of each of IAM Warden's own roles in ``account`` (by exact name).

    Keyed like the rule names them (``arn:<partition>:iam::<account>:role/<name>``: the account's own ARN, so
    one account's snapshot is never found for another's role); a role that is not there is skipped (its deletion
    is alerted, and nothing could be restored into it), and so is a role of that name at another path: the
    templates create theirs at ``/``, so it is a look-alike whose policies must never become the ones restored.
    """
    snapshots = []
    for name in role_names:
        try:
            role = iam.get_role(RoleName=name)["Role"]
        except ClientError as exc:
            if is_gone(exc):
                continue
            raise
        partition = str(role.get("Arn", "arn:aws:")).split(":")[1]
        arn = iam_arn(partition, account, "role", name)
        if role.get("Arn") != arn:
            continue
        inline = {
            policy: iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
            for page in iam.get_paginator("list_role_policies").paginate(RoleName=name)
            for policy in page.get("PolicyNames", [])
        }
        data = {"trust_policy": role["AssumeRolePolicyDocument"], "inline": inline, "role_id": role.get("RoleId")}
        boundary = (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn")
        if boundary:  # the template gives its roles none: the heartbeat reports one (``SnapshotRefresh.same_roles``)
            data["boundary"] = boundary
        # RoleId: a role deleted and created again under this name has another (domain.own.own_session).
        snapshots.append(Snapshot(OWN_ROLE, arn, now, data))
    return snapshots


def take_own_policy_snapshots(iam: Any, policy_arns: Sequence[str], now: str) -> list[Snapshot]:
    """The default version and its document of each of IAM Warden's own managed policies (by exact ARN).

    Read as they are: only the deploy (``app.own_policies``) records them as the ones the stack deployed, and the
    heartbeat only where none is recorded yet. A policy that is not there is skipped (its deletion is alerted).
    """
    snapshots = []
    for arn in policy_arns:
        try:
            default = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
            version = iam.get_policy_version(PolicyArn=arn, VersionId=default)["PolicyVersion"]
        except ClientError as exc:
            if is_gone(exc):
                continue
            raise
        document = version["Document"]
        if isinstance(document, str):  # IAM's URL-encoded JSON, when botocore does not decode it
            document = json.loads(unquote(document))
        snapshots.append(Snapshot(OWN_POLICY, arn, now, {"default_version": default, "document": document}))
    return snapshots


def list_topic_subscriptions(sns: Any, topic_arn: str) -> list[dict[str, Any]]:
    """Every subscription of ``topic_arn``, confirmed or pending (``ListSubscriptionsByTopic``, every page)."""
    return [
        subscription
        for page in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn)
        for subscription in page.get("Subscriptions", [])
    ]


def take_subscription_snapshots(
    sns: Any, topic_arn: str, now: str, *, listed: Callable[[Any, str], list[dict[str, Any]]] | None = None
) -> list[Snapshot]:
    """The delivery attributes (``SUBSCRIPTION_ATTRIBUTES``) of each confirmed subscription of the alert topic.

    Keyed by the subscription's ARN, so ``iamwarden-tampered`` puts back exactly what one had; a pending one has no
    ARN yet and is skipped, and so is one gone between the listing and the read (its removal is alerted).
    ``listed`` lists them instead of ``list_topic_subscriptions`` (the heartbeat's run: read once for all).
    """
    snapshots = []
    try:
        subscriptions = (listed or list_topic_subscriptions)(sns, topic_arn)
    except ClientError as exc:
        if is_gone(exc):
            return []  # the topic is gone: the heartbeat's check says so, there is nothing to snapshot
        raise
    for subscription in subscriptions:
        arn = subscription.get("SubscriptionArn", "")
        if not arn.startswith("arn:"):
            continue
        try:
            attributes = sns.get_subscription_attributes(SubscriptionArn=arn)["Attributes"]
        except ClientError as exc:
            if is_gone(exc):
                continue
            raise
        kept = {name: attributes[name] for name in SUBSCRIPTION_ATTRIBUTES if name in attributes}
        snapshots.append(Snapshot(OWN_SUBSCRIPTION, arn, now, {"topic": topic_arn, "attributes": kept}))
    return snapshots


__all__: Sequence[str] = (
    "AuditRecorded",
    "list_topic_subscriptions",
    "read_authorization_details",
    "take_attachment_snapshots",
    "take_boundary_snapshots",
    "take_identity_provider_snapshots",
    "take_own_policy_snapshots",
    "take_own_role_snapshots",
    "take_trail_snapshots",
    "take_trust_snapshots",
    "trail_home_regions",
)
