"""Errors of the pruner. Each says what was not done and why; AWS errors are chained."""

from __future__ import annotations

from iamwarden.domain.exceptions import IamWardenError


class PruneError(IamWardenError):
    """Base class of the pruner's errors."""


class AccessAdvisorNotReady(PruneError):
    """The Access Advisor job is still running; try again later (the queue redelivers the role)."""

    def __init__(self, role_arn: str, job_id: str) -> None:
        self.role_arn = role_arn
        self.job_id = job_id
        super().__init__(f"Access Advisor job {job_id} for {role_arn} is still in progress; retried later")


class AccessAdvisorError(PruneError):
    """Access Advisor gave no usable answer (job failed, a page is missing, data is stale): no decision."""


class RoleReadError(PruneError):
    """The role or one of its policies could not be read completely: no decision."""


class StoreError(PruneError):
    """The state store could not be read or written; nothing is changed without a recorded before-state."""


class PlanNotFoundError(PruneError):
    """No plan has this id (or it expired from the store)."""


class PlanStateError(PruneError):
    """The plan is not in a state that allows this (cancel an applied plan, roll back an announced one)."""


class PreconditionFailedError(PruneError):
    """The role's policies changed since the plan was frozen (or applied); nothing was changed."""


class PlanTamperedError(PruneError):
    """The stored plan is not what the pruner would write for the role: someone changed the item; nothing was done."""


class ExecutionError(PruneError):
    """Applying or rolling back a plan failed part-way; the plan records the steps that were done."""


class CatalogueError(PruneError):
    """The IAM action catalogue could not be loaded."""
