"""The registry-generated blocks of template.yaml, member/template.yaml and README.md are current, and
``tools/generate.py --check`` fails, naming the block, as soon as one is edited or the registry changes."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

from iamwarden.domain.catalog import COMMON_OPTIONS, Mode
from iamwarden.guardrails import registry
from tests.conftest import ROOT
from tests.sam_template import remediation_statements

TOOL = ROOT / "tools" / "generate.py"
FILES = (
    "template.yaml",
    "member/template.yaml",
    "README.md",
    "layers/core/iamwarden/guardrails/index.py",
    "layers/core/iamwarden/domain/declared.py",
)


@pytest.fixture(scope="module")
def tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate", TOOL)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """The generated files, copied to a scratch root the generator can rewrite."""
    for name in FILES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / name, tmp_path / name)
    return tmp_path


def _stale(tool: ModuleType, root: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = tool.main(["--check"], root=root)
    return code, capsys.readouterr().err


class _NoManagedPolicies:
    """The translator asks for AWS-managed policy ARNs only when a function names one; ours never do."""

    def load(self) -> dict[str, str]:
        return {}


def _translated(path: Path) -> dict[str, Any]:
    """A generated template through the SAM transform, as tests/sam_template.py translates the real one."""
    template = yaml_parse(path.read_text())
    for name, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = f"s3://iamwarden-artifacts/{name}.zip"
        elif resource["Type"] == "AWS::Serverless::LayerVersion":
            resource["Properties"]["ContentUri"] = f"s3://iamwarden-artifacts/{name}.zip"
    translated: dict[str, Any] = transform(template, {"AWS::Region": "us-east-1"}, _NoManagedPolicies())
    return translated


def _spec(**changes: Any) -> Any:
    """A rule spec of the registry's own type (wherever the specs live), with ``changes``."""
    return registry.RULES["s3-acl-public"]._replace(**changes)


def _guardrail(*specs: Any, event_keys: frozenset[tuple[str, str]] | None = None) -> Any:
    class Added:
        pass

    Added.specs = specs  # type: ignore[attr-defined]
    if event_keys is not None:
        Added.event_keys = event_keys  # type: ignore[attr-defined]
    return Added()


def _add(monkeypatch: pytest.MonkeyPatch, *guardrails: Any) -> None:
    rules = dict(registry.RULES)
    for guardrail in guardrails:
        rules.update({spec.id: spec for spec in guardrail.specs})
    monkeypatch.setattr(registry, "RULES", rules)
    monkeypatch.setattr(registry, "GUARDRAILS", (*registry.GUARDRAILS, *guardrails))


#: A made-up guardrail on a service no guardrail guards (SimpleDB), so the real registry never has it.
SDB_POLICY_PUBLIC = {
    "id": "sdb-domain-policy-public",
    "title": "Domain policy open to the public",
    "event_source": "sdb.amazonaws.com",
    "event_names": frozenset({"PutAttributes", "CreateDomain"}),
    "risk": "Anyone may read or write the domain.",
}


# --- the repository -------------------------------------------------------------------------------------


def test_the_generated_blocks_are_up_to_date(tool: ModuleType, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _stale(tool, ROOT, capsys)
    assert code == 0, f"stale: {err}; run .venv/bin/python tools/generate.py"


def test_every_block_has_its_markers_in_its_file(tool: ModuleType) -> None:
    for block in tool.BLOCKS:
        text = (ROOT / block.path).read_text()
        assert f"BEGIN GENERATED: {block.name} (tools/generate.py; do not edit)" in text, block
        assert f"END GENERATED: {block.name}" in text, block


def test_the_generated_modes_are_the_settings_modes(tool: ModuleType) -> None:
    assert tuple(tool.MODES) == tuple(mode.value for mode in Mode)
    assert COMMON_OPTIONS["mode"].default == tool.DEFAULT_MODE


def test_each_scope_is_one_statement_of_exact_iam_actions(tool: ModuleType) -> None:
    sids = [scope.sid for scope in tool.SCOPES]
    assert len(sids) == len(set(sids))
    for scope in tool.SCOPES:
        assert scope.actions, scope.sid
        assert all(":" in action and "*" not in action for action in scope.actions), scope.sid


# --- an edited block --------------------------------------------------------------------------------------


def test_an_edited_block_fails_the_check_naming_it(
    tool: ModuleType, copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = copy / "template.yaml"
    text = template.read_text()
    assert "eventName: [CreateUser]" in text
    template.write_text(text.replace("eventName: [CreateUser]", "eventName: [CreateUser, DeleteUser]"))

    code, err = _stale(tool, copy, capsys)

    assert code == 1
    assert err.splitlines() == ["template.yaml: enforcer-rules is out of date; run .venv/bin/python tools/generate.py"]


def test_an_edited_member_grant_fails_the_check_naming_it(
    tool: ModuleType, copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    member = copy / "member" / "template.yaml"
    member.write_text(member.read_text().replace("- iam:TagUser\n", "- iam:TagUser\n                    - iam:*\n"))

    code, err = _stale(tool, copy, capsys)

    assert code == 1
    assert "member/template.yaml: enforcer-remediations is out of date" in err
    assert "template.yaml: enforcer-rules" not in err


def test_generating_repairs_the_block_and_leaves_the_rest_byte_for_byte(
    tool: ModuleType, copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = copy / "README.md"
    original = readme.read_text()
    readme.write_text(original.replace("| `iam-user-created` |", "| `iam-user-gone` |", 1))
    assert _stale(tool, copy, capsys)[0] == 1

    assert tool.main([], root=copy) == 0

    assert readme.read_text() == original
    for name in FILES:
        assert (copy / name).read_text() == (ROOT / name).read_text(), name
    assert _stale(tool, copy, capsys)[0] == 0


def test_a_rule_without_its_hand_written_row_fails_the_check(
    tool: ModuleType, copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = copy / "README.md"
    lines = readme.read_text().splitlines(keepends=True)
    [row] = [i for i, line in enumerate(lines) if line.startswith("| `access-key-created` | `CreateAccessKey` |")]
    readme.write_text("".join(lines[:row] + lines[row + 1 :] + ["| `gone-rule` | x | x | x | x |\n"]))

    code, err = _stale(tool, copy, capsys)

    assert code == 1
    assert err.splitlines() == [
        "README.md: the hand-written guardrail table has no row for access-key-created; write it",
    ], "a row after the table's end is not part of it"


def test_a_missing_marker_is_an_error_naming_the_block(
    tool: ModuleType, copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    template = copy / "template.yaml"
    template.write_text(template.read_text().replace("# END GENERATED: rule-parameters\n", ""))

    code, err = _stale(tool, copy, capsys)

    assert code == 2
    assert "template.yaml: expected one BEGIN and then one END GENERATED marker for rule-parameters" in err
    assert tool.main([], root=copy) == 2, "nothing is written without the markers"


# --- the registry changes -------------------------------------------------------------------------------


def test_a_new_guardrail_makes_the_rules_parameters_and_table_stale(
    tool: ModuleType, copy: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _add(monkeypatch, _guardrail(_spec(**SDB_POLICY_PUBLIC)))

    code, err = _stale(tool, copy, capsys)

    assert code == 1
    hand = "README.md: the hand-written guardrail table has no row for sdb-domain-policy-public; write it"
    assert err.splitlines()[-1] == hand
    assert sorted(err.splitlines()[:-1]) == [
        f"{block} is out of date; run .venv/bin/python tools/generate.py"
        for block in (
            "README.md: guardrail-table",
            "layers/core/iamwarden/domain/declared.py: declared-own",  # the new rule's exact name joins OWN_RULES
            "member/template.yaml: forwarded-regional-events",
            "template.yaml: enforcer-rules",
            "template.yaml: forwarded-events",
            "template.yaml: rule-parameters",
        )
    ]


def test_a_new_guardrail_is_routed_and_has_an_alert_mode_parameter(
    tool: ModuleType, copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")  # the SAM translator's boto session needs one
    _add(monkeypatch, _guardrail(_spec(**SDB_POLICY_PUBLIC)))

    assert tool.main([], root=copy) == 1, "the hand-written table still lacks the new rule"

    rule = _translated(copy / "template.yaml")["Resources"]["EnforcerFunctionSdbDomainPolicyPublic"]
    assert rule["Type"] == "AWS::Events::Rule"
    assert rule["Properties"]["EventBusName"] == {"Ref": "CentralEventBus"}
    [target] = rule["Properties"]["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": ["EnforcerFunction", "Arn"]}
    pattern = rule["Properties"]["EventPattern"]
    assert pattern["source"] == ["aws.sdb"]
    assert pattern["detail-type"] == ["AWS API Call via CloudTrail"]
    assert pattern["detail"]["eventSource"] == ["sdb.amazonaws.com"]
    assert pattern["detail"]["eventName"] == ["CreateDomain", "PutAttributes"]
    assert pattern["detail"]["errorCode"] == [{"exists": False}]
    own = pattern["detail"]["userIdentity"]["arn"]
    sessions = "arn:${AWS::Partition}:sts::${AWS::AccountId}:assumed-role/"
    assert own == [
        {
            "anything-but": [
                {"Fn::Sub": sessions + "${EnforcerRole}/iamwarden-enforcer"},
                *(
                    {"Fn::Sub": sessions + f"${{PrunerRole}}/iamwarden-prune-{job}"}
                    for job in ("planner", "worker", "watch")
                ),
            ]
        },
        {"exists": False},
    ]
    template = yaml_parse((copy / "template.yaml").read_text())
    parameter = template["Resources"]["SdbDomainPolicyPublicModeParameter"]["Properties"]
    assert parameter["Name"] == {"Fn::Sub": "${SettingsPrefix}/rules/sdb-domain-policy-public/mode"}
    assert parameter["Value"] == "alert"
    assert "| `sdb-domain-policy-public` | Domain policy open to the public |" in (copy / "README.md").read_text()


def test_a_new_regional_source_is_forwarded_from_every_region_and_by_the_security_account(
    tool: ModuleType, copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    regional_sources = sorted({source for source, _ in tool.guarded_events()} - tool.GLOBAL_SOURCES)
    _add(monkeypatch, _guardrail(_spec(**SDB_POLICY_PUBLIC)))

    assert tool.main([], root=copy) == 1, "the hand-written table still lacks the new rule"

    member = yaml_parse((copy / "member" / "template.yaml").read_text())["Resources"]
    regional = member["S3ChangesToCentralBus"]["Properties"]["EventPattern"]
    with_sdb = sorted([*regional_sources, "sdb.amazonaws.com"])
    assert regional["source"] == [
        {"prefix": "aws."} if source == tool.ANY_AWS_SOURCE else source
        for source in tool.event_bridge_sources(with_sdb)
    ]
    assert regional["detail"]["eventSource"] == with_sdb
    iam = member["IamChangesToCentralBus"]["Properties"]["EventPattern"]
    global_sources = sorted(tool.event_bridge_source(source) for source in tool.GLOBAL_SOURCES)
    assert iam["source"] == global_sources, "the global services are forwarded from the IAM region only"
    assert "aws.iam" in iam["source"]
    assert "aws.sdb" not in iam["source"]
    own = yaml_parse((copy / "template.yaml").read_text())["Resources"]["OwnEventsToCentralBus"]
    every = sorted([*regional_sources, *tool.GLOBAL_SOURCES, "sdb.amazonaws.com"])
    assert own["Properties"]["EventPattern"]["source"] == [
        {"prefix": "aws."} if source == tool.ANY_AWS_SOURCE else source for source in tool.event_bridge_sources(every)
    ]


def test_a_guarded_data_event_is_forwarded_by_name(
    tool: ModuleType, copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tagging = {**SDB_POLICY_PUBLIC, "event_source": "s3.amazonaws.com", "event_names": frozenset({"PutObjectTagging"})}
    _add(monkeypatch, _guardrail(_spec(**tagging)))
    monkeypatch.setattr(tool, "DATA_EVENTS", tool.DATA_EVENTS | {("s3.amazonaws.com", "PutObjectTagging")})

    assert tool.main([], root=copy) == 1

    member = yaml_parse((copy / "member" / "template.yaml").read_text())["Resources"]
    detail = member["S3ChangesToCentralBus"]["Properties"]["EventPattern"]["detail"]
    assert detail["$or"] == [{"eventCategory": ["Management"]}, {"eventName": ["PutObjectAcl", "PutObjectTagging"]}]
    iam = member["IamChangesToCentralBus"]["Properties"]["EventPattern"]["detail"]
    assert iam["eventCategory"] == ["Management"]
    assert "$or" not in iam


def test_a_choice_option_gets_a_parameter_and_a_pattern_option_does_not(
    tool: ModuleType, copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    existing = registry.RULES["iam-user-created"].options
    choice, patterns = existing["remediation"], existing["allow_names"]
    options = {
        "on_public": choice._replace(default="off", choices=("off", "on"), doc="off: keep; on: remove"),
        "allow_domains": patterns,
    }
    _add(monkeypatch, _guardrail(_spec(**SDB_POLICY_PUBLIC, options=options)))

    assert tool.main([], root=copy) == 1

    resources = yaml_parse((copy / "template.yaml").read_text())["Resources"]
    parameter = resources["SdbDomainPolicyPublicOnPublicParameter"]["Properties"]
    assert parameter["Value"] == "off", "a YAML 1.1 boolean word stays a string"
    assert parameter["AllowedPattern"] == "^(off|on)$"
    assert parameter["Description"] == "IAM Warden rule sdb-domain-policy-public: off: keep; on: remove"
    assert "SdbDomainPolicyPublicAllowDomainsParameter" not in resources


def test_a_guardrail_over_two_sources_gets_one_rule_per_source(
    tool: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = frozenset({("sdb.amazonaws.com", "PutAttributes"), ("swf.amazonaws.com", "RegisterDomain")})
    _add(monkeypatch, _guardrail(_spec(**SDB_POLICY_PUBLIC), event_keys=keys))

    routes = {build.route.name: build for build in tool.routes()}

    assert routes["SdbDomainPolicyPublicSwf"].source == "swf.amazonaws.com"
    assert routes["SdbDomainPolicyPublicSwf"].names == {"RegisterDomain"}
    # The spec's own source keeps the guardrail's name: adding a source never renames a deployed rule.
    assert routes["SdbDomainPolicyPublic"].names == {"PutAttributes"}
    assert "SdbDomainPolicyPublicSdb" not in routes


def test_remediation_reversed_keeps_its_shared_iam_rule_and_gets_one_for_roles_anywhere(tool: ModuleType) -> None:
    routes = {build.route.name: build for build in tool.routes()}

    assert {"UpdateAccessKey", "DeleteUserPolicy", "CreateAccessKey"} <= routes["CredentialsCreated"].names
    rolesanywhere = routes["RemediationReversedRolesanywhere"]
    assert (rolesanywhere.source, rolesanywhere.names) == (
        "rolesanywhere.amazonaws.com",
        {"EnableTrustAnchor", "EnableProfile"},
    )


def test_an_event_two_guardrails_would_route_is_an_error(
    tool: ModuleType, copy: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    iam_user = {**SDB_POLICY_PUBLIC, "event_source": "iam.amazonaws.com", "event_names": frozenset({"CreateUser"})}
    _add(monkeypatch, _guardrail(_spec(**iam_user)))

    code, err = _stale(tool, copy, capsys)

    assert code == 2
    assert "CreateUser would be routed by both IamUserCreated and SdbDomainPolicyPublic" in err


def test_an_event_a_guardrail_leaves_to_another_rule_is_not_routed_twice(tool: ModuleType) -> None:
    """remediation-reversed judges PutUserPolicy (quarantine policy overwritten) that the inline-policy rule routes."""
    routes = {build.route.name: build for build in tool.routes()}

    assert "PutUserPolicy" in routes["InlinePolicyPut"].names
    assert "PutUserPolicy" not in routes["CredentialsCreated"].names
    assert ("iam.amazonaws.com", "PutUserPolicy") in tool.guarded_events()


def test_an_event_left_to_a_rule_that_does_not_route_it_is_an_error(
    tool: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = frozenset({("sdb.amazonaws.com", "PutAttributes"), ("sdb.amazonaws.com", "DeleteDomain")})
    added = _guardrail(_spec(**SDB_POLICY_PUBLIC), event_keys=keys)
    added.routed_by_others = frozenset({("sdb.amazonaws.com", "DeleteDomain")})
    _add(monkeypatch, added)

    with pytest.raises(tool.GenerationError, match=r"leaves sdb\.amazonaws\.com DeleteDomain to a rule that does not"):
        tool.routes()


def test_the_rules_route_exactly_the_events_the_engine_dispatches(tool: ModuleType) -> None:
    """The generator reads each guardrail's events as the registry indexes them for judge_event."""
    routed = {(build.source, name) for build in tool.routes() for name in build.names}
    self_routed = {
        key
        for guardrail in registry.GUARDRAILS
        if guardrail.specs[0].id in tool.SELF_ROUTED
        for key in tool._event_keys(guardrail)
    }
    assert routed | self_routed == set(registry.GUARDRAILS_BY_EVENT)


def test_iamwarden_tampered_routes_every_event_it_judges_once(tool: ModuleType) -> None:
    """Its own rules carry what no other rule routes; the own roles' other changes come through the others."""
    text = tool.render_tampering_routes()
    template = yaml_parse("Resources:\n" + "\n".join("  " + line for line in text.splitlines()))
    patterns = {name: rule["Properties"]["Pattern"] for name, rule in template["Resources"].items()}
    routed = {(build.source, name) for build in tool.routes() for name in build.names}
    covered = set(routed)
    for pattern in patterns.values():
        detail = pattern["detail"]
        # The default-bus rule names its sources in $or branches (the Slack secrets' branch filters on secretId).
        branches = [detail] if "eventSource" in detail else detail["$or"]
        for branch in branches:
            covered |= {(source, name) for source in branch["eventSource"] for name in branch["eventName"]}
    assert set(registry.GUARDRAILS_BY_EVENT) <= covered
    roles = set(patterns["TamperedRoles"]["detail"]["eventName"])
    assert not {("iam.amazonaws.com", name) for name in roles} & routed, "routed twice"


def test_the_attachment_guardrails_share_their_events_through_disjoint_filters(tool: ModuleType) -> None:
    routes = {build.route.name: build for build in tool.routes()}
    managed, customer = routes["ManagedPolicyAttached"], routes["CustomerPolicyAttached"]
    assert managed.names == customer.names == {"AttachRolePolicy", "AttachUserPolicy", "AttachGroupPolicy"}
    assert managed.route.request_filter
    assert customer.route.request_filter
    assert managed.route.request_filter != customer.route.request_filter


def test_a_new_step_permission_without_a_scope_is_an_error_naming_it(
    tool: ModuleType, copy: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    permissions = dict(registry.STEP_PERMISSIONS)
    first = next(iter(permissions))
    permissions[first] = (*permissions[first], "sdb:PutAttributes")
    monkeypatch.setattr(registry, "STEP_PERMISSIONS", permissions)

    code, err = _stale(tool, copy, capsys)

    assert code == 2
    assert "no resource scope for sdb:PutAttributes: add it to SCOPES in tools/generate.py" in err


def test_a_permission_no_step_declares_any_more_is_no_longer_granted(
    tool: ModuleType, copy: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    permissions = {
        action: tuple(p for p in granted if p != "iam:UpdateAssumeRolePolicy")
        for action, granted in registry.STEP_PERMISSIONS.items()
    }
    monkeypatch.setattr(registry, "STEP_PERMISSIONS", permissions)

    code, err = _stale(tool, copy, capsys)
    assert code == 1
    assert "template.yaml: enforcer-remediations is out of date" in err
    assert "member/template.yaml: enforcer-remediations is out of date" in err
    assert tool.main([], root=copy) == 0

    member = yaml_parse((copy / "member" / "template.yaml").read_text())
    statements = remediation_statements(member, "RemediationRole")
    [trust] = [s for s in statements if s.get("Sid") == "RestoreTrustPolicies"]
    assert trust["Action"] == "iam:GetRole"


# --- YAML scalars ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "alert",
        "off",
        "No",
        "true",
        "^(off|alert|remediate)$",
        "IAM Warden rule x: off, alert or remediate",
        "a # not a comment",
        'say "hi"',
        "trailing ",
        "",
        "123",
        "- dash",
        "*star",
        "émigré",
    ],
)
def test_a_scalar_reads_back_as_the_same_string(tool: ModuleType, text: str) -> None:
    assert yaml.safe_load(f"key: {tool.scalar(text)}") == {"key": text}
    assert yaml_parse(f"key: {tool.scalar(text)}") == {"key": text}


# --- the remediation grants, split into managed policies ---------------------------------------------------


def _grant(tool: ModuleType, size: int, sid: str) -> Any:
    return tool.Grant([f"- Sid: {sid}"], size)


def test_the_grants_are_split_in_order_into_as_few_policies_as_fit(tool: ModuleType) -> None:
    grants = [_grant(tool, size, sid) for size, sid in ((2000, "A"), (2000, "B"), (2000, "C"), (100, "D"))]
    documents = tool.split_grants(grants, budget=4100)
    assert [[g.lines[0] for g in document] for document in documents] == [
        ["- Sid: A", "- Sid: B"],
        ["- Sid: C", "- Sid: D"],
    ]


def test_a_statement_too_large_for_any_policy_fails_generation(tool: ModuleType) -> None:
    with pytest.raises(tool.GenerationError, match="alone is over 1000 characters"):
        tool.split_grants([_grant(tool, 990, "Huge")], budget=1000)


def test_more_remediation_policies_than_allowed_fails_generation(tool: ModuleType) -> None:
    grants = [_grant(tool, 900, str(n)) for n in range(tool.MAX_REMEDIATION_POLICIES + 1)]
    with pytest.raises(tool.GenerationError, match="managed policies, over"):
        tool.split_grants(grants, budget=1000)


def test_the_budget_leaves_a_margin_under_the_managed_policy_limit(tool: ModuleType) -> None:
    assert tool.MANAGED_POLICY_BUDGET < tool.MANAGED_POLICY_LIMIT == 6144
    assert tool.MAX_REMEDIATION_POLICIES < tool.MANAGED_POLICIES_PER_ROLE == 10


def test_a_conditional_statement_keeps_its_condition_in_whichever_policy_it_lands(tool: ModuleType) -> None:
    template = yaml_parse((ROOT / "template.yaml").read_text())
    conditional = [
        statement
        for statement in remediation_statements(template, "EnforcerRole")
        if isinstance(statement, dict) and set(statement) == {"Fn::If"}
    ]
    assert conditional, "the user-deletion grants are granted under AllowsUserDeletion"
    assert {statement["Fn::If"][0] for statement in conditional} == {tool.USER_DELETION}
    assert all(statement["Fn::If"][2] == {"Ref": "AWS::NoValue"} for statement in conditional)


def test_what_the_stacks_declare_is_generated_and_an_edit_is_caught(
    tool: ModuleType, copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """iamwarden-tampered's CloudFormation exemption reads domain/declared.py: it must say what the templates do."""
    from iamwarden.domain import declared

    assert "enforcer-runtime" in declared.INLINE_POLICIES["enforcer"]
    assert "iamwarden-enforcer-remediations-1-{region}" in declared.MANAGED_POLICIES["enforcer"]
    assert "rules/iamwarden-tampered/mode" in declared.SETTINGS
    assert "rules/iamwarden-tampered/operators" not in declared.SETTINGS
    path = copy / "layers/core/iamwarden/domain/declared.py"
    path.write_text(path.read_text().replace('"enforcer-runtime",', '"enforcer-runtime",\n"attacker-stack-deny",'))
    code, err = _stale(tool, copy, capsys)
    assert code == 1
    assert "declared-own" in err
