"""An inline put over an earlier document the record keeps whole is judged on what it added (issue 13 item 7).

The principal's ``attachments`` record keeps each inline policy's whole document beside its fingerprint (the
heartbeat's authorization details, or the enforcer's last put). Live, the directory is read after the put (it holds
the event's document), so only the record says what the put replaced:

* a different document it keeps whole: what the put added against it is certain, and the plan puts it back when a
  cut of the event's document would take something older (or leave a dropped Deny out);
* only its fingerprint (a record kept before documents were): not known, alert-only, as before;
* a Deny the new document dropped (review 13 finding 6): ``restraint-removed`` judges the principal's whole power
  with and without it, names the Deny in its alert, and plans the earlier document back;
* a live deletion: the record's document is what was deleted.

What the enforcer keeps after a remediated put is what the plan left (``Snapshot.if_remediated``).
"""

from __future__ import annotations

import copy
import json
from typing import Any

from iamwarden.app.cli import DetailsDocuments
from iamwarden.domain.authorization_details import authorization_details_directory
from iamwarden.domain.canonical import document_digest
from iamwarden.domain.findings import Finding, Judgement, Verdict
from iamwarden.domain.recorded import ATTACHMENTS, PastRemediation, Snapshot
from iamwarden.domain.settings import Settings, load_settings
from iamwarden.guardrails.engine import judge_event
from iamwarden.guardrails.remediation import statement_list, without_offending
from tests.conftest import load_event

ACCOUNT = "111122223333"
BEFORE = "2026-11-01T00:00:00.000+00:00"  # the samples happen later
RUNNER = f"arn:aws:iam::{ACCOUNT}:role/build-runner"
APP = f"arn:aws:iam::{ACCOUNT}:role/app-backend"
LAMBDA_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
PASS_ANY_ROLE = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}]}
ALLOW_ALL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
ALLOW_IAM = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "iam:*", "Resource": "*"}]}
READ_FUNCTIONS = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "lambda:GetFunction", "Resource": "*"}],
}
#: Already the whole method: a put adding GetFunction to it adds nothing.
CREATE_AND_INVOKE = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["lambda:CreateFunction", "lambda:InvokeFunction"], "Resource": "*"},
    ],
}
READ_LOGS = {"Sid": "ReadLogs", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::logs/*"}
GUARD = {"Sid": "GuardIam", "Effect": "Deny", "Action": "iam:*", "Resource": "*"}
#: review 13 finding 6: the guardrails policy held ``Deny iam:*``; the put drops it and adds nothing else.
GUARDRAILS = {"Version": "2012-10-17", "Statement": [READ_LOGS, GUARD]}
WITHOUT_GUARD = {"Version": "2012-10-17", "Statement": [READ_LOGS]}
DROPPED = (
    "the Deny statement 1 (GuardIam): Deny iam:* on * that was in inline policy guardrails was removed by this put"
)


class Kept:
    """The audit table's snapshots, as the enforcer reads them."""

    def __init__(self, *snapshots: Snapshot) -> None:
        self.snapshots = {(s.kind, s.resource_arn): s for s in snapshots}

    def remediations(self, resource_arn: str) -> tuple[PastRemediation, ...]:
        return ()

    def snapshot(self, kind: str, resource_arn: str) -> Snapshot | None:
        return self.snapshots.get((kind, resource_arn))


def _compact(document: dict[str, Any]) -> str:
    return json.dumps(document, separators=(",", ":"))


def _record(arn: str, inline: dict[str, Any], *, documents: bool = True) -> Kept:
    data: dict[str, Any] = {"policies": [], "inline": {name: document_digest(doc) for name, doc in inline.items()}}
    if documents:
        data["inline_documents"] = {name: _compact(doc) for name, doc in inline.items()}
    return Kept(Snapshot(ATTACHMENTS, arn, BEFORE, data))


def _role(name: str, inline: dict[str, dict[str, Any]], trust: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "Path": "/",
        "RoleName": name,
        "Arn": f"arn:aws:iam::{ACCOUNT}:role/{name}",
        "AssumeRolePolicyDocument": trust or {"Version": "2012-10-17", "Statement": []},
        "InstanceProfileList": [],
        "RolePolicyList": [{"PolicyName": key, "PolicyDocument": doc} for key, doc in inline.items()],
        "AttachedManagedPolicies": [],
    }


def _directory(*roles: dict[str, Any]) -> Any:
    return authorization_details_directory(
        {"RoleDetailList": list(roles), "UserDetailList": [], "GroupDetailList": [], "Policies": []}
    )


def _split_put() -> tuple[dict[str, Any], dict[str, Any]]:
    """The sample: build-runner gets lambda:CreateFunction + InvokeFunction + GetFunction as deploy-functions."""
    event = copy.deepcopy(load_event("put-role-policy-split-escalation.json"))
    return event, json.loads(event["detail"]["requestParameters"]["policyDocument"])


def _runner_after(document: dict[str, Any]) -> Any:
    """Live: read after the put (deploy-functions is the event's document); deploy-admin is what PassRole reaches."""
    return _directory(
        _role("build-runner", {"pass-any-role": PASS_ANY_ROLE, "deploy-functions": document}),
        _role("deploy-admin", {"everything": ALLOW_ALL}, LAMBDA_TRUST),
    )


def _put(role: str, name: str, document: dict[str, Any]) -> dict[str, Any]:
    event = copy.deepcopy(load_event("put-role-policy-split-escalation.json"))
    event["detail"]["requestParameters"] = {
        "roleName": role,
        "policyName": name,
        "policyDocument": json.dumps(document),
    }
    return event


def _finding(judgement: Judgement, rule: str) -> Finding:
    [finding] = [f for f in judgement.findings if f.rule_id == rule]
    return finding


def _kept(judgement: Judgement) -> Snapshot:
    [kept] = [s for s in judgement.observed if s.kind == ATTACHMENTS]
    return kept


# --- live: a put over a document the record keeps whole ---------------------------------------------------------------


def test_a_put_over_a_recorded_document_is_certain_and_planned_as_putting_that_document_back() -> None:
    event, document = _split_put()

    judgement = judge_event(
        event,
        Settings(),
        directory=_runner_after(document),
        recorded=_record(RUNNER, {"deploy-functions": READ_FUNCTIONS}),
    )

    finding = _finding(judgement, "privilege-escalation")
    assert finding.needs_context == (), "what the put replaced is known: nothing is a guess"
    [step] = finding.plan
    assert step.parameters["restore"] == READ_FUNCTIONS, "a cut would take lambda:GetFunction the role held before"
    assert step.parameters["document"] == document
    assert step.summary.startswith("put back the document inline policy deploy-functions of role build-runner held")
    kept = _kept(judgement)
    assert json.loads(kept.data["inline_documents"]["deploy-functions"]) == document, "alerted: the put stands"
    assert kept.if_remediated is not None
    assert json.loads(kept.if_remediated["inline_documents"]["deploy-functions"]) == READ_FUNCTIONS
    assert kept.if_remediated["inline"]["deploy-functions"] == document_digest(READ_FUNCTIONS)


def test_a_put_whose_earlier_document_already_held_the_method_added_nothing() -> None:
    event, document = _split_put()

    judgement = judge_event(
        event,
        Settings(),
        directory=_runner_after(document),
        recorded=_record(RUNNER, {"deploy-functions": CREATE_AND_INVOKE}),
    )

    assert judgement.verdict is Verdict.COMPLIANT, judgement.reason
    assert _kept(judgement).data["inline"]["deploy-functions"] == document_digest(document)


def test_a_record_with_fingerprints_only_leaves_a_put_over_a_different_document_alert_only() -> None:
    """A record kept before documents were: as before, what the put replaced is not known."""
    event, document = _split_put()

    judgement = judge_event(
        event,
        Settings(),
        directory=_runner_after(document),
        recorded=_record(RUNNER, {"deploy-functions": READ_FUNCTIONS}, documents=False),
    )

    finding = _finding(judgement, "privilege-escalation")
    assert finding.needs_context[-1].startswith("the previous document of inline policy deploy-functions")
    assert "restore" not in finding.plan[0].parameters
    # The record now keeps the put's document whole; the others keep what they had.
    assert set(_kept(judgement).data["inline_documents"]) == {"deploy-functions"}


def test_a_kept_document_that_does_not_match_its_fingerprint_is_not_trusted() -> None:
    event, document = _split_put()
    recorded = _record(RUNNER, {"deploy-functions": READ_FUNCTIONS})
    [snapshot] = recorded.snapshots.values()
    forged = {**snapshot.data, "inline_documents": {"deploy-functions": _compact(CREATE_AND_INVOKE)}}
    recorded = Kept(snapshot._replace(data=forged))

    finding = _finding(
        judge_event(event, Settings(), directory=_runner_after(document), recorded=recorded), "privilege-escalation"
    )

    assert finding.needs_context, "the fingerprint says another document: only that it differs is known"


def test_without_a_plan_touching_the_policy_nothing_else_is_kept_after_a_remediation() -> None:
    """A compliant put: no plan, so ``if_remediated`` is None (the service keeps nothing after a remediation)."""
    event, document = _split_put()

    judgement = judge_event(
        event,
        Settings(),
        directory=_runner_after(document),
        recorded=_record(RUNNER, {"deploy-functions": CREATE_AND_INVOKE}),
    )

    assert _kept(judgement).if_remediated is None


# --- offline: the details taken before the put hold the earlier document -----------------------------------------


def test_offline_a_cut_that_keeps_everything_the_earlier_document_held_is_preferred() -> None:
    """The earlier document's statement stays whole in what the cut leaves: the finer plan keeps the put's harmless
    part (proportional remediation), and takes nothing older."""
    older = {"Version": "2012-10-17", "Statement": [READ_LOGS]}
    added = {**READ_LOGS, "Sid": "Deploy", "Action": ["lambda:CreateFunction", "lambda:InvokeFunction"]}
    added["Resource"] = "*"
    new = {"Version": "2012-10-17", "Statement": [READ_LOGS, added]}
    directory = _directory(
        _role("build-runner", {"pass-any-role": PASS_ANY_ROLE, "deploy-functions": older}),
        _role("deploy-admin", {"everything": ALLOW_ALL}, LAMBDA_TRUST),
    )

    finding = _finding(
        judge_event(_put("build-runner", "deploy-functions", new), Settings(), directory=directory),
        "privilege-escalation",
    )

    [step] = finding.plan
    assert "restore" not in step.parameters
    left = without_offending(statement_list(step.parameters["document"]), step.parameters["statements"])
    assert READ_LOGS in left


def test_offline_a_cut_that_would_take_an_older_grant_puts_the_earlier_document_back() -> None:
    event, _ = _split_put()
    directory = _directory(
        _role("build-runner", {"pass-any-role": PASS_ANY_ROLE, "deploy-functions": READ_FUNCTIONS}),
        _role("deploy-admin", {"everything": ALLOW_ALL}, LAMBDA_TRUST),
    )

    [step] = _finding(judge_event(event, Settings(), directory=directory), "privilege-escalation").plan

    assert step.parameters["restore"] == READ_FUNCTIONS


def test_an_admin_equivalent_earlier_document_is_never_put_back() -> None:
    """inline-policy-admin never accepts one: the event's document is cut (here: deleted) as before."""
    event = _put("app-backend", "ops", ALLOW_ALL)
    directory = _directory(_role("app-backend", {"ops": ALLOW_IAM}))

    finding = _finding(judge_event(event, Settings(), directory=directory), "inline-policy-admin")

    [step] = finding.plan
    assert "restore" not in step.parameters


# --- a Deny dropped by an overwrite (review 13 finding 6) -----------------------------------------------------------


def test_offline_an_overwrite_that_drops_a_deny_is_a_restraint_removed_naming_it_with_the_earlier_document_back() -> (
    None
):
    directory = _directory(_role("app-backend", {"ops": ALLOW_IAM, "guardrails": GUARDRAILS}))

    judgement = judge_event(_put("app-backend", "guardrails", WITHOUT_GUARD), Settings(), directory=directory)

    assert [f.rule_id for f in judgement.findings] == ["restraint-removed"], "one opening, reported once"
    finding = judgement.findings[0]
    assert DROPPED in finding.reason
    assert "put inline policy guardrails on role app-backend" in finding.reason
    assert "aws iam put-role-policy --role-name app-backend --policy-name guardrails --policy-document '" in (
        finding.reason
    )
    assert finding.needs_context == ()
    [step] = finding.plan
    assert step.parameters["restore"] == GUARDRAILS
    assert "delete" not in step.summary, "deleting the policy would leave the Allow in force and the Deny gone"


def test_live_an_overwrite_that_drops_a_deny_is_judged_from_the_record() -> None:
    after = _directory(_role("app-backend", {"ops": ALLOW_IAM, "guardrails": WITHOUT_GUARD}))

    judgement = judge_event(
        _put("app-backend", "guardrails", WITHOUT_GUARD),
        Settings(),
        directory=after,
        recorded=_record(APP, {"ops": ALLOW_IAM, "guardrails": GUARDRAILS}),
    )

    finding = _finding(judgement, "restraint-removed")
    assert DROPPED in finding.reason
    assert finding.needs_context == ()
    assert finding.plan[0].parameters["restore"] == GUARDRAILS
    assert json.loads(_kept(judgement).if_remediated["inline_documents"]["guardrails"]) == GUARDRAILS  # type: ignore[index]


def test_an_overwrite_that_keeps_the_deny_removes_no_restraint() -> None:
    kept_deny = {"Version": "2012-10-17", "Statement": [GUARD]}
    directory = _directory(_role("app-backend", {"ops": ALLOW_IAM, "guardrails": GUARDRAILS}))

    judgement = judge_event(_put("app-backend", "guardrails", kept_deny), Settings(), directory=directory)

    assert judgement.verdict is Verdict.COMPLIANT, judgement.reason
    assert "keeps every Deny" in judgement.reason


def test_a_dropped_deny_that_kept_nothing_in_check_is_compliant() -> None:
    directory = _directory(_role("app-backend", {"guardrails": GUARDRAILS}))

    judgement = judge_event(_put("app-backend", "guardrails", WITHOUT_GUARD), Settings(), directory=directory)

    assert judgement.verdict is Verdict.COMPLIANT, judgement.reason


def test_a_put_whose_earlier_document_is_not_known_says_no_deny_is_known_removed() -> None:
    judgement = judge_event(_put("app-backend", "guardrails", WITHOUT_GUARD), Settings())

    assert "no Deny is known to be removed" in judgement.reason


def test_detaching_names_the_deny_statement_it_took_away() -> None:
    directory = _directory(_role("app-backend", {"ops": ALLOW_IAM, "deny-iam": GUARDRAILS}))

    finding = _finding(
        judge_event(load_event("delete-deny-inline-from-role.json"), Settings(), directory=directory),
        "restraint-removed",
    )

    assert "statement 1 (GuardIam): Deny iam:* on * of inline app-backend/deny-iam" in finding.reason


# --- a live deletion: the record's document is what was deleted -------------------------------------------------------


def test_live_deleting_an_inline_deny_the_record_keeps_is_judged_on_its_document() -> None:
    after = _directory(_role("app-backend", {"ops": ALLOW_IAM}))

    finding = _finding(
        judge_event(
            load_event("delete-deny-inline-from-role.json"),
            Settings(),
            directory=after,
            recorded=_record(APP, {"ops": ALLOW_IAM, "deny-iam": GUARDRAILS}),
        ),
        "restraint-removed",
    )

    assert finding.needs_context == (), "the record taken before the deletion held the document"
    assert f"--policy-document '{_compact(GUARDRAILS)}'" in finding.reason
    assert finding.plan == ()


def test_live_deleting_an_inline_policy_the_record_knows_only_by_fingerprint_stays_unknown() -> None:
    after = _directory(_role("app-backend", {"ops": ALLOW_IAM}))

    finding = _finding(
        judge_event(
            load_event("delete-deny-inline-from-role.json"),
            Settings(),
            directory=after,
            recorded=_record(APP, {"ops": ALLOW_IAM, "deny-iam": GUARDRAILS}, documents=False),
        ),
        "restraint-removed",
    )

    assert any("what inline policy deny-iam of role app-backend held" in fact for fact in finding.needs_context)


def test_a_group_put_that_drops_a_deny_is_judged_for_each_member_and_puts_the_group_s_document_back() -> None:
    event = _put("devs", "guardrails", WITHOUT_GUARD)
    event["detail"]["eventName"] = "PutGroupPolicy"
    parameters = event["detail"]["requestParameters"]
    parameters["groupName"] = parameters.pop("roleName")
    directory = authorization_details_directory(
        {
            "RoleDetailList": [],
            "UserDetailList": [
                {
                    "Path": "/",
                    "UserName": "alice",
                    "Arn": f"arn:aws:iam::{ACCOUNT}:user/alice",
                    "UserPolicyList": [],
                    "GroupList": ["devs"],
                    "AttachedManagedPolicies": [],
                }
            ],
            "GroupDetailList": [
                {
                    "Path": "/",
                    "GroupName": "devs",
                    "Arn": f"arn:aws:iam::{ACCOUNT}:group/devs",
                    "GroupPolicyList": [
                        {"PolicyName": "ops", "PolicyDocument": ALLOW_IAM},
                        {"PolicyName": "guardrails", "PolicyDocument": GUARDRAILS},
                    ],
                    "AttachedManagedPolicies": [],
                }
            ],
            "Policies": [],
        }
    )

    finding = _finding(judge_event(event, Settings(), directory=directory), "restraint-removed")

    assert "alice: " in finding.reason
    assert DROPPED in finding.reason
    [step] = finding.plan
    assert (step.parameters["principal_type"], step.parameters["restore"]) == ("group", GUARDRAILS)


# --- review s9 (issue 13 parts): what a second reading found ----------------------------------------------------------


def test_live_a_later_put_of_the_same_name_is_never_taken_for_what_this_put_replaced() -> None:
    """Review s9 finding 1: D2 (the method) then, seconds later, D3 = D2 + a read, both judged with D3 live. Taking
    D3 for what D2 replaced made D2 compliant, its record made D3 compliant: two puts hid an escalation."""
    method = CREATE_AND_INVOKE
    later = {
        "Version": "2012-10-17",
        "Statement": [*method["Statement"], {"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}],
    }
    settings = load_settings({"rules": {"privilege-escalation": {"mode": "remediate"}}})
    first = _put("build-runner", "deploy-functions", method)

    judgement = judge_event(
        first,
        settings,
        directory=_runner_after(later),
        recorded=_record(RUNNER, {"pass-any-role": PASS_ANY_ROLE, "deploy-functions": READ_FUNCTIONS}),
    )

    finding = _finding(judgement, "privilege-escalation")
    assert finding.needs_context == ()
    [step] = finding.plan
    assert step.parameters["restore"] == READ_FUNCTIONS, "what the record held before the event, never the later put"
    assert step.parameters["document"] == method


def test_a_dropped_deny_is_also_privilege_escalations_when_restraint_removed_would_do_less() -> None:
    """Review s9 finding 2: privilege-escalation leaves a dropped Deny's opening to restraint-removed only when that
    rule would act as far (alert while privilege-escalation remediates: both report it, the remediation is kept)."""
    older = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["iam:PassRole", "lambda:CreateFunction", "lambda:InvokeFunction"],
                "Resource": "*",
            }
        ],
    }
    directory = _directory(
        _role("app-backend", {"older": older, "guardrails": GUARDRAILS}),
        _role("deploy-admin", {"everything": ALLOW_ALL}, LAMBDA_TRUST),
    )
    put = _put("app-backend", "guardrails", WITHOUT_GUARD)

    def rules(modes: dict[str, str]) -> set[str]:
        settings = load_settings({"rules": {rule: {"mode": mode} for rule, mode in modes.items()}})
        return {f.rule_id for f in judge_event(put, settings, DetailsDocuments(directory), directory).findings}

    assert rules({"privilege-escalation": "remediate"}) == {"privilege-escalation", "restraint-removed"}
    assert rules({"privilege-escalation": "remediate", "restraint-removed": "remediate"}) == {"restraint-removed"}
    assert rules({}) == {"restraint-removed"}, "both alert: one finding, the one that names the Deny"


def test_a_kept_document_keeps_its_characters_as_written() -> None:
    """Review s9 finding 9: a ``\\uXXXX`` escape counts six characters toward IAM's inline quota; a restore near it
    would fail (LimitExceeded)."""
    from iamwarden.domain.recorded import compact_document

    assert compact_document({"Resource": "arn:aws:s3:::données/*"}) == '{"Resource":"arn:aws:s3:::données/*"}'
