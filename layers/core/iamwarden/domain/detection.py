"""A GuardDuty detector's and an AWS Config recorder's settings as snapshots keep them, and as the APIs take them back.

Pure: the heartbeat reads (``adapters.recorded``) and the restores (``guardrails.security_services``) both go through
these, so what is recorded is exactly what is put back. The field names are botocore's (guardduty ``GetDetector`` and
``CreateDetector``; config ``DescribeConfigurationRecorders``, ``DescribeConfigurationRecorderStatus`` and
``PutConfigurationRecorder``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

#: The features ``CreateDetector`` takes (botocore's ``DetectorFeature``). ``GetDetector`` also lists the foundational
#: sources (``CLOUD_TRAIL``, ``DNS_LOGS``, ``FLOW_LOGS``), always on and refused by ``CreateDetector``.
CREATE_FEATURES = frozenset(
    {
        "S3_DATA_EVENTS",
        "EKS_AUDIT_LOGS",
        "EBS_MALWARE_PROTECTION",
        "RDS_LOGIN_EVENTS",
        "LAMBDA_NETWORK_LOGS",
        "EKS_RUNTIME_MONITORING",
        "RUNTIME_MONITORING",
        "AI_PROTECTION",
        "AI_ANALYST",
    }
)
#: The additional configurations ``CreateDetector`` takes (botocore's ``FeatureAdditionalConfiguration``).
CREATE_ADDITIONAL = frozenset(
    {"EKS_ADDON_MANAGEMENT", "ECS_FARGATE_AGENT_MANAGEMENT", "EC2_AGENT_MANAGEMENT", "RDS_DATA_RISK"}
)
#: The recorder settings ``PutConfigurationRecorder`` takes back, as ``DescribeConfigurationRecorders`` gives them.
RECORDER_SETTINGS = ("name", "roleARN", "recordingGroup", "recordingMode")


def _field(answer: Mapping[str, Any], pascal: str) -> Any:
    """A field in botocore's spelling, or moto's camel-case one."""
    return answer.get(pascal, answer.get(pascal[:1].lower() + pascal[1:]))


def _features(listed: Any) -> list[dict[str, Any]]:
    """``GetDetector``'s features without their timestamps and ``ManagedBy`` (JSON-safe, in the create's shape)."""
    features = []
    for feature in listed if isinstance(listed, Sequence) else ():
        if not isinstance(feature, Mapping):
            continue
        kept: dict[str, Any] = {"Name": str(feature.get("Name")), "Status": str(feature.get("Status"))}
        additional = [
            {"Name": str(item.get("Name")), "Status": str(item.get("Status"))}
            for item in feature.get("AdditionalConfiguration") or ()
            if isinstance(item, Mapping)
        ]
        if additional:
            kept["AdditionalConfiguration"] = additional
        features.append(kept)
    return features


def _plain(value: Any) -> Any:
    """A read answer's part as JSON-safe data (nested mappings and lists of text, numbers and booleans)."""
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def detector_snapshot_data(detector_id: str, answer: Mapping[str, Any]) -> dict[str, Any]:
    """A detector as ``GetDetector`` answers it, in the snapshot's shape (``domain.recorded.GUARDDUTY_DETECTOR``)."""
    tags = _field(answer, "Tags")
    return {
        "detector_id": detector_id,
        "status": str(_field(answer, "Status")),
        "finding_publishing_frequency": str(_field(answer, "FindingPublishingFrequency") or ""),
        "features": _features(_field(answer, "Features")),
        "data_sources": _plain(_field(answer, "DataSources") or {}),
        "tags": {str(key): str(value) for key, value in tags.items()} if isinstance(tags, Mapping) else {},
    }


def detector_is_good(data: Mapping[str, Any]) -> bool:
    """Only an enabled detector is a state to re-create."""
    return data.get("status") == "ENABLED"


def _enabled(source: Any) -> bool:
    return isinstance(source, Mapping) and str(source.get("Status", source.get("status", ""))).upper() == "ENABLED"


def _create_data_sources(sources: Mapping[str, Any]) -> dict[str, Any]:
    """``GetDetector``'s ``DataSources`` (each ``{"Status"}``) as ``CreateDetector`` takes them (each ``{"Enable"}``):
    only the three it takes (S3 logs, Kubernetes audit logs, EBS malware scans)."""
    created: dict[str, Any] = {}
    s3 = _field(sources, "S3Logs")
    if isinstance(s3, Mapping):
        created["S3Logs"] = {"Enable": _enabled(s3)}
    kubernetes = _field(sources, "Kubernetes")
    if isinstance(kubernetes, Mapping) and isinstance(_field(kubernetes, "AuditLogs"), Mapping):
        created["Kubernetes"] = {"AuditLogs": {"Enable": _enabled(_field(kubernetes, "AuditLogs"))}}
    malware = _field(sources, "MalwareProtection")
    scan = _field(malware, "ScanEc2InstanceWithFindings") if isinstance(malware, Mapping) else None
    volumes = _field(scan, "EbsVolumes") if isinstance(scan, Mapping) else None
    if isinstance(volumes, Mapping):
        created["MalwareProtection"] = {"ScanEc2InstanceWithFindings": {"EbsVolumes": _enabled(volumes)}}
    return created


def _create_feature(feature: Mapping[str, Any]) -> dict[str, Any]:
    """One recorded feature as ``CreateDetector`` takes it: only the additional configurations it takes."""
    created = {key: value for key, value in feature.items() if key != "AdditionalConfiguration"}
    additional = [
        item for item in feature.get("AdditionalConfiguration") or () if item.get("Name") in CREATE_ADDITIONAL
    ]
    if additional:
        created["AdditionalConfiguration"] = additional
    return created


def _one_runtime_monitoring(features: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """At most one of ``EKS_RUNTIME_MONITORING`` and ``RUNTIME_MONITORING``: botocore's ``CreateDetector`` model says
    both cause an error (Runtime Monitoring includes EKS's). ``GetDetector`` returns both, so the EKS one is dropped
    and its additional configurations not set under Runtime Monitoring are carried there; unless only the EKS one is
    enabled, when the disabled ``RUNTIME_MONITORING`` is dropped instead (enabling it would watch EC2 and ECS too)."""
    named = {feature.get("Name"): feature for feature in features}
    eks, runtime = named.get("EKS_RUNTIME_MONITORING"), named.get("RUNTIME_MONITORING")
    if eks is None or runtime is None:
        return features
    if _enabled(eks) and not _enabled(runtime):
        return [feature for feature in features if feature is not runtime]
    own = [dict(item) for item in runtime.get("AdditionalConfiguration") or ()]
    names = {item.get("Name") for item in own}
    carried = own + [dict(item) for item in eks.get("AdditionalConfiguration") or () if item.get("Name") not in names]
    merged = {**runtime, "AdditionalConfiguration": carried} if carried else runtime
    return [merged if feature is runtime else feature for feature in features if feature is not eks]


def create_detector_arguments(data: Mapping[str, Any]) -> dict[str, Any]:
    """``CreateDetector``'s arguments (tags apart) for a detector as the snapshot has it: enabled, its finding
    frequency, and its features (or, from a detector read before features existed, its data sources)."""
    arguments: dict[str, Any] = {"Enable": True}
    frequency = data.get("finding_publishing_frequency")
    if frequency:
        arguments["FindingPublishingFrequency"] = str(frequency)
    features = _one_runtime_monitoring(
        [_create_feature(feature) for feature in data.get("features") or () if feature.get("Name") in CREATE_FEATURES]
    )
    if features:
        arguments["Features"] = features
    elif data.get("data_sources"):
        sources = _create_data_sources(data["data_sources"])
        if sources:
            arguments["DataSources"] = sources
    return arguments


def recorder_settings(recorder: Mapping[str, Any]) -> dict[str, Any]:
    """What ``PutConfigurationRecorder`` takes back of a described recorder (absent settings left out)."""
    return {key: _plain(recorder[key]) for key in RECORDER_SETTINGS if recorder.get(key) is not None}


def recorder_snapshot_data(
    recorder: Mapping[str, Any], recording: bool, delivery_channel: bool, last_status: str | None = None
) -> dict[str, Any]:
    """A recorder in the snapshot's shape (``domain.recorded.CONFIG_RECORDER``); ``last_status``: its
    ``DescribeConfigurationRecorderStatus`` ``lastStatus`` (``Pending``, ``Success``, ``Failure``)."""
    return {
        "recorder": recorder_settings(recorder),
        "recording": recording,
        "delivery_channel": delivery_channel,
        "last_status": last_status,
    }


def customer_managed(recorder: Mapping[str, Any]) -> bool:
    """A recorder the account made (a service-linked one, with a ``servicePrincipal``, is its service's to manage:
    ``DeleteConfigurationRecorder`` does not delete it)."""
    return not recorder.get("servicePrincipal")


def recorder_flaw(data: Mapping[str, Any]) -> str | None:
    """Why a recorder's snapshot is no state to put back, or None: only a recorder that records, with a name and a
    role to record with, and whose last recording did not fail (a failing one may record with a role swapped to one
    that cannot read), is. A stopped one may be an intruder's doing (its stop is judged, and started again, by its
    own event), and the last good snapshot is kept instead."""
    recorder = data.get("recorder") or {}
    if not data.get("recording"):
        return "a recorder that did not record"
    if not recorder.get("roleARN") or not recorder.get("name"):
        return "a recorder without a name or a role"
    if str(data.get("last_status") or "").upper() == "FAILURE":
        return "a recorder whose last recording failed"
    return None


def recorder_is_good(data: Mapping[str, Any]) -> bool:
    """Whether a recorder's snapshot is a state to put back (``recorder_flaw``)."""
    return recorder_flaw(data) is None
