"""BEFORE is what the changed source held before the change, not the principal without it (audit gap 5).

An edit that keeps a long-standing escalation grant and only adds a read opens nothing: it is compliant, and
the plan of an edit that adds a method keeps the older one. For a policy version, BEFORE is the previous
default: the authorization details' default when they predate the change; otherwise one of the other
versions (IAM records no previous default), and where those differ the finding says so and is only alerted.
For an inline overwrite, BEFORE is the details' stored document; a read that already holds the change
(as live) leaves the previous document unknown, and a new method is only alerted.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from iamwarden.app.cli import DetailsDocuments
from iamwarden.domain.directory import PrincipalKey, StaticDirectory, inline_source
from iamwarden.domain.findings import Judgement, Verdict
from iamwarden.domain.managed_documents import PolicyVersion
from iamwarden.domain.policy import parse_policy
from iamwarden.domain.principals import NamedPolicy, PrincipalPolicies
from iamwarden.domain.settings import Settings
from iamwarden.guardrails.engine import judge_event
from iamwarden.guardrails.identity_policy import safe_version
from iamwarden.guardrails.remediation import statement_list, without_offending
from tests.conftest import load_event

ACCOUNT = "111122223333"
APP = f"arn:aws:iam::{ACCOUNT}:role/app"
ADMIN_ROLE = f"arn:aws:iam::{ACCOUNT}:role/admin-role"
ADMIN_POLICY = "arn:aws:iam::aws:policy/AdministratorAccess"
DEPLOY = f"arn:aws:iam::{ACCOUNT}:policy/app-deploy"

DEPLOY_STATEMENT = {"Sid": "Deploy", "Effect": "Allow", "Action": ["iam:PassRole", "ec2:RunInstances"], "Resource": "*"}
LOGS_STATEMENT = {"Sid": "Logs", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::logs/*"}
KEYS_STATEMENT = {"Sid": "Keys", "Effect": "Allow", "Action": "iam:CreateAccessKey", "Resource": "*"}
#: The probe's documents (/work/tools-tmp/s5/probe p7.py, p8.py): a long-standing deploy grant, then a read added.
OLD = {"Version": "2012-10-17", "Statement": [DEPLOY_STATEMENT]}
NEW = {"Version": "2012-10-17", "Statement": [DEPLOY_STATEMENT, LOGS_STATEMENT]}
#: The edit also adds a method of its own (CreateAccessKey on every user).
NEW_WITH_KEYS = {"Version": "2012-10-17", "Statement": [DEPLOY_STATEMENT, LOGS_STATEMENT, KEYS_STATEMENT]}
READ_ONLY = {"Version": "2012-10-17", "Statement": [LOGS_STATEMENT]}


def _admin_role() -> PrincipalPolicies:
    return PrincipalPolicies(
        ADMIN_ROLE,
        (
            NamedPolicy(
                ADMIN_POLICY, parse_policy({"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
            ),
        ),
    )


def _directory(
    app: PrincipalPolicies, versions: dict[str, dict[str, Any]] | None = None, default: str = "v1"
) -> StaticDirectory:
    principals = {PrincipalKey.of(p.principal_arn): p for p in (app, _admin_role())}
    return StaticDirectory(
        {key: value for key, value in principals.items() if key is not None},
        roles={ACCOUNT: (APP, ADMIN_ROLE)},
        attachments={DEPLOY: (APP,)} if versions else None,
        versions={DEPLOY: (default, {vid: PolicyVersion(vid, doc) for vid, doc in versions.items()})}
        if versions
        else None,
    )


def _inline(name: str, document: dict[str, Any]) -> PrincipalPolicies:
    return PrincipalPolicies(APP, (NamedPolicy(inline_source("app", name), parse_policy(document)),))


def _holding_deploy(document: dict[str, Any]) -> PrincipalPolicies:
    return PrincipalPolicies(APP, (NamedPolicy(DEPLOY, parse_policy(document)),))


def _put(name: str, document: dict[str, Any]) -> dict[str, Any]:
    event = copy.deepcopy(load_event("put-role-policy-admin-star.json"))
    event["detail"]["requestParameters"].update(roleName="app", policyName=name, policyDocument=json.dumps(document))
    return event


def _new_version(document: dict[str, Any], version_id: str = "v2") -> dict[str, Any]:
    event = copy.deepcopy(load_event("create-policy-version-escalation.json"))
    event["detail"]["requestParameters"]["policyDocument"] = json.dumps(document)
    event["detail"]["responseElements"]["policyVersion"]["versionId"] = version_id
    return event


def _judge(event: dict[str, Any], directory: StaticDirectory) -> Judgement:
    return judge_event(event, Settings(), DetailsDocuments(directory), directory)


# --- inline overwrite ------------------------------------------------------------------------------


def test_an_inline_edit_that_only_adds_a_read_to_a_long_standing_grant_is_compliant() -> None:
    judgement = _judge(_put("deploy", NEW), _directory(_inline("deploy", OLD)))

    assert judgement.verdict is Verdict.COMPLIANT, judgement.reason
    assert "did not already have" in judgement.reason


def test_an_inline_edit_that_adds_a_method_is_found_and_the_plan_keeps_the_older_grant() -> None:
    [finding] = _judge(_put("deploy", NEW_WITH_KEYS), _directory(_inline("deploy", OLD))).findings

    assert finding.rule_id == "privilege-escalation"
    assert finding.certain
    assert "CreateAccessKey" in finding.reason
    assert "CreateEC2WithExistingIP" not in json.dumps(finding.offending)  # the older method is not what it added
    [step] = finding.plan
    remaining = without_offending(statement_list(step.parameters["document"]), step.parameters["statements"])
    assert DEPLOY_STATEMENT in remaining
    assert LOGS_STATEMENT in remaining
    assert KEYS_STATEMENT not in remaining


def test_an_inline_edit_that_drops_a_method_and_adds_nothing_is_compliant() -> None:
    judgement = _judge(_put("deploy", READ_ONLY), _directory(_inline("deploy", OLD)))

    assert judgement.verdict is Verdict.COMPLIANT


def test_a_new_inline_name_is_judged_against_the_principal_without_it() -> None:
    [finding] = _judge(_put("deploy", NEW), _directory(PrincipalPolicies(APP, ()))).findings

    assert finding.certain
    assert "CreateEC2WithExistingIP" in finding.reason


def test_details_that_already_hold_the_put_leave_its_previous_document_unknown() -> None:
    [finding] = _judge(_put("deploy", NEW), _directory(_inline("deploy", NEW))).findings

    assert not finding.certain
    assert finding.needs_context[-1].startswith("the previous document of inline policy deploy of role app is unknown")


def test_an_admin_grant_is_judged_on_the_document_whatever_it_replaced() -> None:
    star = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}

    [finding] = _judge(_put("debug", star), _directory(_inline("debug", star))).findings

    assert (finding.rule_id, finding.certain) == ("inline-policy-admin", True)


# --- policy versions ------------------------------------------------------------------------------


def test_a_new_default_version_that_only_adds_a_read_is_compliant() -> None:
    directory = _directory(_holding_deploy(OLD), {"v1": OLD})

    judgement = _judge(_new_version(NEW), directory)

    assert judgement.verdict is Verdict.COMPLIANT, judgement.reason


def test_a_new_default_version_that_adds_a_method_restores_the_previous_default_keeping_the_older_grant() -> None:
    directory = _directory(_holding_deploy(OLD), {"v1": OLD})

    [finding] = _judge(_new_version(NEW_WITH_KEYS), directory).findings

    assert finding.certain
    assert "CreateAccessKey" in finding.reason
    [step] = finding.plan
    assert step.parameters["previous_version"] == "v1"
    assert step.parameters["added_methods"] == ["CreateAccessKey"]
    # v1 holds an escalation method of its own, but not the one the change added: it is safe to restore
    versions: list[Mapping[str, Any]] = [
        {"version_id": "v1", "created": "1", "document": OLD},
        {"version_id": "v2", "created": "2", "document": NEW_WITH_KEYS},
    ]
    assert safe_version(versions, "v2", step.parameters["added_methods"], "v1") == "v1"
    assert safe_version(versions, "v2") is None  # what it was before: no version is safe, v1's grant is stripped


def test_details_taken_after_the_change_compare_with_every_other_version() -> None:
    # the details' default is the event's own version; v1 and v2 both held the deploy grant: nothing new
    directory = _directory(_holding_deploy(NEW), {"v1": OLD, "v2": OLD, "v3": NEW}, default="v3")

    judgement = _judge(_new_version(NEW, "v3"), directory)

    assert judgement.verdict is Verdict.COMPLIANT, judgement.reason


def test_other_versions_that_differ_make_the_method_an_alert_only_finding() -> None:
    directory = _directory(_holding_deploy(NEW), {"v1": OLD, "v2": READ_ONLY, "v3": NEW}, default="v3")

    [finding] = _judge(_new_version(NEW, "v3"), directory).findings

    assert not finding.certain
    assert any(
        fact.startswith("which version of app-deploy was the default before v3 (IAM keeps no record of it): v1 or v2")
        for fact in finding.needs_context
    )


def test_no_other_version_left_makes_the_previous_default_unknown() -> None:
    directory = _directory(_holding_deploy(NEW), {"v3": NEW}, default="v3")

    [finding] = _judge(_new_version(NEW, "v3"), directory).findings

    assert not finding.certain
    assert any("no other version of it is left" in fact for fact in finding.needs_context)


def test_a_version_the_previous_default_did_not_grant_is_certain_even_when_taken_after() -> None:
    directory = _directory(_holding_deploy(NEW), {"v1": READ_ONLY, "v2": NEW}, default="v2")

    [finding] = _judge(_new_version(NEW, "v2"), directory).findings

    assert finding.certain
    assert finding.plan[0].parameters["previous_version"] == "v1"


# --- no earlier version is made the default on a guess (review s10 finding 6) ---------------------------------

_D = {"Version": "2012-10-17"}
NARROW = {**_D, "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::app-bucket/*"}]}
BROAD = {
    **_D,
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "secretsmanager:GetSecretValue", "kms:Decrypt", "dynamodb:Scan"],
            "Resource": "*",
        }
    ],
}
ATTACH = {**_D, "Statement": [{"Effect": "Allow", "Action": "iam:AttachRolePolicy", "Resource": "*"}]}


def _versions(**documents: dict[str, Any]) -> list[Mapping[str, Any]]:
    return [{"version_id": vid, "created": str(n), "document": doc} for n, (vid, doc) in enumerate(documents.items())]


def test_with_several_candidates_and_no_previous_default_known_no_version_is_chosen() -> None:
    """p10b: v2 (broad, never the default) is the newest safe version, but nothing says it was the default."""
    versions = _versions(v1=NARROW, v2=BROAD, v3=ATTACH)

    assert safe_version(versions, "v3", ["AttachRolePolicy"], None) is None
    assert safe_version(versions, "v3", ["AttachRolePolicy"], "v1") == "v1"
    assert safe_version(versions, "v3", None, "v2") == "v2"  # known: the version that was the default comes back


def test_a_known_previous_default_that_is_not_safe_is_not_replaced_by_another_version() -> None:
    versions = _versions(v1=ATTACH, v2=NARROW, v3=ATTACH)

    assert safe_version(versions, "v3", None, "v1") is None  # not v2: it never was the default


def test_the_one_other_version_was_the_default_before() -> None:
    # Known (the listing, the enforcer's record, or the event created v2: ``_created_after_v1``), it comes back.
    assert safe_version(_versions(v1=NARROW, v2=ATTACH), "v2", ["AttachRolePolicy"], "v1") == "v1"
    assert safe_version(_versions(v1=ATTACH, v2=ATTACH), "v2", None, "v1") is None


def test_a_deny_only_version_safe_alone_is_not_chosen_in_place_of_an_unknown_guard() -> None:
    """p10c: v1 the guard (Deny iam:*) was the default; v3 drops it; v2 never held it. Judged alone every one is
    safe, so "the newest safe" would be v2 and the escalation would stay."""
    guard = {**_D, "Statement": [{"Effect": "Deny", "Action": "iam:*", "Resource": "*"}]}
    other = {**_D, "Statement": [{"Effect": "Deny", "Action": "s3:DeleteBucket", "Resource": "*"}]}
    dropped = {**_D, "Statement": [{"Effect": "Deny", "Action": "s3:PutObject", "Resource": "*"}]}
    versions = _versions(v1=guard, v2=other, v3=dropped)

    assert safe_version(versions, "v3", ["AttachRolePolicy", "PutRolePolicy"], None) is None
    assert safe_version(versions, "v3", ["AttachRolePolicy", "PutRolePolicy"], "v1") == "v1"


def test_the_plan_for_several_candidates_and_nothing_that_may_stay_is_alert_only() -> None:
    """p10: offline with the details read after the change (v3 the default), v1 or v2 was the default before."""
    directory = _directory(_holding_deploy(ATTACH), {"v1": NARROW, "v2": BROAD, "v3": ATTACH}, default="v3")

    [finding] = _judge(_new_version(ATTACH, "v3"), directory).findings

    assert not finding.certain
    assert any(
        fact.startswith("which version of app-deploy was the default before v3 (IAM keeps no record of it)")
        for fact in finding.needs_context
    )
    assert "none is made the default on a guess" in finding.plan[0].summary


def test_the_one_other_version_created_after_the_offending_one_never_was_the_default() -> None:
    """Review final s10 finding 1: the previous default deleted and a broad version added after the change must not
    come back as "the one other version"."""
    assert safe_version(_versions(v2=ATTACH, v3=NARROW), "v2", ["AttachRolePolicy"], None) is None


def test_a_lone_draft_that_never_was_the_default_is_not_restored() -> None:
    """Issue 13 (session 11): v1 the default, v2 staged (never the default), v3 made the default, then v1 deleted: v2
    is the one other version left and was created before v3, but nothing says it ever was the default. Only v1 (the
    version ``CreatePolicy`` makes the default) is known to have been one without a record."""
    assert safe_version(_versions(v2=NARROW, v3=ATTACH), "v3", ["AttachRolePolicy"], None) is None
    assert safe_version(_versions(v2=NARROW, v3=ATTACH), "v3", None, None) is None
    # Nor v1 with v3 offending (review s11 finding 5: v2 may have been a later default, deleted since).
    assert safe_version(_versions(v1=NARROW, v3=ATTACH), "v3", ["AttachRolePolicy"], None) is None
    # Known from the listing or the enforcer's own record, v2 comes back.
    assert safe_version(_versions(v2=NARROW, v3=ATTACH), "v3", ["AttachRolePolicy"], "v2") == "v2"


def test_the_plan_names_no_lone_draft_as_the_previous_default() -> None:
    """Read after the change (v3 the default) with only v2 left besides it: v2 is not taken for the previous default
    (``previous_version`` is not set), so the plan writes v3 without its offending grant instead of restoring v2."""
    directory = _directory(_holding_deploy(ATTACH), {"v2": NARROW, "v3": ATTACH}, default="v3")

    [finding] = _judge(_new_version(ATTACH, "v3"), directory).findings

    [step] = finding.plan
    assert "previous_version" not in step.parameters


def test_v1_is_the_previous_default_only_when_the_event_created_v2() -> None:
    """Review s11 finding 5: v1 was the previous default only when the event created v2 as the default (ids increase
    and are never reused, so v1 was the only version). With v1 and an offending v5 left, v2..v4 may have been
    defaults deleted since: no ``previous_version``, the plan writes v5 without its offending grant."""
    late = _directory(_holding_deploy(ATTACH), {"v1": NARROW, "v5": ATTACH}, default="v5")
    [finding] = _judge(_new_version(ATTACH, "v5"), late).findings
    [step] = finding.plan
    assert "previous_version" not in step.parameters

    created = _directory(_holding_deploy(ATTACH), {"v1": NARROW, "v2": ATTACH}, default="v2")
    [finding] = _judge(_new_version(ATTACH, "v2"), created).findings
    [step] = finding.plan
    assert step.parameters["previous_version"] == "v1"
