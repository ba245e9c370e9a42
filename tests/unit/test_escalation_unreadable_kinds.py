"""An existing-resource method on every resource of a kind the directory cannot read at all judges as without a
directory (s8 review 13 finding 4): more context must not weaken a verdict. A kind the directory reads, whose
read was refused, still leaves the path possible."""

from __future__ import annotations

from typing import Any

from iamwarden.adapters.principals import LiveRoleDirectory
from iamwarden.domain.directory import PrincipalKey, StaticDirectory
from iamwarden.domain.escalation import EscalationPath, assess_principal
from iamwarden.domain.policy import parse_policy
from iamwarden.domain.principals import NamedPolicy, PrincipalPolicies

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


def test_every_function_with_details_that_hold_no_functions_is_certain() -> None:
    path = _path(_holder("*"), _details())
    assert path is not None
    assert path.certain
    also = _path(_holder(f"arn:aws:lambda:*:{ACCOUNT}:function:*"), _details())
    assert also is not None
    assert also.certain


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
