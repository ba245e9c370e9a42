"""Duplicate JSON keys in a policy text (``documents.duplicate_keys``) and the verdict on a change carrying one.

The detector's cheap count must never miss a duplicate: Hypothesis writes random objects as JSON text with keys
spelled every way JSON allows (escaped quotes and backslashes, ``\\":`` inside strings, ``\\uXXXX`` escapes, any
JSON whitespace around the colon), injects duplicates at any depth, and checks the answer against the object as
written. The verdict tests judge real sample shapes whose document names a key twice: never remediated, never silent.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iamwarden.domain import documents
from iamwarden.domain.documents import (
    PolicyKind,
    decode_policy_document,
    duplicate_keys,
    load_policy,
    other_parameters,
    record_texts,
    stop_recording,
)
from iamwarden.domain.findings import Verdict
from iamwarden.domain.settings import Settings, parse_settings
from iamwarden.guardrails.engine import judge_event
from tests.conftest import SAMPLE_OWN, load_event

DUPLICATE_EFFECT = '{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Effect":"Deny"}]}'


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    """Each test reads its texts afresh: the memo of what was found is emptied first."""
    documents._DUPLICATES.clear()
    documents._READINGS.clear()
    documents._PARSED.clear()


# --- the detector, by example ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (DUPLICATE_EFFECT, ("Statement[0].Effect",)),
        ('{"Statement": [], "Statement": {"Effect": "Allow", "Action": "*", "Resource": "*"}}', ("Statement",)),
        (
            '{"Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"},'
            '{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999988887777:root","AWS":"arn:aws:iam::111122223333:root"},'
            '"Action":"sts:AssumeRole"}]}',
            ("Statement[1].Principal.AWS",),
        ),
        (
            '{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":'
            '{"StringEquals":{"aws:PrincipalOrgID":"o-a"},"StringEquals":{"aws:SourceVpce":"vpce-1"}}}}',
            ("Statement.Condition.StringEquals",),
        ),
        (
            '{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":'
            '{"Bool":{"aws:SecureTransport":"true","aws:SecureTransport":"false"}}}}',
            ("Statement.Condition.Bool.aws:SecureTransport",),
        ),
        # The same key spelled two ways: JSON compares keys decoded, so "\u0045ffect" is Effect.
        (
            '{"Statement":[{"\\u0045ffect":"Allow","Action":"*","Resource":"*","Effect":"Deny"}]}',
            ("Statement[0].Effect",),
        ),
        # Whitespace between a key and its colon, of every kind JSON allows.
        (
            '{"Statement" :[{"Effect"\n:"Allow","Action"\t:"*","Resource"\r\n :"*","Effect"  :  "Deny"}]}',
            ("Statement[0].Effect",),
        ),
        # Three times, and two keys twice, in the order the text names them.
        ('{"a":1,"b":1,"a":2,"b":2,"a":3}', ("a", "b")),
    ],
)
def test_finds_each_key_named_twice_and_where(text: str, expected: tuple[str, ...]) -> None:
    assert duplicate_keys(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}',
        # Over-counted by the cheap count (a quote and a colon inside strings), read again and found clean.
        '{"Statement":[{"Sid":"a\\":","Effect":"Allow","Action":"*","Resource":"arn:aws:s3:::b/\\" :x"}]}',
        # One key spelled escaped, named once.
        '{"Statement":[{"\\u0045ffect":"Allow","Action":"*","Resource":"*"}]}',
        # The same name in two objects is no duplicate.
        '{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"*","Resource":"*"}]}',
        # Keys differing in case are different JSON keys.
        '{"Statement":[{"Effect":"Allow","effect":"Deny","Action":"*","Resource":"*"}]}',
    ],
)
def test_finds_nothing_in_a_document_naming_each_key_once(text: str) -> None:
    assert duplicate_keys(text) == ()


@pytest.mark.parametrize("text", ["", "   ", "[1, 2]", '"text"', "{not json", '{"a": 1} trailing', "%7Bnot json"])
def test_text_that_is_no_json_object_has_no_duplicates(text: str) -> None:
    assert duplicate_keys(text) == ()


def test_url_encoded_and_padded_text_is_read_as_decode_reads_it() -> None:
    assert duplicate_keys(quote(DUPLICATE_EFFECT)) == ("Statement[0].Effect",)
    assert duplicate_keys(f"\n  {DUPLICATE_EFFECT}  \n") == ("Statement[0].Effect",)


def test_decoding_a_text_remembers_what_it_found() -> None:
    document = decode_policy_document(DUPLICATE_EFFECT, PolicyKind.INLINE_ROLE, field="policyDocument")
    assert document["Statement"][0]["Effect"] == "Deny"  # json's reading: the last value wins
    assert documents._DUPLICATES[DUPLICATE_EFFECT] == ("Statement[0].Effect",)
    clean = '{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}'
    load_policy(clean, PolicyKind.INLINE_ROLE, field="policyDocument")
    assert documents._DUPLICATES[clean] == ()


def test_the_memo_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "POLICY_CACHE_SIZE", 3)
    texts = [f'{{"k{index}": 1, "k{index}": 2}}' for index in range(5)]
    for text in texts:
        assert duplicate_keys(text) == (f"k{texts.index(text)}",)
    assert list(documents._DUPLICATES) == texts[2:]
    assert duplicate_keys(texts[0]) == ("k0",)  # forgotten, so read again


def test_a_memo_miss_reads_the_text_again() -> None:
    load_policy(DUPLICATE_EFFECT, PolicyKind.INLINE_ROLE, field="policyDocument")
    documents._DUPLICATES.clear()  # the parsed policy is kept, what was found is not
    assert load_policy(DUPLICATE_EFFECT, PolicyKind.INLINE_ROLE, field="policyDocument") is not None
    assert duplicate_keys(DUPLICATE_EFFECT) == ("Statement[0].Effect",)


def test_only_exactly_read_texts_are_reread(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cheap count settles a clean document: the exact reading runs only when the counts differ."""
    calls: list[str] = []
    exactly = documents._duplicates_exactly

    def counted(text: str) -> tuple[str, ...]:
        calls.append(text)
        return exactly(text)

    monkeypatch.setattr(documents, "_duplicates_exactly", counted)
    duplicate_keys('{"Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}')
    assert calls == []
    duplicate_keys(DUPLICATE_EFFECT)
    assert calls == [DUPLICATE_EFFECT]


def test_only_the_policy_texts_the_rules_read_and_whose_values_differ_have_other_readings() -> None:
    same_twice = '{"Statement":[{"Effect":"Allow","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}'
    encoded = quote('{"Id":"a","Id":"b","Statement":[]}')
    parameters: dict[str, Any] = {
        "roleName": "app",
        "policyDocument": DUPLICATE_EFFECT,
        "attributes": {"Policy": encoded},
        "same": same_twice,
        "targets": [{"input": '{"y": 1, "y": 2}'}],  # no policy: the rules never decode it
        "count": 3,
    }
    texts = record_texts()
    try:
        for text in (DUPLICATE_EFFECT, encoded, same_twice):
            load_policy(text, PolicyKind.INLINE_ROLE, field="policy")
    finally:
        stop_recording()
    others, where = other_parameters(texts, parameters)
    assert where == (
        "requestParameters.policyDocument: Statement[0].Effect",
        "requestParameters.attributes.Policy: Id",
    )
    (first,) = others  # no condition key in two cases: one other reading, the first value of each key
    assert json.loads(first["policyDocument"])["Statement"][0]["Effect"] == "Allow"
    assert json.loads(first["attributes"]["Policy"])["Id"] == "a"
    assert first["same"] == same_twice  # the same value twice: one reading only
    assert first["targets"] == parameters["targets"]
    assert other_parameters([same_twice], {"policyDocument": same_twice}) == ([], ())
    assert other_parameters([], parameters) == ([], ())  # nothing decoded as a policy: nothing to read again


@pytest.mark.parametrize(
    "statement",
    [
        '{"Sid":"A","Sid":"B","Effect":"Allow","Action":"*","Resource":"*"}',
        '[{"Sid":"A","Effect":"Allow","Sid":"B","Action":"*","Resource":"*"}]',
    ],
)
def test_a_sid_named_twice_has_no_other_reading(statement: str) -> None:
    # Review 3 of s14, R4: a Sid labels a statement and never changes what it allows.
    text = '{"Version":"2012-10-17","Statement":' + statement + "}"
    assert duplicate_keys(text)  # still found where asked
    assert documents.other_readings(text) == ()
    assert other_parameters([text], {"policyDocument": text}) == ([], ())


def test_a_sid_named_twice_beside_a_meaningful_duplicate_keeps_that_reading() -> None:
    text = '{"Statement":[{"Sid":"A","Sid":"B","Effect":"Allow","Action":"*","Action":"s3:GetObject","Resource":"*"}]}'
    (other,) = documents.other_readings(text)
    assert json.loads(other)["Statement"][0]["Action"] == "*"
    assert other_parameters([text], {"policyDocument": text})[1] == (
        "requestParameters.policyDocument: Statement[0].Sid",
        "requestParameters.policyDocument: Statement[0].Action",
    )


def test_a_text_is_read_as_the_decoder_reads_it_whatever_the_memo_holds() -> None:
    encoded = quote("\n" + DUPLICATE_EFFECT)  # %0A%7B...: encoded whitespace first
    load_policy(encoded, PolicyKind.INLINE_ROLE, field="policy")
    documents._DUPLICATES.clear()  # the memo lost it, the parsed policy is still kept
    documents._READINGS.clear()
    assert duplicate_keys(encoded) == ("Statement[0].Effect",)
    assert documents.other_readings(encoded)


# --- the detector, by Hypothesis ------------------------------------------------------------------------------


class Obj:
    """A JSON object as its text writes it: pairs in order, a key possibly twice."""

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        self.pairs = pairs


# Keys and strings with what makes counting hard: quotes, backslashes, colons, whitespace, non-ASCII, IAM's names.
_NAMES = st.sampled_from(["Effect", "Action", "Resource", "Principal", "AWS", "Condition", "Statement", "Sid"])
_TEXT = st.text(alphabet=st.sampled_from(list('ab:" \\\n\t{}[],é€\u2028\U0001f600E')), max_size=6)
_KEYS = st.one_of(_NAMES, _TEXT)
_SCALARS = st.one_of(_TEXT, st.integers(-5, 5), st.booleans(), st.none(), st.just('":'), st.just('\\":'))


def _values(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.lists(children, max_size=4),
        st.lists(st.tuples(_KEYS, children), max_size=4).map(Obj),
    )


_TREES = st.recursive(_SCALARS, _values, max_leaves=25)
_OBJECTS = st.lists(st.tuples(_KEYS, _TREES), min_size=1, max_size=5).map(Obj)


def _objects_in(value: Any) -> list[Obj]:
    if isinstance(value, Obj):
        return [value, *(found for _, item in value.pairs for found in _objects_in(item))]
    if isinstance(value, list):
        return [found for item in value for found in _objects_in(item)]
    return []


def _inject(data: st.DataObject, root: Obj) -> None:
    """Name one key of one object (any depth) a second time, at any position, with any value."""
    target = data.draw(st.sampled_from(_objects_in(root)))
    key = data.draw(st.sampled_from([key for key, _ in target.pairs])) if target.pairs else data.draw(_KEYS)
    if not target.pairs:
        target.pairs.append((key, data.draw(_SCALARS)))
    position = data.draw(st.integers(0, len(target.pairs)))
    target.pairs.insert(position, (key, data.draw(_TREES)))


def _spell(data: st.DataObject, text: str) -> str:
    """A JSON string literal for ``text``, spelled one of the ways JSON allows."""
    how = data.draw(st.sampled_from(["ascii", "utf8", "escaped"]))
    if how == "escaped":  # every character as \uXXXX (a surrogate pair beyond the BMP)
        units = text.encode("utf-16-be")
        return '"' + "".join(f"\\u{units[i]:02x}{units[i + 1]:02x}" for i in range(0, len(units), 2)) + '"'
    return json.dumps(text, ensure_ascii=how == "ascii")


def _write(data: st.DataObject, value: Any) -> str:
    space = st.sampled_from(["", " ", "\n", "\t", "\r\n", "  "])
    if isinstance(value, Obj):
        pairs = [
            f"{data.draw(space)}{_spell(data, key)}{data.draw(space)}:{data.draw(space)}{_write(data, item)}"
            for key, item in value.pairs
        ]
        return "{" + ",".join(pairs) + data.draw(space) + "}"
    if isinstance(value, list):
        return "[" + ",".join(data.draw(space) + _write(data, item) for item in value) + data.draw(space) + "]"
    if isinstance(value, str):
        return _spell(data, value)
    return json.dumps(value)


def _twice(value: Any, path: str = "") -> list[str]:
    """The duplicates as the object was written, where the last-wins reading keeps them (the oracle)."""
    if isinstance(value, Obj):
        seen: dict[str, int] = {}
        for key, _ in value.pairs:
            seen[key] = seen.get(key, 0) + 1
        found = [f"{path}.{key}" if path else key for key, count in seen.items() if count > 1]
        kept = dict(value.pairs)  # the last value of each key
        for key, item in kept.items():
            found.extend(_twice(item, f"{path}.{key}" if path else key))
        return found
    if isinstance(value, list):
        return [found for index, item in enumerate(value) for found in _twice(item, f"{path}[{index}]")]
    return []


def _named_twice_anywhere(value: Any) -> bool:
    return any(len({key for key, _ in obj.pairs}) < len(obj.pairs) for obj in _objects_in(value))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(root=_OBJECTS, inject=st.booleans(), data=st.data())
def test_the_cheap_count_never_misses_a_duplicate(root: Obj, inject: bool, data: st.DataObject) -> None:
    if inject:
        _inject(data, root)
    text = _write(data, root)
    documents._DUPLICATES.clear()
    # What runs in production: the decoder fills the memo (its cheap check), the engine reads it.
    assert decode_policy_document(text, PolicyKind.KEY, field="policy") == json.loads(text)
    found = documents._DUPLICATES[text]
    assert documents._loads(text) == json.loads(text)
    held = documents._KEYS_READ[0]
    # The cheap count as ``_duplicates`` takes it: ``":`` counted in C unless some key ends with whitespace.
    fast = re.search(documents._KEY_END_AFTER_SPACE, text) is None
    spelled = text.count('":') if fast else len(re.findall(documents._KEY_END, text))
    assert spelled >= held  # the count over-counts, never under-counts
    if _named_twice_anywhere(root):
        assert spelled != held, "the cheap count would have passed a duplicate"
        assert found
    else:
        assert held == documents._key_count(json.loads(text))  # the slow read's count agrees
        assert found == ()
    assert sorted(found) == sorted(_twice(root))


@settings(max_examples=100, deadline=None)
@given(root=_OBJECTS, data=st.data())
def test_decoding_answers_as_before_whatever_the_keys(root: Obj, data: st.DataObject) -> None:
    """The detection on the load path changes no document decoded (json's last-wins reading)."""
    _inject(data, root)
    text = _write(data, root)
    documents._DUPLICATES.clear()
    assert decode_policy_document(text, PolicyKind.KEY, field="policy") == json.loads(text)


# --- the verdict ------------------------------------------------------------------------------------------------


def _judge(event: dict[str, Any], with_settings: Settings | None = None) -> Any:
    documents._DUPLICATES.clear()
    documents._READINGS.clear()
    documents._PARSED.clear()
    return judge_event(event, with_settings or Settings(own=SAMPLE_OWN))


def _with(name: str, path: tuple[str, ...], value: str) -> dict[str, Any]:
    event = copy.deepcopy(load_event(name))
    holder = event["detail"]["requestParameters"]
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = value
    return event


_ADMIN_THEN_DENY = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Effect":"Deny"}]}'
)
_DENY_THEN_ADMIN = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*","Effect":"Allow"}]}'
)


def _uncertain_because_of(finding: Any, where: str) -> None:
    assert not finding.certain
    assert any(where in fact and "names twice" in fact for fact in finding.needs_context)


def test_the_sample_read_last_wins_compliant_is_alerted_never_remediated() -> None:
    judgement = _judge(load_event("put-role-policy-duplicate-effect.json"))
    assert judgement.verdict is Verdict.VIOLATION
    (finding,) = judgement.findings
    assert finding.rule_id == "inline-policy-admin"  # found on the first-wins reading
    _uncertain_because_of(finding, "requestParameters.policyDocument: Statement[0].Effect")


def test_without_the_duplicate_the_same_event_is_compliant() -> None:
    deny = '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}'
    judgement = _judge(_with("put-role-policy-duplicate-effect.json", ("policyDocument",), deny))
    assert judgement.verdict is Verdict.COMPLIANT


def test_an_identity_policy_read_last_wins_admin_keeps_its_finding_but_is_not_certain() -> None:
    judgement = _judge(_with("put-role-policy-admin-star.json", ("policyDocument",), _DENY_THEN_ADMIN))
    assert judgement.verdict is Verdict.VIOLATION
    assert "inline-policy-admin" in {finding.rule_id for finding in judgement.findings}
    for finding in judgement.findings:
        _uncertain_because_of(finding, "Statement[0].Effect")
    admin = next(finding for finding in judgement.findings if finding.rule_id == "inline-policy-admin")
    assert admin.plan  # what remediate mode would do is said, and never done (the finding is not certain)


def test_the_clean_identity_policy_finding_stays_certain() -> None:
    judgement = _judge(load_event("put-role-policy-admin-star.json"))
    assert judgement.findings
    assert all(finding.certain for finding in judgement.findings)


_TRUST = (
    '{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow",'
    '"Principal":{{"AWS":"{0}","AWS":"{1}"}},"Action":"sts:AssumeRole"}}]}}'
)
_OWN = "arn:aws:iam::111122223333:root"
_STRANGER = "arn:aws:iam::999988887777:root"


def test_a_trust_policy_read_last_wins_trusted_is_alerted() -> None:
    event = _with("trust-create-role-public.json", ("assumeRolePolicyDocument",), _TRUST.format(_STRANGER, _OWN))
    judgement = _judge(event)
    assert judgement.verdict is Verdict.VIOLATION
    (finding,) = judgement.findings
    _uncertain_because_of(finding, "requestParameters.assumeRolePolicyDocument: Statement[0].Principal.AWS")


def test_a_trust_policy_read_last_wins_untrusted_is_found_and_not_certain() -> None:
    event = _with("trust-create-role-public.json", ("assumeRolePolicyDocument",), _TRUST.format(_OWN, _STRANGER))
    judgement = _judge(event)
    assert judgement.verdict is Verdict.VIOLATION
    assert "trust-policy-untrusted" in {finding.rule_id for finding in judgement.findings}
    for finding in judgement.findings:
        _uncertain_because_of(finding, "Statement[0].Principal.AWS")


def test_a_queue_policy_with_a_duplicate_principal_is_never_certain() -> None:
    policy = (
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Principal":{"AWS":"'
        + _OWN
        + '"},"Action":"sqs:SendMessage","Resource":"arn:aws:sqs:eu-west-1:111122223333:orders-events"}]}'
    )
    judgement = _judge(_with("sqs-policy-public.json", ("attributes", "Policy"), policy))
    assert judgement.verdict is Verdict.VIOLATION
    (finding,) = judgement.findings
    assert finding.rule_id.startswith("sqs-queue-policy")
    _uncertain_because_of(finding, "requestParameters.attributes.Policy: Statement[0].Principal")


def test_a_failed_call_carrying_a_duplicate_changed_nothing() -> None:
    event = load_event("put-role-policy-duplicate-effect.json")
    event["detail"]["errorCode"] = "MalformedPolicyDocumentException"
    judgement = _judge(event)
    assert judgement.verdict is Verdict.IGNORED
    assert judgement.findings == ()


def _allowing(*rules: str) -> Settings:
    allowed, problems = parse_settings(
        {"rules": {rule: {"allow_actors": ["arn:aws:sts::111122223333:assumed-role/developer/*"]} for rule in rules}}
    )
    assert problems == []
    return allowed._replace(own=SAMPLE_OWN)


_ESCALATE_THEN_DENY = (
    '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iam:PutRolePolicy","iam:AttachRolePolicy"],'
    '"Resource":"*","Effect":"Deny"}]}'
)


def test_the_rule_that_fires_on_the_other_reading_owns_the_alert() -> None:
    event = _with("put-role-policy-admin-star.json", ("policyDocument",), _ESCALATE_THEN_DENY)
    judgement = _judge(event, _allowing("inline-policy-admin"))
    assert judgement.verdict is Verdict.VIOLATION
    assert "privilege-escalation" in {finding.rule_id for finding in judgement.findings}
    assert "inline-policy-admin" not in {finding.rule_id for finding in judgement.findings}
    for finding in judgement.findings:
        _uncertain_because_of(finding, "Statement[0].Effect")


def test_an_actor_allowlisted_for_every_rule_that_fires_is_exempt_on_every_reading() -> None:
    judged = _judge(load_event("put-role-policy-duplicate-effect.json"))
    firing = {finding.rule_id for finding in judged.findings}
    judgement = _judge(load_event("put-role-policy-duplicate-effect.json"), _allowing(*firing))
    assert judgement.verdict is Verdict.COMPLIANT
    assert judgement.findings == ()


_ADMIN = '"Effect":"Allow","Action":"*","Resource":"*"'


@pytest.mark.parametrize(
    "document",
    [
        '{"Version":"2012-10-17","Statement":[{' + _ADMIN + ',"Effect":"Allow"}]}',  # the same value twice
        '{"Version":"2012-10-17","Version":"2012-10-17","Statement":[{' + _ADMIN + "}]}",
        '{"Version":"2012-10-17","Statement":[{"Sid":"a",' + _ADMIN + ',"Sid":"b"}]}',  # both readings admin
    ],
)
def test_a_duplicate_that_changes_no_finding_leaves_it_certain_with_its_plan(document: str) -> None:
    clean = _judge(load_event("put-role-policy-admin-star.json"))
    judgement = _judge(_with("put-role-policy-admin-star.json", ("policyDocument",), document))
    assert judgement.verdict is Verdict.VIOLATION
    assert {finding.rule_id for finding in judgement.findings} == {finding.rule_id for finding in clean.findings}
    assert all(finding.certain and finding.plan for finding in judgement.findings)


def test_a_duplicate_in_a_text_that_is_no_policy_leaves_the_findings_certain() -> None:
    event = load_event("put-role-policy-admin-star.json")
    event["detail"]["requestParameters"]["description"] = '{"Effect":"Allow","Effect":"Deny"}'
    judgement = _judge(event)
    assert judgement.findings
    assert all(finding.certain and finding.plan for finding in judgement.findings)


def test_encoded_whitespace_first_is_read_even_once_the_memo_lost_it() -> None:
    encoded = quote("\n" + _ADMIN_THEN_DENY)
    event = _with("put-role-policy-admin-star.json", ("policyDocument",), encoded)
    assert not _judge(event).findings[0].certain
    documents._DUPLICATES.clear()  # evicted; the parsed policy is still kept (_PARSED)
    documents._READINGS.clear()
    judgement = judge_event(event, Settings(own=SAMPLE_OWN))
    assert judgement.verdict is Verdict.VIOLATION
    _uncertain_because_of(judgement.findings[0], "Statement[0].Effect")


def test_a_key_ending_in_whitespace_is_caught_on_the_production_path() -> None:
    spaced = _ADMIN_THEN_DENY.replace('"Effect":"Deny"', '"Effect" :"Deny"')
    judgement = _judge(_with("put-role-policy-admin-star.json", ("policyDocument",), spaced))
    assert judgement.verdict is Verdict.VIOLATION
    _uncertain_because_of(judgement.findings[0], "Statement[0].Effect")


@pytest.mark.parametrize(
    "document",
    [
        '{"Version":"2012-10-17","Statement":[{' + _ADMIN + ',"Effect":"Bogus"}]}',
        '{"Version":"2012-10-17","Statement":[{' + _ADMIN + '}],"Statement":7}',
        '{"Version":"2012-10-17","Version":"1999","Statement":[{' + _ADMIN + "}]}",
    ],
)
def test_an_invalid_last_value_is_judged_on_its_first_value(document: str) -> None:
    judgement = _judge(_with("put-role-policy-admin-star.json", ("policyDocument",), document))
    assert judgement.verdict is Verdict.VIOLATION
    assert "inline-policy-admin" in {finding.rule_id for finding in judgement.findings}
    for finding in judgement.findings:
        _uncertain_because_of(finding, "requestParameters.policyDocument")


def test_invalid_on_every_reading_stays_invalid() -> None:
    document = '{"Version":"2012-10-17","Statement":[{"Effect":"Bogus","Action":"*","Resource":"*","Effect":"No"}]}'
    judgement = _judge(_with("put-role-policy-admin-star.json", ("policyDocument",), document))
    assert judgement.verdict is Verdict.INVALID


_MINE = "o-a1b2c3d4e5"
_FOREIGN = "o-zzzzzzzzzz"


def _org_condition(condition: dict[str, Any]) -> Any:
    from iamwarden.app.settings_file import load_settings_file
    from tests.conftest import EXAMPLE_SETTINGS

    event = load_event("sqs-policy-org-condition.json")
    document = json.loads(event["detail"]["requestParameters"]["attributes"]["Policy"])
    document["Statement"][0]["Condition"] = condition
    event["detail"]["requestParameters"]["attributes"]["Policy"] = json.dumps(document)
    return _judge(event, load_settings_file(EXAMPLE_SETTINGS)._replace(own=SAMPLE_OWN))


@pytest.mark.parametrize(
    "condition",
    [
        {"StringEquals": {"aws:PrincipalOrgID": _MINE, "aws:principalorgid": _FOREIGN}},
        {"StringEquals": {"aws:principalorgid": _FOREIGN, "aws:PrincipalOrgID": _MINE}},
        {"StringEquals": {"aws:PrincipalOrgID": _MINE}, "stringEquals": {"aws:PrincipalOrgID": _FOREIGN}},
    ],
)
def test_condition_keys_differing_only_in_case_are_judged_both_ways(condition: dict[str, Any]) -> None:
    assert _org_condition({"StringEquals": {"aws:PrincipalOrgID": _MINE}}).verdict is Verdict.COMPLIANT
    assert _org_condition({"StringEquals": {"aws:PrincipalOrgID": _FOREIGN}}).findings[0].certain
    judgement = _org_condition(condition)
    assert judgement.verdict is Verdict.VIOLATION
    for finding in judgement.findings:
        _uncertain_because_of(finding, "Condition")


def test_condition_keys_in_two_cases_with_one_value_change_nothing() -> None:
    judgement = _org_condition({"StringEquals": {"aws:PrincipalOrgID": _MINE, "aws:principalorgid": _MINE}})
    assert judgement.verdict is Verdict.COMPLIANT
