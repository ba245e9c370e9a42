"""Two intruder writes of an own role's inline policy in a row end at the document template.yaml declares (moto).

The heartbeat's snapshot taken between them holds the first write; the restore never reads it for a policy the
template declares whole (``declared.OWN_INLINE_DOCUMENTS``). The heartbeat reports a declared document written over,
and an inline policy the template does not declare.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from iamwarden.adapters.recorded import AuditRecorded, take_own_role_snapshots
from iamwarden.app.heartbeat import SnapshotRefresh
from iamwarden.app.service import EnforcerService
from iamwarden.domain.declared_content import declared_inline_policy
from tests.aws_fixtures import HOME_ACCOUNT, REGION
from tests.conftest import SAMPLE_OWN, load_event
from tests.functional.conftest import Account
from tests.functional.test_tampering import LAMBDA_TRUST

ROLE = "iamwarden-enforcer-us-east-1"
POLICY = "only-its-own-function"
FIRST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
SECOND = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*"}]}


def _declared() -> Any:
    template = declared_inline_policy(SAMPLE_OWN, ROLE, POLICY, "aws")
    assert template is not None
    assert template.document is not None
    return template.document


def _write(account: Account, document: Any, at: str) -> dict[str, Any]:
    account.iam.put_role_policy(RoleName=ROLE, PolicyName=POLICY, PolicyDocument=json.dumps(document))
    event = copy.deepcopy(load_event("tamper-enforcer-role-policy.json"))
    event["time"] = event["detail"]["eventTime"] = at
    event["detail"]["eventID"] = f"write-{at}"
    event["detail"]["requestParameters"] = {
        "roleName": ROLE,
        "policyName": POLICY,
        "policyDocument": json.dumps(document),
    }
    return event


def _live(account: Account) -> Any:
    return account.iam.get_role_policy(RoleName=ROLE, PolicyName=POLICY)["PolicyDocument"]


def test_two_intruder_writes_in_a_row_end_at_the_declared_document(account: Account, enforcer: EnforcerService) -> None:
    account.iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    account.iam.put_role_policy(RoleName=ROLE, PolicyName=POLICY, PolicyDocument=json.dumps(_declared()))
    first = _write(account, FIRST, "2026-11-13T09:22:18Z")
    # The heartbeat runs between the two writes, before the first is judged: its snapshot holds the first write.
    recorded = AuditRecorded(account.audit(), account.dynamodb)
    recorded.put_all(take_own_role_snapshots(account.iam, [ROLE], HOME_ACCOUNT, "2026-11-13T09:23:00.000+00:00"))
    second = _write(account, SECOND, "2026-11-13T09:24:00Z")

    enforcer.handle(first)  # the first write is no longer live: left to the second's restore
    assert _live(account) == SECOND
    result = enforcer.handle(second)

    assert _live(account) == _declared()
    [finding] = [f for f in result["findings"] if f["rule"] == "iamwarden-tampered"]
    assert finding["outcome"] == "remediated"


class _Store:
    def __init__(self) -> None:
        self.kept: list[Any] = []

    def put_all(self, snapshots: Any) -> int:
        self.kept.extend(snapshots)
        return len(self.kept)


def test_the_heartbeat_reports_a_declared_document_written_over_and_an_undeclared_policy(account: Account) -> None:
    account.iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    account.iam.put_role_policy(RoleName=ROLE, PolicyName=POLICY, PolicyDocument=json.dumps(_declared()))
    refresh = SnapshotRefresh(
        _Store(), None, account.iam, HOME_ACCOUNT, region=REGION, own_roles=(ROLE,), own=SAMPLE_OWN
    )
    snapshots = take_own_role_snapshots(account.iam, [ROLE], HOME_ACCOUNT, "2026-11-13T09:00:00.000+00:00")
    assert refresh.same_roles(snapshots) == snapshots
    assert refresh.replaced_roles == []

    account.iam.put_role_policy(RoleName=ROLE, PolicyName=POLICY, PolicyDocument=json.dumps(FIRST))
    account.iam.put_role_policy(RoleName=ROLE, PolicyName="backdoor", PolicyDocument=json.dumps(FIRST))
    snapshots = take_own_role_snapshots(account.iam, [ROLE], HOME_ACCOUNT, "2026-11-13T09:05:00.000+00:00")
    refresh.same_roles(snapshots)
    [backdoor, written_over] = refresh.replaced_roles
    assert f"role {ROLE} has an inline policy backdoor its template does not declare" in backdoor
    assert f"the inline policy {POLICY} of IAM Warden's role {ROLE} is not the document its template declares" in (
        written_over
    )


def test_a_member_accounts_roles_are_not_compared_with_the_security_accounts_template(account: Account) -> None:
    refresh = SnapshotRefresh(_Store(), None, account.iam, "444455556666", region=REGION, own=SAMPLE_OWN)
    account.iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    account.iam.put_role_policy(RoleName=ROLE, PolicyName="backdoor", PolicyDocument=json.dumps(FIRST))
    snapshots = take_own_role_snapshots(account.iam, [ROLE], HOME_ACCOUNT, "2026-11-13T09:05:00.000+00:00")
    assert refresh.inline_differences(snapshots[0]) == []


def test_the_heartbeat_reports_a_permissions_boundary_on_an_own_role(account: Account) -> None:
    """Review s10 finding 8: the template gives its roles no boundary; a deny-all one silences the enforcer."""
    account.iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    account.iam.put_role_policy(RoleName=ROLE, PolicyName=POLICY, PolicyDocument=json.dumps(_declared()))
    refresh = SnapshotRefresh(
        _Store(), None, account.iam, HOME_ACCOUNT, region=REGION, own_roles=(ROLE,), own=SAMPLE_OWN
    )
    refresh.same_roles(take_own_role_snapshots(account.iam, [ROLE], HOME_ACCOUNT, "2026-11-13T09:00:00.000+00:00"))
    assert refresh.replaced_roles == []

    deny_all = "arn:aws:iam::aws:policy/AWSDenyAll"
    account.iam.put_role_permissions_boundary(RoleName=ROLE, PermissionsBoundary=deny_all)
    refresh.same_roles(take_own_role_snapshots(account.iam, [ROLE], HOME_ACCOUNT, "2026-11-13T09:05:00.000+00:00"))

    [problem] = refresh.replaced_roles
    assert f"IAM Warden's role {ROLE} has a permissions boundary its template does not give it ({deny_all})" in problem
    assert f"aws iam delete-role-permissions-boundary --role-name {ROLE}" in problem


def test_a_member_accounts_role_boundary_is_not_the_security_accounts_to_report(account: Account) -> None:
    refresh = SnapshotRefresh(_Store(), None, account.iam, "444455556666", region=REGION, own=SAMPLE_OWN)
    account.iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    account.iam.put_role_permissions_boundary(RoleName=ROLE, PermissionsBoundary="arn:aws:iam::aws:policy/AWSDenyAll")
    [snapshot] = take_own_role_snapshots(account.iam, [ROLE], HOME_ACCOUNT, "2026-11-13T09:05:00.000+00:00")
    assert snapshot.data["boundary"] == "arn:aws:iam::aws:policy/AWSDenyAll"
    assert refresh.boundary_difference(snapshot) == []
