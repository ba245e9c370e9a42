"""A principal's whole identity-side power, as data: every policy that applies to it, and where each comes from.

The escalation judgement asks "what can this principal do now", not "what does
this one document say": the answer needs every inline and attached policy of
the principal, its groups' policies and its permission boundary. These types
carry them, however they were learnt (read live by the enforcer, or from the
``get-account-authorization-details`` JSON offline). ``RoleDirectory`` answers
the questions a method raises about *other* principals (what a passed role, a
function's role or an instance's role may do); it says ``None`` when it cannot
know, and the finding then names what it lacked.
"""

from typing import NamedTuple, Protocol, runtime_checkable

from iamwarden.domain.policy import Policy


class NamedPolicy(NamedTuple):
    """One policy document and where it applies from, in words an alert can show.

    ``source`` is the policy ARN for a managed policy, ``inline <principal-name>/<policy-name>`` for
    an inline one, and ``group <group-name>: …`` for what a user holds through a group.
    """

    source: str
    policy: Policy
    #: The document's other readings when its text names a key twice with different values (or a condition key in
    #: two cases): ``policy`` is boto3's last-wins reading, and AWS documents none (``held_readings``). Empty: one.
    readings: tuple[Policy, ...] = ()


class PrincipalPolicies(NamedTuple):
    """Everything that decides what one IAM principal (a role, user or group) may do."""

    principal_arn: str  # the role/user/group ARN (never a session ARN)
    policies: tuple[NamedPolicy, ...]
    boundary: Policy | None = None  # the permissions boundary, if any
    #: A role's trust policy (who may assume it), when the reader had it; ``None``: unknown, or not a role.
    trust: Policy | None = None
    #: The permissions boundary's policy ARN, when the reader had it (the offline authorization details).
    boundary_arn: str | None = None
    #: A user's group ARNs, also of groups without policies (which ``policies`` cannot show), when the reader
    #: listed them; ``None``: not known, or not a user.
    groups: tuple[str, ...] | None = None
    #: A role's instance profile ARNs (what EC2 needs to run as it), when the reader listed them; ``None``: not
    #: known, or not a role.
    instance_profiles: tuple[str, ...] | None = None
    #: The permissions boundary's other readings, as ``NamedPolicy.readings``.
    boundary_readings: tuple[Policy, ...] = ()

    @property
    def kind(self) -> str:
        """``role``, ``user`` or ``group``."""
        resource = self.principal_arn.split(":", 5)[-1]
        return resource.split("/", 1)[0]

    def replaced(self, source: str, policy: Policy | None) -> "PrincipalPolicies":
        """The same principal with the policy from ``source`` replaced (or removed, for ``None``, or added)."""
        kept = tuple(named for named in self.policies if named.source != source)
        added = () if policy is None else (NamedPolicy(source, policy),)
        return self._replace(policies=kept + added)


class RoleDirectory(Protocol):
    """What the judgement may ask about principals other than the one that changed.

    Each method returns ``None`` when it cannot know (offline without authorization details, or a read
    was denied): the caller then reports the fact as unknown rather than guessing.
    """

    def principal(self, principal_arn: str) -> PrincipalPolicies | None:
        """The whole policy set of a role, user or group."""
        ...

    def roles_matching(self, account: str, pattern: str) -> tuple[str, ...] | None:
        """The role ARNs of ``account`` that a resource pattern (``arn:aws:iam::1:role/app-*``, ``*``) reaches."""
        ...

    def roles_behind(self, resource_arn: str) -> tuple[str, ...] | None:
        """The role ARNs a resource acts as: a Lambda function's execution role, an instance's profile roles."""
        ...


class RolesRead(NamedTuple):
    """The roles behind the resources a pattern reaches, and what could not be read (so is unknown).

    ``unread`` names what the answer leaves out (``"functions in eu-west-1 (AccessDenied)"``, ``"more than
    500 instances in us-east-1"``): a stronger role among ``roles`` still settles a verdict; finding none
    does not, since one may be among what was not read.
    """

    roles: tuple[str, ...]
    unread: tuple[str, ...] = ()


@runtime_checkable
class ReadsRolesBehind(Protocol):
    """A directory that can say which roles it found behind a pattern even when it could not read it all."""

    def roles_behind_read(self, resource_arn: str) -> RolesRead | None:
        """``roles_behind`` with what was left unread; ``None`` when nothing could be read."""
        ...


@runtime_checkable
class KnowsReadableKinds(Protocol):
    """A directory that can say whether it reads the roles behind a kind of resource at all: the offline one
    holds instance profiles only (no functions, no instances), the live one reads the kinds it has a reader for."""

    def reads_roles_behind(self, resource_arn: str) -> bool:
        """Whether ``roles_behind`` can ever answer for resources of this ARN's kind (not whether a read works)."""
        ...


@runtime_checkable
class ListsInstanceProfiles(Protocol):
    """A directory that reads a role's instance profiles only when asked (live: ``iam:ListInstanceProfilesForRole``),
    for a role it gave without them (``PrincipalPolicies.instance_profiles`` None): EC2 runs as a role only through
    one, so only the EC2 methods ask."""

    def instance_profiles_of(self, role_arn: str) -> tuple[str, ...] | None:
        """The role's instance profile ARNs; None when not known (the role is then kept as reachable)."""
        ...


@runtime_checkable
class ListsUsers(Protocol):
    """A directory that can list an account's users: who a trust policy naming the account lets in."""

    def users_of(self, account: str) -> tuple[str, ...] | None:
        """Every user ARN of ``account``; None when not known."""
        ...
