"""``ebs-snapshot-shared``, ``ami-shared``, ``rds-snapshot-shared``: copies of the data never leave the organisation.

A snapshot or machine image is not guarded by a policy but by a share list: a
``createVolumePermission`` (EBS), a ``launchPermission`` (AMI) or the
``restore`` attribute (RDS DB and cluster snapshots). Adding ``all`` makes it
public (anyone with an AWS account can copy the disk or the database); adding
an account, organisation or organisational unit outside the trusted boundary
hands them a full copy of the data (MITRE ATT&CK T1537, transfer data to a cloud
account). The CloudTrail records carry exactly what was added:

* ``ModifySnapshotAttribute``: ``{"snapshotId", "attributeType": "CREATE_VOLUME_PERMISSION",
  "createVolumePermission": {"add": {"items": [{"group": "all"} | {"userId": "…"}]}}}``;
* ``ModifyImageAttribute``: ``{"imageId", "attributeType": "launchPermission",
  "launchPermission": {"add": {"items": [{"group": "all"} | {"userId"} | {"organizationArn"} |
  {"organizationalUnitArn"}]}}}``;
* ``ModifyDBSnapshotAttribute`` / ``ModifyDBClusterSnapshotAttribute``: ``{"dBSnapshotIdentifier"`` (or
  ``"dBClusterSnapshotIdentifier"``), ``"attributeName": "restore", "valuesToAdd": ["all" | "…"]}``.

(Shapes from panther-analysis' ``aws_ami_modified_for_public_access`` and ``aws_snapshot_made_public`` test
records and the EC2/RDS API references.) Removing entries, or changing another attribute, is compliant.

The remediation removes exactly the offending entries that are still on the live share list (a share
someone removed since is not touched) and keeps every other entry; undo adds back exactly what it removed.
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, NamedTuple

from iamwarden.adapters.errors import error_code
from iamwarden.domain.catalog import RuleSpec, Severity
from iamwarden.domain.events import json_type_name
from iamwarden.domain.exceptions import InvalidEventError, UndoError
from iamwarden.domain.exposure import ACCOUNT_ID, ORGANIZATION_ID, TrustBoundary
from iamwarden.domain.findings import RemediationStep, StepAction
from iamwarden.guardrails.base import Evaluation, RuleContext
from iamwarden.guardrails.remediation import AccountClients, Permissions, StepRun

EBS_SNAPSHOT_SHARED = RuleSpec(
    id="ebs-snapshot-shared",
    title="EBS snapshot made public or shared with an untrusted account",
    event_source="ec2.amazonaws.com",
    event_names=frozenset({"ModifySnapshotAttribute"}),
    risk=(
        "Whoever may create volumes from a snapshot gets a full copy of the disk, so a public or outside share "
        "hands the data to people this organisation does not control."
    ),
    alert_risk=(
        "Anyone the snapshot is shared with can create a volume from it and read everything that was on the "
        "disk, and nothing we do afterwards can take that copy back."
    ),
    resource_types=frozenset({"AWS::EC2::Snapshot"}),
)

AMI_SHARED = RuleSpec(
    id="ami-shared",
    title="AMI made public or shared with an untrusted account",
    event_source="ec2.amazonaws.com",
    event_names=frozenset({"ModifyImageAttribute"}),
    risk=(
        "Whoever may launch an image can read its disks, with the software, configuration and secrets baked "
        "into it, so a public or outside share hands them to people this organisation does not control."
    ),
    alert_risk=(
        "Anyone the image is shared with can launch it and read its disks, including any secrets or keys "
        "baked into it, and keep their own copy."
    ),
    resource_types=frozenset({"AWS::EC2::Image"}),
)

RDS_SNAPSHOT_SHARED = RuleSpec(
    id="rds-snapshot-shared",
    title="RDS DB or cluster snapshot made public or shared with an untrusted account",
    event_source="rds.amazonaws.com",
    event_names=frozenset({"ModifyDBSnapshotAttribute", "ModifyDBClusterSnapshotAttribute"}),
    risk=(
        "Whoever may restore a database snapshot gets a full copy of the database, so a public or outside "
        "share hands the data to people this organisation does not control."
    ),
    alert_risk=(
        "Anyone the snapshot is shared with can restore the whole database in their own account and read "
        "every row, and nothing we do afterwards can take that copy back."
    ),
    resource_types=frozenset({"AWS::RDS::DBSnapshot", "AWS::RDS::DBClusterSnapshot"}),
)

#: The share-list entry that means "every AWS account".
PUBLIC = "all"
_ORGANIZATION_ARN = re.compile(r"arn:[a-z-]+:organizations::[0-9]{12}:organization/(o-[a-z0-9]{10,32})")
_OU_ARN = re.compile(r"arn:[a-z-]+:organizations::[0-9]{12}:ou/(o-[a-z0-9]{10,32})/ou-[a-z0-9-]+")


def grantee_label(grantee: str) -> str:
    """A share-list entry as people say it: "every AWS account", "account 999988887777", ..."""
    if grantee == PUBLIC:
        return "every AWS account"
    if ACCOUNT_ID.fullmatch(grantee):
        return f"account {grantee}"
    if _ORGANIZATION_ARN.fullmatch(grantee):
        return f"organization {grantee.rsplit('/', 1)[-1]}"
    if _OU_ARN.fullmatch(grantee):
        return f"organizational unit {grantee.rsplit('/', 1)[-1]}"
    return f"unknown grantee {grantee}"


def trusted(grantee: str, boundary: TrustBoundary) -> bool:
    """Whether a share-list entry stays inside the boundary (own or trusted account, the organisation or its OUs)."""
    if ACCOUNT_ID.fullmatch(grantee):
        return boundary.trusts_account(grantee)
    organization = _ORGANIZATION_ARN.fullmatch(grantee) or _OU_ARN.fullmatch(grantee)
    if organization is not None and ORGANIZATION_ID.fullmatch(organization.group(1)):
        return boundary.trusts_organization(organization.group(1))
    return False  # "all", or an entry IAM Warden cannot place: nobody it can vouch for


class SharedResource(NamedTuple):
    """One kind of shareable resource: how its event names it and what it lets a grantee do."""

    spec: RuleSpec
    event_name: str
    noun: str
    id_parameter: str
    #: The resource's ARN from (partition, region, account, id).
    arn_format: str
    #: What a grantee can do with it, as a verb phrase ("create volumes from it").
    ability: str

    def arn(self, partition: str, region: str, account: str, identifier: str) -> str:
        return self.arn_format.format(partition=partition, region=region, account=account, id=identifier)


EBS_SNAPSHOT = SharedResource(
    EBS_SNAPSHOT_SHARED,
    "ModifySnapshotAttribute",
    "EBS snapshot",
    "snapshotId",
    "arn:{partition}:ec2:{region}::snapshot/{id}",
    "create volumes from it (a full copy of the disk)",
)
AMI = SharedResource(
    AMI_SHARED,
    "ModifyImageAttribute",
    "AMI",
    "imageId",
    "arn:{partition}:ec2:{region}::image/{id}",
    "launch it and read its disks",
)
RDS_SNAPSHOT = SharedResource(
    RDS_SNAPSHOT_SHARED,
    "ModifyDBSnapshotAttribute",
    "RDS DB snapshot",
    "dBSnapshotIdentifier",
    "arn:{partition}:rds:{region}:{account}:snapshot:{id}",
    "restore or copy it (a full copy of the database)",
)
RDS_CLUSTER_SNAPSHOT = SharedResource(
    RDS_SNAPSHOT_SHARED,
    "ModifyDBClusterSnapshotAttribute",
    "RDS cluster snapshot",
    "dBClusterSnapshotIdentifier",
    "arn:{partition}:rds:{region}:{account}:cluster-snapshot:{id}",
    "restore or copy it (a full copy of the database)",
)


def _items(value: object, field: str) -> list[Mapping[str, Any]]:
    """The ``items`` of a CloudTrail EC2 list (``{"items": [...]}``; one item may come as an object)."""
    if value is None:
        return []
    if not isinstance(value, Mapping):
        raise InvalidEventError(f"{field} must be an object, got {json_type_name(value)}")
    items = value.get("items") or []
    listed = items if isinstance(items, list) else [items]
    if not all(isinstance(item, Mapping) for item in listed):
        raise InvalidEventError(f"{field}.items must hold objects")
    return listed


#: EC2's keys of a permission entry (CloudTrail's spelling) to the entry value they carry.
_EC2_ENTRY_KEYS = ("group", "userId", "organizationArn", "organizationalUnitArn")


def _ec2_added(request: Mapping[str, Any], attribute: str) -> list[str] | None:
    """What an EC2 Modify{Snapshot,Image}Attribute call added to ``attribute``; None if it changes another one."""
    field = f"detail.requestParameters.{attribute}"
    modification = request.get(attribute)
    if modification is None:
        # The older form: attributeType + operationType with userId / userGroup lists.
        if str(request.get("attributeType", "")).replace("_", "").lower() != attribute.lower():
            return None
        if str(request.get("operationType", "")).lower() != "add":
            return []
        added = [str(item.get("userId")) for item in _items(request.get("userId"), "detail.requestParameters.userId")]
        groups = _items(request.get("userGroup"), "detail.requestParameters.userGroup")
        return added + [str(item.get("userGroup")) for item in groups]
    if not isinstance(modification, Mapping):
        raise InvalidEventError(f"{field} must be an object, got {json_type_name(modification)}")
    added = []
    for item in _items(modification.get("add"), f"{field}.add"):
        values = [str(item[key]) for key in _EC2_ENTRY_KEYS if isinstance(item.get(key), str)]
        if not values:
            raise InvalidEventError(f"{field}.add.items holds an entry IAM Warden does not know: {dict(item)}")
        added.extend(values)
    return added


def _rds_added(request: Mapping[str, Any]) -> list[str] | None:
    if str(request.get("attributeName", "")).lower() != "restore":
        return None
    values = request.get("valuesToAdd") or []
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise InvalidEventError("detail.requestParameters.valuesToAdd must be a list of strings")
    return [str(value) for value in values]


class ShareRule:
    """A snapshot or image share list gaining ``all`` or an entry outside the trusted boundary."""

    def __init__(self, spec: RuleSpec, resources: Sequence[SharedResource]) -> None:
        self.specs: tuple[RuleSpec, ...] = (spec,)
        self.spec = spec
        self.resources = {resource.event_name: resource for resource in resources}

    def evaluate(self, context: RuleContext) -> Evaluation:
        change = context.change
        resource = self.resources[change.event_name]
        identifier = context.request_text(resource.id_parameter)
        identifier = identifier.rsplit(":", 1)[-1] if identifier.startswith("arn:") else identifier
        arn = resource.arn(context.partition, change.region, change.account, identifier)
        evaluation = Evaluation(resource_arn=arn)
        where = f"{resource.noun} {identifier}"
        added = self._added(resource, change.request_parameters)
        if added is None:
            evaluation.compliant.append(f"the change to {where} does not touch who it is shared with")
            return evaluation
        boundary = context.settings.boundary(change.account)
        offending = sorted({grantee for grantee in added if not trusted(grantee, boundary)})
        if not offending:
            shared = "its owner only" if not added else "trusted accounts and the organisation only"
            evaluation.compliant.append(f"{where} stays shared with {shared}")
            return evaluation
        public = PUBLIC in offending
        outsiders = [grantee_label(grantee) for grantee in offending if grantee != PUBLIC]
        if public:
            who = "public: every AWS account" + (f" (and {_join(outsiders)})" if outsiders else "")
            how = f"made {where} {who} can {resource.ability}"
        else:
            how = (
                f"shared {where} with {_join(outsiders)}, which this organisation does not trust: "
                f"{'it' if len(outsiders) == 1 else 'they'} can {resource.ability}"
            )
        evaluation.findings.append(
            context.finding(
                self.spec,
                severity=Severity.CRITICAL if public else Severity.HIGH,
                resource_arn=arn,
                reason=f"{change.actor.display} {how}.",
                plan=[
                    RemediationStep(
                        ACTIONS_BY_EVENT[change.event_name].action,
                        arn,
                        {"resource_id": identifier, "grantees": offending},
                        f"remove {_join([grantee_label(g) for g in offending])} from the share list of {where}, "
                        "keep the rest",
                    )
                ],
                offending=[{"grantee": grantee, "public": grantee == PUBLIC} for grantee in offending],
            )
        )
        return evaluation

    @staticmethod
    def _added(resource: SharedResource, request: Mapping[str, Any]) -> list[str] | None:
        if resource is EBS_SNAPSHOT:
            return _ec2_added(request, "createVolumePermission")
        if resource is AMI:
            return _ec2_added(request, "launchPermission")
        return _rds_added(request)


def _join(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


# --- remediation ---------------------------------------------------------------------------------------


class RemoveShare:
    """Remove exactly the offending entries from a live share list, keep the rest; undo adds them back.

    Subclasses say how one kind of resource reads and changes its list; entries are strings (``all``, an
    account id, an organisation or OU ARN) so the plan, the before-state and the audit trail read the same.
    """

    undoable: ClassVar[bool] = True
    noun: ClassVar[str]
    gone_codes: ClassVar[frozenset[str]]
    permissions: ClassVar[Permissions]
    undo_permissions: ClassVar[Permissions]
    action: ClassVar[StepAction]

    def read(self, aws: AccountClients, identifier: str) -> list[str]:
        raise NotImplementedError

    def change(self, aws: AccountClients, identifier: str, *, add: Sequence[str], remove: Sequence[str]) -> None:
        raise NotImplementedError

    def _live(self, aws: AccountClients, identifier: str) -> list[str] | None:
        try:
            return self.read(aws, identifier)
        except Exception as exc:
            if error_code(exc) in self.gone_codes:
                return None
            raise

    def capture(self, aws: AccountClients, step: RemediationStep) -> dict[str, Any]:
        shared = self._live(aws, step.parameters["resource_id"])
        return {"exists": shared is not None, "shared_with": shared}

    def apply(self, run: StepRun, step: RemediationStep, before: Mapping[str, Any], done: list[str]) -> None:
        if not before["exists"]:
            return  # deleted since: nothing is shared any more
        identifier = step.parameters["resource_id"]
        remove = [grantee for grantee in step.parameters["grantees"] if grantee in before["shared_with"]]
        if not remove:
            return  # a later change already took them off: never touch the list
        try:
            self.change(run.aws, identifier, add=(), remove=remove)
        except Exception as exc:
            if error_code(exc) in self.gone_codes:
                return
            raise
        kept = len(before["shared_with"]) - len(remove)
        done.append(
            f"removed {_join([grantee_label(g) for g in remove])} from the share list of {self.noun} {identifier}; "
            f"kept {kept} other entr{'y' if kept == 1 else 'ies'}"
        )

    def undo(self, aws: AccountClients, step: RemediationStep, before: Mapping[str, Any]) -> list[str]:
        if not before["exists"]:
            return []
        identifier = step.parameters["resource_id"]
        removed = [grantee for grantee in step.parameters["grantees"] if grantee in before["shared_with"]]
        current = self._live(aws, identifier)
        if current is None:
            raise UndoError(f"{self.noun} {identifier} no longer exists; its shares cannot be restored")
        missing = [grantee for grantee in removed if grantee not in current]
        if not missing:
            return []
        self.change(aws, identifier, add=missing, remove=())
        return [f"shared {self.noun} {identifier} again with {_join([grantee_label(g) for g in missing])}"]


def _ec2_entry(grantee: str) -> dict[str, str]:
    """A share-list entry as EC2's API takes it."""
    if grantee == PUBLIC:
        return {"Group": PUBLIC}
    if _ORGANIZATION_ARN.fullmatch(grantee):
        return {"OrganizationArn": grantee}
    if _OU_ARN.fullmatch(grantee):
        return {"OrganizationalUnitArn": grantee}
    return {"UserId": grantee}


def _ec2_entries(permissions: Iterable[Mapping[str, Any]]) -> list[str]:
    keys = ("Group", "UserId", "OrganizationArn", "OrganizationalUnitArn")
    return sorted(str(entry[key]) for entry in permissions for key in keys if entry.get(key))


class RemoveSnapshotShare(RemoveShare):
    """Take ``all`` or outside accounts off an EBS snapshot's create-volume permission."""

    noun: ClassVar[str] = "EBS snapshot"
    gone_codes: ClassVar[frozenset[str]] = frozenset({"InvalidSnapshot.NotFound"})
    permissions: ClassVar[Permissions] = ("ec2:DescribeSnapshotAttribute", "ec2:ModifySnapshotAttribute")
    undo_permissions: ClassVar[Permissions] = permissions
    action: ClassVar[StepAction] = StepAction("remove_snapshot_share", permissions)

    def read(self, aws: AccountClients, identifier: str) -> list[str]:
        answer = aws.client("ec2").describe_snapshot_attribute(
            SnapshotId=identifier, Attribute="createVolumePermission"
        )
        return _ec2_entries(answer.get("CreateVolumePermissions", []))

    def change(self, aws: AccountClients, identifier: str, *, add: Sequence[str], remove: Sequence[str]) -> None:
        # The OperationType form (EC2 takes one operation per call; a share list of a snapshot has no organisations).
        operation, grantees = ("add", add) if add else ("remove", remove)
        aws.client("ec2").modify_snapshot_attribute(
            SnapshotId=identifier,
            Attribute="createVolumePermission",
            OperationType=operation,
            GroupNames=[g for g in grantees if g == PUBLIC],
            UserIds=[g for g in grantees if g != PUBLIC],
        )


class RemoveImageShare(RemoveShare):
    """Take ``all`` or outside accounts, organisations or OUs off an AMI's launch permission."""

    noun: ClassVar[str] = "AMI"
    gone_codes: ClassVar[frozenset[str]] = frozenset({"InvalidAMIID.NotFound", "InvalidAMIID.Unavailable"})
    permissions: ClassVar[Permissions] = ("ec2:DescribeImageAttribute", "ec2:ModifyImageAttribute")
    undo_permissions: ClassVar[Permissions] = permissions
    action: ClassVar[StepAction] = StepAction("remove_image_share", permissions)

    def read(self, aws: AccountClients, identifier: str) -> list[str]:
        answer = aws.client("ec2").describe_image_attribute(ImageId=identifier, Attribute="launchPermission")
        return _ec2_entries(answer.get("LaunchPermissions", []))

    def change(self, aws: AccountClients, identifier: str, *, add: Sequence[str], remove: Sequence[str]) -> None:
        modification = {"Add": [_ec2_entry(g) for g in add], "Remove": [_ec2_entry(g) for g in remove]}
        aws.client("ec2").modify_image_attribute(ImageId=identifier, LaunchPermission=modification)


class RemoveDbSnapshotShare(RemoveShare):
    """Take ``all`` or outside accounts off an RDS DB snapshot's ``restore`` attribute."""

    noun: ClassVar[str] = "RDS DB snapshot"
    gone_codes: ClassVar[frozenset[str]] = frozenset({"DBSnapshotNotFound", "DBSnapshotNotFoundFault"})
    permissions: ClassVar[Permissions] = ("rds:DescribeDBSnapshotAttributes", "rds:ModifyDBSnapshotAttribute")
    undo_permissions: ClassVar[Permissions] = permissions
    action: ClassVar[StepAction] = StepAction("remove_db_snapshot_share", permissions)

    def read(self, aws: AccountClients, identifier: str) -> list[str]:
        answer = aws.client("rds").describe_db_snapshot_attributes(DBSnapshotIdentifier=identifier)
        return _restore_values(answer["DBSnapshotAttributesResult"].get("DBSnapshotAttributes", []))

    def change(self, aws: AccountClients, identifier: str, *, add: Sequence[str], remove: Sequence[str]) -> None:
        aws.client("rds").modify_db_snapshot_attribute(
            DBSnapshotIdentifier=identifier, AttributeName="restore", ValuesToAdd=list(add), ValuesToRemove=list(remove)
        )


class RemoveDbClusterSnapshotShare(RemoveShare):
    """Take ``all`` or outside accounts off an RDS cluster snapshot's ``restore`` attribute."""

    noun: ClassVar[str] = "RDS cluster snapshot"
    gone_codes: ClassVar[frozenset[str]] = frozenset({"DBClusterSnapshotNotFoundFault"})
    permissions: ClassVar[Permissions] = (
        "rds:DescribeDBClusterSnapshotAttributes",
        "rds:ModifyDBClusterSnapshotAttribute",
    )
    undo_permissions: ClassVar[Permissions] = permissions
    action: ClassVar[StepAction] = StepAction("remove_db_cluster_snapshot_share", permissions)

    def read(self, aws: AccountClients, identifier: str) -> list[str]:
        answer = aws.client("rds").describe_db_cluster_snapshot_attributes(DBClusterSnapshotIdentifier=identifier)
        return _restore_values(answer["DBClusterSnapshotAttributesResult"].get("DBClusterSnapshotAttributes", []))

    def change(self, aws: AccountClients, identifier: str, *, add: Sequence[str], remove: Sequence[str]) -> None:
        aws.client("rds").modify_db_cluster_snapshot_attribute(
            DBClusterSnapshotIdentifier=identifier,
            AttributeName="restore",
            ValuesToAdd=list(add),
            ValuesToRemove=list(remove),
        )


def _restore_values(attributes: Iterable[Mapping[str, Any]]) -> list[str]:
    return sorted(
        str(value)
        for attribute in attributes
        if attribute.get("AttributeName") == "restore"
        for value in attribute.get("AttributeValues", [])
    )


ACTIONS_BY_EVENT: Mapping[str, RemoveShare] = {
    "ModifySnapshotAttribute": RemoveSnapshotShare(),
    "ModifyImageAttribute": RemoveImageShare(),
    "ModifyDBSnapshotAttribute": RemoveDbSnapshotShare(),
    "ModifyDBClusterSnapshotAttribute": RemoveDbClusterSnapshotShare(),
}

GUARDRAILS = (
    ShareRule(EBS_SNAPSHOT_SHARED, (EBS_SNAPSHOT,)),
    ShareRule(AMI_SHARED, (AMI,)),
    ShareRule(RDS_SNAPSHOT_SHARED, (RDS_SNAPSHOT, RDS_CLUSTER_SNAPSHOT)),
)
ACTIONS = tuple(ACTIONS_BY_EVENT.values())
