"""Access Advisor is read completely and fresh, or not at all (Stubber, shape-checked)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from iamwarden.prune.exceptions import AccessAdvisorError, AccessAdvisorNotReady
from tests.functional.prune_support import JOB, AccessAdvisorStub, Clock, service

ROLE = "arn:aws:iam::123456789012:role/app"


@pytest.fixture
def stub() -> AccessAdvisorStub:
    return AccessAdvisorStub(Clock())


def test_truncated_pages_are_followed_to_the_end(stub: AccessAdvisorStub) -> None:
    recently = stub.clock.now - timedelta(days=2)
    stub.generate(ROLE)
    stub.page([service("s3", recently, {"CreateBucket": None, "ListAllMyBuckets": recently})], next_marker="m1")
    stub.page([service("ec2", None)], marker="m1", next_marker="m2")
    stub.page([service("sqs", recently)], marker="m2")
    advisor = stub.advisor()
    report = advisor.report(ROLE, advisor.start(ROLE))
    stub.stubber.assert_no_pending_responses()
    assert set(report.services) == {"s3", "ec2", "sqs"}
    assert report.services["s3"].tracked_actions == {"s3:createbucket": None, "s3:listallmybuckets": recently}
    assert report.services["ec2"].last_authenticated is None
    assert report.services["sqs"].tracked_actions is None


def test_in_progress_is_polled_briefly_then_completed(stub: AccessAdvisorStub) -> None:
    stub.page([], status="IN_PROGRESS")
    stub.page([], status="IN_PROGRESS")
    stub.page([service("s3", None)])
    report = stub.advisor().report(ROLE, JOB)
    assert set(report.services) == {"s3"}


def test_in_progress_beyond_the_bound_goes_back_to_the_queue(stub: AccessAdvisorStub) -> None:
    for _ in range(4):
        stub.page([], status="IN_PROGRESS")
    with pytest.raises(AccessAdvisorNotReady) as caught:
        stub.advisor().report(ROLE, JOB)
    assert caught.value.job_id == JOB
    stub.stubber.assert_no_pending_responses()


def test_a_failed_job_is_no_decision(stub: AccessAdvisorStub) -> None:
    stub.page([], status="FAILED", error={"Message": "internal", "Code": "ServiceFailure"})
    with pytest.raises(AccessAdvisorError, match="failed: ServiceFailure: internal"):
        stub.advisor().report(ROLE, JOB)


def test_data_older_than_a_day_is_no_decision(stub: AccessAdvisorStub) -> None:
    stub.page([service("s3", None)], completed=stub.clock.now - timedelta(days=1, minutes=1))
    with pytest.raises(AccessAdvisorError, match="older than"):
        stub.advisor().report(ROLE, JOB)


def test_a_missing_page_is_no_decision(stub: AccessAdvisorStub) -> None:
    stub.page([service("s3", None)], next_marker="m1")
    stub.stubber.add_client_error("get_service_last_accessed_details", "NoSuchEntity", "job expired")
    with pytest.raises(AccessAdvisorError, match="page after marker 'm1'"):
        stub.advisor().report(ROLE, JOB)


def test_a_truncated_page_without_a_marker_is_no_decision(stub: AccessAdvisorStub) -> None:
    stub.page([service("s3", None)], truncated=True)
    with pytest.raises(AccessAdvisorError, match="no marker"):
        stub.advisor().report(ROLE, JOB)


def test_a_job_that_changes_between_pages_is_no_decision(stub: AccessAdvisorStub) -> None:
    stub.page([service("s3", None)], next_marker="m1")
    stub.page([service("ec2", None)], marker="m1", completed=stub.clock.now)
    with pytest.raises(AccessAdvisorError, match="changed while its pages were read"):
        stub.advisor().report(ROLE, JOB)


def test_a_job_that_cannot_start_is_no_decision(stub: AccessAdvisorStub) -> None:
    stub.stubber.add_client_error("generate_service_last_accessed_details", "NoSuchEntity", "no role")
    with pytest.raises(AccessAdvisorError, match="cannot start"):
        stub.advisor().start(ROLE)


def test_policies_granting_are_asked_ten_namespaces_at_a_time_across_pages(stub: AccessAdvisorStub) -> None:
    namespaces = [f"svc{index:02d}" for index in range(12)]
    first = {"Arn": ROLE, "ServiceNamespaces": namespaces[:10]}
    stub.stubber.add_response(
        "list_policies_granting_service_access",
        {
            "PoliciesGrantingServiceAccess": [
                {"ServiceNamespace": "svc00", "Policies": [{"PolicyName": "main", "PolicyType": "INLINE"}]}
            ],
            "IsTruncated": True,
            "Marker": "p2",
        },
        first,
    )
    stub.stubber.add_response(
        "list_policies_granting_service_access",
        {
            "PoliciesGrantingServiceAccess": [
                {
                    "ServiceNamespace": "svc01",
                    "Policies": [
                        {"PolicyName": "m", "PolicyType": "MANAGED", "PolicyArn": "arn:aws:iam::123456789012:policy/m"}
                    ],
                }
            ],
            "IsTruncated": False,
        },
        {**first, "Marker": "p2"},
    )
    stub.stubber.add_response(
        "list_policies_granting_service_access",
        {"PoliciesGrantingServiceAccess": [], "IsTruncated": False},
        {"Arn": ROLE, "ServiceNamespaces": namespaces[10:]},
    )
    granting = stub.advisor().policies_granting(ROLE, namespaces)
    assert granting["svc00"] == {"inline:main"}
    assert granting["svc01"] == {"arn:aws:iam::123456789012:policy/m"}
    assert granting["svc11"] == frozenset()
    stub.stubber.assert_no_pending_responses()


def test_a_failing_policies_granting_call_is_no_decision(stub: AccessAdvisorStub) -> None:
    stub.stubber.add_client_error("list_policies_granting_service_access", "Throttling", "slow down")
    with pytest.raises(AccessAdvisorError, match="cannot list the policies granting"):
        stub.advisor().policies_granting(ROLE, ["s3"])
