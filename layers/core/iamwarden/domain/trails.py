"""What makes a CloudTrail trail watch the account, read the same way from events, from the API and from snapshots.

A trail watches when it logs, when its selectors let in management events (writes above all: every
change an attacker makes is a write), and when its settings keep the log files where the organisation
reads them (the bucket, global service events, every region). CloudTrail records spell request
parameters in camelCase (``includeManagementEvents``); the API answers in PascalCase
(``IncludeManagementEvents``); ``_get`` reads either.

A trail's snapshot (``trail_snapshot_data``) holds its settings in ``UpdateTrail``'s parameter names, its
logging state, and its selectors as ``GetEventSelectors``/``GetInsightSelectors`` return them, so a
restore passes them back unchanged.
"""

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

#: UpdateTrail's parameters (PascalCase, as the API takes them) and the name CloudTrail records use.
SETTINGS: Mapping[str, str] = {
    "S3BucketName": "s3BucketName",
    "S3KeyPrefix": "s3KeyPrefix",
    "SnsTopicName": "snsTopicName",
    "IncludeGlobalServiceEvents": "includeGlobalServiceEvents",
    "IsMultiRegionTrail": "isMultiRegionTrail",
    "EnableLogFileValidation": "enableLogFileValidation",
    "CloudWatchLogsLogGroupArn": "cloudWatchLogsLogGroupArn",
    "CloudWatchLogsRoleArn": "cloudWatchLogsRoleArn",
    "KmsKeyId": "kmsKeyId",
    "IsOrganizationTrail": "isOrganizationTrail",
}

#: Settings whose change blinds the organisation (critical) or weakens what it can trust (high).
_BLINDING = frozenset({"S3BucketName", "IncludeGlobalServiceEvents", "IsMultiRegionTrail", "IsOrganizationTrail"})
_WEAKENING = frozenset(
    {"S3KeyPrefix", "EnableLogFileValidation", "KmsKeyId", "CloudWatchLogsLogGroupArn", "CloudWatchLogsRoleArn"}
)
#: Settings that only weaken when switched off (their ``False`` is judged without knowing the previous value).
_FLAGS = ("IncludeGlobalServiceEvents", "IsMultiRegionTrail", "IsOrganizationTrail", "EnableLogFileValidation")


class Impairment(NamedTuple):
    """One way a change makes a trail watch less, in words an alert can show.

    ``partial``: some events of the kind are still logged (a selector filters them by who, what or where), so
    the loss is of evidence, not of every event: what reaches EventBridge is not known to change.
    """

    what: str
    critical: bool
    partial: bool = False


def _get(mapping: Mapping[str, Any], pascal: str) -> Any:
    """A field in API (``ReadWriteType``) or CloudTrail-record (``readWriteType``) spelling."""
    if pascal in mapping:
        return mapping[pascal]
    return mapping.get(pascal[:1].lower() + pascal[1:])


def _truthy(value: Any, default: bool) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


def selector_impairments(
    event_selectors: Sequence[Mapping[str, Any]] | None, advanced: Sequence[Mapping[str, Any]] | None
) -> list[Impairment]:
    """What management events the selectors leave out (basic or advanced selectors; empty: all are logged)."""
    if advanced:
        return _advanced_impairments(advanced)
    if event_selectors is None:
        return []  # no selectors in the request: CloudTrail's default logs every management event
    reads = writes = False
    excluded: set[str] | None = None
    for selector in event_selectors:
        if not _truthy(_get(selector, "IncludeManagementEvents"), True):
            continue
        kind = _get(selector, "ReadWriteType") or "All"
        reads = reads or kind in ("All", "ReadOnly")
        writes = writes or kind in ("All", "WriteOnly")
        sources = set(_get(selector, "ExcludeManagementEventSources") or ())
        excluded = sources if excluded is None else excluded & sources
    return _impairments(reads, writes, sorted(excluded or ()))


#: AdvancedFieldSelector's operators (the API reference's spelling).
_OPERATORS = ("Equals", "NotEquals", "StartsWith", "NotStartsWith", "EndsWith", "NotEndsWith")


def _operators(field: Mapping[str, Any]) -> dict[str, list[str]]:
    """A field selector's operators that carry values, each with its values as strings."""
    found = {}
    for operator in _OPERATORS:
        values = _get(field, operator)
        if values:
            found[operator] = [str(value) for value in (values if isinstance(values, list) else [values])]
    return found


def _filters(fields: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """What a management selector filters by beyond category, read/write and event source named exactly.

    Any other field (``userIdentity.arn``, ``eventName``, ``eventType``, ``sessionCredentialFromConsole``...) or
    operator (``NotStartsWith``, ``EndsWith``...) keeps some management events out: which ones is the filter's
    choice, and an intruder's is to leave out their own calls, so it is named rather than read as "logs all".
    """
    found = []
    for name, field in sorted(fields.items()):
        operators = _operators(field)
        understood = {"eventCategory": ("Equals",), "readOnly": ("Equals", "NotEquals")}.get(
            name, ("Equals", "NotEquals") if name == "eventSource" else ()
        )
        for operator, values in operators.items():
            if operator not in understood:
                found.append(f"{name} {operator} {', '.join(values)}")
    return found


def _read_write(read_only: Mapping[str, Any] | None) -> tuple[bool, bool]:
    """Whether a selector's ``readOnly`` field lets in read and write events (``Equals`` and ``NotEquals``)."""
    if read_only is None:
        return True, True
    operators = _operators(read_only)
    equals = [value.lower() for value in operators.get("Equals", [])]
    not_equals = [value.lower() for value in operators.get("NotEquals", [])]
    reads = (not equals or "true" in equals) and "true" not in not_equals
    writes = (not equals or "false" in equals) and "false" not in not_equals
    return reads, writes


def _advanced_impairments(selectors: Sequence[Mapping[str, Any]]) -> list[Impairment]:
    reads = writes = False
    filtered_reads: list[str] = []
    filtered_writes: list[str] = []
    excluded: set[str] | None = None
    for selector in selectors:
        fields = {str(_get(field, "Field")): field for field in _get(selector, "FieldSelectors") or ()}
        category = fields.get("eventCategory")
        if category is None or "Management" not in (_get(category, "Equals") or ()):
            continue
        lets_reads, lets_writes = _read_write(fields.get("readOnly"))
        filters = _filters(fields)
        if filters:  # field selectors are ANDed: this selector logs only the events its filters let through
            if lets_reads:
                filtered_reads += filters
            if lets_writes:
                filtered_writes += filters
            continue
        reads = reads or lets_reads
        writes = writes or lets_writes
        source = fields.get("eventSource")
        sources = set(_get(source, "NotEquals") or ()) if source else set()
        if source is not None and _get(source, "Equals"):
            sources.add("every source but " + ", ".join(_get(source, "Equals")))
        excluded = sources if excluded is None else excluded & sources
    found = _impairments(reads or bool(filtered_reads), writes or bool(filtered_writes), sorted(excluded or ()))
    if not writes and filtered_writes:
        found.append(
            Impairment(f"every write management event but those matching {'; '.join(filtered_writes)}", True, True)
        )
    if not reads and filtered_reads:
        found.append(
            Impairment(f"every read management event but those matching {'; '.join(filtered_reads)}", False, True)
        )
    return found


def _impairments(reads: bool, writes: bool, excluded: list[str]) -> list[Impairment]:
    found = []
    if not writes:
        found.append(Impairment("write management events (every change made in the account)", True))
    if not reads:
        found.append(Impairment("read management events (who looked at what)", False))
    if excluded and (reads or writes):
        found.append(Impairment(f"management events of {', '.join(excluded)}", False))
    return found


def request_settings(request: Mapping[str, Any]) -> dict[str, Any]:
    """The trail settings an UpdateTrail record sets, in the API's names."""
    return {pascal: request[camel] for pascal, camel in SETTINGS.items() if camel in request}


def setting_impairments(changed: Mapping[str, Any], previous: Mapping[str, Any] | None) -> list[Impairment]:
    """How ``changed`` settings weaken the trail compared with ``previous`` (a snapshot's), or by value alone.

    Without ``previous`` only a flag switched off is known to weaken; a new bucket, prefix or key cannot be
    told from the old one (``unknown_changes`` names them).
    """
    found = []
    for name, value in changed.items():
        if name in _FLAGS and not _truthy(value, True):
            if previous is None or _truthy(previous.get(name), False):
                found.append(Impairment(f"{name} switched off", name in _BLINDING))
            continue
        if previous is None or name in _FLAGS or name not in (_BLINDING | _WEAKENING):
            continue
        if (value or None) != (previous.get(name) or None):
            found.append(Impairment(f"{name} changed from {previous.get(name)!r} to {value!r}", name in _BLINDING))
    return found


def unknown_changes(changed: Mapping[str, Any]) -> list[str]:
    """Settings of ``changed`` whose effect needs the previous value to judge (a bucket, a prefix, a key)."""
    return [name for name in changed if name in (_BLINDING | _WEAKENING) and name not in _FLAGS and changed[name]]


def trail_snapshot_data(
    trail: Mapping[str, Any],
    status: Mapping[str, Any],
    selectors: Mapping[str, Any],
    insights: Sequence[Mapping[str, Any]],
) -> dict[str, Any]:
    """A trail as DescribeTrails, GetTrailStatus, GetEventSelectors and GetInsightSelectors answer it, restorable."""
    settings = {
        "S3BucketName": trail.get("S3BucketName"),
        "S3KeyPrefix": trail.get("S3KeyPrefix"),
        "SnsTopicName": trail.get("SnsTopicARN") or trail.get("SnsTopicName"),
        "IncludeGlobalServiceEvents": trail.get("IncludeGlobalServiceEvents"),
        "IsMultiRegionTrail": trail.get("IsMultiRegionTrail"),
        "EnableLogFileValidation": trail.get("LogFileValidationEnabled"),
        "CloudWatchLogsLogGroupArn": trail.get("CloudWatchLogsLogGroupArn"),
        "CloudWatchLogsRoleArn": trail.get("CloudWatchLogsRoleArn"),
        "KmsKeyId": trail.get("KmsKeyId"),
        "IsOrganizationTrail": trail.get("IsOrganizationTrail"),
    }
    return {
        "name": trail.get("Name"),
        "home_region": trail.get("HomeRegion"),
        "settings": {name: value for name, value in settings.items() if value is not None},
        "logging": bool(status.get("IsLogging")),
        "event_selectors": list(selectors.get("EventSelectors") or []) or None,
        "advanced_event_selectors": list(selectors.get("AdvancedEventSelectors") or []) or None,
        "insight_selectors": list(insights),
    }


def trail_is_good(data: Mapping[str, Any]) -> bool:
    """A snapshot worth restoring: the trail logs, and logs every management event."""
    impaired = selector_impairments(data.get("event_selectors"), data.get("advanced_event_selectors"))
    return bool(data.get("logging")) and not impaired


def api_spelling(value: Any) -> Any:
    """``value`` with every key in the API's spelling (``readWriteType`` -> ``ReadWriteType``), empty lists and
    None left out: a CloudTrail record's selectors and ``GetEventSelectors``' answer compare equal when they say
    the same."""
    if isinstance(value, Mapping):
        return {
            str(key)[:1].upper() + str(key)[1:]: api_spelling(item)
            for key, item in value.items()
            if item is not None and item != []
        }
    if isinstance(value, list):
        return [api_spelling(item) for item in value]
    return value


def same_setting(name: str, live: Any, written: Any) -> bool:
    """Whether a trail's live setting still holds what an ``UpdateTrail`` wrote: a topic or key named by name,
    alias or id in the request is answered as an ARN, so an ARN ending in the written name is the same."""
    if name in _FLAGS:
        return _truthy(live, False) == _truthy(written, False)
    if (live or None) == (written or None):
        return True
    text, given = str(live or ""), str(written or "")
    return bool(given) and (text.endswith(":" + given) or text.endswith("/" + given.removeprefix("alias/")))


def logs_management_writes(status: Mapping[str, Any], selectors: Mapping[str, Any]) -> bool:
    """Whether a trail, as ``GetTrailStatus`` and ``GetEventSelectors`` answer it, logs write management events now:
    it logs, and its selectors (basic or advanced) leave no critical impairment (``selector_impairments``, the
    ``cloudtrail-logging-impaired`` rule's own reading). Without one, EventBridge gets no ``AWS API Call via
    CloudTrail`` event of that account and region, and IAM Warden sees nothing there."""
    impairments = selector_impairments(
        selectors.get("EventSelectors") or None, selectors.get("AdvancedEventSelectors") or None
    )
    return bool(status.get("IsLogging")) and not any(
        impairment.critical and not impairment.partial for impairment in impairments
    )


def covers_region(trail: Mapping[str, Any], region: str) -> bool:
    """Whether a trail (as ``DescribeTrails`` lists it, shadow trails included) logs ``region``'s events: homed
    there, or multi-region (an organization trail of the management account included)."""
    return trail.get("HomeRegion") == region or bool(trail.get("IsMultiRegionTrail"))
