"""An existing-resource method on every resource of a kind the directory cannot read at all judges as without a
directory (s8 review 13 finding 4): more context must not weaken a verdict. Both leave it possible, naming what is
unknown (s10 review finding 11: a stronger role behind one of the resources may not exist; never remediated on a
guess). A kind the directory reads, whose read was refused, still leaves the path possible."""

from __future__ import annotations

from typing import Any

import pytest

from iamwarden.adapters.principals import LiveRoleDirectory
from iamwarden.domain.directory import PrincipalKey, StaticDirectory
from iamwarden.domain.escalation import EscalationPath, assess_principal
from iamwarden.domain.policy import parse_policy
from iamwarden.domain.principals import NamedPolicy, PrincipalPolicies
from iamwarden.guardrails.identity_policy import decisive

ACCOUNT = "111122223333"
HOLDER = f"arn:aws:iam::{ACCOUNT}:role/app"
ADMIN_ROLE = f"arn:aws:iam::{ACCOUNT}:role/admin"
FUNCTION = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:deploy"
METHOD = "EditExistingLambdaFunctionWithRole"


def _holder(resource: str) -> PrincipalPolicies:
    policy = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "lambda:UpdateFunctionCode", "Resource": resource}],
        }
    )
    return PrincipalPolicies(HOLDER, (NamedPolicy("inline app/p", policy),))


def _admin() -> PrincipalPolicies:
    policy = parse_policy({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
    return PrincipalPolicies(ADMIN_ROLE, (NamedPolicy("inline admin/all", policy),))


def _path(holder: PrincipalPolicies, directory: Any) -> EscalationPath | None:
    return next((p for p in assess_principal(holder, directory).escalations if p.method.name == METHOD), None)


def _details(behind: dict[str, list[str]] | None = None) -> StaticDirectory:
    key = PrincipalKey.of(ADMIN_ROLE)
    assert key is not None
    return StaticDirectory({key: _admin()}, roles={ACCOUNT: [ADMIN_ROLE]}, behind=behind)


@pytest.mark.parametrize("resource", ["*", f"arn:aws:lambda:*:{ACCOUNT}:function:*"])
def test_every_function_with_details_that_hold_no_functions_stays_possible(resource: str) -> None:
    # Review s10 finding 11: no stronger role behind any function may exist; which roles they act as is unknown.
    path = _path(_holder(resource), _details())
    assert path is not None
    assert not path.certain
    assert path.leads_to == ()
    assert path.unknown == (
        f"which roles the lambda:function resources {resource} act as, and what they may do "
        "(no reader for that kind of resource here)",
    )


def test_every_function_without_a_directory_stays_possible_too() -> None:
    # More context does not weaken the verdict: the document judged alone keeps the same unknown.
    [path] = [
        p for p in decisive(assess_principal(_holder("*"), None), alone=True).escalations if p.method.name == METHOD
    ]
    assert not path.certain
    assert path.unknown


def test_a_batch_grant_on_every_job_definition_is_no_certain_escalation() -> None:
    policy = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["batch:SubmitJob", "s3:GetObject"], "Resource": "*"}],
        }
    )
    holder = PrincipalPolicies(HOLDER, (NamedPolicy("inline app/p", policy),))
    risk = decisive(assess_principal(holder, _details()))
    [path] = [p for p in risk.escalations if p.method.name == "SubmitJobToExistingBatchJobDefinition"]
    assert not path.certain
    assert "which roles the batch:job-definition resources * act as" in path.unknown[0]
    assert risk.unknown


def test_a_named_function_with_details_that_hold_no_functions_stays_possible() -> None:
    path = _path(_holder(FUNCTION), _details())
    assert path is not None
    assert not path.certain
    assert "no reader for that kind of resource here" in path.unknown[0]


def test_details_that_map_functions_read_them() -> None:
    weak_behind = _details({FUNCTION: []})
    assert _path(_holder(FUNCTION), weak_behind) is None  # read: no role behind it
    strong = _path(_holder(FUNCTION), _details({FUNCTION: [ADMIN_ROLE]}))
    assert strong is not None
    assert [lead.arn for lead in strong.leads_to] == [ADMIN_ROLE]


def test_the_static_directory_reads_instance_profiles_and_the_kinds_it_maps() -> None:
    directory = _details({FUNCTION: [ADMIN_ROLE]})
    assert directory.reads_roles_behind(f"arn:aws:iam::{ACCOUNT}:instance-profile/x")
    assert directory.reads_roles_behind(f"arn:aws:lambda:*:{ACCOUNT}:function:*")
    assert not directory.reads_roles_behind(f"arn:aws:ec2:*:{ACCOUNT}:instance/*")


class _NoClients:
    def client(self, service: str, account: str, region: str, *, logged: bool = True) -> Any:
        raise AssertionError("reads_roles_behind makes no call")


def test_the_live_directory_reads_the_kinds_it_has_a_reader_for() -> None:
    live = LiveRoleDirectory(_NoClients())
    assert live.reads_roles_behind(f"arn:aws:lambda:*:{ACCOUNT}:function:*")
    assert live.reads_roles_behind(f"arn:aws:ec2:*:{ACCOUNT}:instance/*")
    assert live.reads_roles_behind(f"arn:aws:iam::{ACCOUNT}:instance-profile/x")
    assert not live.reads_roles_behind(f"arn:aws:bedrock-agentcore:*:{ACCOUNT}:runtime/*")
    assert not live.reads_roles_behind(f"arn:aws:batch:*:{ACCOUNT}:job-definition/*")
    assert not live.reads_roles_behind("not-an-arn")


class _Refused(StaticDirectory):
    """Reads functions, but every read is refused."""

    def reads_roles_behind(self, resource_arn: str) -> bool:
        return True


def test_a_refused_read_of_a_readable_kind_stays_possible() -> None:
    key = PrincipalKey.of(ADMIN_ROLE)
    assert key is not None
    path = _path(_holder("*"), _Refused({key: _admin()}, roles={ACCOUNT: [ADMIN_ROLE]}))
    assert path is not None
    assert not path.certain
    assert "could not be read" in path.unknown[0]
