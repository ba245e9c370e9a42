"""Decode the policy documents CloudTrail records carry, within AWS's size limits.

CloudTrail gives a policy document in one of three forms: a JSON object (S3's
``bucketPolicy``), a JSON string (IAM's ``policyDocument``), or a URL-encoded
JSON string (as IAM's Get*Policy APIs return it). A document larger than AWS
accepts for its kind cannot come from a successful call and is rejected after
work linear in its length, which the EventBridge event limit already bounds.
"""

from __future__ import annotations

import json
import marshal
import re
from collections.abc import Mapping
from enum import Enum
from typing import Any, cast
from urllib.parse import unquote

from iamwarden.domain.events import MAX_EVENT_BYTES, json_type_name
from iamwarden.domain.exceptions import InvalidEventError
from iamwarden.domain.policy import Policy, parse_policy


class PolicyKind(Enum):
    """Kinds of policy document, each with AWS's documented size limit.

    IAM limits count characters excluding whitespace (IAM and STS quotas);
    S3 limits a bucket policy to 20 KB (and each other service its own resource
    policies, in bytes too). Trust policies default to 2,048
    characters but can be raised to 4,096 by quota, so 4,096 is the most a
    genuine one can have. Inline limits are per entity in aggregate, so one
    document can use all of it.
    """

    MANAGED = ("managed policy", 6_144, False)
    INLINE_USER = ("user inline policy", 2_048, False)
    INLINE_ROLE = ("role inline policy", 10_240, False)
    INLINE_GROUP = ("group inline policy", 5_120, False)
    TRUST = ("role trust policy", 4_096, False)
    BUCKET = ("bucket policy", 20_480, True)
    # Resource policies of other services (each service's documented quota; bytes, whitespace counted).
    QUEUE = ("queue policy", 8_192, True)  # SQS policy quotas: 8,192 bytes
    TOPIC = ("topic policy", 30_720, True)  # SNS policy quotas: 30 KB
    FUNCTION = ("function policy", 20_480, True)  # Lambda quotas: function resource-based policy 20 KB
    KEY = ("key policy", 32_768, True)  # KMS quotas: key policy document size 32 KB
    SECRET = ("secret policy", 20_480, True)  # Secrets Manager quotas: resource-based policy 20,480 characters
    REPOSITORY = ("repository policy", 10_240, True)  # ECR SetRepositoryPolicy: policyText at most 10,240
    EVENT_BUS = ("event bus policy", 10_240, True)  # EventBridge quotas: event bus policy 10,240 characters
    #: DynamoDB resource-based policies (tables and streams): 20 KB, whitespace included (DynamoDB quotas).
    DYNAMODB = ("DynamoDB resource policy", 20_480, True)
    #: EFS file system policies: 20,000 characters (Amazon EFS quotas), counted here as bytes to stay safe.
    EFS = ("file system policy", 20_000, True)
    #: OpenSearch domain access policies: "The maximum size of a policy document is 100 KB" (the OpenSearch and
    #: Elasticsearch API references' ``PolicyDocument``: at most 102,400). A bound below AWS's would make a genuine
    #: padded policy "invalid": unjudged (review s11 F19).
    OPENSEARCH = ("domain access policy", 102_400, True)
    #: AWS Backup vault access policies: no documented limit (the API model's ``IAMPolicy`` has none), so only what an
    #: EventBridge event can carry beside its envelope bounds it: 256 KB less 8 KB.
    BACKUP_VAULT = ("backup vault access policy", 253_952, True)
    #: Glacier vault access and lock policies: "up to 20 KB" (SetVaultAccessPolicy, Glacier API reference).
    GLACIER_VAULT = ("vault access policy", 20_480, True)
    #: CloudWatch Logs destination access policies: "up to 5120 bytes" (PutDestinationPolicy, API reference).
    LOGS_DESTINATION = ("destination access policy", 5_120, True)

    def __init__(self, label: str, limit: int, counts_whitespace: bool) -> None:
        self.label = label
        self.limit = limit
        self.counts_whitespace = counts_whitespace


_WHITESPACE = (" ", "\t", "\r", "\n")
# ensure_ascii=False: a \uXXXX escape would count one character as six. One encoder, made once.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
# JSONEncoder.encode builds a fresh C encoder for every call; this one is built once, without the circular-reference
# bookkeeping (a self-referencing object still fails, with RecursionError instead of ValueError: both are caught).
_C_ENCODER: Any = getattr(json.encoder, "c_make_encoder", None)
_encode = (
    _C_ENCODER(None, _ENCODER.default, json.encoder.encode_basestring, None, ":", ",", False, False, True)
    if _C_ENCODER is not None
    else None
)


def _compact(value: object) -> str:
    """The compact JSON text of ``value`` (what the size check measures and the document cache is keyed by)."""
    if _encode is None:
        return _ENCODER.encode(value)
    return "".join(_encode(value, 0))


def _count_keys(read: dict[str, Any]) -> dict[str, Any]:
    """The scanner's ``object_hook``: counts the keys of every object read (``_KEYS_READ``) and keeps it as it is."""
    _KEYS_READ[0] += len(read)
    return read


#: How many keys the objects ``_loads`` last read hold: as many as the text names, one fewer for each key it names
#: again in the same object (the scanner counts discarded values' keys too, a slow read the kept tree's).
_KEYS_READ = [0]
#: The C scanner ``json.loads`` ends in (a default decoder's, as ``json.loads`` uses), counting the keys it reads:
#: an ``object_hook`` that returns each object unchanged reads every document exactly as ``json.loads`` does.
_scan_once: Any = getattr(json.JSONDecoder(object_hook=_count_keys), "scan_once")  # noqa: B009 - set in __init__


def _loads(text: str) -> object:
    """``json.loads(text)`` for ``text`` already stripped, by the C scanner alone: half the time on a trust
    policy, skipping the Python-level decoder (its BOM test, two whitespace regex matches, ``raw_decode``).
    It leaves in ``_KEYS_READ`` how many keys the objects read hold (``_duplicates``' count of the tree).

    The scanner reads one JSON value from the start; when it reads all of ``text`` the answer is the one
    ``json.loads`` gives (``text`` has no surrounding whitespace to skip, and a leading BOM is no JSON value).
    Anything else (an error, a BOM, extra data) is handed to ``json.loads``, so it raises as it always did.
    """
    _KEYS_READ[0] = 0
    try:
        document, end = _scan_once(text, 0)
    except Exception:  # StopIteration at an unreadable value, a malformed one, too deep: json.loads words it
        return _loads_slowly(text)
    if end != len(text):
        return _loads_slowly(text)  # extra data after the value
    return document


def _loads_slowly(text: str) -> object:
    document = json.loads(text)
    _KEYS_READ[0] = _key_count(document)
    return document


def decode_policy_document(value: object, kind: PolicyKind, *, field: str) -> dict[str, Any]:
    """Return the policy document in ``value`` as a dict, or raise ``InvalidEventError``.

    ``field`` names where the document was found, for the error message.
    """
    # A str is never a Mapping: tested first, it skips the ABC check (a trust policy's usual form).
    if type(value) is not str and isinstance(value, Mapping):
        try:
            # ensure_ascii=False: a \uXXXX escape would count one character as six.
            compact = _compact(value)
        except (TypeError, ValueError, RecursionError) as exc:
            raise InvalidEventError(f"{field} is not a JSON policy document: {exc}") from exc
        _check_size(compact, kind, field)
        return dict(value)
    if not isinstance(value, str):
        raise InvalidEventError(
            f"{field} must be a policy document (JSON object or string), got {json_type_name(value)}"
        )
    if len(value) > MAX_EVENT_BYTES:
        raise InvalidEventError(f"{field} is {len(value)} characters, more than any EventBridge event can carry")
    recorder = _RECORDER[0]
    if recorder is not None:
        recorder.append(value)
    text = _text_of(value)
    if kind.counts_whitespace or len(text) > kind.limit:  # else ``_check_size`` returns at once: no call
        _check_size(text, kind, field)
    try:
        document = _loads(text)
    except (ValueError, RecursionError) as exc:
        raise InvalidEventError(f"{field} does not parse as JSON: {str(exc).splitlines()[0]}") from exc
    if not isinstance(document, dict):
        raise InvalidEventError(f"{field} must be a JSON object, got {json_type_name(document)}")
    if value not in _DUPLICATES:
        _examine(value, text, document, _KEYS_READ[0])
    return document


def policy_text(value: str) -> str:
    """The JSON text of a policy document as an event gives it (URL-decoded if encoded): what every reading reads."""
    return _text_of(value)


def _text_of(value: str) -> str:
    """The JSON text in a policy document as an event gives it: stripped, URL-decoded if it is encoded (possibly
    after encoded whitespace, ``%0A%7B``). The one reading of a text, the decoder's and the duplicate check's."""
    text = value.strip()
    if text.startswith("%"):
        text = unquote(text)
    return text


# Duplicate keys. JSON text may name a key twice in one object (RFC 8259 says names SHOULD be unique, not MUST);
# Python's json keeps the last value. What AWS enforces for such a policy is documented nowhere we could find: the
# IAM policy grammar (IAM User Guide, "Grammar of the IAM JSON policy language") leaves JSON validity to RFC 7159,
# IAM Access Analyzer's policy checks document only "Duplicate keys with different case" (condition keys differing
# in capitalisation, an ERROR finding), and the Terraform AWS provider added its own duplicate-key check
# (hashicorp/terraform-provider-aws#33026, #33570) because an overwritten duplicate "could lead to an overly
# permissive policy". So IAM Warden cannot tell which value AWS reads: a change carrying such a document is never
# remediated on IAM Warden's last-wins reading, and never passed in silence (``guardrails.engine``).

#: A key's end in JSON text: a closing quote, JSON whitespace, a colon. Every key of the text ends so, and so does
#: ``\\":`` inside a string: counting these can only over-count the keys the text spells, never miss one.
_KEY_END = r'"[ \t\n\r]*:'
#: A key's end with whitespace before its colon: in none (the usual text), each key ends ``":``, counted in C.
_KEY_END_AFTER_SPACE = r'"[ \t\n\r]+:'
# Both are compiled (and kept in ``re``'s cache) with the first text that has whitespace before a colon: a rare text,
# so not at every cold start.


def _key_ends_after_space(text: str) -> bool:
    """Whether ``_KEY_END_AFTER_SPACE`` matches ``text``. A match holds whitespace right before a colon, so a
    text with none (the usual policy: ``"key": value``) has no match, told by four substring searches in C
    instead of the regex trying a match at every quote; any other text asks the regex."""
    if " :" not in text and "\n:" not in text and "\t:" not in text and "\r:" not in text:
        return False
    return re.search(_KEY_END_AFTER_SPACE, text) is not None


#: What ``duplicate_keys`` found, by the text as the event gave it (bounded like ``_PARSED``).
_DUPLICATES: dict[str, tuple[str, ...]] = {}


#: The other readings of each text in ``_DUPLICATES`` (``other_readings``), by the same key, filled together.
_READINGS: dict[str, tuple[str, ...]] = {}
#: While the engine judges an event, the policy texts its rules decode (``record_texts``): only those are
#: policies, so only their duplicates can change a verdict (an event pattern or a tag value naming a key twice
#: changes nothing IAM Warden judges).
_RECORDER: list[list[str] | None] = [None]


def record_texts() -> list[str]:
    """Start keeping every policy text decoded (``load_policy``, ``decode_policy_document``) in the list returned,
    until ``stop_recording``. Judging is one event at a time per process (backtest uses processes)."""
    texts: list[str] = []
    _RECORDER[0] = texts
    return texts


def stop_recording() -> None:
    _RECORDER[0] = None


def _examine(value: str, text: str, document: dict[str, Any], keys_read: int) -> None:
    """Keep ``duplicate_keys`` and ``other_readings`` of a text just decoded (``keys_read``: ``_KEYS_READ`` of
    it), so the engine's question about it costs one look-up. Equal cheap counts and no key ending with
    whitespace settle the usual document; a Condition naming a key in two cases is found on the tree."""
    if len(_DUPLICATES) >= POLICY_CACHE_SIZE:
        oldest = next(iter(_DUPLICATES))
        del _DUPLICATES[oldest]
        _READINGS.pop(oldest, None)
    if text.count('":') == keys_read and not _key_ends_after_space(text):
        exact: tuple[str, ...] = ()
    else:
        exact = _duplicates(text, keys_read)
    # No key reads "Condition" unless the text spells it, or escapes something (``\u0043ondition``): a C search.
    cased = _cased_twice(document) if ("Condition" in text or "\\" in text) and _may_clash(document) else ()
    _DUPLICATES[value] = exact + cased
    _READINGS[value] = _other_readings(text, document, exact) if exact or cased else ()


def _statements(document: Mapping[str, Any]) -> list[tuple[str, Any]]:
    statements = document.get("Statement")
    if isinstance(statements, list):
        return [(f"Statement[{index}]", item) for index, item in enumerate(statements)]
    return [("Statement", statements)]


def _may_clash(document: dict[str, Any]) -> bool:
    """Whether some Condition names an operator, or an operator block a key, twice in two cases (``_cased_twice``
    without the paths: the usual block names one key, settled without a set; JSON keys are always str)."""
    statements = document.get("Statement")
    for statement in statements if type(statements) is list else (statements,):
        if type(statement) is dict:
            condition = statement.get("Condition")
            if type(condition) is dict:
                if len(condition) > 1 and len({key.casefold() for key in condition}) < len(condition):
                    return True
                for block in condition.values():
                    if type(block) is dict and len(block) > 1 and len({key.casefold() for key in block}) < len(block):
                        return True
    return False


def _cased_twice(document: Mapping[str, Any]) -> tuple[str, ...]:
    """Condition operators and condition keys named twice in one block, differing only in case
    (``aws:PrincipalOrgID`` next to ``aws:principalorgid``): AWS reads them case-insensitively and IAM Access
    Analyzer reports them as an error ("Duplicate keys with different case"); Python keeps both."""
    found: list[str] = []
    for path, statement in _statements(document):
        condition = statement.get("Condition") if isinstance(statement, Mapping) else None
        if not isinstance(condition, Mapping):
            continue
        found.extend(_case_clashes(condition, f"{path}.Condition"))
        for operator, block in condition.items():
            if isinstance(block, Mapping):
                found.extend(_case_clashes(block, f"{path}.Condition.{operator}"))
    return tuple(found)


def _case_clashes(block: Mapping[str, Any], path: str) -> list[str]:
    if len({str(key).casefold() for key in block}) == len(block):
        return []
    seen: set[str] = set()
    found: list[str] = []
    for key in block:
        folded = str(key).casefold()
        if folded in seen:
            found.append(f"{path}.{key}")
        seen.add(folded)
    return found


def _fold(document: dict[str, Any], keep_first: bool) -> dict[str, Any]:
    """``document`` with each Condition's operators and keys named once whatever their case, keeping the first
    (``keep_first``) or the last spelling's value: a copy, ``document`` is left as it is."""
    if "Statement" not in document:
        return document
    statements = document["Statement"]
    items = statements if isinstance(statements, list) else [statements]
    folded_items = [_fold_statement(item, keep_first) for item in items]
    return {**document, "Statement": folded_items if isinstance(statements, list) else folded_items[0]}


def _fold_statement(statement: Any, keep_first: bool) -> Any:
    if not isinstance(statement, Mapping) or not isinstance(statement.get("Condition"), Mapping):
        return statement
    condition = _fold_block(statement["Condition"], keep_first)
    return {
        **statement,
        "Condition": {
            operator: _fold_block(block, keep_first) if isinstance(block, Mapping) else block
            for operator, block in condition.items()
        },
    }


def _fold_block(block: Mapping[str, Any], keep_first: bool) -> dict[str, Any]:
    """``block`` with each key named once whatever its case: the first spelling, the first or last value."""
    kept: dict[str, tuple[str, Any]] = {}
    for key, item in block.items():
        folded = str(key).casefold()
        if folded not in kept:
            kept[folded] = (key, item)
        elif not keep_first:
            kept[folded] = (kept[folded][0], item)
    return dict(kept.values())


def _keep_first(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for key, item in pairs:
        kept.setdefault(key, item)
    return kept


_DECODER_KEEPING_FIRST = json.JSONDecoder(object_pairs_hook=_keep_first)


def _other_readings(text: str, document: dict[str, Any], exact: tuple[str, ...]) -> tuple[str, ...]:
    """The document's other possible readings, as compact JSON, that differ from the one judged (``document``:
    the last value of each key wins, two spellings of a condition key are two keys): the first value of each key
    winning, and a condition key's spellings read as one, keeping the first or the last. A key named twice with
    the same value has no other reading, nor has a statement's ``Sid`` named twice: a Sid only labels a statement
    and never changes what it allows (review 3 of s14, R4: it must not turn a remediable change alert-only)."""
    judged = _compact(document)
    unlabelled = _compact(_without_sids(document))
    first: dict[str, Any] = _DECODER_KEEPING_FIRST.decode(text) if exact else document
    readings: list[str] = []
    for reading in (_fold(first, keep_first=True), _fold(document, keep_first=False)):
        spelled = _compact(reading)
        if spelled != judged and spelled not in readings and _compact(_without_sids(reading)) != unlabelled:
            readings.append(spelled)
    return tuple(readings)


def _without_sids(document: Mapping[str, Any]) -> dict[str, Any]:
    """``document`` with no statement's ``Sid``: what it allows and denies, its labels left out."""
    statements = document.get("Statement")
    if type(statements) is list:
        kept: Any = [
            {key: item for key, item in statement.items() if key != "Sid"} if type(statement) is dict else statement
            for statement in statements
        ]
    elif type(statements) is dict:
        kept = {key: item for key, item in statements.items() if key != "Sid"}
    else:
        return dict(document)
    return {**document, "Statement": kept}


def other_readings(value: str) -> tuple[str, ...]:
    """The readings of the policy text ``value`` that AWS might enforce and IAM Warden did not judge (compact
    JSON), when it names a key twice with different values or a condition key in two cases; empty otherwise."""
    if value not in _DUPLICATES:
        duplicate_keys(value)
    return _READINGS.get(value, ())


def duplicate_keys(value: str) -> tuple[str, ...]:
    """Where the JSON object in ``value`` (a policy document as an event gives it: JSON text, possibly
    URL-encoded) names a key more than once, each as ``path.key`` (``Statement[0].Effect``); empty when it names
    none or is no JSON object. Keys are compared decoded (``"\\u0045ffect"`` is ``Effect``), as JSON defines them.
    """
    found = _DUPLICATES.get(value)
    if found is not None:
        return found
    text = _text_of(value)  # as decode_policy_document reads it, whatever the memo holds
    try:
        document = _loads(text)
    except (ValueError, RecursionError):
        return ()
    if not isinstance(document, dict):
        return ()
    _examine(value, text, document, _KEYS_READ[0])
    return _DUPLICATES.get(value, ())


def _duplicates(text: str, keys_read: int) -> tuple[str, ...]:
    """``duplicate_keys`` of ``text``, whose objects hold ``keys_read`` keys as read (``_KEYS_READ``). A key named
    twice is read once less than the text spells it, so the text spells more keys than were read exactly when one
    is. The cheap count over-counts (``_KEY_END``), so equal counts prove there is none; only a text whose
    counts differ is read again, keeping every key, to know for certain and say where."""
    spelled = text.count('":')
    if _key_ends_after_space(text):  # a key may end '"  :': count every kind
        spelled = len(re.findall(_KEY_END, text))
    if spelled == keys_read:
        return ()
    return _duplicates_exactly(text)


def _key_count(document: object) -> int:
    """How many keys the objects of ``document`` hold, nested ones included (no recursion: any depth)."""
    count = 0
    stack: list[Any] = [document] if type(document) is dict or type(document) is list else []
    pop = stack.pop
    push = stack.append
    while stack:
        value = pop()
        if type(value) is dict:
            count += len(value)
            for item in value.values():
                if type(item) is dict or type(item) is list:
                    push(item)
        else:
            for item in value:
                if type(item) is dict or type(item) is list:
                    push(item)
    return count


class _Named(dict[str, Any]):
    """An object read with every key kept: ``twice`` are the keys its text names more than once."""

    twice: tuple[str, ...] = ()


def _keep_pairs(pairs: list[tuple[str, Any]]) -> _Named:
    named = _Named(pairs)  # the last value wins, as json.loads reads it
    if len(named) != len(pairs):
        seen: set[str] = set()
        twice: dict[str, None] = {}
        for key, _ in pairs:
            if key in seen:
                twice[key] = None
            seen.add(key)
        named.twice = tuple(twice)
    return named


_DECODER_KEEPING_PAIRS = json.JSONDecoder(object_pairs_hook=_keep_pairs)


def _duplicates_exactly(text: str) -> tuple[str, ...]:
    """Every key ``text`` names twice in one object, as ``path.key``, in document order."""
    try:
        document = _DECODER_KEEPING_PAIRS.decode(text)
    except (ValueError, RecursionError):
        return ()
    found: list[str] = []
    stack: list[tuple[str, Any]] = [("", document)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, _Named):
            found.extend(f"{path}.{key}" if path else key for key in value.twice)
            stack.extend(reversed([(f"{path}.{key}" if path else key, item) for key, item in value.items()]))
        elif type(value) is list:
            stack.extend(reversed([(f"{path}[{index}]", item) for index, item in enumerate(value)]))
    return tuple(found)


#: How many parsed documents ``load_policy`` keeps, by their content.
POLICY_CACHE_SIZE = 1024
#: Keyed by (content, kind label): a str hashes once and keeps it, an Enum member hashes in Python every time.
_PARSED: dict[tuple[str | bytes, str], Policy] = {}
#: marshal's format 2: no back-references (format 3 on makes equal objects spell differently when shared).
_MARSHAL_FORMAT = 2


def load_policy(value: object, kind: PolicyKind, *, field: str) -> Policy:
    """``parse_policy(decode_policy_document(value, kind, field=field), field=field)``, parsed once per document.

    Kept by the document's content, never by the object: the string as CloudTrail gives it, or, for an
    object (S3's ``bucketPolicy``), its ``marshal`` serialisation: C, about twice as fast as the JSON encoder
    and exact (it keeps types apart, ``1``/``1.0``/``True``, and reads back to the very same content, so two
    different documents never share a key). An object changed after it was judged therefore has another key
    and is judged afresh, and the policy kept for it reads a private copy, never the caller's object. Only a
    document not seen before is serialised to compact JSON, for the size check (and to reject what JSON
    cannot hold), unless nothing in it can matter to that check (``_parse_object``). A document that failed
    raises every time, with the message it gave (``_REFUSED``, by content, kind and field).
    """
    # No ``typing.cast`` on this path: it is a Python-level call, paid on every load.
    value_type = type(value)
    key: str | bytes
    if type(value) is str:
        key = value
        recorder = _RECORDER[0]
        if recorder is not None:
            recorder.append(value)
    elif value_type is dict or isinstance(value, Mapping):
        marshalled: Any = value
        try:
            key = marshal.dumps(marshalled, _MARSHAL_FORMAT)
        except ValueError:  # not marshal's types (a Mapping class, objects): keyed by its compact JSON
            key = _compact_or_invalid(value, field)
    else:  # neither text nor an object: decode says so
        return parse_policy(decode_policy_document(value, kind, field=field), field=field)
    cache_key = (key, kind.label)
    cached = _PARSED.get(cache_key)
    if cached is not None:
        return cached
    if _REFUSED:
        refused = _REFUSED.get((key, kind, field))
        if refused is not None:
            raise InvalidEventError(refused)
    try:
        if value_type is str:
            policy = parse_policy(decode_policy_document(value, kind, field=field), field=field)
        elif type(key) is bytes:
            # A private deep copy, read back from the key: the kept policy's raw statements (what a plan removes)
            # cannot change when the caller's object is changed later.
            document = marshal.loads(key)  # noqa: S302 - bytes this process just wrote from the event's own data
            policy = _parse_object(document, key, value, kind, field)
        else:
            _check_size(cast(str, key), kind, field)
            policy = parse_policy(dict(cast(Mapping[str, Any], value)), field=field)
    except InvalidEventError as exc:
        if value_type is str or type(key) is bytes:  # the exact content (compact JSON may stand for two objects)
            _refuse((key, kind, field), exc)
        raise
    if len(_PARSED) >= POLICY_CACHE_SIZE:
        del _PARSED[next(iter(_PARSED))]
    _PARSED[cache_key] = policy
    return policy


#: ``load_policy``'s refusals, by the document's exact content (the text, or an object's ``marshal`` bytes), kind
#: and field (the message names the field): a document refused once (an oversized bucket policy: some 3.6 M
#: instructions to serialise and measure) is refused with the same message without being read again. An object
#: keyed by its compact JSON is not kept (two objects may spell the same JSON). Bounded like ``_PARSED``.
_REFUSED: dict[tuple[str | bytes, PolicyKind, str], str] = {}


def _refuse(key: tuple[str | bytes, PolicyKind, str], exc: InvalidEventError) -> None:
    """Keep the message of a refusal (only a plain ``InvalidEventError`` with one text: what the engine reads)."""
    if type(exc) is InvalidEventError and len(exc.args) == 1 and type(exc.args[0]) is str:
        if len(_REFUSED) >= POLICY_CACHE_SIZE:
            del _REFUSED[next(iter(_REFUSED))]
        _REFUSED[key] = exc.args[0]


#: The most bytes of compact JSON one byte of a format-2 ``marshal`` serialisation stands for, in a document of
#: objects with string keys, lists, strings and scalars: a string is 5 bytes of header plus its UTF-8 in marshal,
#: and at most 6 bytes a byte in JSON (a control character escaped ``\\u0000``) plus its quotes and a separator;
#: ``false,`` is 6 bytes for marshal's 1; an int (5 bytes, or 2 for every 15 bits) or a float (9 bytes) spells in
#: fewer than 6 characters a byte; an object's or a list's header (2 or 5 bytes) outweighs its brackets and
#: separator, and a key's ``:`` is paid for by its 5 header bytes.
_JSON_BYTES_PER_MARSHAL_BYTE = 6
_PARSED_KEYS = frozenset({"Statement", "Version"})
#: The usual keys of a bucket policy's top level when it names itself (``Id``, a string: ``_only_parsed_elements``).
_PARSED_KEYS_AND_ID = _PARSED_KEYS | {"Id"}
_STATEMENT_KEYS = frozenset(
    {"Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"}
)


def _parse_object(document: dict[str, Any], key: bytes, value: object, kind: PolicyKind, field: str) -> Policy:
    """Parse an object seen for the first time (``document``: the private copy of ``value``; ``key``: its
    marshal bytes), refusing exactly what the compact-JSON size check before the parse refused, without
    writing that JSON when it cannot change the answer.

    ``parse_policy`` checks the type of every element it reads: when it succeeds on a document whose other
    elements are strings (``_only_parsed_elements``), the document holds nothing JSON cannot spell, and its
    compact JSON is at most ``_JSON_BYTES_PER_MARSHAL_BYTE * len(key)`` bytes: within the limit, the check
    could only have passed. Otherwise, and whenever the parse fails, the exact check runs first, as it always
    did, so its refusal (not JSON, too large) still comes before the parse's.
    """
    if _JSON_BYTES_PER_MARSHAL_BYTE * len(key) <= kind.limit and _only_parsed_elements(document):
        try:
            return parse_policy(document, field=field)
        except Exception:
            _check_size(_compact_or_invalid(value, field), kind, field)
            raise
    _check_size(_compact_or_invalid(value, field), kind, field)
    return parse_policy(document, field=field)


def _only_parsed_elements(document: dict[str, Any]) -> bool:
    """Whether every element of ``document`` is one ``parse_policy`` reads (and so checks), or a string: string
    keys, no statement keys but IAM's, condition keys that are strings."""
    # ``issuperset`` tests every key in C; only a document with other keys than Version and Statement is walked.
    if not _PARSED_KEYS.issuperset(document) and not (
        _PARSED_KEYS_AND_ID.issuperset(document) and type(document["Id"]) is str
    ):
        for name, element in document.items():
            if type(name) is not str or (name not in _PARSED_KEYS and type(element) is not str):
                return False
    statements = document.get("Statement")
    for statement in statements if type(statements) is list else (statements,):
        if type(statement) is not dict:
            return True  # the parse refuses it (after the exact check)
        if not _STATEMENT_KEYS.issuperset(statement):
            return False
        condition = statement.get("Condition")
        if type(condition) is dict:
            for tests in condition.values():
                if type(tests) is dict:
                    for condition_key in tests:
                        if type(condition_key) is not str:
                            return False
    return True


def _compact_or_invalid(value: object, field: str) -> str:
    try:
        return _compact(value)
    except (TypeError, ValueError, RecursionError) as exc:
        raise InvalidEventError(f"{field} is not a JSON policy document: {exc}") from exc


#: The most UTF-8 bytes one character takes (a lone surrogate, passed through, takes 3).
_MAX_UTF8_BYTES = 4


def document_size(text: str, kind: PolicyKind) -> int:
    """The size AWS's limit for ``kind`` counts in ``text``: UTF-8 bytes, or characters other than whitespace."""
    if kind.counts_whitespace:
        return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
    return len(text) - sum(text.count(ch) for ch in _WHITESPACE)


def _check_size(text: str, kind: PolicyKind, field: str) -> None:
    """Raise when ``text`` is over ``kind``'s limit; the exact count is taken only when a cheap bound cannot
    clear it (characters other than whitespace are at most the length; UTF-8 bytes at most four per character,
    and exactly one per character of ASCII text, which ``isascii`` tells without reading it)."""
    length = len(text)
    if kind.counts_whitespace:
        if (length if text.isascii() else length * _MAX_UTF8_BYTES) <= kind.limit:
            return
    elif length <= kind.limit:
        return
    size = document_size(text, kind)
    if size > kind.limit:
        unit = "bytes" if kind.counts_whitespace else "non-whitespace characters"
        raise InvalidEventError(
            f"{field} is {size} {unit}, over AWS's {kind.limit} limit for a {kind.label}: it cannot be genuine"
        )


def other_parameters(
    texts: list[str], parameters: Mapping[str, Any], where: str = "requestParameters"
) -> tuple[list[dict[str, Any]], tuple[str, ...]]:
    """The request parameters as they read under each other reading (``other_readings``) of the policy texts
    ``texts`` (those the rules decoded) among them, and where each text names a key twice. Empty when no text
    the rules read has another reading: a same-value duplicate, or one outside any policy, changes nothing."""
    readings = {text: found for text in dict.fromkeys(texts) if (found := other_readings(text))}
    if not readings:
        return [], ()
    named: list[str] = []
    count = max(len(found) for found in readings.values())

    def substitute(value: Any, path: str, index: int) -> Any:
        if type(value) is str:
            found = readings.get(value)
            if not found:
                return value
            if index == 0:
                named.extend(f"{path}: {key}" for key in duplicate_keys(value))
            return found[min(index, len(found) - 1)]
        if isinstance(value, Mapping):
            return {key: substitute(item, f"{path}.{key}", index) for key, item in value.items()}
        if type(value) is list:
            return [substitute(item, f"{path}[{position}]", index) for position, item in enumerate(value)]
        return value

    others = [substitute(parameters, where, index) for index in range(count)]
    if not named:  # decoded elsewhere (a live read), not one of the event's own texts
        return [], ()
    return others, tuple(dict.fromkeys(named))
